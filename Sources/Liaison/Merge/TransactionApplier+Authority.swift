import Foundation

/// Authority a transaction's origin must hold for what it claims beyond its values: closing
/// conflicts (`resolves`), changing a row's `owner`, and the owner levels of `owner-wins` cells.
extension TransactionApplier {
    /// Closes the conflicts `ids` that the resolving transaction may close: it had seen both sides,
    /// and the row's scope here is within what its sender may write. Any other claim changes
    /// nothing and is recorded in `_liaison_ignored_resolution`.
    func honour(_ ids: [String], by origin: VersionStore.Origin, write: CellWrite) throws {
        var honoured: [String] = []
        for id in ids {
            switch try judgeResolution(id, by: origin, write: write, writable: writableScopes) {
            case .honoured: honoured.append(id)
            case .unrecorded:
                // Recorded here later (its sides arrive late): judged then (`PendingResolution`).
                try PendingResolution.remember(
                    db,
                    .init(origin: origin, conflict: id, writable: writableScopes, fromOrigin: try sentByOrigin(origin)))
            case .outsideGrant:
                // A relay's grant says nothing of the origin's: held, as a change outside the
                // relay's grant is, until a peer that may write the row sends it (otherwise the
                // claim would count on one replica and not another, by the path it took).
                guard try sentByOrigin(origin) else {
                    throw LiaisonError(
                        .forbiddenScope,
                        "transaction \(sites.site(origin.site).code)#\(origin.seq) resolves a conflict on a row outside "
                            + "the scopes its sender may write here; it is held until a peer that may sends it")
                }
                try recordIgnored(id, by: origin, reason: "outside its sender's grant")
            case .unseen: try recordIgnored(id, by: origin, reason: "had not seen both sides")
            }
        }
        try conflicts.resolve(honoured, by: origin)
    }

    /// How a claim to close a conflict is judged here.
    enum ResolutionJudgement {
        /// It closes the conflict.
        case honoured
        /// The conflict is not recorded here (yet).
        case unrecorded
        /// The resolver had seen both sides, but the row's scope here is outside what its sender may write.
        case outsideGrant
        /// The resolver had not seen both sides.
        case unseen
    }

    /// Whether transaction `origin` may close conflict `id`: it had seen both sides, and the row's
    /// scope here is within `writable` (its sender's write grant; `nil` for any).
    func judgeResolution(_ id: String, by origin: VersionStore.Origin, write: CellWrite, writable: Set<String>?)
        throws -> ResolutionJudgement
    {
        guard
            let (table, pk, column, winner, loser) = try db.first(
                "SELECT tbl, pk, col, winner_sidx, winner_seq, loser_sidx, loser_seq FROM _liaison_conflict WHERE id = ?",
                [.text(id)],
                {
                    (
                        $0.text(0), $0.text(1), $0.optionalText(2),
                        VersionStore.Origin(site: $0.int64(3), seq: $0.int64(4)),
                        VersionStore.Origin(site: $0.int64(5), seq: $0.int64(6))
                    )
                })
        else { return .unrecorded }
        // The winner recorded here depends on arrival order (a later write concurrent with the
        // loser may have replaced the one the resolver saw); a resolver that had seen the loser
        // and wrote the cell itself settles it, and its write meets any such later winner as a
        // conflict of its own. So every replica honours the same claims.
        let sawLoser = try write.hasSeen(cellWrite(loser))
        let sawBoth =
            try sawLoser
            && (write.hasSeen(cellWrite(winner))
                || column.map { try wroteCell(origin, table: table, pk: pk, column: $0) } ?? false)
        guard sawBoth else { return .unseen }
        if let info = replica.tables[table], let scope = try writeRule.scopeHere(table: info, id: pk),
            !Scope.allows(writable, scope)
        {
            return .outsideGrant
        }
        return .honoured
    }

    /// Whether the batch comes from the transaction's origin itself, not from a relay: the peer
    /// it was received from is bound to the origin's site id, or, not bound yet, is named by the
    /// origin's site code.
    func sentByOrigin(_ origin: VersionStore.Origin) throws -> Bool {
        guard !source.isEmpty else { return false }
        let site = sites.site(origin.site)
        return try db.first(
            "SELECT 1 FROM _liaison_peer WHERE name = ? AND (site_id = ? OR (site_id IS NULL AND name = ?))",
            [.text(source), .text(site.id), .text(site.code)]
        ) { _ in true } ?? false
    }

    /// Whether the transaction `origin` wrote `column` of the row (its change is logged here).
    private func wroteCell(_ origin: VersionStore.Origin, table: String, pk: String, column: String) throws -> Bool {
        let values = try db.query(
            "SELECT \(ChangeValues.sql()) FROM _liaison_change WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ? AND \(ChangeValues.present())",
            [.integer(origin.site), .integer(origin.seq), .text(table), .text(pk)]
        ) { $0.text(0) }
        return try values.contains { try ChangeCodec.decodeValues($0)?[column] != nil }
    }

    func recordIgnored(_ id: String, by origin: VersionStore.Origin, reason: String) throws {
        try db.execute(Self.ignoredResolutionSQL)
        try db.run(
            "INSERT OR IGNORE INTO _liaison_ignored_resolution(conflict, sidx, seq, reason) VALUES (?, ?, ?, ?)",
            [.text(id), .integer(origin.site), .integer(origin.seq), .text(reason)])
    }

    /// Created on first use, so replicas written before it need no migration.
    static let ignoredResolutionSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_ignored_resolution(
            conflict TEXT NOT NULL, sidx INTEGER NOT NULL, seq INTEGER NOT NULL, reason TEXT NOT NULL,
            PRIMARY KEY (conflict, sidx, seq)) WITHOUT ROWID
        """

    /// Refuses a change that sets the `owner` of a row held here unless its origin owns the row
    /// (a change made without having seen the owner's version is a concurrent creation: merged),
    /// a re-creation of a row not held here that names another owner than the row had,
    /// and, in an `owner-wins` table, a change claiming an owner level above what this replica
    /// computes: the highest level among the cell's logged writes its origin had seen, plus one
    /// when its origin owns the row.
    func checkOwnership(_ change: ChangeRecord, table: TableInfo, write: CellWrite, name: String) throws {
        // A table not known here has no rows here to own; its changes are only logged (opaque).
        guard change.op != .delete, table.isKnown else { return }
        // A replica that holds some changes only as digests cannot know every owner write or
        // level (they may be in scopes it may not read): it leaves these checks to the replicas
        // that hold the whole row's history.
        guard try !holdsWithheld() else { return }
        let row = try heldRow(table, change.id)
        let owner: String? = if case .text(let text)? = row?["owner"], !text.isEmpty { text } else { nil }
        // A move carries `owner` unchanged (`CellBases.carriedMark`): not a write of it.
        if let owner, let set = change.values?["owner"], !CellBases.isCarried(change.bases?["owner"]),
            set != .text(owner), owner != write.code,
            let version = try rowVersions(table, change.id).version(of: "owner"),
            try sawCell(change, write: write, column: "owner", version: version, table: table.name)
        {
            throw LiaisonError(
                .forbiddenScope,
                "transaction \(name) changes the owner of a row it does not own; only the owner hands a row over. "
                    + "Nothing of the batch was applied")
        }
        // A re-creation of a row not held here (deleted, or moved out of reach) keeps the owner the
        // row had (`RowOwner`): one naming another owner, from a writer that had seen that owner's
        // version and is not that owner, would take the row over by deleting and re-creating it.
        if row == nil, change.op == .insert, case .text(let set)? = change.values?["owner"],
            let remembered = try RowOwner.remembered(
                db, table: table.name, pk: change.id, known: rowVersions(table, change.id)),
            set != remembered.owner, remembered.owner != write.code,
            try sawCell(change, write: write, column: "owner", version: remembered.version, table: table.name)
        {
            throw LiaisonError(
                .forbiddenScope,
                "transaction \(name) re-creates a row owned by \(remembered.owner) under another owner; a re-created row "
                    + "keeps its owner, and only the owner hands a row over. Nothing of the batch was applied")
        }
        guard table.definition.policy == .ownerWins, let levels = change.levels, !levels.isEmpty else { return }
        var seenLevels: [String: Int64] = [:]
        var loggedOwner: String?
        for (site, seq, op, values, logged) in try db.query(
            """
            SELECT s.site_id, c.seq, c.op, \(ChangeValues.sql("c")), c.lvls FROM _liaison_change c JOIN _liaison_site s ON s.sidx = c.sidx
            JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq WHERE c.tbl = ? AND c.pk = ? ORDER BY t.ord
            """, [.text(table.name), .text(change.id)],
            { ($0.text(0), $0.int64(1), $0.text(2), $0.optionalText(3), $0.optionalText(4)) })
        where write.hasSeen(site: site, seq: seq) {
            guard op != "delete" else { continue }
            let written = try ChangeCodec.decodeValues(values) ?? [:]
            let cellLevels = try ChangeCodec.decodeLevels(logged) ?? [:]
            for column in levels.keys where written[column] != nil {
                seenLevels[column] = max(seenLevels[column] ?? 0, cellLevels[column] ?? 0)
            }
            if case .text(let text)? = written["owner"] { loggedOwner = text }
        }
        // The owner as the change sets it, else as held here, else as last logged (a deleted row).
        let ownerNow: String? = {
            if case .text(let text)? = change.values?["owner"] { return text }
            return owner ?? loggedOwner
        }()
        let step: Int64 = ownerNow == write.code ? 1 : 0
        for (column, level) in levels where level > (seenLevels[column] ?? 0) + step {
            throw LiaisonError(
                .forbiddenScope,
                "transaction \(name) claims owner level \(level) for a cell; this replica computes at most "
                    + "\((seenLevels[column] ?? 0) + step) from the row's owner and the writes its origin had seen. "
                    + "Nothing of the batch was applied")
        }
    }
}
