import CSQLite
import Foundation

/// Reads live change values for `liaison_vals` (`ChangeValues`), with one prepared pair of
/// statements per table: the row's first copy in the journal since the last publish
/// (`JournalCopy`), else the row.
final class LiveValueReader {
    private let handle: OpaquePointer
    /// Whether a row's first copy in the journal comes before the row (off while publishing, once
    /// the copies were given to the changes that needed them: `ChangeValues.keepPrior`).
    var readsCopies = true
    private struct Source {
        var row: OpaquePointer
        var copy: OpaquePointer?
        var number: Int64
        var json: RowJSON
        /// The table's column count when the statements were made: a change naming a column past
        /// it (born by a schema change since) makes them again.
        var columnCount: Int32
    }
    private var sources: [String: Source] = [:]
    /// Each synced table's journal number, read from the file's recorded schema when first needed.
    private var tableNumbers: [String: Int] = [:]

    init(handle: OpaquePointer) { self.handle = handle }

    /// Finalizes the statements (before the connection closes).
    func close() {
        for table in Array(sources.keys) { drop(table) }
    }

    private func drop(_ table: String) {
        guard let source = sources.removeValue(forKey: table) else { return }
        sqlite3_finalize(source.row)
        if let copy = source.copy { sqlite3_finalize(copy) }
    }

    func call(_ context: OpaquePointer, _ arguments: UnsafeMutablePointer<OpaquePointer?>) {
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
        if let known = sources[table], mask >> Int64(known.columnCount) != 0 { drop(table) }
        guard let source = source(for: table) else {
            sqlite3_result_error(context, "liaison: the change log names a table this file lacks: \(table)", -1)
            return
        }
        // The copy made before the row's first write since the last publish, else the row.
        for statement in [readsCopies ? source.copy : nil, source.row] {
            guard let statement else { continue }
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
            sqlite3_bind_value(statement, 1, pk)
            if statement == source.copy { sqlite3_bind_int64(statement, 2, source.number) }
            guard sqlite3_step(statement) == SQLITE_ROW else { continue }
            let bytes = source.json.encode(handle: statement, mask: mask)
            bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    sqlite3_result_text(context, $0, Int32(buffer.count), sqliteTransient)
                }
            }
            return
        }
        sqlite3_result_error(
            context,
            "liaison: the values of a change to \(table) are lost (neither the row nor its earlier copy is here)",
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
        let count = sqlite3_column_count(row)
        let json = RowJSON(names: (0..<count).map { String(cString: sqlite3_column_name(row, $0)) })
        // A scan: the journal is empty but between a local write and the next publish, which
        // reads the copies in one pass (`keepPrior`). The copy reads like the row (same positions).
        let number = tableNumber(table)
        let copy = number.flatMap { _ in
            prepare(
                "SELECT \(JournalCopy.selectList(count: Int(count))) FROM _liaison_journal j "
                    + "WHERE j.tbl = ?2 AND j.pk = ?1 AND j.v1 IS NOT NULL ORDER BY j.id LIMIT 1")
        }
        let source = Source(row: row, copy: copy, number: Int64(number ?? 0), json: json, columnCount: count)
        sources[table] = source
        return source
    }

    /// The journal number of `table` (its 1-based place in the recorded schema), `nil` when the
    /// file's schema does not name it.
    private func tableNumber(_ table: String) -> Int? {
        if table == SchemaLog.table { return SchemaLog.journalIndex }
        if let number = tableNumbers[table] { return number }
        var statement: OpaquePointer?
        defer { sqlite3_finalize(statement) }
        guard
            sqlite3_prepare_v2(handle, "SELECT value FROM _liaison_meta WHERE key = 'schema'", -1, &statement, nil)
                == SQLITE_OK, sqlite3_step(statement) == SQLITE_ROW, let text = sqlite3_column_text(statement, 0),
            let schema = try? JSONDecoder().decode(SchemaDefinition.self, from: Data(String(cString: text).utf8))
        else { return nil }
        for (offset, definition) in schema.tables.enumerated() { tableNumbers[definition.name] = offset + 1 }
        return tableNumbers[table]
    }
}
