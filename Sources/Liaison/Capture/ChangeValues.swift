import CSQLite
import Foundation

/// The values of a change in the log, wherever they are kept.
///
/// A local change whose cells all still hold what it wrote keeps no values of its own (`vals`
/// NULL, `live` the bit mask of its columns in storage order): they are the row's, read when
/// asked. Before anything overwrites one of those cells or deletes the row, the values are copied
/// into the change (`keep`): by the applier before a merge writes the row, by publishing for rows
/// written locally since the last publish, whose earlier values the capture triggers kept in the
/// table's prior-values table (`CaptureTriggers.priorTable`). A change with neither `vals` nor
/// `live` is a deletion, or had its values dropped by compaction.
///
/// SQL reads them with `liaison_vals(vals, live, tbl, pk)`, registered on every connection: the
/// stored values, else the live columns of the row as it was at the last publish (its prior copy
/// when it was written since, else the row), as canonical JSON byte-identical to what publishing
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
    /// (`CaptureTriggers.priorTable`), then empties that table: the first copy of a row (in write
    /// order) gives its live changes their values, in one statement for the whole run
    /// (`liaison_publish_values` encodes a copy's columns by each change's mask). Returns the ids
    /// of the rows copied: none of their changes is live any more.
    @discardableResult
    static func keepPrior(_ db: Connection, table: TableInfo) throws -> Set<String> {
        let prior = CaptureTriggers.quoted(CaptureTriggers.priorTable(table.name))
        let copied = Set(try db.query("SELECT DISTINCT id FROM \(prior)") { $0.text(0) })
        guard !copied.isEmpty else { return copied }
        let names = try db.prepare("SELECT * FROM \(prior) LIMIT 0")
        let columns = (0..<names.columnCount).map { names.columnName($0) }
        let functions = db.publishFunctions
        functions.open(
            PublishFunctions.Run(
                markers: [], table: table.name, json: RowJSON(names: columns), bases: nil, mask: 0,
                arguments: Int32(1 + columns.count)))
        defer { functions.close() }
        let first = "SELECT * FROM \(prior) WHERE rowid IN (SELECT min(rowid) FROM \(prior) GROUP BY id)"
        try db.run(
            "UPDATE _liaison_change AS c SET vals = liaison_publish_values(c.live, "
                + columns.map { "p." + CaptureTriggers.quoted($0) }.joined(separator: ", ")
                + "), live = NULL FROM (\(first)) AS p WHERE c.tbl = ? AND c.pk = p.id AND c.live IS NOT NULL",
            [.text(table.name)])
        try db.run("DELETE FROM \(prior)")
        return copied
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

/// Reads live change values for `liaison_vals`, with one prepared pair of statements per table.
final class LiveValueReader {
    private let handle: OpaquePointer
    private struct Source {
        var row: OpaquePointer
        var prior: OpaquePointer?
        var json: RowJSON?
        var columnCount: Int32 = -1
    }
    private var sources: [String: Source] = [:]

    init(handle: OpaquePointer) { self.handle = handle }

    /// Finalizes the statements (before the connection closes).
    func close() {
        for source in sources.values {
            sqlite3_finalize(source.row)
            if let prior = source.prior { sqlite3_finalize(prior) }
        }
        sources.removeAll()
    }

    fileprivate func call(_ context: OpaquePointer, _ arguments: UnsafeMutablePointer<OpaquePointer?>) {
        if let stored = arguments[0], sqlite3_value_type(stored) != SQLITE_NULL {
            sqlite3_result_value(context, stored)
            return
        }
        guard let live = arguments[1], sqlite3_value_type(live) != SQLITE_NULL,
            let tableText = sqlite3_value_text(arguments[2]), let pk = arguments[3]
        else {
            sqlite3_result_null(context)
            return
        }
        let mask = sqlite3_value_int64(live)
        let table = String(cString: tableText)
        guard var source = source(for: table) else {
            sqlite3_result_error(context, "liaison: the change log names a table this file lacks: \(table)", -1)
            return
        }
        // The copy made before the row's first write since the last publish, else the row.
        for statement in [source.prior, source.row] {
            guard let statement else { continue }
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
            sqlite3_bind_value(statement, 1, pk)
            guard sqlite3_step(statement) == SQLITE_ROW else { continue }
            let count = sqlite3_column_count(statement)
            if source.json == nil || source.columnCount != count {
                source.json = RowJSON(names: (0..<count).map { String(cString: sqlite3_column_name(statement, $0)) })
                source.columnCount = count
                sources[table] = source
            }
            let bytes = source.json!.encode(handle: statement, mask: mask)
            bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    sqlite3_result_text(context, $0, Int32(buffer.count), sqliteTransient)
                }
            }
            return
        }
        sqlite3_result_error(
            context,
            "liaison: the values of a change to \(table) are lost (neither the row nor its prior copy is here)",
            -1)
    }

    private func source(for table: String) -> Source? {
        if let source = sources[table] { return source }
        func prepare(_ sql: String) -> OpaquePointer? {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK
            else {
                sqlite3_finalize(statement)
                return nil
            }
            return statement
        }
        guard let row = prepare("SELECT * FROM \(CaptureTriggers.quoted(table)) WHERE id = ?1") else { return nil }
        // A scan: the table is empty but between a local write and the next publish, which
        // reads it in one pass (`keepPrior`).
        let prior = prepare(
            "SELECT * FROM \(CaptureTriggers.quoted(CaptureTriggers.priorTable(table))) WHERE id = ?1 ORDER BY rowid LIMIT 1"
        )
        let source = Source(row: row, prior: prior)
        sources[table] = source
        return source
    }
}
