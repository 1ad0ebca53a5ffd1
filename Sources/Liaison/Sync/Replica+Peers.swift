import Foundation

/// A registered peer agency: where it serves, the shared secret that signs requests, its grants, and how far syncing has come.
///
/// The token lives in the replica's key file (`<replica>.keys`), not in the SQLite file; it is
/// empty when the key file lacks it (a copy of the replica).
public struct PeerRecord: Sendable, Hashable {
    public var name: String
    public var url: String
    public var token: String
    public var siteID: String?
    public var pullCursor: String
    public var pushCursor: String
    /// Scopes the peer may receive from this replica (`*` for all).
    public var readScopes: Set<String>
    /// Scopes the peer may write into this replica (`*` for all).
    public var writeScopes: Set<String>
}

extension Replica {
    /// Registers a peer (or updates its URL, token and grants). The token authenticates both ways.
    ///
    /// A new peer may read and write the `public` scope only unless `read`/`write` say otherwise;
    /// `grant` changes it later. `publicKey` with `siteID` trusts the peer's key (the operator read it
    /// from the peer's `liaison identity`); without them the peer's transactions are refused as
    /// `.untrustedKey` until `trust` is called.
    public func addPeer(
        name: String, url: String, token: String, siteID: String? = nil, read: Set<String> = ["public"],
        write: Set<String> = ["public"], publicKey: String? = nil
    ) throws {
        if let publicKey { _ = try SiteKey.publicKey(publicKey) }
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
        else {
            throw LiaisonError(.invalidInput, "invalid peer name '\(name)': use letters, digits, '-', '_' or '.'")
        }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw LiaisonError(.invalidInput, "invalid peer URL '\(url)': expected http://HOST:PORT")
        }
        guard token.count >= 8 else {
            throw LiaisonError(.invalidInput, "the token for peer '\(name)' is too short: use at least 8 characters")
        }
        if let publicKey, let siteID {
            guard let code = SiteCode(name) else {
                throw LiaisonError(
                    .invalidInput, "to trust a key, name the peer by its site code (e.g. MA-DGST), not '\(name)'")
            }
            try trust(site: code, siteID: siteID, key: publicKey)
        }
        try withConnection { db in
            // The replica's write lock orders writers of the key file across processes.
            try db.run("BEGIN IMMEDIATE")
            do {
                try upsertPeer(db, name: name, url: url, siteID: siteID, read: read, write: write, publicKey: publicKey)
                try keys.update { $0.tokens[name] = token }
                try db.run("COMMIT")
            } catch {
                try? db.run("ROLLBACK")
                throw error
            }
        }
    }

    private func upsertPeer(
        _ db: Connection, name: String, url: String, siteID: String?, read: Set<String>, write: Set<String>,
        publicKey: String?
    ) throws {
        try db.run(
            """
            INSERT INTO _liaison_peer(name, url, token, site_id, read_scopes, write_scopes, public_key)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET url = excluded.url, token = '',
                read_scopes = excluded.read_scopes, write_scopes = excluded.write_scopes,
                site_id = coalesce(excluded.site_id, site_id), public_key = coalesce(excluded.public_key, public_key)
            """,
            [
                .text(name), .text(url), .text(""), siteID.map { .text($0) } ?? .null,
                .text(Self.grantText(read)),
                .text(Self.grantText(write)), publicKey.map { .text($0) } ?? .null,
            ])
    }

    /// Sets what a peer may read from and write into this replica.
    public func grant(peer: String, read: Set<String>, write: Set<String>) throws {
        try withConnection { db in
            try db.run(
                "UPDATE _liaison_peer SET read_scopes = ?, write_scopes = ? WHERE name = ?",
                [.text(Self.grantText(read)), .text(Self.grantText(write)), .text(peer)])
            guard db.changes > 0 else {
                throw LiaisonError(.invalidInput, "no peer '\(peer)'; add it first with 'liaison peer add'")
            }
        }
    }

    static func grantText(_ scopes: Set<String>) -> String { scopes.sorted().joined(separator: ",") }

    /// Trusts another site's key, learnt out of band (`liaison identity` on the other side).
    public func pinKey(of identity: Identity) throws {
        guard let code = SiteCode(identity.site) else {
            throw LiaisonError(.invalidInput, "invalid site code '\(identity.site.prefix(40))'")
        }
        try trust(site: code, siteID: identity.siteID, key: identity.publicKey)
    }

    /// Every registered peer, by name.
    public func peers() throws -> [PeerRecord] {
        let tokens = keys.current()?.tokens ?? [:]
        return try withConnection { db in
            try db.query(
                "SELECT name, url, token, site_id, pull_cursor, push_cursor, read_scopes, write_scopes FROM _liaison_peer ORDER BY name"
            ) {
                PeerRecord(
                    name: $0.text(0), url: $0.text(1), token: tokens[$0.text(0)] ?? "", siteID: $0.optionalText(3),
                    pullCursor: $0.text(4), pushCursor: $0.text(5),
                    readScopes: (try? Scope.parseGrant($0.text(6))) ?? [],
                    writeScopes: (try? Scope.parseGrant($0.text(7))) ?? [])
            }
        }
    }

    /// The peer whose token has this public key id (`RequestSignature.keyID(forToken:)`), if any.
    /// Nothing of the request but its header is needed: a server asks before reading a body.
    public func peer(forKeyID keyID: String) throws -> PeerRecord? {
        try peers().first { $0.token.count >= 8 && RequestSignature.keyID(forToken: $0.token) == keyID }
    }

    /// The peer whose token this is, if any.
    public func peer(forToken token: String) throws -> PeerRecord? {
        try peers().first { $0.token.count >= 8 && constantTimeEquals($0.token, token) }
    }

    /// Stores how far a push to `peer` has come.
    public func savePushCursor(peer: String, cursor: String) throws {
        try withConnection { db in
            try db.run("UPDATE _liaison_peer SET push_cursor = ? WHERE name = ?", [.text(cursor), .text(peer)])
        }
    }

    /// Records the outcome of a sync round with `peer`.
    public func recordSync(peer: String, siteID: String?, error: String?) throws {
        try withConnection { db in
            if let error {
                try db.run("UPDATE _liaison_peer SET last_error = ? WHERE name = ?", [.text(error), .text(peer)])
            } else {
                try db.run(
                    "UPDATE _liaison_peer SET last_sync = ?, last_error = NULL, site_id = coalesce(?, site_id) WHERE name = ?",
                    [.text(Date().formatted(.iso8601)), siteID.map { .text($0) } ?? .null, .text(peer)])
            }
        }
    }

    /// Runs `body` off Swift's cooperative pool; the replica's own queue serialises SQLite access.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (Replica) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body(self) }) }
        }
    }
}

private func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for index in x.indices { difference |= x[index] ^ y[index] }
    return difference == 0
}
