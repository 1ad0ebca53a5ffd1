import Foundation

/// Transactions kept aside because they cannot be applied here now (`_liaison_quarantine`), and
/// what peers said they keep aside of what this replica sent them (`_liaison_peer_held`).
///
/// A held transaction is stored whole (header and every change it brought), so the cursor that
/// brought it can move on: nothing is lost, and a retry needs no peer.
struct QuarantineStore {
    let db: Connection

    /// Created on open when missing, so replicas written before quarantine existed gain it.
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_quarantine(
            origin TEXT NOT NULL, seq INTEGER NOT NULL, site TEXT NOT NULL, source TEXT NOT NULL,
            writable TEXT, code TEXT NOT NULL, reason TEXT NOT NULL, waits_for TEXT, record TEXT NOT NULL,
            arrival INTEGER NOT NULL, held_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (origin, seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_peer_held(
            peer TEXT NOT NULL, origin TEXT NOT NULL, seq INTEGER NOT NULL, site TEXT NOT NULL, code TEXT NOT NULL,
            reason TEXT NOT NULL, waits_for TEXT, reported_at TEXT NOT NULL,
            PRIMARY KEY (peer, origin, seq)) WITHOUT ROWID;
        """

    /// The most held transactions listed in one answer to a peer.
    static let reportLimit = 200

    /// One held transaction.
    struct Entry {
        var held: HeldTransaction
        /// The peer it came from (`""` for a local apply).
        var source: String
        /// The sender's write grant when it arrived (`nil`: any).
        var writable: Set<String>?
        var record: TransactionRecord
        var attempts: Int
        var heldAt: String
    }

    /// Keeps `record` aside (or updates the reason it is kept for).
    func hold(
        _ record: TransactionRecord, source: String, writable: Set<String>?, code: String, reason: String,
        waitsFor: String?
    ) throws {
        let arrival = try db.first("SELECT coalesce(max(arrival), 0) + 1 FROM _liaison_quarantine") { $0.int64(0) } ?? 1
        try db.run(
            """
            INSERT INTO _liaison_quarantine(origin, seq, site, source, writable, code, reason, waits_for, record,
                arrival, held_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
            ON CONFLICT(origin, seq) DO UPDATE SET source = excluded.source, writable = excluded.writable,
                code = excluded.code, reason = excluded.reason, waits_for = excluded.waits_for,
                record = excluded.record, attempts = attempts + 1
            """,
            [
                .text(record.origin), .integer(record.seq), .text(record.site), .text(source),
                writable.map { .text(Replica.grantText($0)) } ?? .null, .text(code), .text(reason),
                waitsFor.map { .text($0) } ?? .null, .text(try WireJSON.string(record)), .integer(arrival),
            ])
    }

    /// How many transactions, and how many bytes of them, are held of what `source` sent.
    func usage(of source: String) throws -> (count: Int, bytes: Int) {
        try db.first(
            "SELECT count(*), coalesce(sum(length(record)), 0) FROM _liaison_quarantine WHERE source = ?",
            [.text(source)]
        ) { ($0.int(0), $0.int(1)) } ?? (0, 0)
    }

    /// Whether a transaction is held already.
    func contains(origin: String, seq: Int64) throws -> Bool {
        try db.first(
            "SELECT 1 FROM _liaison_quarantine WHERE origin = ? AND seq = ?", [.text(origin), .integer(seq)]
        ) { _ in true } ?? false
    }

    func remove(origin: String, seq: Int64) throws {
        try db.run("DELETE FROM _liaison_quarantine WHERE origin = ? AND seq = ?", [.text(origin), .integer(seq)])
    }

    func count() throws -> Int { try db.first("SELECT count(*) FROM _liaison_quarantine") { $0.int(0) } ?? 0 }

    /// The lowest held sequence number of each origin, with its site code. A transaction applied
    /// here already, held only for changes a peer had withheld and sends late, blocks nothing.
    func lowestHeld() throws -> [String: (seq: Int64, site: String)] {
        var lowest: [String: (seq: Int64, site: String)] = [:]
        for (origin, seq, site) in try db.query(
            """
            SELECT q.origin, min(q.seq), q.site FROM _liaison_quarantine q
            WHERE NOT EXISTS (SELECT 1 FROM _liaison_site s WHERE s.site_id = q.origin AND s.seq >= q.seq)
            GROUP BY q.origin
            """, [],
            { ($0.text(0), $0.int64(1), $0.text(2)) })
        {
            lowest[origin] = (seq, site)
        }
        return lowest
    }

    /// Every held transaction in the order it arrived (a causal order: senders send in theirs).
    func entries(where condition: String = "1", _ arguments: [CellValue] = []) throws -> [Entry] {
        try db.query(
            """
            SELECT origin, site, seq, code, reason, waits_for, source, writable, record, attempts, held_at
            FROM _liaison_quarantine WHERE \(condition) ORDER BY arrival
            """, arguments
        ) { row in
            Entry(
                held: HeldTransaction(
                    origin: row.text(0), site: row.text(1), seq: row.int64(2), error: row.text(3),
                    message: row.text(4), waitsFor: row.optionalText(5)),
                source: row.text(6), writable: row.optionalText(7).map { (try? Scope.parseGrant($0)) ?? [] },
                record: try WireJSON.decode(TransactionRecord.self, from: row.text(8)), attempts: row.int(9),
                heldAt: row.text(10))
        }
    }

    /// What is held of what `source` sent, oldest first (at most `reportLimit`).
    func held(from source: String) throws -> [HeldTransaction] {
        try db.query(
            """
            SELECT origin, site, seq, code, reason, waits_for FROM _liaison_quarantine WHERE source = ?
            ORDER BY arrival LIMIT ?
            """, [.text(source), .integer(Int64(Self.reportLimit))]
        ) {
            HeldTransaction(
                origin: $0.text(0), site: $0.text(1), seq: $0.int64(2), error: $0.text(3), message: $0.text(4),
                waitsFor: $0.optionalText(5))
        }
    }

    /// Replaces what `peer` said it holds of this replica's traffic.
    func replacePeerHeld(_ peer: String, _ held: [HeldTransaction]) throws {
        try db.run("DELETE FROM _liaison_peer_held WHERE peer = ?", [.text(peer)])
        for item in held.prefix(Self.reportLimit) {
            try db.run(
                """
                INSERT OR REPLACE INTO _liaison_peer_held(peer, origin, seq, site, code, reason, waits_for, reported_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                """,
                [
                    .text(peer), .text(item.origin), .integer(item.seq), .text(item.site), .text(item.error),
                    .text(item.message), item.waitsFor.map { .text($0) } ?? .null,
                ])
        }
    }

    /// What each peer said it holds of this replica's traffic.
    func peerHeld() throws -> [String: [HeldTransaction]] {
        var result: [String: [HeldTransaction]] = [:]
        for (peer, held) in try db.query(
            "SELECT peer, origin, site, seq, code, reason, waits_for FROM _liaison_peer_held ORDER BY peer, origin, seq",
            [],
            {
                (
                    $0.text(0),
                    HeldTransaction(
                        origin: $0.text(1), site: $0.text(2), seq: $0.int64(3), error: $0.text(4),
                        message: $0.text(5), waitsFor: $0.optionalText(6))
                )
            })
        {
            result[peer, default: []].append(held)
        }
        return result
    }
}
