import Foundation

/// A registered peer agency: where it serves, the shared bearer token, and how far syncing has come.
public struct PeerRecord: Sendable, Hashable {
    public var name: String
    public var url: String
    public var token: String
    public var siteID: String?
    public var pullCursor: String
    public var pushCursor: String
}

extension Replica {
    /// Registers a peer (or updates its URL and token). The token authenticates both ways.
    public func addPeer(name: String, url: String, token: String, siteID: String? = nil) throws {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw LiaisonError(.invalidInput, "invalid peer name '\(name)': use letters, digits, '-', '_' or '.'")
        }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw LiaisonError(.invalidInput, "invalid peer URL '\(url)': expected http://HOST:PORT")
        }
        guard token.count >= 8 else {
            throw LiaisonError(.invalidInput, "the token for peer '\(name)' is too short: use at least 8 characters")
        }
        try withConnection { db in
            try db.run(
                """
                INSERT INTO _liaison_peer(name, url, token, site_id) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET url = excluded.url, token = excluded.token,
                    site_id = coalesce(excluded.site_id, site_id)
                """, [.text(name), .text(url), .text(token), siteID.map { .text($0) } ?? .null])
        }
    }

    /// Every registered peer, by name.
    public func peers() throws -> [PeerRecord] {
        try withConnection { db in
            try db.query("SELECT name, url, token, site_id, pull_cursor, push_cursor FROM _liaison_peer ORDER BY name") {
                PeerRecord(
                    name: $0.text(0), url: $0.text(1), token: $0.text(2), siteID: $0.optionalText(3),
                    pullCursor: $0.text(4), pushCursor: $0.text(5))
            }
        }
    }

    /// The peer whose token this is, if any.
    public func peer(forToken token: String) throws -> PeerRecord? {
        try peers().first { constantTimeEquals($0.token, token) }
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
