import Foundation

extension Replica {
    /// The open value conflicts on the same cell as `conflictID` (table, row and column), that one
    /// among them, oldest first: when three or more agencies wrote a cell concurrently, each pair
    /// the merge rule met is a conflict of its own.
    public func openConflictsOnCell(of conflictID: String) throws -> [Conflict] {
        try withConnection { db in
            try publishIfNeeded(db)
            guard let conflict = try loadConflicts(db, where: "c.id = ?", [.text(conflictID)]).first else {
                throw LiaisonError(.conflict, "no conflict '\(conflictID)'; list them with 'liaison conflicts DB'")
            }
            guard conflict.kind == .value, let column = conflict.column else { return [conflict] }
            return try loadConflicts(
                db, where: "c.state = 'open' AND c.kind = 'value' AND c.tbl = ? AND c.pk = ? AND c.col = ?",
                [.text(conflict.table), .text(conflict.rowID), .text(column)]
            ).reversed()
        }
    }

    /// Settles a value conflict by merging: writes `value` (made by a person from every side) to the
    /// cell once, in one local transaction whose signed `resolves` names every open conflict on that
    /// cell, so each side it supersedes is closed on every replica that applies it. The `note`
    /// travels with each conflict id as `liaison resolve --note` does (`ResolutionNote`).
    ///
    /// - Returns: the ids of the conflicts it resolved.
    /// - Throws: `.conflict` when the conflict is not open or not a value conflict, or its row was
    ///   deleted; the column's own checks (`Validation`) when `value` does not fit: nothing is written.
    @discardableResult
    public func resolveMerged(_ conflictID: String, value: CellValue, author: String, note: String? = nil) throws
        -> [String]
    {
        if let note { try ResolutionNote.check(note) }
        return try withConnection { db in
            try publishIfNeeded(db)
            guard let conflict = try loadConflicts(db, where: "c.id = ?", [.text(conflictID)]).first else {
                throw LiaisonError(.conflict, "no conflict '\(conflictID)'; list them with 'liaison conflicts DB'")
            }
            guard conflict.state == "open" else {
                throw LiaisonError(.conflict, "conflict '\(conflictID)' is resolved already")
            }
            guard conflict.kind == .value, let column = conflict.column else {
                throw LiaisonError(
                    .invalidInput,
                    "only two values of one cell can be merged; a \(conflict.kind.rawValue) conflict takes --keep winner or --keep loser")
            }
            let table = try table(named: conflict.table)
            let ids = try loadConflicts(
                db, where: "c.state = 'open' AND c.kind = 'value' AND c.tbl = ? AND c.pk = ? AND c.col = ?",
                [.text(conflict.table), .text(conflict.rowID), .text(column)]
            ).map(\.id).sorted()
            try localTransaction(db, author: author) {
                guard try readRow(db, table: table, id: conflict.rowID) != nil else {
                    throw LiaisonError(
                        .conflict, "row '\(conflict.rowID)' of '\(conflict.table)' was deleted since; nothing to merge")
                }
                try Editor(replica: self, db: db).set(conflict.table, id: conflict.rowID, [column: value])
                try Journal.recordForcedWrite(db, table: table, id: conflict.rowID, columns: [column])
                for id in ids {
                    try Journal.recordResolution(db, conflict: id)
                    if let note {
                        try Journal.recordResolution(db, conflict: ResolutionNote.entry(conflict: id, note: note))
                    }
                    try db.run(
                        "UPDATE _liaison_conflict SET state = 'resolved', resolved_sidx = \(SiteIndex.local) WHERE id = ?",
                        [.text(id)])
                }
            }
            return ids
        }
    }
}

/// A first draft of a merged text for a person to edit: what each side added to the base, kept
/// once each, in the order given. It never decides: the reviewer edits it before it is written.
public enum MergeDraft {
    /// Combines `sides` (the values the agencies wrote) over `base` (the value before them, if known).
    ///
    /// Equal sides give that value; a side that contains another gives the longer; sides that each
    /// appended to (or prepended to) the base give the base with every addition; otherwise the
    /// sides' lines, each line once, in order.
    public static func text(base: String?, sides: [String]) -> String {
        var distinct: [String] = []
        for side in sides where !distinct.contains(side) { distinct.append(side) }
        // A side that another contains adds nothing.
        distinct = distinct.filter { side in !distinct.contains { $0 != side && $0.contains(side) } }
        guard distinct.count > 1 else { return distinct.first ?? base ?? "" }
        if let base, !base.isEmpty {
            if distinct.allSatisfy({ $0.hasPrefix(base) }) {
                return distinct.reduce(base) { $0 + $1.dropFirst(base.count) }
            }
            if distinct.allSatisfy({ $0.hasSuffix(base) }) {
                return distinct.map { String($0.dropLast(base.count)) }.joined() + base
            }
        }
        var lines: [Substring] = []
        for side in distinct {
            for line in side.split(separator: "\n", omittingEmptySubsequences: false) where !lines.contains(line) {
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }
}
