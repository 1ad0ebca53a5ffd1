import Foundation

extension Replica {
    static let staleTableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_peer_stale(peer TEXT PRIMARY KEY NOT NULL, at TEXT NOT NULL) WITHOUT ROWID
        """

    /// Marks a peer stale (or not): compaction stops waiting for its acknowledgement. Only an
    /// operator does this, never a timer; a stale peer still syncs, and receives the values
    /// compacted meanwhile as signed digests only (it holds their later versions).
    public func markStale(peer name: String, _ isStale: Bool = true) throws {
        let peer = try bundlePeer(named: name)
        try withConnection { db in
            try transaction(db) {
                try db.execute(Self.staleTableSQL)
                if isStale {
                    try db.run(
                        "INSERT OR REPLACE INTO _liaison_peer_stale(peer, at) VALUES (?, ?)",
                        [.text(peer.name), .text(Date().formatted(.iso8601))])
                } else {
                    try db.run("DELETE FROM _liaison_peer_stale WHERE peer = ?", [.text(peer.name)])
                }
            }
        }
    }

    /// Peers an operator marked stale, with when.
    public func stalePeers() throws -> [String: String] {
        try withConnection { db in
            guard
                try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_peer_stale'", [], { _ in true })
                    ?? false
            else { return [:] }
            return Dictionary(
                try db.query("SELECT peer, at FROM _liaison_peer_stale", [], { ($0.text(0), $0.text(1)) }),
                uniquingKeysWith: { first, _ in first })
        }
    }
}
