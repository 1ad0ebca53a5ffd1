import Foundation

/// Which transaction last wrote each cell of a row, kept in `_liaison_version`.
///
/// A row's insert is one entry (`col` ''), so a row written once costs one version row whatever
/// its width; later writes add an entry per column. `col` '#' holds the deletion of a deleted row.
struct VersionStore {
    let db: Connection

    static let rowInsert = ""
    static let deletion = "#"

    /// A transaction, by local site number and sequence.
    struct Origin: Hashable {
        var site: Int64
        var seq: Int64
    }

    /// The versions of one row.
    struct RowVersions {
        var insert: Origin?
        var deletion: Origin?
        var columns: [String: Origin] = [:]
        /// Owner levels by column ('' for the insert).
        var levels: [String: Int64] = [:]

        /// The owner level of a column's current value.
        func level(of column: String) -> Int64 { columns[column] != nil ? levels[column] ?? 0 : levels[""] ?? 0 }

        /// The version of a column: its own entry, else the row's insert.
        func version(of column: String) -> Origin? { columns[column] ?? insert }

        var isKnown: Bool { insert != nil || deletion != nil || !columns.isEmpty }

        /// Every distinct version the row's live values come from.
        var liveVersions: Set<Origin> { Set(columns.values).union(insert.map { [$0] } ?? []) }
    }

    func load(table: String, pk: String) throws -> RowVersions {
        var result = RowVersions()
        let rows = try db.cached("SELECT col, sidx, seq, lvl FROM _liaison_version WHERE tbl = ? AND pk = ?")
        try rows.bind(table, at: 1)
        try rows.bind(pk, at: 2)
        while try rows.step() {
            let column = rows.text(0)
            let origin = Origin(site: rows.int64(1), seq: rows.int64(2))
            let level = rows.int64(3)
            if level != 0 { result.levels[column] = level }
            switch column {
            case Self.rowInsert: result.insert = origin
            case Self.deletion: result.deletion = origin
            default: result.columns[column] = origin
            }
        }
        return result
    }

    // Statements are cached by the connection and bound argument by argument: these run for
    // every published and every merged row.

    func set(table: String, pk: String, column: String, site: Int64, seq: Int64, level: Int64 = 0) throws {
        let statement = try db.cached(
            "INSERT INTO _liaison_version(tbl, pk, col, sidx, seq, lvl) VALUES (?, ?, ?, ?, ?, ?) "
                + "ON CONFLICT(tbl, pk, col) DO UPDATE SET sidx = excluded.sidx, seq = excluded.seq, lvl = excluded.lvl"
        )
        try statement.bind(table, at: 1)
        try statement.bind(pk, at: 2)
        try statement.bind(column, at: 3)
        try statement.bind(site, at: 4)
        try statement.bind(seq, at: 5)
        try statement.bind(level, at: 6)
        try statement.step()
    }

    func remove(table: String, pk: String, column: String) throws {
        let statement = try db.cached("DELETE FROM _liaison_version WHERE tbl = ? AND pk = ? AND col = ?")
        try statement.bind(table, at: 1)
        try statement.bind(pk, at: 2)
        try statement.bind(column, at: 3)
        try statement.step()
    }

    func removeAll(table: String, pk: String) throws {
        let statement = try db.cached("DELETE FROM _liaison_version WHERE tbl = ? AND pk = ?")
        try statement.bind(table, at: 1)
        try statement.bind(pk, at: 2)
        try statement.step()
    }
}
