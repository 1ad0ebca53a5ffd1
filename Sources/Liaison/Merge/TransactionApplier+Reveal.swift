import Foundation
import Logging

extension Replica {
    /// Shows what was kept as opaque data: the logged values of columns and tables a schema change
    /// just made known here are merged now, in this replica's apply order, as if they had been
    /// known when they arrived (the same merge rule, conflicts and references included).
    ///
    /// The rules that could not be checked on arrival are checked now: a change of a table that
    /// was unknown must pass the owner rules (`checkOwnership`) against the rows as the earlier
    /// changes left them. A transaction with a change that breaks a rule here stays in the log,
    /// relayed as signed, and none of its revealed values is shown (all or nothing, as on
    /// arrival); the others are shown.
    func reveal(_ db: Connection, tables newTables: [String], columns newColumns: [String: [String]]) throws {
        guard !newTables.isEmpty || !newColumns.isEmpty else { return }
        let applier = try TransactionApplier(replica: self, db: db)
        let mark = try db.first("SELECT coalesce(max(id), 0) FROM _liaison_journal") { $0.int64(0) } ?? 0
        // Per table: `nil` when the whole table is new, else the columns that are.
        var targets: [String: Set<String>?] = [:]
        for table in newTables { targets[table] = .some(nil) }
        for (table, columns) in newColumns where targets[table] == nil { targets[table] = Set(columns) }
        let names = targets.keys.sorted()
        let logged = try db.query(
            """
            SELECT c.sidx, c.seq, c.tbl, c.pk, c.op, \(ChangeValues.sql("c")), c.lvls, c.scope, c.bases FROM _liaison_change c
            JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
            WHERE c.tbl IN (\(Array(repeating: "?", count: names.count).joined(separator: ", "))) ORDER BY t.ord, c.n
            """, names.map { .text($0) }
        ) {
            LoggedChange(
                origin: VersionStore.Origin(site: $0.int64(0), seq: $0.int64(1)), table: $0.text(2), pk: $0.text(3),
                op: $0.text(4), values: $0.optionalText(5), levels: $0.optionalText(6), scope: $0.text(7),
                bases: $0.optionalText(8))
        }
        var revealed = 0
        var skipped = 0
        var start = logged.startIndex
        while start < logged.endIndex {
            // One transaction's changes are consecutive in apply order.
            let origin = logged[start].origin
            let end = logged[start...].firstIndex { $0.origin != origin } ?? logged.endIndex
            try db.execute("SAVEPOINT liaison_reveal")
            do {
                for entry in logged[start..<end] {
                    guard let columns = targets[entry.table] else { continue }
                    try reveal(entry, newColumns: columns, applier: applier, db: db)
                }
                try db.execute("RELEASE liaison_reveal")
                revealed += 1
            } catch let error as LiaisonError where error.code != .storage && error.code != .busy {
                try db.execute("ROLLBACK TO liaison_reveal; RELEASE liaison_reveal")
                skipped += 1
                let write = try applier.cellWrite(origin)
                try recordNotShown(db, write: write, reason: error.message)
                logger.debug(
                    "kept transaction not shown: it breaks a rule here",
                    metadata: ["tx": "\(write.code)#\(write.seq)", "db.problem": "\(error.message)"])
            }
            start = end
        }
        // The rows written above are merges, not local edits.
        try applier.finish(keepingJournalUpTo: mark)
        logger.debug("opaque data shown", metadata: ["db.revealed": "\(revealed)", "db.skipped": "\(skipped)"])
    }

    /// Records a kept transaction whose values are not shown, for `liaison schema` (created on
    /// first use, so no replica format step).
    private func recordNotShown(_ db: Connection, write: CellWrite, reason: String) throws {
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS _liaison_unshown(
                site TEXT NOT NULL, seq INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (site, seq)) WITHOUT ROWID
            """)
        // The message an arrival gives ends with what happens to the batch; here the batch is long applied.
        let cut =
            reason.range(of: ". Nothing of the batch was applied").map { String(reason[..<$0.lowerBound]) } ?? reason
        try db.run(
            "INSERT OR REPLACE INTO _liaison_unshown(site, seq, reason) VALUES (?, ?, ?)",
            [.text(write.code), .integer(write.seq), .text(cut)])
    }

    /// One logged change of a table or column that was unknown when it arrived.
    private struct LoggedChange {
        var origin: VersionStore.Origin
        var table: String
        var pk: String
        var op: String
        var values: String?
        var levels: String?
        var scope: String
        var bases: String?
    }

    /// Merges one kept change: for a new table, the whole change after the owner rules; for new
    /// columns of a known table, only those columns, as an update of the row.
    private func reveal(
        _ entry: LoggedChange, newColumns columns: Set<String>?, applier: TransactionApplier, db: Connection
    ) throws {
        guard let operation = ChangeRecord.Operation(rawValue: entry.op) else { return }
        var values = try ChangeCodec.decodeValues(entry.values)
        if let columns {
            // A known table: only the columns that were unknown, as updates of the row.
            guard operation != .delete, let all = values else { return }
            values = all.filter { columns.contains($0.key) }
            guard !(values ?? [:]).isEmpty else { return }
            // Cells whose version here is this very write (the row arrived whole while the column
            // was unknown) take its value as they are.
            values = try fill(
                db, table: entry.table, pk: entry.pk, values: values ?? [:], from: entry.origin, applier: applier)
            guard !(values ?? [:]).isEmpty else { return }
        }
        let change = ChangeRecord(
            table: entry.table, id: entry.pk, op: columns == nil ? operation : .update, values: values,
            levels: try ChangeCodec.decodeLevels(entry.levels), scope: entry.scope,
            bases: try CellBases.decode(entry.bases))
        let write = try applier.cellWrite(entry.origin)
        if columns == nil, let table = tables[entry.table] {
            // On arrival the table was unknown, so it had no rows to own: the owner rules apply now.
            try applier.checkOwnership(change, table: table, write: write, name: "\(write.code)#\(write.seq)")
        }
        try applier.merge(change, from: entry.origin, write: write)
    }

    /// Writes the cells of `values` whose version is `origin`'s write itself; returns the others.
    private func fill(
        _ db: Connection, table name: String, pk: String, values: [String: CellValue], from origin: VersionStore.Origin,
        applier: TransactionApplier
    ) throws -> [String: CellValue] {
        guard let table = tables[name], try readRow(db, table: table, id: pk) != nil else { return values }
        let known = try applier.versions.load(table: name, pk: pk)
        var rest: [String: CellValue] = [:]
        for (column, value) in values {
            guard known.version(of: column) == origin, let position = table.columnIndex[column] else {
                rest[column] = value
                continue
            }
            let definition = table.columns[position]
            guard (try? Validation.check(value, for: definition, in: table, db: nil)) != nil else { continue }
            try ChangeValues.keep(db, table: table.name, pk: pk)
            try db.run(
                "UPDATE \(table.quotedName) SET \(CaptureTriggers.quoted(column)) = ? WHERE id = ?",
                [Validation.normalized(value, for: definition), .text(pk)])
        }
        return rest
    }
}
