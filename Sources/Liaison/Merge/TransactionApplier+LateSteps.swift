import Foundation

/// A step of a base chain that arrives after the chain was judged.
///
/// While a change is held here only as its digest, a base chain passing through it ends proven
/// at it for every write its vector had seen (`descent`: a replica that may never read the step
/// cannot do better). When the change itself arrives later (`applyLate`), its own bases can show
/// that it had not seen such a write: the cell's current version superseded that write with no
/// conflict here, while a replica that held the step from the start found them concurrent and
/// recorded one (the simulation's seed 117 with extra rounds: a `scope` conflict on one full
/// replica only). So the cells the late change wrote are judged again, as that replica judged
/// them (docs/DECISIONS.md, "A late step of a base chain is judged again").
extension TransactionApplier {
    /// Judges again each cell `change` (of `step`, just arrived late) wrote whose current version
    /// is a later write whose base chain passes through it.
    func rejudgeLateStep(_ change: ChangeRecord, of step: VersionStore.Origin) throws {
        guard change.op != .delete, let written = change.values?.keys else { return }
        let table = try replica.receivedTable(named: change.table)
        guard table.isKnown else { return }
        let carried = CellBases.carriedColumns(change.bases)
        for column in written.sorted() where !carried.contains(column) && table.columnIndex[column] != nil {
            try rejudge(column: column, table: table, pk: change.id, through: step)
        }
    }

    private func rejudge(column: String, table: TableInfo, pk: String, through step: VersionStore.Origin) throws {
        let known = try versions.load(table: table.name, pk: pk)
        guard let current = try cellVersion(of: column, in: known, table: table.name), current != step,
            let currentBases = try loggedBases(of: current, table: table.name, pk: pk)
        else { return }
        let base = currentBases[column].flatMap(origin(named:))
        guard try descent(base: base, from: step, table: table.name, pk: pk, column: column) == .reaches else { return }
        let currentWrite = try cellWrite(current).at(level: known.level(of: column))
        let writers = try cellWriters(table: table.name, pk: pk, column: column)
        for (rival, level) in writers where rival != current && rival != step {
            let rivalWrite = try cellWrite(rival).at(level: level)
            // Judged "seen" when the chain ended at the withheld step; concurrent by the whole chain.
            guard currentWrite.hasSeen(rivalWrite), !rivalWrite.hasSeen(currentWrite),
                try descent(base: base, from: rival, table: table.name, pk: pk, column: column) != .reaches,
                try !supersededKnowingly(rival, among: writers, table: table.name, pk: pk, column: column)
            else { continue }
            let rivalWins = MergeRule.wins(rivalWrite, over: currentWrite, policy: table.definition.policy)
            let row = try replica.readRow(db, table: table, id: pk)
            let rivalValue = try loggedValue(of: rival, table: table.name, pk: pk, column: column)
            let currentValue = row?[column]
            try record(
                .init(
                    kind: .value, table: table.name, pk: pk, column: column, policy: table.definition.policy,
                    winner: rivalWins ? rival : current, winnerValue: rivalWins ? rivalValue : currentValue,
                    loser: rivalWins ? current : rival, loserValue: rivalWins ? currentValue : rivalValue),
                loserWrite: rivalWins ? currentWrite : rivalWrite)
            guard rivalWins, let rivalValue else { return }
            if row != nil {
                try ChangeValues.keep(db, table: table.name, pk: pk)
                try db.run(
                    "UPDATE \(table.quotedName) SET \(CaptureTriggers.quoted(column)) = ? WHERE id = ?",
                    [rivalValue, .text(pk)])
            }
            try versions.set(
                table: table.name, pk: pk, column: column, site: rival.site, seq: rival.seq, level: level)
            return
        }
    }

    /// The logged writes of a cell (not carried), with the owner level each gave it.
    private func cellWriters(table: String, pk: String, column: String) throws -> [(VersionStore.Origin, Int64)] {
        let rows = try db.query(
            "SELECT sidx, seq, \(ChangeValues.sql()), bases, lvls FROM _liaison_change WHERE tbl = ? AND pk = ? AND \(ChangeValues.present())",
            [.text(table), .text(pk)]
        ) {
            (VersionStore.Origin(site: $0.int64(0), seq: $0.int64(1)), $0.text(2), $0.optionalText(3), $0.optionalText(4))
        }
        var found: [(VersionStore.Origin, Int64)] = []
        for (origin, values, bases, levels) in rows {
            guard try ChangeCodec.decodeValues(values)?[column] != nil,
                !CellBases.isCarried(try CellBases.decode(bases)?[column])
            else { continue }
            found.append((origin, try ChangeCodec.decodeLevels(levels)?[column] ?? 0))
        }
        return found
    }

    /// Whether another logged write of the cell had seen `rival` through its own chain: `rival`
    /// was then overwritten knowingly, and its rival is that write, not the current version.
    private func supersededKnowingly(
        _ rival: VersionStore.Origin, among writers: [(VersionStore.Origin, Int64)], table: String, pk: String,
        column: String
    ) throws -> Bool {
        let rivalWrite = try cellWrite(rival)
        for (other, _) in writers where other != rival {
            guard try cellWrite(other).hasSeen(rivalWrite) else { continue }
            let base = try loggedBases(of: other, table: table, pk: pk)?[column].flatMap(origin(named:))
            if try descent(base: base, from: rival, table: table, pk: pk, column: column) == .reaches { return true }
        }
        return false
    }

    private func loggedValue(of origin: VersionStore.Origin, table: String, pk: String, column: String) throws
        -> CellValue?
    {
        let texts = try db.query(
            "SELECT \(ChangeValues.sql()) FROM _liaison_change WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ? AND \(ChangeValues.present())",
            [.integer(origin.site), .integer(origin.seq), .text(table), .text(pk)]
        ) { $0.text(0) }
        return try texts.compactMap { try ChangeCodec.decodeValues($0)?[column] }.last
    }
}
