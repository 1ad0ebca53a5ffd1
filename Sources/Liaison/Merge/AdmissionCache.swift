import Crypto
import Foundation

/// What admission reads of the trust store and the site table, read once per applier (one batch)
/// instead of once per transaction: a batch of one-row transactions used to pay three to four
/// statements and a key parse per transaction for answers that cannot change inside the batch.
///
/// Why they cannot: keys, bindings and revocations are written before a batch starts
/// (`Replica.admitKeys`) or by the operator, never by the applier; a new site is registered by
/// the applier only after its own binding check passed, and every other site claiming its code is
/// refused at its own check; the applied `seq` of a site is written by this applier alone
/// (`rememberApplied`). A rollback of a held transaction rebuilds the applier, and a refused batch
/// discards it, so nothing cached ever names a write that was undone.
final class AdmissionCache {
    /// `site id` + NUL + `code` pairs whose binding was checked in this batch.
    private var bindings: Set<String> = []
    /// Each site's keys by `from_seq`, highest first.
    private var keys: [String: [(fromSeq: Int64, key: String, revokedSince: Int64?)]] = [:]
    /// Trusted keys of sites without key history (`_liaison_site.public_key`).
    private var trusted: [String: String?] = [:]
    /// Parsed public keys by their base64 text.
    private var parsed: [String: Curve25519.Signing.PublicKey] = [:]
    /// The applied `seq` of each site index, as read or written by this applier.
    private var applied: [Int64: Int64] = [:]

    /// Checks a site id and code against the bindings held here, once per pair and batch.
    func checkBinding(_ store: TrustStore, siteID: String, code: String, via: String) throws {
        let pair = siteID + "\u{0}" + code
        guard !bindings.contains(pair) else { return }
        try store.checkBinding(siteID: siteID, code: code, via: via)
        bindings.insert(pair)
    }

    /// `TrustStore.key(of:at:)`, from the site's key history read once.
    func key(_ store: TrustStore, of siteID: String, at seq: Int64) throws -> (key: String, revokedSince: Int64?)? {
        let history: [(fromSeq: Int64, key: String, revokedSince: Int64?)]
        if let known = keys[siteID] {
            history = known
        } else {
            history = try store.db.query(
                "SELECT from_seq, key, revoked_since FROM _liaison_key WHERE site_id = ? ORDER BY from_seq DESC",
                [.text(siteID)]
            ) { ($0.int64(0), $0.text(1), $0.isNull(2) ? nil : $0.int64(2)) }
            keys[siteID] = history
        }
        return history.first { $0.fromSeq <= seq }.map { ($0.key, $0.revokedSince) }
    }

    /// `TrustStore.trustedKey(of:)`, read once per site.
    func trustedKey(_ store: TrustStore, of siteID: String) throws -> String? {
        if let known = trusted[siteID] { return known }
        let key = try store.trustedKey(of: siteID)
        trusted[siteID] = .some(key)
        return key
    }

    /// A public key parsed once per batch.
    func publicKey(_ base64: String) throws -> Curve25519.Signing.PublicKey {
        if let key = parsed[base64] { return key }
        let key = try SiteKey.publicKey(base64)
        parsed[base64] = key
        return key
    }

    /// The applied `seq` of a site, read once, then kept by `rememberApplied`.
    func appliedSeq(_ db: Connection, _ index: Int64) throws -> Int64 {
        if let seq = applied[index] { return seq }
        let seq = try db.first("SELECT seq FROM _liaison_site WHERE sidx = ?", [.integer(index)]) { $0.int64(0) } ?? 0
        applied[index] = seq
        return seq
    }

    func rememberApplied(_ index: Int64, seq: Int64) { applied[index] = seq }
}
