import Foundation

/// Commit markers on the capture journal: the last journal row of a local transaction carries its
/// sequence number, timestamp and author. (A copy-only row, `JournalCopy.replacedMask`, is always
/// followed by its insert's row, so it is never the last.)
enum Journal {
    /// Where the journal stands when a local write begins.
    struct Tail {
        var lastID: Int64
        var seq: Int64
        var hlc: HybridTimestamp
    }

    /// The author recorded for edits made by other SQLite clients (the `sqlite3` shell).
    static let externalAuthor = "external:sqlite"

    /// Reads the tail of the journal. Rows left by another SQLite client since the last marker are
    /// claimed first, as one transaction of their own, so they are never attributed to this writer.
    static func tail(_ db: Connection, clock: HybridClock) throws -> Tail {
        let last = try db.first("SELECT id, seq, hlc FROM _liaison_journal ORDER BY id DESC LIMIT 1") {
            (id: $0.int64(0), seq: $0.isNull(1) ? nil : $0.int64(1), hlc: $0.int64(2))
        }
        guard let last else {
            let (seq, hlc) = try published(db)
            return Tail(lastID: 0, seq: seq, hlc: hlc)
        }
        if let seq = last.seq {
            return Tail(lastID: last.id, seq: seq, hlc: HybridTimestamp(rawValue: last.hlc))
        }
        let marker = try db.first(
            "SELECT seq, hlc FROM _liaison_journal WHERE seq IS NOT NULL ORDER BY id DESC LIMIT 1"
        ) { (seq: $0.int64(0), hlc: HybridTimestamp(rawValue: $0.int64(1))) }
        let (seq, hlc) = try marker.map { ($0.seq, $0.hlc) } ?? published(db)
        let claimed = Tail(lastID: last.id, seq: seq + 1, hlc: clock.next(after: hlc))
        try mark(db, id: last.id, seq: claimed.seq, hlc: claimed.hlc, author: externalAuthor)
        return claimed
    }

    /// Marks the rows written since `tail` as one local transaction; `false` when nothing was written.
    static func commit(_ db: Connection, after tail: Tail, author: String, clock: HybridClock) throws -> Bool {
        try db.run(
            "UPDATE _liaison_journal SET seq = ?, hlc = ?, author = ? WHERE id = (SELECT max(id) FROM _liaison_journal) AND id > ?",
            [
                .integer(tail.seq + 1), .integer(clock.next(after: tail.hlc).rawValue), .text(author),
                .integer(tail.lastID),
            ])
        return db.changes > 0
    }

    /// Records that the current local transaction resolves a conflict.
    static func recordResolution(_ db: Connection, conflict: String) throws {
        try db.run("INSERT INTO _liaison_journal(tbl, pk, mask) VALUES (0, ?, NULL)", [.text(conflict)])
    }

    /// Records a write of `columns` even if their values did not change (a resolution re-asserts a value).
    /// It keeps no copy (`JournalCopy`): an edit that changed the row before it in the transaction did.
    static func recordForcedWrite(_ db: Connection, table: TableInfo, id: String, columns: [String]) throws {
        let mask = columns.compactMap { table.columnIndex[$0] }.reduce(Int64(0)) { $0 | (1 << Int64($1)) }
        try db.run(
            "INSERT INTO _liaison_journal(tbl, pk, mask) VALUES (?, ?, ?)",
            [.integer(Int64(table.index)), .text(id), .integer(mask)])
    }

    private static func mark(_ db: Connection, id: Int64, seq: Int64, hlc: HybridTimestamp, author: String) throws {
        try db.run(
            "UPDATE _liaison_journal SET seq = ?, hlc = ?, author = ? WHERE id = ?",
            [.integer(seq), .integer(hlc.rawValue), .text(author), .integer(id)])
    }

    /// The last published local sequence number and the replica's highest timestamp.
    static func published(_ db: Connection) throws -> (Int64, HybridTimestamp) {
        try db.first(
            "SELECT (SELECT seq FROM _liaison_site WHERE sidx = \(SiteIndex.local)), last_hlc FROM _liaison_state"
        ) {
            ($0.int64(0), HybridTimestamp(rawValue: $0.int64(1)))
        } ?? (0, .zero)
    }
}
