import Foundation

/// What compaction has done to this replica so far, and what holds the next one back, as `status`
/// and `compact --plan` show it. Cheap: no candidate scan (`compactionPlan()` does that).
public struct CompactionSummary: Sendable, Codable, Hashable {
    /// Signed checkpoints this replica made.
    public var checkpoints: Int
    /// The newest one: its id, when it was made, and the floor it was made under (`CODE=SEQ,...`).
    public var lastCheckpoint: Int64?
    public var lastAt: String?
    public var lastFloor: String?
    /// Transactions removed whole by this replica's compactions, and by the snapshot it was cloned
    /// from (taken on its source's signed word).
    public var transactionsRemoved: Int64
    public var transactionsRemovedBySnapshot: Int64
    /// Superseded values dropped (their changes' digests stay) and their bytes in the log when dropped.
    public var valuesDropped: Int64
    public var valueBytesDropped: Int64
    /// Bytes the compactions reclaimed, the file and its WAL before minus after `VACUUM`, summed
    /// (recorded by compactions of this build on).
    public var fileBytesReclaimed: Int64
    /// The vector every counted peer has acknowledged now (`CODE=SEQ,...`).
    public var floor: String
    /// Peers, not marked stale, whose acknowledgement keeps the floor below this replica's own
    /// vector: compaction waits for them (`liaison peer stale` stops one counting).
    public var floorHeldBackBy: [String]
    /// Counted peers that acknowledged transactions this replica lacks: nothing is removed whole
    /// until it holds them.
    public var aheadOfThisReplica: [String]
}

/// One compaction's effect on the file, kept beside its checkpoint (`_liaison_compaction_run`).
enum CompactionRuns {
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_compaction_run(
            checkpoint INTEGER PRIMARY KEY, file_before INTEGER NOT NULL, file_after INTEGER NOT NULL,
            transactions INTEGER NOT NULL);
        """

    static func record(_ db: Connection, checkpoint: Int64, before: Int, after: Int, transactions: Int) throws {
        try db.execute(createSQL)
        try db.run(
            "INSERT OR REPLACE INTO _liaison_compaction_run(checkpoint, file_before, file_after, transactions) VALUES (?, ?, ?, ?)",
            [.integer(checkpoint), .integer(Int64(before)), .integer(Int64(after)), .integer(Int64(transactions))])
    }
}

extension Replica {
    /// What compaction has done here and who holds the next one back (`CompactionSummary`).
    public func compactionSummary() throws -> CompactionSummary {
        let floor = try compactionFloor()
        let own = try versionVector()
        let acks = try acknowledgements()
        let stale = try stalePeers()
        var holding: [String] = []
        for peer in try peers().sorted(by: { $0.name < $1.name }) where stale[peer.name] == nil {
            let acknowledged = acks[peer.name]?.vector ?? VersionVector()
            if own.entries.contains(where: { $0.value > 0 && acknowledged[$0.key] < $0.value }) {
                holding.append(peer.name)
            }
        }
        var summary = CompactionSummary(
            checkpoints: 0, transactionsRemoved: 0, transactionsRemovedBySnapshot: 0, valuesDropped: 0,
            valueBytesDropped: 0, fileBytesReclaimed: 0, floor: try describe(floor), floorHeldBackBy: holding,
            aheadOfThisReplica: try peersAheadOfThisReplica())
        let last: (Int64, String, String)? = try withConnection { db in
            func exists(_ table: String) throws -> Bool {
                try db.first("SELECT 1 FROM sqlite_master WHERE name = ?", [.text(table)]) { _ in true } ?? false
            }
            if try ChainBase.hasTable(db) {
                for (checkpoint, count) in try db.query(
                    "SELECT checkpoint = 0, coalesce(sum(through - first + 1), 0) FROM _liaison_chain_gap GROUP BY checkpoint = 0",
                    [], { ($0.int(0) == 1, $0.int64(1)) })
                {
                    if checkpoint {
                        summary.transactionsRemovedBySnapshot = count
                    } else {
                        summary.transactionsRemoved = count
                    }
                }
            }
            if try exists("_liaison_compaction_run") {
                summary.fileBytesReclaimed =
                    try db.first(
                        "SELECT coalesce(sum(max(0, file_before - file_after)), 0) FROM _liaison_compaction_run"
                    ) {
                        $0.int64(0)
                    } ?? 0
            }
            guard try CompactionCheckpoint.hasTables(db) else { return nil }
            summary.valuesDropped = try db.first("SELECT count(*) FROM _liaison_compacted") { $0.int64(0) } ?? 0
            (summary.checkpoints, summary.valueBytesDropped) =
                try db.first("SELECT count(*), coalesce(sum(bytes), 0) FROM _liaison_checkpoint") {
                    ($0.int(0), $0.int64(1))
                } ?? (0, 0)
            return try db.first("SELECT id, at, floor FROM _liaison_checkpoint ORDER BY id DESC LIMIT 1") {
                ($0.int64(0), $0.text(1), $0.text(2))
            }
        }
        if let (id, at, floorJSON) = last {
            summary.lastCheckpoint = id
            summary.lastAt = at
            summary.lastFloor = (try? JSONDecoder().decode(VersionVector.self, from: Data(floorJSON.utf8)))
                .flatMap { try? describe($0) }
        }
        return summary
    }
}
