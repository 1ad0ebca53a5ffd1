import Crypto
import Foundation

extension Replica {
    /// This replica's signing key as its key file holds it (it changes when the key is rotated).
    func currentSigningKey(_ db: Connection) throws -> Curve25519.Signing.PrivateKey {
        try requireSigningKey()
    }

    /// Site code, site id and the current public key (after any rotation).
    public func currentIdentity() throws -> Identity {
        try withConnection { db in
            let key =
                try db.first("SELECT public_key FROM _liaison_site WHERE sidx = 1", [], { $0.text(0) }) ?? publicKey
            return Identity(
                site: siteCode.rawValue, siteID: siteID, publicKey: key, fingerprint: SiteKey.fingerprint(key))
        }
    }

    /// This replica's own key rotations, oldest first.
    public func keyRotations() throws -> [KeyRotation] {
        try withConnection { try TrustStore(db: $0).rotations(of: siteID) }
    }

    /// Replaces this replica's signing key: transactions from the next sequence number on are
    /// signed with a new key, and a key event signed by the old key tells peers so (it travels
    /// with the key in every page). Earlier transactions stay verifiable with the old key.
    @discardableResult
    public func rotateKey() throws -> Identity {
        try withConnection { db in
            try publishIfNeeded(db)
            try transaction(db) {
                let old = try currentSigningKey(db)
                let oldPublic = old.publicKey.rawRepresentation.base64EncodedString()
                let next = (try db.first("SELECT seq FROM _liaison_site WHERE sidx = 1", [], { $0.int64(0) }) ?? 0) + 1
                let fresh = SiteKey.generate()
                var rotation = KeyRotation(fromSeq: next, key: fresh.publicKey, previous: oldPublic, signature: "")
                rotation.signature = try old.signature(
                    for: TrustStore.rotationBytes(rotation, siteID: siteID)
                ).base64EncodedString()
                try db.run(
                    "INSERT OR IGNORE INTO _liaison_key(site_id, from_seq, key) VALUES (?, 1, ?)",
                    [.text(siteID), .text(oldPublic)])
                try db.run(
                    "INSERT OR REPLACE INTO _liaison_key(site_id, from_seq, key, rotation) VALUES (?, ?, ?, ?)",
                    [.text(siteID), .integer(next), .text(fresh.publicKey), .text(try WireJSON.string(rotation))])
                try db.run("UPDATE _liaison_site SET public_key = ? WHERE sidx = 1", [.text(fresh.publicKey)])
                try db.run("UPDATE _liaison_meta SET value = ? WHERE key = 'public_key'", [.text(fresh.publicKey)])
                // Last, under the replica's write lock: the new secret goes to the key file only.
                try keys.update { $0.privateKey = fresh.privateKey }
            }
        }
        return try currentIdentity()
    }

    /// Marks a site's key as compromised since `since` (ms since 1970): its transactions stamped
    /// from then on are refused as `.untrustedKey` (for review with the site's operator), and
    /// `verify` lists those already applied; earlier history stays verifiable. Without `key`, the
    /// key trusted for the site now.
    public func revokeKey(of site: SiteCode, since: Int64, key: String? = nil) throws {
        try withConnection { db in
            try transaction(db) {
                guard
                    let (siteID, current) = try db.first(
                        "SELECT site_id, public_key FROM _liaison_site WHERE code = ? AND public_key IS NOT NULL",
                        [.text(site.rawValue)], { ($0.text(0), $0.text(1)) })
                else { throw LiaisonError(.invalidInput, "no trusted key for \(site) here; nothing to revoke") }
                try db.run(
                    "INSERT OR IGNORE INTO _liaison_key(site_id, from_seq, key) VALUES (?, 1, ?)",
                    [.text(siteID), .text(current)])
                try db.run(
                    "UPDATE _liaison_key SET revoked_since = ? WHERE site_id = ? AND key = ?",
                    [.integer(since), .text(siteID), .text(key ?? current)])
                guard db.changes > 0 else {
                    throw LiaisonError(.invalidInput, "\(site) never had that key here; nothing was revoked")
                }
            }
        }
    }
}
