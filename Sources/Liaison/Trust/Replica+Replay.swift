import Foundation

extension Replica {
    /// The table of request signatures seen within the signature window. Kept in the replica, so
    /// that a restarted server still refuses a request it already accepted.
    static let replayTableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_replay(
            sig TEXT PRIMARY KEY NOT NULL, ts INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS _liaison_replay_ts ON _liaison_replay(ts);
        """

    /// Accepts a verified request signature once: checks its timestamp against `now` and records
    /// it; throws `.unauthorized` when it is stale or was accepted before (here, or before a restart).
    /// Signatures older than the window are forgotten as new ones come.
    public func admitRequest(_ signature: RequestSignature, now: Int64) throws {
        if let stale = ReplayGuard.staleness(of: signature, now: now) {
            throw LiaisonError(.unauthorized, stale)
        }
        let inserted = try withConnection { db in
            try transaction(db) { () throws -> Bool in
                try db.run(
                    "DELETE FROM _liaison_replay WHERE ts < ?", [.integer(now - 2 * RequestSignature.window)])
                try db.run(
                    "INSERT INTO _liaison_replay(sig, ts) VALUES (?, ?) ON CONFLICT(sig) DO NOTHING",
                    [.text(signature.signature), .integer(signature.timestamp)])
                return db.changes == 1
            }
        }
        guard inserted else {
            throw LiaisonError(.unauthorized, "this request was sent before (replayed); send a freshly signed request")
        }
    }
}
