import Foundation

/// How a person settles a conflict.
public enum ConflictChoice: Sendable, Hashable {
    /// Keep what the merge rule chose.
    case keepWinner
    /// Take the overwritten side instead.
    case keepLoser
    /// Write another value.
    case value(CellValue)
}

extension Replica {
    /// Conflicts, newest first: open ones, or all with `includeResolved`.
    public func conflicts(includeResolved: Bool = false) throws -> [Conflict] {
        try withConnection { db in
            try publishIfNeeded(db)
            return try loadConflicts(db, where: includeResolved ? "1" : "state = 'open'", [])
        }
    }

    func loadConflicts(_ db: Connection, where condition: String, _ arguments: [CellValue]) throws -> [Conflict] {
        let sites = try SiteDirectory(db: db)
        let rows = try db.query(
            """
            SELECT c.id, c.kind, c.tbl, c.pk, c.col, c.policy, c.state,
                c.winner_sidx, c.winner_seq, c.winner_value, w.author, w.hlc,
                c.loser_sidx, c.loser_seq, c.loser_value, l.author, l.hlc
            FROM _liaison_conflict c
            JOIN _liaison_tx w ON w.sidx = c.winner_sidx AND w.seq = c.winner_seq
            JOIN _liaison_tx l ON l.sidx = c.loser_sidx AND l.seq = c.loser_seq
            WHERE \(condition) ORDER BY c.detected_ord DESC, c.id
            """, arguments
        ) { s -> Conflict in
            func side(_ base: Int32) -> Conflict.Side {
                let site = sites.site(s.int64(base))
                return Conflict.Side(
                    site: site.code, siteID: site.id, fingerprint: sites.fingerprint(s.int64(base)),
                    seq: s.int64(base + 1), author: s.text(base + 3),
                    hlc: HybridTimestamp(rawValue: s.int64(base + 4)),
                    value: ConflictStore.decodeValue(s.optionalText(base + 2)))
            }
            return Conflict(
                id: s.text(0), kind: Conflict.Kind(rawValue: s.text(1)) ?? .value, table: s.text(2), rowID: s.text(3),
                column: s.optionalText(4), policy: ConflictPolicy(rawValue: s.text(5)) ?? .lww, winner: side(7),
                loser: side(12), state: s.text(6))
        }
        return rows
    }

    /// Resolves an open conflict with a new local transaction that has seen both sides; it syncs like
    /// any edit and closes the conflict on every replica that applies it. A `note` (why) travels signed
    /// in the same transaction (`ResolutionNote`).
    public func resolve(_ conflictID: String, _ choice: ConflictChoice, author: String, note: String? = nil) throws {
        if let note { try ResolutionNote.check(note) }
        try withConnection { db in
            try publishIfNeeded(db)
            guard let conflict = try loadConflicts(db, where: "c.id = ?", [.text(conflictID)]).first else {
                throw LiaisonError(.conflict, "no conflict '\(conflictID)'; list them with 'liaison conflicts DB'")
            }
            guard conflict.state == "open" else {
                throw LiaisonError(.conflict, "conflict '\(conflictID)' is resolved already")
            }
            let table = try table(named: conflict.table)
            try localTransaction(db, author: author) {
                let editor = Editor(replica: self, db: db)
                switch (conflict.kind, choice) {
                case (.value, _):
                    guard let column = conflict.column else { return }
                    let value: CellValue
                    switch choice {
                    case .keepWinner: value = conflict.winner.value ?? .null
                    case .keepLoser: value = conflict.loser.value ?? .null
                    case .value(let given): value = given
                    }
                    guard try readRow(db, table: table, id: conflict.rowID) != nil else {
                        throw LiaisonError(
                            .conflict,
                            "row '\(conflict.rowID)' of '\(conflict.table)' was deleted since; nothing to resolve")
                    }
                    try editor.set(conflict.table, id: conflict.rowID, [column: value])
                    try Journal.recordForcedWrite(db, table: table, id: conflict.rowID, columns: [column])
                case (.duplicate, .keepWinner), (.duplicate, .keepLoser):
                    guard case .text(let winnerID)? = conflict.winner.value,
                        case .text(let loserID)? = conflict.loser.value
                    else {
                        return
                    }
                    let (keep, drop) = choice == .keepWinner ? (winnerID, loserID) : (loserID, winnerID)
                    try mergeDuplicate(db, editor: editor, table: table, keep: keep, drop: drop)
                case (.duplicate, .value):
                    throw LiaisonError(
                        .invalidInput, "a duplicate conflict takes --keep winner or --keep loser (the id to keep)")
                case (.delete, .keepWinner), (.orphan, .keepWinner):
                    break
                case (.delete, .keepLoser), (.orphan, .keepLoser):
                    try editor.delete(conflict.table, id: conflict.rowID)
                case (.delete, .value), (.orphan, .value):
                    guard let column = conflict.column, case .value(let given) = choice else {
                        throw LiaisonError(
                            .invalidInput, "a \(conflict.kind.rawValue) conflict takes --keep winner or --keep loser")
                    }
                    try editor.set(conflict.table, id: conflict.rowID, [column: given])
                }
                try Journal.recordResolution(db, conflict: conflictID)
                if let note {
                    try Journal.recordResolution(db, conflict: ResolutionNote.entry(conflict: conflictID, note: note))
                }
                try db.run(
                    "UPDATE _liaison_conflict SET state = 'resolved', resolved_sidx = \(SiteIndex.local) WHERE id = ?",
                    [.text(conflictID)])
            }
        }
    }

    /// Merges row `drop` into row `keep`: references to `drop` are re-pointed, then `drop` is deleted.
    func mergeDuplicate(_ db: Connection, editor: Editor, table: TableInfo, keep: String, drop: String) throws {
        for referrer in tables.values.sorted(by: { $0.index < $1.index }) {
            for column in referrer.columns where column.type == .reference(table.name) {
                let ids = try db.query(
                    "SELECT id FROM \(referrer.quotedName) WHERE \(CaptureTriggers.quoted(column.name)) = ?",
                    [.text(drop)]
                ) { $0.text(0) }
                for id in ids { try editor.set(referrer.name, id: id, [column.name: .text(keep)]) }
            }
        }
        try editor.delete(table.name, id: drop)
    }
}
