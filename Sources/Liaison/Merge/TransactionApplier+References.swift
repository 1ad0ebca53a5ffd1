import Foundation

/// The conflicts a merged row can raise through references and natural keys: `orphan` (a
/// reference to a row deleted concurrently) and `duplicate` (two rows created for one thing).
extension TransactionApplier {
    /// Records an `orphan` conflict for each written reference to a row deleted concurrently.
    func checkReferences(
        table: TableInfo, pk: String, taken: [String: CellValue], origin: VersionStore.Origin, write: CellWrite
    ) throws {
        for (name, value) in taken {
            guard case .reference(let target) = try table.column(named: name).type, case .text(let targetID) = value,
                let deletion = try versions.load(table: target, pk: targetID).deletion,
                try replica.readRow(db, table: try replica.table(named: target), id: targetID) == nil
            else { continue }
            let deleter = try cellWrite(deletion)
            guard !write.hasSeen(deleter) else { continue }
            try record(
                .init(
                    kind: .orphan, table: table.name, pk: pk, column: name, policy: table.definition.policy,
                    winner: origin,
                    winnerValue: value, loser: deletion, loserValue: nil),
                loserWrite: deleter)
        }
    }

    /// Checks again the references of a referrer row a concurrent write has just brought back from
    /// its deletion (the cells it did not write; `checkReferences` judged those): the deletion
    /// had dropped its orphan records (`dropOrphans(ofReferrer:)`), and a replica that met the
    /// write before the deletion kept them.
    func checkRestoredReferences(
        table: TableInfo, pk: String, row: [String: CellValue], versions known: VersionStore.RowVersions,
        taken: [String: CellValue]
    ) throws {
        for column in table.columns where taken[column.name] == nil {
            guard case .reference = column.type, let value = row[column.name],
                let version = known.version(of: column.name)
            else { continue }
            try checkReferences(
                table: table, pk: pk, taken: [column.name: value], origin: version, write: try cellWrite(version))
        }
    }

    /// Forgets the `orphan` conflicts a deletion raised against references to a row that a
    /// concurrent write has just brought back: the references are whole again. Replicas that
    /// received the write before the deletion never recorded them (the simulation's seed 9). A
    /// resolved one goes too (schema soak seed 571): it was closed before the deletion lost, and
    /// replicas that never met the deletion alone hold none; what its resolution wrote stays.
    func dropOrphans(of deletion: VersionStore.Origin, table: TableInfo, pk: String) throws {
        let referrers = replica.tables.values.flatMap { referrer in
            referrer.columns.filter { $0.type == .reference(table.name) }.map { (referrer.name, $0.name) }
        }
        for (referrer, column) in referrers {
            try db.run(
                """
                DELETE FROM _liaison_conflict WHERE kind = 'orphan' AND tbl = ? AND col = ?
                AND loser_sidx = ? AND loser_seq = ? AND winner_value = ?
                """,
                [
                    .text(referrer), .text(column), .integer(deletion.site), .integer(deletion.seq),
                    ConflictStore.encode(.text(pk)),
                ])
        }
    }

    /// Forgets the `orphan` conflicts of a referrer row a deletion has just removed: nothing refers
    /// any more, and a replica that received the referrer's deletion before the referred row's
    /// never recorded them (the simulation's seed 69 with extra rounds). What the transaction
    /// being applied resolves stays (`resolving`: a resolution that deleted the referrer).
    func dropOrphans(ofReferrer table: TableInfo, pk: String) throws {
        try OrphanRecords(db: db).dropDeleted(table: table.name, pk: pk, except: resolving)
    }

    /// Records an `orphan` conflict for each live row whose reference to a just deleted row the
    /// deletion had not seen.
    func checkReferrers(of table: TableInfo, pk: String, deletion: VersionStore.Origin, write: CellWrite) throws {
        for referrer in replica.tables.values.sorted(by: { $0.index < $1.index }) {
            for column in referrer.columns where column.type == .reference(table.name) {
                let ids = try db.query(
                    "SELECT id FROM \(referrer.quotedName) WHERE \(CaptureTriggers.quoted(column.name)) = ?",
                    [.text(pk)]
                ) { $0.text(0) }
                for id in ids {
                    guard let version = try versions.load(table: referrer.name, pk: id).version(of: column.name) else {
                        continue
                    }
                    let referrerWrite = try cellWrite(version)
                    guard !write.hasSeen(referrerWrite) else { continue }
                    try record(
                        .init(
                            kind: .orphan, table: referrer.name, pk: id, column: column.name,
                            policy: referrer.definition.policy, winner: version, winnerValue: .text(pk),
                            loser: deletion,
                            loserValue: nil),
                        loserWrite: write)
                }
            }
        }
    }

    /// Brings the `duplicate` conflicts of a row that came, went or changed its natural key up
    /// to date (`DuplicateCheck.refresh`).
    func checkDuplicates(table: TableInfo, pk: String) throws {
        try DuplicateCheck(replica: replica, db: db).refresh(table: table, pk: pk, order: nextOrder, except: resolving)
    }
}
