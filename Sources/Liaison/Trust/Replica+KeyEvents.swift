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
    ///
    /// With `compromisedSince` (ms since 1970) the old key was stolen: a revocation signed by the
    /// new key travels with it, and every replica that follows the rotation holds the old key's
    /// transactions stamped from then on for review (its thief's, and this site's own since then).
    @discardableResult
    public func rotateKey(compromisedSince: Int64? = nil) throws -> Identity {
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
                if let compromisedSince {
                    let revocation = try Self.revocation(
                        of: oldPublic, since: compromisedSince, by: siteID,
                        signedWith: try SiteKey.privateKey(fresh.privateKey),
                        siteID: siteID)
                    try TrustStore(db: db).admit(revocation, of: siteID, via: "operator")
                }
                // Last, under the replica's write lock: the new secret goes to the key file only.
                try keys.update { $0.privateKey = fresh.privateKey }
            }
        }
        return try currentIdentity()
    }

    /// Gives this replica a new signing key when the old one is lost (its key file gone) or must
    /// not sign again, without a rotation signed by the old key: transactions from the next
    /// sequence number on are signed with the new key, which peers trust once an introducer they
    /// trust vouches for it (`vouchForKey`) or their operators confirm it (`liaison trust --key`).
    /// Returns the new identity and the first sequence number it signs.
    public func replaceLostKey() throws -> (identity: Identity, fromSeq: Int64) {
        let next: Int64 = try withConnection { db in
            try transaction(db) {
                let old =
                    try db.first("SELECT public_key FROM _liaison_site WHERE sidx = 1", [], { $0.text(0) }) ?? publicKey
                let next = (try db.first("SELECT seq FROM _liaison_site WHERE sidx = 1", [], { $0.int64(0) }) ?? 0) + 1
                let fresh = SiteKey.generate()
                try db.run(
                    "INSERT OR IGNORE INTO _liaison_key(site_id, from_seq, key) VALUES (?, 1, ?)",
                    [.text(siteID), .text(old)])
                try db.run(
                    "INSERT OR REPLACE INTO _liaison_key(site_id, from_seq, key) VALUES (?, ?, ?)",
                    [.text(siteID), .integer(next), .text(fresh.publicKey)])
                try db.run("UPDATE _liaison_site SET public_key = ? WHERE sidx = 1", [.text(fresh.publicKey)])
                try db.run("UPDATE _liaison_meta SET value = ? WHERE key = 'public_key'", [.text(fresh.publicKey)])
                try keys.replacePrivateKey(with: fresh.privateKey, siteID: siteID)
                return next
            }
        }
        return (try currentIdentity(), next)
    }

    /// Vouches, as introducer, for a new key of a site whose old key was lost or stolen: from
    /// transaction `fromSeq` on, `site` signs with `key`. The operator confirmed the key with the
    /// site's operator out of band. This replica trusts it at once, and the rotation, signed with
    /// this replica's key, travels with the site's key to every replica; those that mark this one
    /// introducer follow it, even from a revoked key.
    public func vouchForKey(of site: SiteCode, key: String, fromSeq: Int64) throws {
        _ = try SiteKey.publicKey(key)
        try withConnection { db in
            try transaction(db) {
                let store = TrustStore(db: db)
                guard
                    let (siteID, current) = try db.first(
                        "SELECT site_id, public_key FROM _liaison_site WHERE code = ? AND public_key IS NOT NULL",
                        [.text(site.rawValue)], { ($0.text(0), $0.text(1)) })
                else {
                    throw LiaisonError(
                        .invalidInput,
                        "no trusted key for \(site) here: trust it first ('liaison trust DB \(site) --key K --site-id ID')"
                    )
                }
                guard siteID != self.siteID else {
                    throw LiaisonError(
                        .invalidInput, "nobody vouches for themselves: use 'liaison identity DB --rotate'")
                }
                guard current != key else { throw LiaisonError(.invalidInput, "\(site) has that key already here") }
                let applied =
                    try db.first("SELECT seq FROM _liaison_site WHERE site_id = ?", [.text(siteID)], { $0.int64(0) })
                    ?? 0
                let lastKey =
                    try db.first(
                        "SELECT max(from_seq) FROM _liaison_key WHERE site_id = ?", [.text(siteID)],
                        { $0.isNull(0) ? 0 : $0.int64(0) }) ?? 0
                guard fromSeq > max(applied, lastKey) else {
                    throw LiaisonError(
                        .invalidInput,
                        "\(site)#\(max(applied, lastKey)) is applied here or keyed already: the new key can sign from "
                            + "\(max(applied, lastKey) + 1) on; ask \(site)'s operator which sequence number its new key starts at"
                    )
                }
                var rotation = KeyRotation(
                    fromSeq: fromSeq, key: key, previous: current, signature: "", introducer: self.siteID)
                rotation.signature = try currentSigningKey(db).signature(
                    for: TrustStore.vouchedRotationBytes(rotation, introducer: self.siteID, siteID: siteID)
                ).base64EncodedString()
                try db.run(
                    "INSERT OR IGNORE INTO _liaison_key(site_id, from_seq, key) VALUES (?, 1, ?)",
                    [.text(siteID), .text(current)])
                try db.run(
                    "INSERT OR REPLACE INTO _liaison_key(site_id, from_seq, key, rotation) VALUES (?, ?, ?, ?)",
                    [.text(siteID), .integer(fromSeq), .text(key), .text(try WireJSON.string(rotation))])
                try db.run("UPDATE _liaison_site SET public_key = ? WHERE site_id = ?", [.text(key), .text(siteID)])
                try db.run("UPDATE _liaison_peer SET public_key = ? WHERE site_id = ?", [.text(key), .text(siteID)])
                try store.applyRevocations(of: siteID)
            }
        }
        try retryQuarantine()
    }

    /// Marks a site's key as compromised since `since` (ms since 1970): its transactions stamped
    /// from then on are held for review (`untrusted_key`), and `verify` lists those already
    /// applied; earlier history stays verifiable. Without `key`, the key trusted for the site now.
    ///
    /// The revocation is signed by this replica and travels with the site's key: replicas that mark
    /// this one introducer apply it too; the others keep it only to pass it on.
    public func revokeKey(of site: SiteCode, since: Int64, key: String? = nil) throws {
        try withConnection { db in
            try transaction(db) {
                guard
                    let (siteID, current) = try db.first(
                        "SELECT site_id, public_key FROM _liaison_site WHERE code = ? AND public_key IS NOT NULL",
                        [.text(site.rawValue)], { ($0.text(0), $0.text(1)) })
                else { throw LiaisonError(.invalidInput, "no trusted key for \(site) here; nothing to revoke") }
                let revoked = key ?? current
                guard try TrustStore(db: db).chain(of: siteID).contains(where: { $0.key == revoked }) else {
                    throw LiaisonError(.invalidInput, "\(site) never had that key here; nothing was revoked")
                }
                let revocation = try Self.revocation(
                    of: revoked, since: since, by: self.siteID, signedWith: try currentSigningKey(db), siteID: siteID)
                try db.run(
                    """
                    INSERT INTO _liaison_revocation(site_id, key, by_site, signer, since, signature, via)
                    VALUES (?, ?, ?, ?, ?, ?, 'operator')
                    ON CONFLICT(site_id, key, by_site) DO UPDATE SET since = excluded.since, signer = excluded.signer,
                        signature = excluded.signature
                    """,
                    [
                        .text(siteID), .text(revoked), .text(revocation.by), .text(revocation.signer),
                        .integer(since), .text(revocation.signature),
                    ])
                try TrustStore(db: db).applyRevocations(of: siteID)
            }
        }
    }

    /// A revocation of `key` (a key of site `siteID`) since `since`, by site `by`, signed with `signer`.
    static func revocation(
        of key: String, since: Int64, by: String, signedWith signer: Curve25519.Signing.PrivateKey, siteID: String
    ) throws -> KeyRevocation {
        var revocation = KeyRevocation(
            key: key, since: since, by: by, signer: signer.publicKey.rawRepresentation.base64EncodedString(),
            signature: "")
        revocation.signature = try signer.signature(for: TrustStore.revocationBytes(revocation, siteID: siteID))
            .base64EncodedString()
        return revocation
    }

    /// A revocation of `key` (of site `siteID`) since `since`, as site `by`, signed with this
    /// replica's key, whoever it claims to be (to test who is believed).
    package func signRevocation(of key: String, since: Int64, by: String, siteID: String) throws -> KeyRevocation {
        try Self.revocation(of: key, since: since, by: by, signedWith: try requireSigningKey(), siteID: siteID)
    }

    /// The revocations this replica holds of a site's keys (its own included), as they travel.
    public func keyRevocations(of siteID: String) throws -> [KeyRevocation] {
        try withConnection { try TrustStore(db: $0).revocations(of: siteID) }
    }
}
