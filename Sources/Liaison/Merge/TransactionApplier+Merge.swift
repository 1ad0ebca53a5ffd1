import Foundation

/// Merge: each received change against the row's cell versions, by the merge rule, recording a
/// conflict where a write had not seen what it replaces.
extension TransactionApplier {
    func merge(_ change: ChangeRecord, from origin: VersionStore.Origin, write: CellWrite) throws {
        let table = try replica.receivedTable(named: change.table)
        // From here on the row is no longer new to this applier (`NewRows`).
        newRows.merged(change.table, change.id)
        do {
            try RowID.check(change.id)
        } catch let error as LiaisonError {
            throw LiaisonError(.invalidTransaction, error.message)
        }
        // A table not known here yet: the change stays in the log, relayed as signed, and is
        // merged when a schema change adds the table (`Replica.reveal`).
        guard table.isKnown else { return }
        let known = try rowVersions(table, change.id)
        let current = try heldRow(table, change.id)
        // What this merge writes is read afresh by the next change.
        defer { rowMemo = nil }
        if change.op == .delete {
            try mergeDeletion(table: table, pk: change.id, known: known, row: current, origin: origin, write: write)
            return
        }
        guard let received = change.values else {
            throw LiaisonError(
                .invalidTransaction, "a \(change.op.rawValue) of '\(change.table)' '\(change.id)' has no values")
        }
        var values = [String: CellValue](minimumCapacity: received.count)
        for (name, value) in received {
            guard name != "id" else { throw LiaisonError(.invalidTransaction, "a change may not write the id column") }
            // A column not known here yet is kept in the log only (shown once a schema change adds it).
            guard let position = table.columnIndex[name] else { continue }
            let column = table.columns[position]
            try Validation.check(value, for: column, in: table, db: nil)
            values[name] = Validation.normalized(value, for: column)
        }
        var row = current
        var rowVersions = known
        var restoredFromDeletion = false
        if row == nil, let deletion = known.deletion {
            let deleter = try cellWrite(deletion)
            // A write the deletion had seen (held, by its bases) stays deleted.
            if deleter.hasSeen(write),
                try !writesUnseen(by: deleter, table: table, pk: change.id, deletion: deletion).contains(where: {
                    $0.0 == origin
                })
            {
                return
            }
            if !write.hasSeen(deleter) || deleter.hasSeen(write) {
                let kept = try writesUnseen(by: deleter, table: table, pk: change.id, deletion: deletion)
                    .max { MergeRule.wins($1.1, over: $0.1, policy: .lww) }
                try record(
                    .init(
                        kind: .delete, table: table.name, pk: change.id, column: nil, policy: table.definition.policy,
                        winner: kept?.0 ?? origin, winnerValue: nil, loser: deletion, loserValue: nil),
                    loserWrite: deleter)
            }
            row = try restoredRow(table: table, pk: change.id, versions: known)
            restoredFromDeletion = true
            rowVersions.deletion = nil
            try dropOrphans(of: deletion, table: table, pk: change.id)
        } else if row == nil, known.isKnown {
            // Known here but not held (moved out of reach, or never whole): merged against its versions.
            row = try restoredRow(table: table, pk: change.id, versions: known)
        }
        var taken = [String: CellValue](minimumCapacity: values.count + 1)
        // Cells a move carries without writing them keep the version they had (`CellBases.carriedMark`).
        let carried = CellBases.carriedColumns(change.bases)
        var carriedVersions: [String: (origin: VersionStore.Origin, level: Int64)] = [:]
        for (name, value) in values {
            if carried.contains(name) {
                let level = change.levels?[name] ?? 0
                if let version = try carriedVersion(
                    of: name, value: value, base: change.bases?[name], level: level, row: row, versions: rowVersions,
                    table: table,
                    pk: change.id, mover: origin)
                {
                    taken[name] = value
                    carriedVersions[name] = (version, level)
                }
                continue
            }
            guard let localOrigin = try cellVersion(of: name, in: rowVersions, table: table.name), row != nil else {
                taken[name] = value
                continue
            }
            let local = try cellWrite(localOrigin).at(level: rowVersions.level(of: name))
            let remote = write.at(level: change.levels?[name] ?? 0)
            let seen = try knowledge(
                table: table.name, pk: change.id, column: name, local: localOrigin, localWrite: local, remote: origin,
                remoteWrite: remote, remoteBases: change.bases)
            let localValue = row?[name] ?? .null
            let decision =
                try settleHiddenRival(
                    seen, table: table, pk: change.id, column: name, local: (localOrigin, local, localValue),
                    remote: (origin, remote, value))
                ?? MergeRule.resolve(
                    local: local, remote: remote, policy: table.definition.policy,
                    remoteHasSeenLocal: seen.remoteSawLocal, localHasSeenRemote: seen.localSawRemote)
            if decision.isConflict {
                let (winner, loser) = decision.takesRemote ? (origin, localOrigin) : (localOrigin, origin)
                let (winnerValue, loserValue) = decision.takesRemote ? (value, localValue) : (localValue, value)
                try record(
                    .init(
                        kind: .value, table: table.name, pk: change.id, column: name, policy: table.definition.policy,
                        winner: winner, winnerValue: winnerValue, loser: loser, loserValue: loserValue),
                    loserWrite: decision.takesRemote ? local : remote)
            }
            if decision.takesRemote { taken[name] = value }
        }
        try store(table: table, pk: change.id, existing: current, restored: row, taken: taken)
        let wroteWholeRow = change.op == .insert && taken.count == table.columns.count - 1 && change.levels == nil
        if wroteWholeRow {
            // A row without versions here has none to remove (the clone case: one statement less a row).
            if known.isKnown { try versions.removeAll(table: table.name, pk: change.id) }
            try versions.set(
                table: table.name, pk: change.id, column: VersionStore.rowInsert, site: origin.site, seq: origin.seq)
        } else {
            if known.deletion != nil {
                try versions.remove(table: table.name, pk: change.id, column: VersionStore.deletion)
            }
            for name in taken.keys {
                let (version, level) = carriedVersions[name] ?? (origin, change.levels?[name] ?? 0)
                try versions.set(
                    table: table.name, pk: change.id, column: name, site: version.site, seq: version.seq, level: level)
            }
        }
        // A table without reference columns has no reference to check (one lookup per batch).
        if try referencesOtherRows(table) {
            try checkReferences(table: table, pk: change.id, taken: taken, origin: origin, write: write)
            if restoredFromDeletion, let row {
                try checkRestoredReferences(table: table, pk: change.id, row: row, versions: known, taken: taken)
            }
        }
        if current == nil || table.definition.naturalKey.contains(where: { taken[$0] != nil }) {
            try checkDuplicates(table: table, pk: change.id)
        }
    }

    func mergeDeletion(
        table: TableInfo, pk: String, known: VersionStore.RowVersions, row: [String: CellValue]?,
        origin: VersionStore.Origin, write: CellWrite
    ) throws {
        guard row != nil else {
            guard known.deletion == nil else {
                return try recordDeletionOfDeletedRow(table: table, pk: pk, deletion: origin, write: write)
            }
            // A row not held here (moved out of reach, or never whole): a write the deletion had
            // not seen keeps it where it is read, with a `delete` conflict; here too, whichever
            // of the deletion and the move's outline arrived first (simulation seeds 9, 99, 164).
            if known.isKnown,
                let kept = try rowWritesUnseen(by: write, deletion: origin, table: table, pk: pk, known: known)
            {
                try record(
                    .init(
                        kind: .delete, table: table.name, pk: pk, column: nil, policy: table.definition.policy,
                        winner: kept, winnerValue: nil, loser: origin, loserValue: nil),
                    loserWrite: write)
                return
            }
            try versions.set(
                table: table.name, pk: pk, column: VersionStore.deletion, site: origin.site, seq: origin.seq)
            return
        }
        let unseen = try writesUnseen(by: write, table: table, pk: pk, deletion: origin)
        if unseen.isEmpty {
            try ChangeValues.keep(db, table: table.name, pk: pk)
            try db.run("DELETE FROM \(table.quotedName) WHERE id = ?", [.text(pk)])
            try versions.set(
                table: table.name, pk: pk, column: VersionStore.deletion, site: origin.site, seq: origin.seq)
            try checkReferrers(of: table, pk: pk, deletion: origin, write: write)
            try dropOrphans(ofReferrer: table, pk: pk)
            try checkDuplicates(table: table, pk: pk)
            return
        }
        let kept = unseen.max { MergeRule.wins($1.1, over: $0.1, policy: .lww) }!
        try record(
            .init(
                kind: .delete, table: table.name, pk: pk, column: nil, policy: table.definition.policy, winner: kept.0,
                winnerValue: nil, loser: origin, loserValue: nil),
            loserWrite: write)
    }

    /// The write a deletion of a row not held here had not seen, that keeps the row where it is
    /// read: a logged one, or the move that took the row out of reach (known here from its
    /// outline only, as the version of `scope`). `nil` when the deletion had seen them all.
    func rowWritesUnseen(
        by deleter: CellWrite, deletion: VersionStore.Origin, table: TableInfo, pk: String,
        known: VersionStore.RowVersions
    ) throws -> VersionStore.Origin? {
        var unseen = try writesUnseen(by: deleter, table: table, pk: pk, deletion: deletion)
        if let moved = known.version(of: "scope"), !unseen.contains(where: { $0.0 == moved }) {
            let mover = try cellWrite(moved)
            if !deleter.hasSeen(mover) { unseen.append((moved, mover)) }
        }
        return unseen.max { MergeRule.wins($1.1, over: $0.1, policy: .lww) }?.0
    }

    /// Every logged write of the row that `deleter` had not seen. A deletion removes the row only
    /// when this is empty: judging by every write, not only the ones still visible, gives the same
    /// outcome in any delivery order. A deletion that names the versions it removed (`deletion`'s
    /// logged bases) had seen a write only if, for each cell the write set, its base descends
    /// from it: a deleter that held an update only as a digest (a relay lacking its scope) does
    /// not silently delete it.
    func writesUnseen(
        by deleter: CellWrite, table: TableInfo, pk: String, deletion: VersionStore.Origin? = nil
    ) throws -> [(VersionStore.Origin, CellWrite)] {
        let logged = try db.query(
            "SELECT sidx, seq, \(ChangeValues.sql()), bases FROM _liaison_change WHERE tbl = ? AND pk = ? AND op <> 'delete'",
            [.text(table.name), .text(pk)]
        ) { (VersionStore.Origin(site: $0.int64(0), seq: $0.int64(1)), $0.optionalText(2), $0.optionalText(3)) }
        let bases = try deletion.flatMap { try loggedBases(of: $0, table: table.name, pk: pk) }
        var seen: Set<VersionStore.Origin> = []
        var unseen: [(VersionStore.Origin, CellWrite)] = []
        for (origin, values, written) in logged where !seen.contains(origin) {
            seen.insert(origin)
            let other = try cellWrite(origin)
            if other.site == deleter.site && other.seq == deleter.seq { continue }
            guard deleter.hasSeen(other) else {
                unseen.append((origin, other))
                continue
            }
            guard let bases else { continue }
            // A cell a move carried was not written by it (it keeps its version).
            let carried = CellBases.carriedColumns(try CellBases.decode(written))
            for column in (try ChangeCodec.decodeValues(values) ?? [:]).keys.sorted() where !carried.contains(column) {
                let base = bases[column].flatMap(self.origin(named:))
                guard
                    try descent(
                        base: base, from: origin, table: table.name, pk: pk, column: column,
                        overLosers: table.definition.policy) == .reaches
                else {
                    unseen.append((origin, other))
                    break
                }
            }
        }
        return unseen
    }

    /// Writes the merged values: inserts the row when it is new or restored, else updates it.
    func store(
        table: TableInfo, pk: String, existing: [String: CellValue]?, restored: [String: CellValue]?,
        taken: [String: CellValue]
    ) throws {
        if existing == nil {
            // A row new here takes the merged values as they are (no copy into a second dictionary).
            var values = taken
            if let restored {
                values = restored
                for (name, value) in taken { values[name] = value }
            }
            values["id"] = .text(pk)
            // Never rebuilt from a partial set of changes: a row whose scope or required columns are
            // unknown here stays unheld (its versions are kept) until a change brings it whole.
            guard case .text = values["scope"],
                table.definition.columns.allSatisfy({ !$0.isRequired || (values[$0.name] ?? .null) != .null })
            else { return }
            var written: [Int] = []
            var arguments: [CellValue] = []
            written.reserveCapacity(values.count)
            arguments.reserveCapacity(values.count)
            for (position, column) in table.columns.enumerated() {
                guard let value = values[column.name] else { continue }
                written.append(position)
                arguments.append(value)
            }
            try db.run(insertSQL(table, columns: written), arguments)
        } else if !taken.isEmpty {
            let names = taken.keys.sorted()
            let assignments = names.map { "\(CaptureTriggers.quoted($0)) = ?" }.joined(separator: ", ")
            try ChangeValues.keep(db, table: table.name, pk: pk)
            try db.run(
                "UPDATE \(table.quotedName) SET \(assignments) WHERE id = ?", names.map { taken[$0]! } + [.text(pk)])
        }
    }

    /// `INSERT INTO table(columns) VALUES (?, …)` for the columns at `positions`, built once per batch.
    func insertSQL(_ table: TableInfo, columns positions: [Int]) -> String {
        let key = InsertShape(table: table.index, columns: positions)
        if let sql = insertStatements[key] { return sql }
        let names = positions.map { table.quotedColumns[$0] }.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: positions.count).joined(separator: ", ")
        let sql = "INSERT INTO \(table.quotedName)(\(names)) VALUES (\(placeholders))"
        insertStatements[key] = sql
        return sql
    }

    /// Whether `table` has a column that references rows (`checkReferences` has work), remembered
    /// per table until a schema change evolves the tables (`evolveSchemaAfter` forgets it).
    func referencesOtherRows(_ table: TableInfo) throws -> Bool {
        if let known = referencingTables[table.name] { return known }
        let references = table.columns.contains {
            if case .reference = $0.type { true } else { false }
        }
        referencingTables[table.name] = references
        return references
    }

    struct InsertShape: Hashable {
        var table: Int
        var columns: [Int]
    }

    /// The values a deleted row had, rebuilt from the change log by each cell's version.
    func restoredRow(table: TableInfo, pk: String, versions known: VersionStore.RowVersions) throws
        -> [String: CellValue]
    {
        var logged: [VersionStore.Origin: [String: CellValue]] = [:]
        var carriedValues: [VersionStore.Origin: [String: CellValue]] = [:]
        for (site, seq, vals, bases) in try db.query(
            "SELECT sidx, seq, \(ChangeValues.sql()), bases FROM _liaison_change WHERE tbl = ? AND pk = ? AND \(ChangeValues.present())",
            [.text(table.name), .text(pk)], { ($0.int64(0), $0.int64(1), $0.text(2), $0.optionalText(3)) })
        {
            let values = try ChangeCodec.decodeValues(vals) ?? [:]
            logged[VersionStore.Origin(site: site, seq: seq), default: [:]].merge(values) { _, new in new }
            // A carried value is the value of its base version, which may be held here only as a digest.
            for (column, base) in try CellBases.decode(bases) ?? [:] where CellBases.isCarried(base) {
                guard let named = CellBases.carriedBase(base).flatMap(origin(named:)), let value = values[column] else {
                    continue
                }
                carriedValues[named, default: [:]][column] = value
            }
        }
        var row: [String: CellValue] = ["id": .text(pk)]
        for column in table.columns.dropFirst() {
            if let origin = known.version(of: column.name),
                let value = logged[origin]?[column.name] ?? carriedValues[origin]?[column.name]
            {
                row[column.name] = value
            }
        }
        return row
    }
}
