import Foundation

/// What compaction could reclaim now, and who holds the rest back.
public struct CompactionPlan: Sendable, Codable, Hashable {
    /// One peer's part in the plan.
    public struct PeerHold: Sendable, Codable, Hashable {
        public var peer: String
        /// When its newest acknowledgement was made, if it sent one.
        public var acknowledgedAt: String?
        /// What it acknowledged, as `CODE=SEQ,...`.
        public var acknowledged: String?
        /// When an operator marked it stale (it no longer holds anything back).
        public var staleSince: String?
        /// Changes that only this peer's missing acknowledgement keeps.
        public var holdsBack: Int
    }

    /// The vector every peer that counts has acknowledged, as `CODE=SEQ,...`.
    public var floor: String
    /// Superseded values that every such peer has, which compaction would drop.
    public var changes: Int
    /// Their size in the log (bytes of values).
    public var bytes: Int
    public var peers: [PeerHold]
    /// Transactions `compact --apply --remove-transactions` would remove whole (headers and change
    /// rows): wholly superseded, acknowledged, in runs (`RemovableRuns`).
    public var transactions = 0
    /// Counted peers that acknowledged transactions this replica lacks: none are removed whole
    /// until it holds them.
    public var transactionsHeldBackBy: [String] = []
    /// What compaction has done so far (`compact --plan` fills it in).
    public var summary: CompactionSummary?
}

/// Which logged values compaction may drop: changes of transactions every peer that counts has
/// acknowledged (`floor`), whose cells all have later versions, on rows whose current versions are
/// all acknowledged too, not a deletion, not an insert or a move (a change setting `scope`:
/// eviction outlines are built from them, and their bodies must match the signed digests the
/// receivers keep; simulation seed 18), not an update setting `owner` and no change of an `owner-wins` table
/// (owner checks read those from the log), not a side of an open conflict. The change row stays (table, id, scope,
/// digest, levels and bases), so signatures, hash chains, reads per change and causality keep
/// working; only `vals` goes.
struct CompactionCandidates {
    let db: Connection

    /// `(sidx, seq, n, bytes)` of each change compaction may drop under `floor` (by site index).
    func list(floor: [Int64: Int64], excludingTables excluded: [String]) throws -> [(
        site: Int64, seq: Int64, n: Int64, bytes: Int
    )] {
        try db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS liaison_floor(sidx INTEGER PRIMARY KEY, seq INTEGER NOT NULL)")
        try db.execute("DELETE FROM temp.liaison_floor")
        for (site, seq) in floor where seq > 0 {
            try db.run("INSERT INTO temp.liaison_floor(sidx, seq) VALUES (?, ?)", [.integer(site), .integer(seq)])
        }
        return try db.query(
            """
            SELECT c.sidx, c.seq, c.n, length(c.vals) FROM _liaison_change c
            JOIN temp.liaison_floor f ON f.sidx = c.sidx AND c.seq <= f.seq
            WHERE c.vals IS NOT NULL AND c.op = 'update'
            AND c.vals NOT LIKE '%"scope":%' AND c.vals NOT LIKE '%"owner":%'
            AND c.tbl NOT IN (SELECT value FROM json_each(?))
            AND NOT EXISTS (SELECT 1 FROM _liaison_version v
                WHERE v.tbl = c.tbl AND v.pk = c.pk AND v.sidx = c.sidx AND v.seq = c.seq)
            AND NOT EXISTS (SELECT 1 FROM _liaison_version v WHERE v.tbl = c.tbl AND v.pk = c.pk
                AND v.seq > coalesce((SELECT g.seq FROM temp.liaison_floor g WHERE g.sidx = v.sidx), 0))
            AND NOT EXISTS (SELECT 1 FROM _liaison_conflict x WHERE x.state = 'open'
                AND ((x.winner_sidx = c.sidx AND x.winner_seq = c.seq) OR (x.loser_sidx = c.sidx AND x.loser_seq = c.seq)))
            ORDER BY c.sidx, c.seq, c.n
            """, [.text(String(decoding: try JSONEncoder().encode(excluded), as: UTF8.self))],
            { (site: $0.int64(0), seq: $0.int64(1), n: $0.int64(2), bytes: $0.int(3)) })
    }
}
