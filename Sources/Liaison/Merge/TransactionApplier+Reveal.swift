import Foundation
import Logging

extension Replica {
    /// Shows what was kept as opaque data: the logged values of columns and tables a schema change
    /// just made known here are merged now, in this replica's apply order, as if they had been
    /// known when they arrived (the same merge rule, conflicts and references included).
    func reveal(_ db: Connection, tables newTables: [String], columns newColumns: [String: [String]]) throws {
        guard !newTables.isEmpty || !newColumns.isEmpty else { return }
        let applier = try TransactionApplier(replica: self, db: db)
        let mark = try db.first("SELECT coalesce(max(id), 0) FROM _liaison_journal") { $0.int64(0) } ?? 0
        var targets: [(table: String, columns: Set<String>?)] = newTables.map { ($0, nil) }
        targets += newColumns.sorted { $0.key < $1.key }.map { ($0.key, Set($0.value)) }
        var revealed = 0
        var skipped = 0
        for (table, columns) in targets {
            let logged = try db.query(
                """
                SELECT c.sidx, c.seq, c.pk, c.op, c.vals, c.lvls, c.scope, c.bases FROM _liaison_change c
                JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq WHERE c.tbl = ? ORDER BY t.ord, c.n
                """, [.text(table)]
            ) {
                (
                    VersionStore.Origin(site: $0.int64(0), seq: $0.int64(1)), $0.text(2), $0.text(3),
                    $0.optionalText(4), $0.optionalText(5), $0.text(6), $0.optionalText(7)
                )
            }
            for (origin, pk, op, vals, lvls, scope, bases) in logged {
                guard let operation = ChangeRecord.Operation(rawValue: op) else { continue }
                var values = try ChangeCodec.decodeValues(vals)
                if let columns {
                    // A known table: only the columns that were unknown, as updates of the row.
                    guard operation != .delete, let all = values else { continue }
                    values = all.filter { columns.contains($0.key) }
                    guard !(values ?? [:]).isEmpty else { continue }
                    // Cells whose version here is this very write (the row arrived whole while
                    // the column was unknown) take its value as they are.
                    values = try fill(db, table: table, pk: pk, values: values ?? [:], from: origin, applier: applier)
                    guard !(values ?? [:]).isEmpty else { continue }
                }
                let change = ChangeRecord(
                    table: table, id: pk, op: columns == nil ? operation : .update, values: values,
                    levels: try ChangeCodec.decodeLevels(lvls), scope: scope, bases: try CellBases.decode(bases))
                // A value that breaks a rule here is left in the log, not shown; the rest is shown.
                try db.execute("SAVEPOINT liaison_reveal")
                do {
                    try applier.merge(change, from: origin, write: try applier.cellWrite(origin))
                    try db.execute("RELEASE liaison_reveal")
                    revealed += 1
                } catch let error as LiaisonError where error.code != .storage && error.code != .busy {
                    try db.execute("ROLLBACK TO liaison_reveal; RELEASE liaison_reveal")
                    skipped += 1
                    logger.debug(
                        "kept value not shown", metadata: ["db.table": "\(table)", "db.problem": "\(error.message)"])
                }
            }
        }
        // The rows written above are merges, not local edits.
        try applier.finish(keepingJournalUpTo: mark)
        logger.debug("opaque data shown", metadata: ["db.revealed": "\(revealed)", "db.skipped": "\(skipped)"])
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
            try db.run(
                "UPDATE \(table.quotedName) SET \(CaptureTriggers.quoted(column)) = ? WHERE id = ?",
                [Validation.normalized(value, for: definition), .text(pk)])
        }
        return rest
    }
}
