import CSQLite
import Foundation

/// The values of a change in the log, wherever they are kept.
///
/// A local change whose cells all still hold what it wrote keeps no values of its own (`vals`
/// NULL, `live` the bit mask of its columns in storage order): they are the row's, read when
/// asked. Before anything overwrites one of those cells or deletes the row, the values are copied
/// into the change (`keep`): by the applier before a merge writes the row, by publishing for rows
/// written locally since the last publish, whose earlier values the capture triggers kept in the
/// journal row of each write (`JournalCopy`). A change with neither `vals` nor `live` is a
/// deletion, or had its values dropped by compaction.
///
/// SQL reads them with `liaison_vals(vals, live, tbl, pk)`, registered on every connection: the
/// stored values, else the live columns of the row as it was at the last publish (its first copy
/// in the journal when it was written since, else the row), as canonical JSON byte-identical to what publishing
/// signed (`RowJSON`).
enum ChangeValues {
    /// The SQL expression of a change's values, for the change table under `alias` (e.g. "c").
    static func sql(_ alias: String = "") -> String {
        let prefix = alias.isEmpty ? "" : alias + "."
        return "liaison_vals(\(prefix)vals, \(prefix)live, \(prefix)tbl, \(prefix)pk)"
    }

    /// The SQL condition "the change has values" (stored or live), for the change table under `alias`.
    static func present(_ alias: String = "") -> String {
        let prefix = alias.isEmpty ? "" : alias + "."
        return "(\(prefix)vals IS NOT NULL OR \(prefix)live IS NOT NULL)"
    }

    /// Copies the values of every live change of one row into the log, before the row changes.
    static func keep(_ db: Connection, table: String, pk: String) throws {
        let statement = try db.cached(
            "UPDATE _liaison_change SET vals = liaison_vals(NULL, live, tbl, pk), live = NULL "
                + "WHERE tbl = ? AND pk = ? AND live IS NOT NULL")
        try statement.bind(table, at: 1)
        try statement.bind(pk, at: 2)
        while try statement.step() {}
    }

    /// Copies the values of live changes from the rows' copies kept since the last publish
    /// (`JournalCopy`), in one pass in write order: the first copy of a row gives its changes their
    /// values, later copies find none left live. From then on until the journal is emptied,
    /// `liaison_vals` reads rows, not copies (`LiveValueReader.readsCopies`): changes this run
    /// publishes are live on the rows as they are now.
    static func keepPrior(_ db: Connection, table: TableInfo) throws {
        let prior = try db.prepare(
            "SELECT \(JournalCopy.selectList(count: table.columns.count)) FROM _liaison_journal j "
                + "WHERE \(JournalCopy.carriesCopy(table)) ORDER BY j.id")
        let json = table.rowJSON
        let update = try db.cached("UPDATE _liaison_change SET vals = ?, live = NULL WHERE rowid = ?")
        let live = try db.cached(
            "SELECT rowid, live FROM _liaison_change WHERE tbl = ? AND pk = ? AND live IS NOT NULL")
        while try prior.step() {
            live.reset()
            try live.bind(table.name, at: 1)
            try live.bind(prior.text(0), at: 2)
            var found: [(Int64, Int64)] = []
            while try live.step() { found.append((live.int64(0), live.int64(1))) }
            live.reset()
            for (rowid, mask) in found {
                update.reset()
                try update.bind(utf8: json.encode(prior, mask: mask), at: 1)
                try update.bind(rowid, at: 2)
                try update.step()
            }
        }
    }

    /// Registers `liaison_vals` on a connection; the returned reader must be closed before it.
    static func register(on handle: OpaquePointer) -> LiveValueReader {
        let reader = LiveValueReader(handle: handle)
        sqlite3_create_function_v2(
            handle, "liaison_vals", 4, SQLITE_UTF8, Unmanaged.passUnretained(reader).toOpaque(),
            { context, _, arguments in
                guard let context, let arguments, let data = sqlite3_user_data(context) else { return }
                let reader = Unmanaged<LiveValueReader>.fromOpaque(data).takeUnretainedValue()
                reader.call(context, arguments)
            }, nil, nil, nil)
        return reader
    }
}
