import Crypto
import Foundation

/// Revocations that travel: signed statements that a key is compromised since a time, kept with
/// the evidence (`_liaison_revocation`) so that every page and push carries them on, and applied
/// to the key's row in `_liaison_key` (`revoked_since`, the earliest time any accepted statement
/// gives), which the applier and `verify` read.
extension TrustStore {
    static let revocationSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_revocation(
            site_id TEXT NOT NULL, key TEXT NOT NULL, by_site TEXT NOT NULL, signer TEXT NOT NULL,
            since INTEGER NOT NULL, signature TEXT NOT NULL, via TEXT NOT NULL,
            PRIMARY KEY (site_id, key, by_site)) WITHOUT ROWID;
        """

    /// The bytes a revocation's signature covers.
    static func revocationBytes(_ revocation: KeyRevocation, siteID: String) -> Data {
        Data(
            ("{\"by\":" + CanonicalJSON.string(revocation.by) + ",\"key\":" + CanonicalJSON.string(revocation.key)
                + ",\"signer\":" + CanonicalJSON.string(revocation.signer) + ",\"since\":" + String(revocation.since)
                + ",\"siteID\":" + CanonicalJSON.string(siteID) + ",\"type\":\"revocation\"}").utf8)
    }

    /// The bytes an introducer's signature of a rotation covers.
    static func vouchedRotationBytes(_ rotation: KeyRotation, introducer: String, siteID: String) -> Data {
        Data(
            ("{\"fromSeq\":" + String(rotation.fromSeq) + ",\"introducer\":" + CanonicalJSON.string(introducer)
                + ",\"key\":" + CanonicalJSON.string(rotation.key) + ",\"previous\":"
                + CanonicalJSON.string(rotation.previous) + ",\"siteID\":" + CanonicalJSON.string(siteID) + "}").utf8)
    }

    /// Whether `signature` (base64) is `key`'s (base64) signature of `bytes`.
    static func isSigned(_ bytes: Data, by key: String, signature: String) -> Bool {
        guard let signer = try? SiteKey.publicKey(key), let raw = Data(base64Encoded: signature) else { return false }
        return signer.isValidSignature(raw, for: bytes)
    }

    /// A site's keys in the order it used them: `(from_seq, key)`, the trusted key last.
    func chain(of siteID: String) throws -> [(fromSeq: Int64, key: String)] {
        var chain = try db.query(
            "SELECT from_seq, key FROM _liaison_key WHERE site_id = ? ORDER BY from_seq", [.text(siteID)],
            { (fromSeq: $0.int64(0), key: $0.text(1)) })
        if let trusted = try trustedKey(of: siteID), !chain.contains(where: { $0.key == trusted }) {
            chain.append((fromSeq: (chain.last?.fromSeq ?? 0) + 1, key: trusted))
        }
        return chain
    }

    /// Whether `revocation` of one of `siteID`'s keys is signed by someone this replica believes
    /// about it: the site itself with the revoked key or a later one of its chain here, or a site
    /// marked introducer here with its trusted key.
    func isAuthentic(_ revocation: KeyRevocation, of siteID: String) throws -> Bool {
        guard TrustStore.isValidSiteID(revocation.by), revocation.since >= 0,
            Self.isSigned(
                Self.revocationBytes(revocation, siteID: siteID), by: revocation.signer,
                signature: revocation.signature)
        else { return false }
        if revocation.by == siteID {
            let chain = try chain(of: siteID)
            guard let signer = chain.firstIndex(where: { $0.key == revocation.signer }) else { return false }
            // A thief of an old key may not revoke the keys that replaced it.
            if let revoked = chain.firstIndex(where: { $0.key == revocation.key }) { return signer >= revoked }
            return true
        }
        return try isIntroducer(revocation.by) && trustedKey(of: revocation.by) == revocation.signer
    }

    /// Keeps an authentic revocation (as evidence that travels on) and applies it; returns whether
    /// it revoked anything new here. A revocation that cannot be checked here is ignored.
    @discardableResult
    func admit(_ revocation: KeyRevocation, of siteID: String, via: String) throws -> Bool {
        guard try isAuthentic(revocation, of: siteID) else { return false }
        try db.run(
            """
            INSERT INTO _liaison_revocation(site_id, key, by_site, signer, since, signature, via)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(site_id, key, by_site) DO UPDATE SET since = excluded.since, signer = excluded.signer,
                signature = excluded.signature, via = excluded.via
            WHERE excluded.since < since
            """,
            [
                .text(siteID), .text(revocation.key), .text(revocation.by), .text(revocation.signer),
                .integer(revocation.since), .text(revocation.signature), .text(via),
            ])
        return try applyRevocations(of: siteID)
    }

    /// Sets `revoked_since` of each of the site's keys to the earliest accepted revocation of it;
    /// returns whether any key's time moved.
    @discardableResult
    func applyRevocations(of siteID: String) throws -> Bool {
        if let trusted = try trustedKey(of: siteID) {
            try db.run(
                """
                INSERT OR IGNORE INTO _liaison_key(site_id, from_seq, key)
                SELECT ?, 1, ? WHERE EXISTS (SELECT 1 FROM _liaison_revocation WHERE site_id = ? AND key = ?)
                    AND NOT EXISTS (SELECT 1 FROM _liaison_key WHERE site_id = ?)
                """, [.text(siteID), .text(trusted), .text(siteID), .text(trusted), .text(siteID)])
        }
        try db.run(
            """
            UPDATE _liaison_key SET revoked_since = (
                SELECT min(r.since) FROM _liaison_revocation r WHERE r.site_id = _liaison_key.site_id
                    AND r.key = _liaison_key.key)
            WHERE site_id = ? AND key IN (SELECT key FROM _liaison_revocation WHERE site_id = ?)
                AND revoked_since IS NOT (
                    SELECT min(r.since) FROM _liaison_revocation r WHERE r.site_id = _liaison_key.site_id
                        AND r.key = _liaison_key.key)
            """, [.text(siteID), .text(siteID)])
        return db.changes > 0
    }

    /// The accepted revocations of a site's keys, as they travel.
    func revocations(of siteID: String) throws -> [KeyRevocation] {
        try db.query(
            "SELECT key, since, by_site, signer, signature FROM _liaison_revocation WHERE site_id = ? ORDER BY key, by_site",
            [.text(siteID)]
        ) {
            KeyRevocation(
                key: $0.text(0), since: $0.int64(1), by: $0.text(2), signer: $0.text(3), signature: $0.text(4))
        }
    }

    /// Sites with revocations held here (at most `limit`), which every page carries on.
    func sitesWithRevocations(limit: Int = 256) throws -> [String] {
        try db.query(
            "SELECT DISTINCT site_id FROM _liaison_revocation ORDER BY site_id LIMIT ?", [.integer(Int64(limit))],
            { $0.text(0) })
    }

    /// Whether an introducer's rotation of `siteID`'s key verifies here: the introducer is marked
    /// introducer and signed it with its trusted key.
    func isVouched(_ rotation: KeyRotation, of siteID: String) throws -> Bool {
        guard let introducer = rotation.introducer, introducer != siteID, try isIntroducer(introducer),
            let key = try trustedKey(of: introducer)
        else { return false }
        return Self.isSigned(
            Self.vouchedRotationBytes(rotation, introducer: introducer, siteID: siteID), by: key,
            signature: rotation.signature)
    }
}
