import CSQLite
import Foundation

/// The bulk half of publishing: a row whose only journal entry of the run is its insert (the
/// common case of a batch of new rows) is published by four statements per table instead of four
/// per row. Its change, digest and insert version are exactly what the row-by-row path
/// (`ChangeWriter.publish`) writes for such a row: the change writes every column, keeps its
/// values in the row (`live`), names the bases of a first creation and no levels; the version is
/// the row's insert.
///
/// Why: the row-by-row path read each new row through the id index in id order, which on a
/// 100,000-row table missed SQLite's page cache on nearly every row, and ran four statements a row;
/// the bulk statements read the journal and the table in write order (DECISIONS, "Publishing
/// plain inserts in bulk").
///
/// Every other row goes through the row-by-row path: one with an update or deletion in the run,
/// with a copy of its earlier values (`CaptureTriggers.priorTable`: an `INSERT OR REPLACE` over
/// it), or with versions here already (a row created again, or held as a digest: its insert names
/// what it replaced). A first creation names that it replaced nothing, as the row-by-row path
/// writes it (`CellBases.insertBases`). Tables of the `owner-wins` policy (their levels depend on
/// earlier versions) and the schema's own change table keep the row-by-row path whole.
extension ChangeWriter {
    /// The temporary table of rows the row-by-row path publishes in this run, per table number.
    static let slowRowsTable = "temp._liaison_publish_slow"

    /// The condition "journal row `j` is a plain insert published in bulk", for table `table`.
    static func plainInsertSQL(_ table: TableInfo, alias j: String = "j") -> String {
        "\(j).tbl = \(table.index) AND \(j).mask = -1 AND NOT EXISTS (SELECT 1 FROM \(slowRowsTable) x "
            + "WHERE x.tbl = \(table.index) AND x.pk = \(j).pk) AND EXISTS (SELECT 1 FROM \(table.quotedName) t "
            + "WHERE t.id = \(j).pk)"
    }

    /// Whether `table`'s plain inserts can be published in bulk.
    static func publishesInBulk(_ table: TableInfo) -> Bool {
        table.isKnown && table.index != SchemaLog.journalIndex && table.definition.policy != .ownerWins
            && table.columns.count <= 100 && table.columns.count > 1 && table.columns[1].name == "scope"
    }

    /// Publishes the plain inserts of `tables` whose journal has any; returns the tables done so,
    /// whose plain inserts the row-by-row path must skip (`plainInsertSQL`). `markers` are the run's
    /// transactions (journal id of each one's last row, and its `seq`), in journal order; `counted`
    /// is told of each change made. Runs before the rows' earlier copies are read and emptied.
    func publishPlainInserts(
        of tables: [TableInfo], markers: [(id: Int64, seq: Int64)], counted: (Int64) -> Void
    ) throws -> [TableInfo] {
        var done: [TableInfo] = []
        for table in tables.sorted(by: { $0.index < $1.index }) where Self.publishesInBulk(table) {
            guard
                try db.first(
                    "SELECT 1 FROM _liaison_journal WHERE tbl = ? AND mask = -1 LIMIT 1",
                    [.integer(Int64(table.index))],
                    { _ in true }) != nil
            else { continue }
            if done.isEmpty {
                try db.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS _liaison_publish_slow(tbl INTEGER NOT NULL, pk TEXT NOT NULL, "
                        + "PRIMARY KEY (tbl, pk)) WITHOUT ROWID; DELETE FROM \(Self.slowRowsTable);")
            }
            try publishPlainInserts(of: table, markers: markers, counted: counted)
            done.append(table)
        }
        return done
    }

    private func publishPlainInserts(
        of table: TableInfo, markers: [(id: Int64, seq: Int64)], counted: (Int64) -> Void
    ) throws {
        let prior = CaptureTriggers.quoted(CaptureTriggers.priorTable(table.name))
        try db.run(
            "INSERT OR IGNORE INTO \(Self.slowRowsTable)(tbl, pk) SELECT \(table.index), pk FROM _liaison_journal "
                + "WHERE tbl = \(table.index) AND mask IS NOT -1 AND pk IS NOT NULL "
                + "UNION SELECT \(table.index), id FROM \(prior) WHERE id IS NOT NULL")
        try db.run(
            "INSERT OR IGNORE INTO \(Self.slowRowsTable)(tbl, pk) SELECT \(table.index), j.pk FROM _liaison_journal j "
                + "WHERE j.tbl = \(table.index) AND j.mask = -1 AND EXISTS (SELECT 1 FROM _liaison_version v "
                + "WHERE v.tbl = ? AND v.pk = j.pk)", [.text(table.name)])
        // What the row-by-row path names for an insert over no earlier version.
        let bases = CellBases.encode(CellBases.insertBases(replacing: VersionStore.RowVersions(), columns: [], sites))
        let functions = db.publishFunctions
        functions.open(
            PublishFunctions.Run(
                markers: markers, table: table.name, json: table.rowJSON, bases: bases,
                mask: (1 << Int64(table.columns.count)) - 2, arguments: Int32(3 + table.columns.count)))
        defer { functions.close() }
        let scope = "coalesce(CAST(t.\(table.quotedColumns[1]) AS TEXT), '')"
        let plain = Self.plainInsertSQL(table)
        // The changes, in journal order: the table is read in the order its rows were written.
        try db.run(
            "INSERT INTO _liaison_change(sidx, seq, n, tbl, pk, op, live, lvls, scope, digest, bases) "
                + "SELECT \(SiteIndex.local), liaison_publish_seq(j.id), j.id, ?, j.pk, 'insert', ?, NULL, \(scope), "
                + "liaison_publish_insert(j.id, j.pk, \(scope), "
                + table.quotedColumns.map { "t." + $0 }.joined(separator: ", ")
                + "), ? FROM _liaison_journal j JOIN \(table.quotedName) t ON t.id = j.pk WHERE \(plain) ORDER BY j.id",
            [.text(table.name), .integer((1 << Int64(table.columns.count)) - 2), bases.map { .text($0) } ?? .null])
        functions.collected.forEachPosition(counted)
        digests.absorb(functions.collected)
        // No version of these rows was here (those go row by row): the insert's is the first.
        try db.run(
            "INSERT INTO _liaison_version(tbl, pk, col, sidx, seq, lvl) SELECT ?, j.pk, '\(VersionStore.rowInsert)', \(SiteIndex.local), "
                + "liaison_publish_seq(j.id), 0 FROM _liaison_journal j WHERE \(plain) ORDER BY j.pk",
            [.text(table.name)])
    }
}

/// `liaison_publish_seq(n)` and `liaison_publish_insert(n, pk, scope, column…)`, registered on every
/// connection and answering only while a publish run has opened them (`ChangeWriter+PlainInserts`):
/// the `seq` of the transaction that journal row `n` belongs to, and the digest of the insert change
/// of a row (recorded for the transaction's root).
final class PublishFunctions {
    struct Run {
        /// Journal id of each transaction's last row, with its `seq`, in journal order.
        var markers: [(id: Int64, seq: Int64)]
        var table: String
        var json: RowJSON
        var bases: String?
        var mask: Int64
        var arguments: Int32
    }

    private var run: Run?
    /// The changes digested since `open`, by `seq` and `n` (`RunDigests`: 40 bytes a change).
    private(set) var collected = RunDigests()

    func open(_ run: Run) {
        self.run = run
        collected = RunDigests()
    }

    func close() {
        run = nil
        collected = RunDigests()
    }

    /// The `seq` of the transaction whose last journal row is the first at or after `n`.
    private func sequence(_ run: Run, of n: Int64) -> Int64? {
        var low = 0
        var high = run.markers.count
        while low < high {
            let middle = (low + high) / 2
            if run.markers[middle].id < n { low = middle + 1 } else { high = middle }
        }
        return low < run.markers.count ? run.markers[low].seq : nil
    }

    fileprivate func seq(_ context: OpaquePointer, _ arguments: UnsafeMutablePointer<OpaquePointer?>) {
        guard let run, let seq = sequence(run, of: sqlite3_value_int64(arguments[0])) else {
            sqlite3_result_error(context, "liaison: liaison_publish_seq runs only while publishing", -1)
            return
        }
        sqlite3_result_int64(context, seq)
    }

    fileprivate func insert(_ context: OpaquePointer, _ count: Int32, _ arguments: UnsafeMutablePointer<OpaquePointer?>)
    {
        let n = sqlite3_value_int64(arguments[0])
        guard let run, count == run.arguments, let seq = sequence(run, of: n),
            let pk = sqlite3_value_text(arguments[1]), let scope = sqlite3_value_text(arguments[2])
        else {
            sqlite3_result_error(context, "liaison: liaison_publish_insert runs only while publishing", -1)
            return
        }
        let values = run.json.encode(values: arguments + 3, mask: run.mask)
        let digest = ChangeDigest.hex(
            table: run.table, id: String(cString: pk), op: ChangeRecord.Operation.insert.rawValue,
            scope: String(cString: scope), values: values, levels: nil, bases: run.bases)
        collected.append(seq: seq, n: n, hex: digest)
        digest.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                sqlite3_result_text(context, $0, Int32(buffer.count), sqliteTransient)
            }
        }
    }

    /// Registers both functions on a connection.
    static func register(on handle: OpaquePointer) -> PublishFunctions {
        let functions = PublishFunctions()
        let data = Unmanaged.passUnretained(functions).toOpaque()
        sqlite3_create_function_v2(
            handle, "liaison_publish_seq", 1, SQLITE_UTF8, data,
            { context, _, arguments in
                guard let context, let arguments, let data = sqlite3_user_data(context) else { return }
                Unmanaged<PublishFunctions>.fromOpaque(data).takeUnretainedValue().seq(context, arguments)
            }, nil, nil, nil)
        sqlite3_create_function_v2(
            handle, "liaison_publish_insert", -1, SQLITE_UTF8, data,
            { context, count, arguments in
                guard let context, let arguments, let data = sqlite3_user_data(context) else { return }
                Unmanaged<PublishFunctions>.fromOpaque(data).takeUnretainedValue().insert(context, count, arguments)
            }, nil, nil, nil)
        return functions
    }
}
