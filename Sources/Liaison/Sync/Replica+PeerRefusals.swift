import Foundation

/// Why a server refused a request that named a registered peer: the security log's event names,
/// so that the console, `status --json` and `/metrics` speak one vocabulary.
public enum PeerRefusalKind {
    /// The kinds that are failed authentication (bad or stale signature, misdirected, altered body, replay).
    public static let authentication: Set<String> = ["authentication_failed", "replayed_request"]
    /// Every kind counted per peer, in the order shown.
    public static let all = [
        "authentication_failed", "replayed_request", "push_refused", "request_refused", "forged_transaction",
        "quota_exhausted", "identity_conflict", "equivocation", "request_shed",
    ]
}

extension Replica {
    static let peerRefusalTableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_peer_refusal(
            peer TEXT NOT NULL, kind TEXT NOT NULL, count INTEGER NOT NULL, last TEXT NOT NULL,
            PRIMARY KEY (peer, kind)) WITHOUT ROWID
        """

    /// Adds refused requests per peer and kind (`PeerRefusalKind`); the server's security log
    /// calls it at most once a second, so a flood of bad requests is not a flood of writes.
    public func recordPeerRefusals(_ counts: [String: [String: Int]], at time: Date = Date()) throws {
        guard counts.values.contains(where: { !$0.isEmpty }) else { return }
        let stamp = time.formatted(.iso8601)
        try withConnection { db in
            guard !db.isReadOnly else { return }
            try db.execute(Self.peerRefusalTableSQL)
            try transaction(db) {
                for (peer, kinds) in counts {
                    for (kind, count) in kinds where count > 0 {
                        try db.run(
                            """
                            INSERT INTO _liaison_peer_refusal(peer, kind, count, last) VALUES (?, ?, ?, ?)
                            ON CONFLICT(peer, kind) DO UPDATE SET count = count + excluded.count, last = excluded.last
                            """, [.text(peer), .text(kind), .integer(Int64(count)), .text(stamp)])
                    }
                }
            }
        }
    }

    /// Refused requests by peer and kind, as recorded (none before the first refusal).
    public func peerRefusals() throws -> [String: [String: Int]] {
        try withConnection { db in try Self.peerRefusals(db) }
    }

    /// Moves `peer`'s refusal counts to `newName`, or forgets them (`nil`): a removed peer's
    /// counts do not reappear on a new peer of the same name.
    static func movePeerRefusals(_ db: Connection, peer: String, to newName: String?) throws {
        guard
            try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_peer_refusal'", [], { _ in true })
                ?? false
        else { return }
        if let newName {
            try db.run("UPDATE _liaison_peer_refusal SET peer = ? WHERE peer = ?", [.text(newName), .text(peer)])
        } else {
            try db.run("DELETE FROM _liaison_peer_refusal WHERE peer = ?", [.text(peer)])
        }
    }

    static func peerRefusals(_ db: Connection) throws -> [String: [String: Int]] {
        guard
            try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_peer_refusal'", [], { _ in true })
                ?? false
        else { return [:] }
        var counts: [String: [String: Int]] = [:]
        for (peer, kind, count) in try db.query(
            "SELECT peer, kind, count FROM _liaison_peer_refusal", [], { ($0.text(0), $0.text(1), $0.int(2)) })
        {
            counts[peer, default: [:]][kind] = count
        }
        return counts
    }
}
