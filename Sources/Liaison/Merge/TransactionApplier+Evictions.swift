import Foundation

/// Evictions: the rows a received outline really moved out of this replica's reach.
extension TransactionApplier {
    /// Removes this replica's copy of rows that `header`'s origin moved out of this replica's
    /// readable scopes (no deletion is logged: the rows live on where they may be read). Each
    /// outline must match the signed digest kept for its withheld position, so a peer cannot make
    /// this replica drop rows the origin did not move. An outline that does not show a real move
    /// (the signed change leaves the row in the scope it has here, or loses to what this replica
    /// holds) removes nothing: the change stays withheld and is asked for again.
    func evict(_ outlines: [ChangeOutline], of header: TransactionRecord) throws {
        guard let index = sites.existingIndex(of: header.origin) else { return }
        let origin = VersionStore.Origin(site: index, seq: header.seq)
        for outline in outlines {
            guard
                let expected = try db.first(
                    "SELECT digest FROM _liaison_withheld WHERE sidx = ? AND seq = ? AND n = ?",
                    [.integer(index), .integer(header.seq), .integer(Int64(outline.index + 1))], { $0.text(0) }),
                expected
                    == TransactionDigest.change(
                        table: outline.table, id: outline.id, op: outline.op.rawValue, scope: outline.scope,
                        body: outline.body),
                let table = replica.tables[outline.table]
            else {
                throw LiaisonError(
                    .invalidTransaction,
                    "an eviction of \(outline.table) '\(outline.id)' does not match a withheld change of "
                        + "\(header.site)#\(header.seq); the batch was refused")
            }
            try db.execute(PageBuilder.outlineTableSQL)
            try db.run(
                "INSERT OR IGNORE INTO _liaison_outline(sidx, seq, n, tbl, pk, op, scope, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .integer(index), .integer(header.seq), .integer(Int64(outline.index + 1)), .text(outline.table),
                    .text(outline.id), .text(outline.op.rawValue), .text(outline.scope), .text(outline.body),
                ])
            let held = try replica.readRow(db, table: table, id: outline.id) != nil
            let level = try outlineLevel(of: origin, table: table, pk: outline.id)
            guard try isRealMove(outline, level: level, of: origin, table: table, held: held) else {
                if outline.op == .delete { try recordLostDeletion(outline, of: origin, table: table) }
                continue
            }
            if outline.op != .delete, let deletion = try versions.load(table: table.name, pk: outline.id).deletion {
                let (deleter, write) = (try cellWrite(deletion), try cellWrite(origin))
                if !deleter.hasSeen(write) {
                    // A write the deletion had not seen moved the row on elsewhere: the deletion
                    // lost there, as it loses where the row is read, with the same `delete`
                    // conflict (simulation seed 514: recorded only where the move was read), and
                    // the references it orphaned are whole.
                    let kept =
                        (try writesUnseen(by: deleter, table: table, pk: outline.id, deletion: deletion)
                        + [(origin, write)]).max { MergeRule.wins($1.1, over: $0.1, policy: .lww) }!
                    if !write.hasSeen(deleter) {
                        try record(
                            .init(
                                kind: .delete, table: table.name, pk: outline.id, column: nil,
                                policy: table.definition.policy, winner: kept.0, winnerValue: nil, loser: deletion,
                                loserValue: nil),
                            loserWrite: deleter)
                    }
                    try versions.remove(table: table.name, pk: outline.id, column: VersionStore.deletion)
                    try dropOrphans(of: deletion, table: table, pk: outline.id)
                }
            }
            if held {
                try ChangeValues.keep(db, table: table.name, pk: outline.id)
                try db.run("DELETE FROM \(table.quotedName) WHERE id = ?", [.text(outline.id)])
                if outline.op == .delete { try dropOrphans(ofReferrer: table, pk: outline.id) }
                try checkDuplicates(table: table, pk: outline.id)
            }
            // The versions stay: later changes of the row merge against them, and the row is held
            // again only when one brings it back whole (see `store`).
            try versions.set(
                table: table.name, pk: outline.id,
                column: outline.op == .delete ? VersionStore.deletion : "scope", site: origin.site, seq: origin.seq,
                level: outline.op == .delete ? 0 : level)
            if outline.op == .delete {
                // References held here to the deleted row, written without having seen the
                // deletion, are orphans, as where the deletion is read (simulation seed 997:
                // recorded only where the referrer arrived after the outline).
                try checkReferrers(of: table, pk: outline.id, deletion: origin, write: try cellWrite(origin))
            }
        }
    }

    /// Whether the signed change `outline` takes the row out of the scope it has here: it declares
    /// another scope, and wins over this replica's version of the row's scope (a deletion: it had
    /// seen every write of the row logged here).
    /// A row not held here (moved away before, or never whole) only has its versions brought up
    /// to date, so a later change of it merges as it would where the move was read.
    ///
    /// The scope write is judged as a merge of the change would judge it, at the owner level this
    /// replica computes for it (`outlineLevel`; simulation seeds 400, 470, 716, 941: judged at
    /// level 0, partial replicas recorded conflicts on `owner-wins` rows the full ones did not).
    func isRealMove(
        _ outline: ChangeOutline, level: Int64, of origin: VersionStore.Origin, table: TableInfo, held: Bool
    ) throws -> Bool {
        if held {
            guard case .text(let here)? = try replica.readRow(db, table: table, id: outline.id)?["scope"],
                here != outline.scope
            else { return false }
        } else if try !versions.load(table: table.name, pk: outline.id).isKnown {
            return false
        }
        let write = try cellWrite(origin)
        if outline.op == .delete {
            return try writesUnseen(by: write, table: table, pk: outline.id).isEmpty
        }
        guard outline.op == .update || outline.op == .insert else { return false }
        let known = try versions.load(table: table.name, pk: outline.id)
        guard let local = known.version(of: "scope") else { return true }
        let localWrite = try cellWrite(local).at(level: known.level(of: "scope"))
        let remoteWrite = write.at(level: level)
        let here = try replica.readRow(db, table: table, id: outline.id)?["scope"] ?? .null
        let seen = try knowledge(
            table: table.name, pk: outline.id, column: "scope", local: local, localWrite: localWrite, remote: origin,
            remoteWrite: remoteWrite, remoteBases: nil)
        if let settled = try settleHiddenRival(
            seen, table: table, pk: outline.id, column: "scope", local: (local, localWrite, here),
            remote: (origin, remoteWrite, .text(outline.scope)))
        {
            return settled.takesRemote
        }
        let decision = MergeRule.resolve(
            local: localWrite, remote: remoteWrite, policy: table.definition.policy,
            remoteHasSeenLocal: seen.remoteSawLocal, localHasSeenRemote: seen.localSawRemote)
        if decision.isConflict {
            // The concurrent scope write that loses is kept, as a merge of the change would keep it,
            // whichever arrived first (the move's value is its scope, which the outline shows).
            let moved = CellValue.text(outline.scope)
            try record(
                .init(
                    kind: .value, table: table.name, pk: outline.id, column: "scope", policy: table.definition.policy,
                    winner: decision.takesRemote ? origin : local, winnerValue: decision.takesRemote ? moved : here,
                    loser: decision.takesRemote ? local : origin, loserValue: decision.takesRemote ? here : moved),
                loserWrite: decision.takesRemote ? localWrite : remoteWrite)
        }
        return decision.takesRemote
    }
}

extension TransactionApplier {
    /// Records the `delete` conflict of a deletion, known here from its outline only, that loses to
    /// writes of the row held here it had not seen: where the deletion is read, or where its
    /// outline arrived before those writes, the same conflict is recorded (schema soak seed 737: a
    /// public-only replica that got the write first recorded none).
    func recordLostDeletion(_ outline: ChangeOutline, of origin: VersionStore.Origin, table: TableInfo) throws {
        guard try versions.load(table: table.name, pk: outline.id).isKnown else { return }
        let deleter = try cellWrite(origin)
        guard
            let kept = try writesUnseen(by: deleter, table: table, pk: outline.id, deletion: origin)
                .max(by: { MergeRule.wins($1.1, over: $0.1, policy: .lww) })
        else { return }
        try record(
            .init(
                kind: .delete, table: table.name, pk: outline.id, column: nil, policy: table.definition.policy,
                winner: kept.0, winnerValue: nil, loser: origin, loserValue: nil),
            loserWrite: deleter)
    }

    /// The owner level of the `scope` cell a withheld move wrote, computed here as every receiver
    /// computes levels (issue 10): the highest level among the row's logged scope writes its
    /// origin had seen, plus one when its origin owns the row. An outline shows only a digest of
    /// the change's body, so the signed level itself cannot be read; an honest writer's level is
    /// exactly this where this replica holds what the writer had seen of the cell. 0 outside
    /// `owner-wins` tables.
    func outlineLevel(of origin: VersionStore.Origin, table: TableInfo, pk: String) throws -> Int64 {
        guard table.definition.policy == .ownerWins else { return 0 }
        let write = try cellWrite(origin)
        var seen: Int64 = 0
        var owner: String?
        for (site, seq, values, levels) in try db.query(
            """
            SELECT s.site_id, c.seq, \(ChangeValues.sql("c")), c.lvls FROM _liaison_change c JOIN _liaison_site s ON s.sidx = c.sidx
            JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
            WHERE c.tbl = ? AND c.pk = ? AND c.op <> 'delete' ORDER BY t.ord
            """, [.text(table.name), .text(pk)],
            { ($0.text(0), $0.int64(1), $0.optionalText(2), $0.optionalText(3)) })
        {
            let written = try ChangeCodec.decodeValues(values) ?? [:]
            if case .text(let text)? = written["owner"] { owner = text }
            guard written["scope"] != nil, write.hasSeen(site: site, seq: seq) else { continue }
            seen = max(seen, try ChangeCodec.decodeLevels(levels)?["scope"] ?? 0)
        }
        if case .text(let text)? = try replica.readRow(db, table: table, id: pk)?["owner"] { owner = text }
        return seen + (owner == write.code ? 1 : 0)
    }
}
