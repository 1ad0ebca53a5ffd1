import Crypto
import Foundation

extension Replica {
    /// Moves the signing key and peer tokens of a replica made by an earlier version out of the
    /// SQLite file into its key file, then scrubs them from the file (`secure_delete` zeroes the
    /// freed bytes, a truncating checkpoint empties the WAL) and makes it private (0600).
    ///
    /// A file that cannot be written (read-only media) keeps them; they are used from memory.
    static func moveSecretsOut(
        _ connection: Connection, privateKey: String, siteID: String, existing: KeyFile?, to keyPath: String
    ) throws -> KeyFile {
        var tokens: [String: String] = [:]
        for (name, token) in try connection.query(
            "SELECT name, token FROM _liaison_peer", [], { ($0.text(0), $0.text(1)) })
        where !token.isEmpty {
            tokens[name] = token
        }
        var file = existing ?? KeyFile(siteID: siteID, privateKey: privateKey)
        guard file.privateKey == privateKey else {
            throw LiaisonError(
                .storage,
                "'\(keyPath)' holds another key than the one inside '\(connection.path)'; move one of them away")
        }
        if connection.isReadOnly {
            file.tokens.merge(tokens) { kept, _ in kept }
            return file
        }
        file.tokens.merge(tokens) { kept, _ in kept }
        try file.write(to: keyPath)
        try connection.execute("PRAGMA secure_delete = ON")
        try connection.execute("BEGIN IMMEDIATE")
        do {
            try connection.run("DELETE FROM _liaison_meta WHERE key = 'private_key'")
            try connection.run("UPDATE _liaison_peer SET token = ''")
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
        try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try connection.execute("PRAGMA secure_delete = OFF")
        FileProbe.makePrivate(connection.path)
        return file
    }

    /// The signing key as the key file holds it now (a rotation in another process changes it),
    /// or an error saying how to bring it.
    func requireSigningKey() throws -> Curve25519.Signing.PrivateKey {
        guard let file = keys.current() else {
            throw LiaisonError(
                .storage,
                "'\(path)' has no key file beside it ('\(keys.path)'): it is a copy, which can be read but not "
                    + "edited or synced; edit on the original, or bring its key with 'liaison import-key'")
        }
        return try SiteKey.privateKey(file.privateKey)
    }

    /// The key file's contents, for moving this identity to another machine deliberately.
    public func exportKeys() throws -> Data {
        guard let file = keys.current() else { _ = try requireSigningKey(); return Data() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(file)
    }

    /// Checks that `data` is this replica's key file (same site, the key of its public key) and
    /// installs it beside the replica, 0600. Refuses a key file of another site or key.
    public static func importKeys(_ data: Data, forReplicaAt path: String) throws {
        guard let file = try? JSONDecoder().decode(KeyFile.self, from: data) else {
            throw LiaisonError(.invalidInput, "not a Liaison key file (made by 'liaison export-key')")
        }
        let replica = try Replica.open(at: path)
        guard file.siteID == replica.siteID else {
            throw LiaisonError(
                .invalidInput, "this key file belongs to site \(file.siteID), not to '\(path)' (\(replica.siteID))")
        }
        let key = try SiteKey.privateKey(file.privateKey)
        guard key.publicKey.rawRepresentation.base64EncodedString() == replica.publicKey else {
            throw LiaisonError(
                .invalidInput,
                "this key file's key is not the key of '\(path)' (\(SiteKey.fingerprint(replica.publicKey))); refusing it"
            )
        }
        if let existing = replica.keys.current(), existing.privateKey == file.privateKey {
            var merged = existing
            merged.tokens.merge(file.tokens) { kept, _ in kept }
            try merged.write(to: replica.keys.path)
        } else {
            try file.write(to: replica.keys.path)
        }
    }
}
