import Foundation

/// `duplicate` conflicts: two live rows with one natural key (two rows created for one thing).
///
/// Checked wherever a row comes to be held: when a merge inserts it, and when this replica
/// publishes a row it created itself, so the replica that made the duplicate records the same
/// conflict, with the same id and sides, as every replica the second row reaches
/// (docs/DECISIONS.md, "Duplicates are recorded where they are made too").
struct DuplicateCheck {
    let replica: Replica
    let db: Connection

    /// Records a `duplicate` conflict between `pk` and each other live row with its natural key.
    /// The row with the smaller id is kept (the winner), so the id and sides are the same everywhere.
    func check(table: TableInfo, pk: String, order: Int64) throws {
        let key = table.definition.naturalKey
        guard !key.isEmpty, let row = try replica.readRow(db, table: table, id: pk) else { return }
        let values = key.map { row[$0] ?? .null }
        guard !values.contains(.null) else { return }
        let condition = key.map { "\(CaptureTriggers.quoted($0)) = ?" }.joined(separator: " AND ")
        let others = try db.query(
            "SELECT id FROM \(table.quotedName) WHERE \(condition) AND id <> ?", values + [.text(pk)]
        ) { $0.text(0) }
        let versions = VersionStore(db: db)
        for other in others {
            let (keep, drop) = pk < other ? (pk, other) : (other, pk)
            guard let keepVersion = try versions.load(table: table.name, pk: keep).insert ?? firstVersion(table, keep),
                let dropVersion = try versions.load(table: table.name, pk: drop).insert ?? firstVersion(table, drop)
            else { continue }
            let id = ConflictStore.id(
                kind: .duplicate, table: table.name, pk: keep, column: nil, loserSite: drop, loserSeq: 0)
            try ConflictStore(db: db).record(
                .init(
                    kind: .duplicate, table: table.name, pk: keep, column: nil, policy: table.definition.policy,
                    winner: keepVersion, winnerValue: .text(keep), loser: dropVersion, loserValue: .text(drop)),
                id: id, order: order)
        }
    }

    /// Brings the open `duplicate` conflicts of row `pk` up to date with the rows held now:
    /// forgets those whose rows no longer share a natural key (one was deleted, moved out of
    /// reach or changed its key), then records one with each other live row that shares it. Run
    /// whenever a row comes, goes or changes its key, so the open duplicates are a function of the
    /// rows held, the same whatever order the changes arrived in (simulation seeds 727, 997).
    /// `except` are the conflicts the transaction being applied resolves (a duplicate resolved by
    /// deleting one of its rows stays, resolved).
    func refresh(table: TableInfo, pk: String, order: Int64, except resolving: Set<String> = []) throws {
        let key = table.definition.naturalKey
        guard !key.isEmpty else { return }
        let open = try db.query(
            """
            SELECT id, pk, loser_value FROM _liaison_conflict WHERE kind = 'duplicate' AND state = 'open' AND tbl = ?
                AND (pk = ? OR loser_value = ?)
            """, [.text(table.name), .text(pk), ConflictStore.encode(.text(pk))]
        ) { ($0.text(0), $0.text(1), ConflictStore.decodeValue($0.optionalText(2))) }
        let mine = try replica.readRow(db, table: table, id: pk).map { row in key.map { row[$0] ?? .null } }
        for (id, keep, dropped) in open where !resolving.contains(id) {
            guard case .text(let drop)? = dropped else { continue }
            let other = keep == pk ? drop : keep
            let theirs = try replica.readRow(db, table: table, id: other).map { row in key.map { row[$0] ?? .null } }
            if mine == nil || theirs == nil || mine != theirs {
                try db.run("DELETE FROM _liaison_conflict WHERE id = ?", [.text(id)])
            }
        }
        try check(table: table, pk: pk, order: order)
    }

    /// Rows this replica wrote and publishes now (created, deleted or with a changed key): each
    /// is checked as a row arriving from a peer is.
    func refreshPublished(rows: [(table: Int, pk: String)], order: Int64) throws {
        let tables = Dictionary(uniqueKeysWithValues: replica.tables.values.map { ($0.index, $0) })
        for (index, pk) in rows {
            guard let table = tables[index], !table.definition.naturalKey.isEmpty else { continue }
            try refresh(table: table, pk: pk, order: order)
        }
    }

    private func firstVersion(_ table: TableInfo, _ pk: String) throws -> VersionStore.Origin? {
        let known = try VersionStore(db: db).load(table: table.name, pk: pk)
        return known.columns.values.min { ($0.site, $0.seq) < ($1.site, $1.seq) }
    }
}
