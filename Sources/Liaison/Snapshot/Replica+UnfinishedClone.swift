import Foundation

/// A clone that did not finish: `liaison clone` marks the new replica before its first request
/// and clears the mark once the clone is complete. A snapshot clone keeps nothing until its last
/// page is verified (one SQLite transaction), so a clone whose process died holds no transaction,
/// and the next `liaison clone` into the same file starts over, saying why
/// (docs/DECISIONS.md, "A clone that did not finish starts over").
public struct UnfinishedClone: Sendable, Hashable {
    /// The URL the clone was made from, as the user gave it.
    public var source: String
    /// When it started (UTC, ISO 8601).
    public var started: String
    /// Transactions the replica holds, and local writes not published yet (none after an
    /// interrupted snapshot clone).
    public var transactions: Int
}

extension Replica {
    static let cloneMarkSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_clone_unfinished(
            id INTEGER PRIMARY KEY CHECK (id = 1), source TEXT NOT NULL, started TEXT NOT NULL)
        """

    /// Marks this replica as a clone from `source` in progress, until `finishClone()`.
    public func beginClone(from source: String) throws {
        try withConnection { db in
            try transaction(db) {
                try db.execute(Self.cloneMarkSQL)
                try db.run(
                    "INSERT OR REPLACE INTO _liaison_clone_unfinished(id, source, started) VALUES (1, ?, ?)",
                    [.text(source), .text(Self.acknowledgementTime())])
            }
        }
    }

    /// Clears the mark `beginClone` set: the clone is complete.
    public func finishClone() throws {
        try withConnection { db in
            try transaction(db) {
                try db.execute(Self.cloneMarkSQL)
                try db.run("DELETE FROM _liaison_clone_unfinished")
            }
        }
    }

    /// The clone this replica was made by, if it did not finish.
    public func unfinishedClone() throws -> UnfinishedClone? {
        try withConnection { db in
            guard
                try db.first(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_liaison_clone_unfinished'", [],
                    { _ in true }) ?? false,
                let (source, started) = try db.first(
                    "SELECT source, started FROM _liaison_clone_unfinished WHERE id = 1", [],
                    { ($0.text(0), $0.text(1)) })
            else { return nil }
            // Transactions logged, and local writes not published yet.
            let count =
                try db.first(
                    "SELECT (SELECT count(*) FROM _liaison_tx) + (SELECT count(*) FROM _liaison_journal)", [],
                    { $0.int(0) }) ?? 0
            return UnfinishedClone(source: source, started: started, transactions: count)
        }
    }
}
