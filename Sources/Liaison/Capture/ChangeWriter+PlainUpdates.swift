import Foundation

/// The bulk half of publishing updates: a row whose only journal entry of the run is one update
/// (the common case of many small edit transactions, W2b's server publishing 10,000 of them) is
/// published by a few statements per table instead of five or more per row. Its change, digest and
/// versions are exactly what the row-by-row path (`ChangeWriter.publish`) writes for such a row:
/// the change writes the columns of its mask and keeps their values in the row (`live`), names
/// as the base of each written cell the version it replaced (the cell's own, else the row's
/// insert), no levels; each written cell gets this transaction's version.
///
/// The bases of the whole run are read in one statement (the versions of every such row, joined
/// in SQL) and encoded before the changes are inserted; `liaison_publish_update` digests each
/// change from the row's values as function arguments and `liaison_publish_bases` names its bases.
///
/// Every other row goes row by row: a row with more than one journal entry in the run, a move (its
/// carried cells), a write with no copy of the row as it was (a resolution's forced write: the
/// row-by-row path gives the row's live changes their values first), a row whose versions hold a
/// deletion, a row that is not in its table, and every row of tables not published in bulk
/// (`publishesInBulk`: `owner-wins` levels, the schema's change table).
extension ChangeWriter {
    /// The temporary table of journal rows published in bulk as updates in this run.
    static let plainUpdatesTable = "temp._liaison_publish_updates"

    /// The condition "journal row `j` was published in bulk as an update".
    static func plainUpdateSQL(alias j: String = "j") -> String {
        "\(j).id IN (SELECT n FROM \(plainUpdatesTable))"
    }

    /// Chooses the journal rows of `tables` that are published in bulk as updates. Runs before
    /// the rows' earlier copies are read and emptied (`ChangeValues.keepPrior`): a row needs one.
    /// Returns whether there is any.
    func choosePlainUpdates(of tables: [TableInfo]) throws -> Bool {
        var any = false
        var created = false
        for table in tables.sorted(by: { $0.index < $1.index }) where Self.publishesInBulk(table) {
            let allColumns: Int64 = (1 << Int64(table.columns.count)) - 2
            let scopeBit: Int64 = 1 << 1
            let prior = CaptureTriggers.quoted(CaptureTriggers.priorTable(table.name))
            // An update always leaves a copy: without one there is nothing to choose.
            guard try db.first("SELECT 1 FROM \(prior) LIMIT 1", [], { _ in true }) != nil else { continue }
            if !created {
                try db.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS _liaison_publish_updates(n INTEGER PRIMARY KEY, "
                        + "tbl INTEGER NOT NULL, pk TEXT NOT NULL, mask INTEGER NOT NULL); "
                        + "DELETE FROM \(Self.plainUpdatesTable);")
                created = true
            }
            // One entry in the run, an update of columns of the table that is not a move, with a
            // copy of the row as it was.
            try db.run(
                "INSERT INTO \(Self.plainUpdatesTable)(n, tbl, pk, mask) SELECT max(j.id), \(table.index), j.pk, j.mask "
                    + "FROM _liaison_journal j WHERE j.tbl = \(table.index) AND j.pk IN (SELECT id FROM \(prior)) "
                    + "GROUP BY j.pk HAVING count(*) = 1 AND j.mask > 0 AND (j.mask & \(scopeBit)) = 0 "
                    + "AND (j.mask & ~\(allColumns)) = 0")
            guard db.changes > 0 else { continue }
            // Not a row deleted here before (its deletion mark goes) nor one missing from its table.
            try db.run(
                "DELETE FROM \(Self.plainUpdatesTable) WHERE tbl = \(table.index) AND (NOT EXISTS (SELECT 1 FROM "
                    + "\(table.quotedName) t WHERE t.id = pk) OR EXISTS (SELECT 1 FROM _liaison_version v WHERE "
                    + "v.tbl = ? AND v.pk = \(Self.plainUpdatesTable).pk AND v.col = '\(VersionStore.deletion)'))",
                [.text(table.name)])
            any = true
        }
        return any
    }

    /// Publishes the updates chosen by `choosePlainUpdates`, after `ChangeValues.keepPrior` gave the
    /// rows' earlier changes their values. `markers` are the run's transactions (journal id of each
    /// one's last row, and its `seq`); `counted` is told of each change made.
    func publishPlainUpdates(
        of tables: [TableInfo], markers: [(id: Int64, seq: Int64)], counted: (Int64) -> Void
    ) throws {
        for table in tables.sorted(by: { $0.index < $1.index }) where Self.publishesInBulk(table) {
            try publishPlainUpdates(of: table, markers: markers, counted: counted)
        }
    }

    private func publishPlainUpdates(
        of table: TableInfo, markers: [(id: Int64, seq: Int64)], counted: (Int64) -> Void
    ) throws {
        // Each row's mask and versions, in one pass over the chosen rows.
        var rows: [Int64: (mask: Int64, versions: VersionStore.RowVersions)] = [:]
        let read = try db.prepare(
            "SELECT u.n, u.mask, v.col, v.sidx, v.seq FROM \(Self.plainUpdatesTable) u LEFT JOIN _liaison_version v "
                + "ON v.tbl = ? AND v.pk = u.pk WHERE u.tbl = \(table.index)")
        try read.bind(table.name, at: 1)
        while try read.step() {
            let n = read.int64(0)
            var row = rows[n] ?? (read.int64(1), VersionStore.RowVersions())
            if !read.isNull(2) {
                let origin = VersionStore.Origin(site: read.int64(3), seq: read.int64(4))
                switch read.text(2) {
                case VersionStore.rowInsert: row.versions.insert = origin
                case VersionStore.deletion: row.versions.deletion = origin
                case let column: row.versions.columns[column] = origin
                }
            }
            rows[n] = row
        }
        guard !rows.isEmpty else { return }
        // The bases as the row-by-row path names them: each written cell's version before the run.
        var bases: [Int64: [UInt8]] = [:]
        bases.reserveCapacity(rows.count)
        var written: Int64 = 0
        for (n, row) in rows {
            written |= row.mask
            var named: [String: String] = [:]
            for index in 1..<table.columns.count where row.mask & (1 << Int64(index)) != 0 {
                let name = table.columns[index].name
                if let origin = row.versions.version(of: name) { named[name] = CellBases.text(origin, sites) }
            }
            if let text = CellBases.encode(named) { bases[n] = Array(text.utf8) }
        }
        let functions = db.publishFunctions
        var run = PublishFunctions.Run(
            markers: markers, table: table.name, json: table.rowJSON, bases: nil, mask: 0,
            arguments: Int32(4 + table.columns.count))
        run.basesByRow = bases
        functions.open(run)
        defer { functions.close() }
        let scope = "coalesce(CAST(t.\(table.quotedColumns[1]) AS TEXT), '')"
        let chosen = "\(Self.plainUpdatesTable) u"
        // The changes, in journal order.
        try db.run(
            "INSERT INTO _liaison_change(sidx, seq, n, tbl, pk, op, live, lvls, scope, digest, bases) "
                + "SELECT \(SiteIndex.local), liaison_publish_seq(u.n), u.n, ?, u.pk, 'update', u.mask, NULL, \(scope), "
                + "liaison_publish_update(u.n, u.pk, \(scope), u.mask, "
                + table.quotedColumns.map { "t." + $0 }.joined(separator: ", ")
                + "), liaison_publish_bases(u.n) FROM \(chosen) JOIN \(table.quotedName) t ON t.id = u.pk "
                + "WHERE u.tbl = \(table.index) ORDER BY u.n",
            [.text(table.name)])
        functions.collected.forEachPosition(counted)
        digests.absorb(functions.collected)
        // Each written cell's version: one statement per column any chosen row wrote.
        for index in 1..<table.columns.count where written & (1 << Int64(index)) != 0 {
            try db.run(
                "INSERT INTO _liaison_version(tbl, pk, col, sidx, seq, lvl) SELECT ?, u.pk, ?, \(SiteIndex.local), "
                    + "liaison_publish_seq(u.n), 0 FROM \(chosen) WHERE u.tbl = \(table.index) "
                    + "AND (u.mask & \(Int64(1) << Int64(index))) <> 0 ORDER BY u.pk "
                    + "ON CONFLICT(tbl, pk, col) DO UPDATE SET sidx = excluded.sidx, seq = excluded.seq, lvl = excluded.lvl",
                [.text(table.name), .text(table.columns[index].name)])
        }
    }
}
