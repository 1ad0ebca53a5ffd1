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

    /// The condition "journal row `j` is a plain insert published in bulk", for table `table`
    /// (`rowInTable` false: without the test that its row is in the table, for a statement that
    /// joins the table anyway).
    static func plainInsertSQL(_ table: TableInfo, alias j: String = "j", rowInTable: Bool = true) -> String {
        "\(j).tbl = \(table.index) AND \(j).mask = -1 AND NOT EXISTS (SELECT 1 FROM \(slowRowsTable) x "
            + "WHERE x.tbl = \(table.index) AND x.pk = \(j).pk)"
            + (rowInTable ? " AND EXISTS (SELECT 1 FROM \(table.quotedName) t WHERE t.id = \(j).pk)" : "")
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
                markers: markers, table: table.name, json: table.rowJSON, bases: bases.map { Array($0.utf8) },
                mask: (1 << Int64(table.columns.count)) - 2, arguments: Int32(3 + table.columns.count)))
        defer { functions.close() }
        let scope = "coalesce(CAST(t.\(table.quotedColumns[1]) AS TEXT), '')"
        // The change log is a rowid table: the rows this statement adds come after its last one.
        let last = try db.first("SELECT max(rowid) FROM _liaison_change") { $0.isNull(0) ? 0 : $0.int64(0) } ?? 0
        // The changes, in journal order: the table is read in the order its rows were written.
        try db.run(
            "INSERT INTO _liaison_change(sidx, seq, n, tbl, pk, op, live, lvls, scope, digest, bases) "
                + "SELECT \(SiteIndex.local), liaison_publish_seq(j.id), j.id, ?, j.pk, 'insert', ?, NULL, \(scope), "
                + "liaison_publish_insert(j.id, j.pk, \(scope), "
                + table.quotedColumns.map { "t." + $0 }.joined(separator: ", ")
                + "), ? FROM _liaison_journal j JOIN \(table.quotedName) t ON t.id = j.pk WHERE "
                + Self.plainInsertSQL(table, rowInTable: false) + " ORDER BY j.id",
            [.text(table.name), .integer((1 << Int64(table.columns.count)) - 2), bases.map { .text($0) } ?? .null])
        functions.collected.forEachPosition(counted)
        digests.absorb(functions.collected)
        // No version of these rows was here (those go row by row): the insert's is the first, read
        // from the changes just written (SQLite numbers new rows after the largest rowid unless
        // that is the largest integer, which a change log never reaches).
        try db.run(
            "INSERT INTO _liaison_version(tbl, pk, col, sidx, seq, lvl) SELECT tbl, pk, '\(VersionStore.rowInsert)', "
                + "sidx, seq, 0 FROM _liaison_change WHERE rowid > ? ORDER BY pk",
            [.integer(last)])
    }
}
