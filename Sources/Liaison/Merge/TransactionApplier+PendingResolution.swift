import Foundation

/// Resolutions of conflicts not recorded here yet. A conflict can be recorded after the
/// transaction that resolves it has been applied: the two writes it is between reached this
/// replica only later (a change withheld by a relay lacking its scope, then sent by a peer that
/// may). Ignoring the claim then left the conflict open here and resolved where it was recorded
/// first (the simulation's seed 78 with extra rounds). So a claim on an unknown id is kept, and
/// honoured when the conflict is recorded, or when the resolver's own withheld changes arrive,
/// by the rule `honour` applies (docs/DECISIONS.md, "Resolutions that arrive before their conflict").
extension TransactionApplier {
    static let pendingResolutionSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_pending_resolution(
            conflict TEXT NOT NULL, sidx INTEGER NOT NULL, seq INTEGER NOT NULL, writable TEXT,
            PRIMARY KEY (conflict, sidx, seq)) WITHOUT ROWID
        """

    /// Keeps `origin`'s claim on conflict `id`, unknown here, with the scopes its sender may
    /// write here (`NULL`: every scope), which the claim is judged by once the conflict exists.
    func rememberPending(_ id: String, by origin: VersionStore.Origin) throws {
        try db.execute(Self.pendingResolutionSQL)
        let writable = writableScopes.map { ConflictStore.encodeIDs($0.sorted()) }
        try db.run(
            "INSERT OR IGNORE INTO _liaison_pending_resolution(conflict, sidx, seq, writable) VALUES (?, ?, ?, ?)",
            [.text(id), .integer(origin.site), .integer(origin.seq), writable.map { .text($0) } ?? .null])
    }

    /// Honours the kept claims on conflict `id`, just recorded.
    func honourPending(conflict id: String) throws {
        guard try hasPendingResolutions() else { return }
        let claims = try db.query(
            "SELECT sidx, seq, writable FROM _liaison_pending_resolution WHERE conflict = ?", [.text(id)]
        ) { (VersionStore.Origin(site: $0.int64(0), seq: $0.int64(1)), $0.optionalText(2)) }
        for (origin, writable) in claims { try settlePending(id, by: origin, writable: writable) }
    }

    /// Honours the kept claims of `origin`, whose transaction has just arrived again (its withheld
    /// changes may be among it, with a write of the conflict's cell), now also by the grant of the
    /// peer that sent it again: a claim relayed first by a peer that may not write the row counts
    /// once a peer that may sends the transaction, as a held claim does (`honour`).
    func honourPending(by origin: VersionStore.Origin) throws {
        guard try hasPendingResolutions() else { return }
        let claims = try db.query(
            "SELECT conflict, writable FROM _liaison_pending_resolution WHERE sidx = ? AND seq = ?",
            [.integer(origin.site), .integer(origin.seq)]
        ) { ($0.text(0), $0.optionalText(1)) }
        for (id, stored) in claims {
            // The peer that sent it again vouches for the claim as far as its own grant goes, also
            // for a conflict recorded only later (its sides may come in the same batch, after it).
            let first = stored.map { ConflictStore.decodeIDs($0).map { Set($0) } ?? [] }
            let widened: Set<String>? = first.flatMap { first in writableScopes.map { first.union($0) } }
            let writable = widened.map { ConflictStore.encodeIDs($0.sorted()) }
            if writable != stored {
                try db.run(
                    "UPDATE _liaison_pending_resolution SET writable = ? WHERE conflict = ? AND sidx = ? AND seq = ?",
                    [writable.map { .text($0) } ?? .null, .text(id), .integer(origin.site), .integer(origin.seq)])
            }
            try settlePending(id, by: origin, writable: writable)
        }
    }

    /// Whether some change of transaction `origin` is held here only as its digest.
    func withholdsChanges(of origin: VersionStore.Origin) throws -> Bool {
        try db.first(
            "SELECT 1 FROM _liaison_withheld WHERE sidx = ? AND seq = ? LIMIT 1",
            [.integer(origin.site), .integer(origin.seq)], { _ in true }) ?? false
    }

    private func hasPendingResolutions() throws -> Bool {
        try db.first(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_liaison_pending_resolution'", [],
            { _ in true }) ?? false
    }

    private func settlePending(_ id: String, by origin: VersionStore.Origin, writable: String?) throws {
        guard
            let (table, pk, column, winner, loser) = try db.first(
                """
                SELECT tbl, pk, col, winner_sidx, winner_seq, loser_sidx, loser_seq FROM _liaison_conflict
                WHERE id = ? AND state = 'open'
                """,
                [.text(id)],
                {
                    (
                        $0.text(0), $0.text(1), $0.optionalText(2),
                        VersionStore.Origin(site: $0.int64(3), seq: $0.int64(4)),
                        VersionStore.Origin(site: $0.int64(5), seq: $0.int64(6))
                    )
                })
        else { return }
        let write = try cellWrite(origin)
        guard
            try resolverSawBoth(
                write, origin: origin, table: table, pk: pk, column: column, winner: winner, loser: loser)
        else { return }
        if let info = replica.tables[table], let scope = try writeRule.scopeHere(table: info, id: pk) {
            let first = writable.map { ConflictStore.decodeIDs($0).map { Set($0) } ?? [] }
            guard Scope.allows(first, scope) else { return }
        }
        try conflicts.resolve([id], by: origin)
        try db.run(
            "DELETE FROM _liaison_pending_resolution WHERE conflict = ? AND sidx = ? AND seq = ?",
            [.text(id), .integer(origin.site), .integer(origin.seq)])
    }

    /// Whether a resolver had seen both sides of a conflict: the loser, and the winner or, having
    /// written the cell itself, whatever wins it now (see `honour`).
    func resolverSawBoth(
        _ write: CellWrite, origin: VersionStore.Origin, table: String, pk: String, column: String?,
        winner: VersionStore.Origin, loser: VersionStore.Origin
    ) throws -> Bool {
        guard try write.hasSeen(cellWrite(loser)) else { return false }
        if try write.hasSeen(cellWrite(winner)) { return true }
        return try column.map { try wroteCell(origin, table: table, pk: pk, column: $0) } ?? false
    }
}
