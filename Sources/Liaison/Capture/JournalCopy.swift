import Foundation

/// The row as it was before a captured write, kept in the write's own journal row (format 7).
///
/// `_liaison_journal` has untyped copy columns `v1`, `v2`, … as many as the widest synced table
/// has columns besides `id`: the update and delete triggers put the row's earlier value of the
/// column in storage position `i` into `v<i>`, so one row per write holds the entry and the copy
/// (before format 7 the copy went to a second table, `_liaison_prior_<table>`: one more row, one
/// more b-tree and one more page per commit). A journal row carries a copy when `v1` is not NULL:
/// `v1` is the row's `scope`, which is never NULL. Of several copies of a row made before a
/// publish, the first counts (the row as it was at the last publish). `INSERT OR REPLACE` over an
/// existing row writes a copy-only row (`replacedMask`) before its insert. Rows logged before
/// format 7 carry no copy; their copies were moved into copy-only rows by the format-7 step.
enum JournalCopy {
    /// The mask of a journal row that only keeps a copy (a row an `INSERT OR REPLACE` replaced): no
    /// change of its own, never the last row of a transaction.
    static let replacedMask: Int64 = -2

    /// The copy columns for `count` columns after `id`, in storage order.
    static func columns(count: Int) -> [String] { (0..<count).map { "v\($0 + 1)" } }

    /// The condition "journal row `alias` carries a copy of `table`'s row".
    static func carriesCopy(_ table: TableInfo, alias: String = "j") -> String {
        "\(alias).tbl = \(table.index) AND \(alias).v1 IS NOT NULL"
    }

    /// The condition "journal row `alias` is a captured write" (not a copy-only row).
    static func isEntry(_ alias: String = "j") -> String {
        "\(alias).tbl > 0 AND \(alias).mask <> \(replacedMask)"
    }

    /// `pk, v1, …` for a table of `count` columns with `id`: a statement over it reads like
    /// `TableInfo.selectRowSQL` (the same positions), so `RowJSON` encodes the copy.
    static func selectList(count: Int, alias: String = "j") -> String {
        (["pk"] + columns(count: count - 1)).map { alias + "." + $0 }.joined(separator: ", ")
    }

    /// Adds the copy columns `table` needs and the journal lacks (a new table, a born column).
    static func widen(_ db: Connection, for table: TableDefinition) throws {
        let present = Set(try db.query("SELECT name FROM pragma_table_info('_liaison_journal')") { $0.text(0) })
        for column in columns(count: table.allColumns.count - 1) where !present.contains(column) {
            try db.execute("ALTER TABLE _liaison_journal ADD COLUMN \(column)")
        }
    }

    /// Format 7's step: widens the journal and rebuilds the triggers, then moves the copies the
    /// old triggers kept in `_liaison_prior_<table>` into copy-only journal rows placed before every
    /// journal row (negative ids: they are no one's transaction, and their order per row is kept),
    /// and drops those tables.
    static func migrate(_ db: Connection) throws {
        try CaptureTriggers.rebuildAll(db)
        for (table, index) in try CaptureTriggers.recordedTables(db) {
            let prior = "_liaison_prior_" + table.name
            let present = try db.query("SELECT name FROM pragma_table_info(?)", [.text(prior)]) { $0.text(0) }
            guard !present.isEmpty else { continue }
            let count = try db.first("SELECT count(*) FROM \(CaptureTriggers.quoted(prior))") { $0.int64(0) } ?? 0
            if count > 0 {
                let low = try db.first("SELECT min(coalesce(min(id), 0), 0) FROM _liaison_journal") { $0.int64(0) } ?? 0
                // Columns the old copy lacks stay NULL; `scope` (v1) it always has.
                let kept = table.allColumns.enumerated().dropFirst().filter { present.contains($0.element.name) }
                try db.run(
                    "INSERT INTO _liaison_journal(id, tbl, pk, mask, "
                        + kept.map { "v\($0.offset)" }.joined(separator: ", ") + ") SELECT ? + row_number() OVER "
                        + "(ORDER BY rowid), \(index), id, \(replacedMask), "
                        + kept.map { CaptureTriggers.quoted($0.element.name) }.joined(separator: ", ")
                        + " FROM \(CaptureTriggers.quoted(prior)) WHERE id IS NOT NULL ORDER BY rowid",
                    [.integer(low - count - 1)])
            }
            try db.execute("DROP TABLE \(CaptureTriggers.quoted(prior))")
        }
    }
}
