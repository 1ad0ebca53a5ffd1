import Crypto
import Foundation

/// Who may sign what: the checks of a transaction's origin before anything of it is applied.
extension TransactionApplier {
    /// Refuses a header whose origin contradicts the bindings held here (its code belongs to
    /// another site id, or the id is known under another code), or whose origin is held after an
    /// equivocation.
    func checkIdentity(_ header: TransactionRecord) throws {
        try admission.checkBinding(TrustStore(db: db), siteID: header.origin, code: header.site, via: source)
        if heldOrigins == nil { heldOrigins = try TrustStore(db: db).heldOrigins() }
        if heldOrigins?.contains(header.origin) == true {
            throw LiaisonError(
                .equivocation,
                "transactions of \(header.site) are held: it signed two different versions of one transaction "
                    + "(see 'liaison status'); clear the alarm with 'liaison trust DB \(header.site) --clear-alarms' "
                    + "once its operator has explained it")
        }
    }

    /// The trusted key of an origin. A transaction from an origin without one is refused as
    /// `.untrustedKey`, and the key it presented (if any) is kept for the operator to confirm.
    ///
    /// With `seq`, the key that signs that transaction after rotations; with `hlc`, a key revoked
    /// at or before that time refuses it (`.untrustedKey`).
    func publicKey(of siteID: String, site: String, seq: Int64? = nil, hlc: HybridTimestamp? = nil) throws
        -> Curve25519.Signing.PublicKey
    {
        if let seq, let signer = try admission.key(TrustStore(db: db), of: siteID, at: seq) {
            if let revoked = signer.revokedSince, let hlc, hlc.milliseconds >= revoked {
                throw LiaisonError(
                    .untrustedKey,
                    "\(site)#\(seq) is signed with key \(SiteKey.fingerprint(signer.key)), revoked here since "
                        + "\(HybridTimestamp(milliseconds: revoked)); it was not applied. Review it with \(site)'s operator"
                )
            }
            return try admission.publicKey(signer.key)
        }
        guard let key = try admission.trustedKey(TrustStore(db: db), of: siteID) else {
            let presented = presentedKeys[siteID]?.key
            throw LiaisonError(
                .untrustedKey,
                "\(site) (site \(siteID)) has no trusted key here"
                    + (presented.map { ", it presents key \(SiteKey.fingerprint($0))" } ?? "")
                    + "; its transactions were not applied. Confirm the fingerprint with \(site)'s operator, then run "
                    + "'liaison trust DB \(site) --key K --site-id \(siteID)' (or mark a relay you trust with "
                    + "'liaison trust DB RELAY --introducer') and sync again",
                cause: TrustNotice(kind: .candidate(key: presented), siteID: siteID, code: site, via: source))
        }
        return try admission.publicKey(key)
    }

    /// Compares a transaction applied before with the copy that arrived again: the same header
    /// digest passes; a different one signed by the origin's key is an equivocation (an alarm, and
    /// the origin's later transactions are held); one not signed by it is a forgery.
    func compareWithApplied(_ header: TransactionRecord, index: Int64) throws {
        let header = try linked(header)
        // Where compaction removed it, the run's signed chain head (ChainBase.swift).
        let known = try appliedForComparison(index, seq: header.seq)
        guard header.isComplete, known.digest != nil || (known.previous != nil && header.previous != nil),
            let bytes = try? Self.expectedSignedBytes(of: header, tables: replica.tables)
        else { return }
        let digest = SiteKey.sha256Hex(bytes)
        guard known.digest.map({ digest != $0 }) ?? (header.previous != known.previous) else { return }
        let applied = known.digest ?? "a removed version after \(known.previous ?? "")"
        let name = "\(header.site)#\(header.seq)"
        let key = try publicKey(of: header.origin, site: header.site, seq: header.seq)
        guard isAuthentic(header, bytes: bytes, key: key) else {
            // A copy of a removed transaction that its origin did not sign proves nothing: skipped.
            if known.removed { return }
            throw LiaisonError(
                .invalidTransaction,
                "a copy of \(name), applied here before, was altered: it is not signed by \(header.site)'s key; the batch was refused",
                cause: SecurityFinding.forgery)
        }
        throw LiaisonError(
            .equivocation,
            "\(header.site) signed two different versions of \(name): applied here \(applied), received \(digest). "
                + "Its later transactions are held until an operator decides ('liaison status')",
            cause: TrustNotice(
                kind: .alarm(
                    .equivocation, "\(name): applied \(applied), another version signed by \(header.site) is \(digest)"),
                siteID: header.origin, code: header.site, via: source,
                digests: known.digest.map { [$0, digest] } ?? [digest]))
    }
}
