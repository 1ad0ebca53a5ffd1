import Foundation

/// Which withheld changes a replica asks for again (`wanted`), so that changes it may never read
/// cannot keep the list full for good.
///
/// The list is capped (200 transactions). Asked oldest first, a replica that may never read some
/// scope filled it with the same unanswerable changes round after round, and changes withheld
/// later, which a peer could send, were never asked for. Each transaction's times asked are
/// counted (`_liaison_wanted_asked`, created on first use); the least asked come first, oldest
/// first among equals, so every withheld change is asked for in turn.
enum WantedRotation {
    static let tableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_wanted_asked(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, asked INTEGER NOT NULL,
            PRIMARY KEY (sidx, seq)) WITHOUT ROWID
        """

    /// The next `limit` transactions to ask for, each with its withheld positions, and counts them
    /// as asked.
    static func next(_ db: Connection, limit: Int) throws -> [WantedTransaction] {
        try db.execute(tableSQL)
        let rows = try db.query(
            """
            SELECT w.sidx, s.site_id, w.seq, w.n FROM _liaison_withheld w JOIN _liaison_site s ON s.sidx = w.sidx
            JOIN (SELECT w2.sidx, w2.seq, coalesce(a.asked, 0) AS asked FROM _liaison_withheld w2
                LEFT JOIN _liaison_wanted_asked a ON a.sidx = w2.sidx AND a.seq = w2.seq
                GROUP BY w2.sidx, w2.seq ORDER BY asked, w2.sidx, w2.seq LIMIT ?) pick
                ON pick.sidx = w.sidx AND pick.seq = w.seq
            ORDER BY pick.asked, w.sidx, w.seq, w.n
            """, [.integer(Int64(limit))]
        ) { ($0.int64(0), $0.text(1), $0.int64(2), $0.int(3)) }
        var wanted: [WantedTransaction] = []
        var picked: [(Int64, Int64)] = []
        for (sidx, origin, seq, n) in rows {
            if let last = wanted.last, last.origin == origin, last.seq == seq {
                wanted[wanted.count - 1].missing?.append(n - 1)
            } else {
                wanted.append(WantedTransaction(origin: origin, seq: seq, missing: [n - 1]))
                picked.append((sidx, seq))
            }
        }
        for (sidx, seq) in picked {
            try db.run(
                """
                INSERT INTO _liaison_wanted_asked(sidx, seq, asked) VALUES (?, ?, 1)
                ON CONFLICT(sidx, seq) DO UPDATE SET asked = asked + 1
                """, [.integer(sidx), .integer(seq)])
        }
        // Forget counts of transactions no longer withheld.
        try db.run(
            """
            DELETE FROM _liaison_wanted_asked WHERE NOT EXISTS (SELECT 1 FROM _liaison_withheld w
                WHERE w.sidx = _liaison_wanted_asked.sidx AND w.seq = _liaison_wanted_asked.seq)
            """)
        return wanted
    }
}
