import Foundation
import Liaison

extension ConvergenceSimulation {
    /// Checks, after `settle()`:
    /// 1. replicas with the same grant print the same dump, every replica has the same version
    ///    vector, and no replica holds a change or a value of a scope it may not read;
    /// 2. replicas with the same grant hold the same conflicts in the same state, a partial one
    ///    none that a full one lacks, and every value conflict is between writes that were
    ///    concurrent (neither had seen the other's value);
    /// 3. nothing is held but the rogue's transactions (`verifyNothingStuck`);
    /// 4. one schema everywhere, and what was kept unknown is as signed (`verifySchemaChanges`);
    /// 5. on rows never deleted, every cell's value is the policy's pick among the writes no other
    ///    write had seen, and each other such write is kept as a conflict loser on every replica.
    public func verify() throws {
        try verifyNothingStuck()
        try verifySchemaChanges()
        let dumps = try replicas.map { try $0.dump() }
        for (index, dump) in dumps.enumerated() {
            // Replicas with the same grant have received the same changes.
            guard let peer = grants.firstIndex(where: { $0 == grants[index] }), dump != dumps[peer] else { continue }
            let mine = dump.split(separator: "\n")
            let theirs = dumps[peer].split(separator: "\n")
            let first = zip(mine, theirs).first { $0 != $1 }
            throw failure(
                "replica \(index) differs from replica \(peer) after full sync:\n  \(first?.0 ?? "(end)")\n  "
                    + "\(first?.1 ?? "(end)")" + (first == nil ? " (\(mine.count) vs \(theirs.count) lines)" : ""))
        }
        try verifyConfinement()
        let vectors = try replicas.map { try $0.versionVector() }
        guard vectors.allSatisfy({ $0 == vectors[0] }) else { throw failure("version vectors differ after full sync") }

        let log = try replicas[0].log()
        var writes: [String: CellWrite] = [:]
        for entry in log {
            writes["\(entry.origin)#\(entry.seq)"] = CellWrite(
                site: entry.origin, code: entry.site, seq: entry.seq, hlc: entry.hlc, context: entry.context)
        }
        var bases: [String: [String: String]] = [:]
        for entry in log {
            for change in entry.changes {
                if let named = change.bases {
                    bases["\(entry.origin)#\(entry.seq)|\(change.table)|\(change.id)"] = named
                }
            }
        }
        try verifyConflictSets(log: log, bases: bases, writes: writes)
        for (index, replica) in replicas.enumerated() {
            for conflict in try replica.conflicts(includeResolved: true) where conflict.kind == .value {
                guard let winner = writes["\(conflict.winner.siteID)#\(conflict.winner.seq)"],
                    let loser = writes["\(conflict.loser.siteID)#\(conflict.loser.seq)"]
                else { throw failure("conflict \(conflict.id) on replica \(index) names an unknown transaction") }
                let column = conflict.column ?? ""
                let cell = (table: conflict.table, id: conflict.rowID, column: column)
                let (winnerKey, loserKey) =
                    (
                        "\(conflict.winner.siteID)#\(conflict.winner.seq)",
                        "\(conflict.loser.siteID)#\(conflict.loser.seq)"
                    )
                // A move writes only the cells it changed: a cell it carried is no side of a conflict.
                for side in [winnerKey, loserKey]
                where bases["\(side)|\(cell.table)|\(cell.id)"]?[column]?.hasPrefix("=") == true {
                    throw failure(
                        "conflict \(conflict.id) on replica \(index) names \(side) as a side of "
                            + "\(conflict.table) \(conflict.rowID).\(column), a cell that move only carried")
                }
                if hadSeen(winnerKey, loserKey, cell, log: bases, writes: writes)
                    || hadSeen(loserKey, winnerKey, cell, log: bases, writes: writes)
                {
                    throw failure(
                        "conflict \(conflict.id) on replica \(index) is between causally ordered writes: "
                            + "\(conflict.table) \(conflict.rowID).\(conflict.column ?? "-"), winner \(conflict.winner.site)#\(conflict.winner.seq), "
                            + "loser \(conflict.loser.site)#\(conflict.loser.seq)")
                }
            }
        }
        try verifyCells(log: log, bases: bases, writes: writes)
    }

    /// Replicas with the same grant hold the same conflicts in the same state, and a replica with
    /// a partial grant holds no conflict (by id) that one reading every scope does not hold, nor
    /// one in another state. A value conflict whose loser a later write of the cell had seen (its
    /// origin overwrote its own value, knowingly) is recorded only where the loser arrived before
    /// that write, so it is left out of the comparison (docs/DECISIONS.md).
    func verifyConflictSets(log: [LogEntry], bases: [String: [String: String]], writes: [String: CellWrite]) throws {
        var cellWriters: [String: [String]] = [:]
        for entry in log {
            for change in entry.changes {
                for column in (change.values ?? [:]).keys where !Self.isCarried(change, column) {
                    cellWriters["\(change.table)/\(change.id)/\(column)", default: []].append(
                        "\(entry.origin)#\(entry.seq)")
                }
            }
        }
        var creations: [String: [String]] = [:]
        for entry in log {
            for change in entry.changes where change.op == .insert {
                creations["\(change.table)/\(change.id)", default: []].append("\(entry.origin)#\(entry.seq)")
            }
        }
        func isSuperseded(_ conflict: Conflict) -> Bool {
            let loser = "\(conflict.loser.siteID)#\(conflict.loser.seq)"
            // A deletion that lost to a concurrent update, where a later creation of the row had
            // seen it: recorded only where the update arrived before that creation (as above).
            if conflict.kind == .delete, let deleter = writes[loser] {
                return (creations["\(conflict.table)/\(conflict.rowID)"] ?? []).contains { creator in
                    creator != loser && writes[creator]?.hasSeen(deleter) == true
                }
            }
            // A duplicate resolved by deleting one of its rows is closed where it was recorded; a
            // replica that never held both rows live at once holds none (docs/DECISIONS.md).
            if conflict.kind == .duplicate, conflict.state == "resolved" { return true }
            guard conflict.kind == .value, let column = conflict.column else { return false }
            let cell = (table: conflict.table, id: conflict.rowID, column: column)
            return (cellWriters["\(cell.table)/\(cell.id)/\(column)"] ?? []).contains { writer in
                writer != loser && hadSeen(writer, loser, cell, log: bases, writes: writes)
            }
        }
        let sets = try replicas.map { replica in
            Dictionary(
                try replica.conflicts(includeResolved: true).filter { !isSuperseded($0) }.map {
                    (
                        $0.id,
                        "\($0.kind) \($0.table) \($0.rowID).\($0.column ?? "-") loser \($0.loser.site)#\($0.loser.seq) \($0.state)"
                    )
                },
                uniquingKeysWith: { first, _ in first })
        }
        guard let full = grants.firstIndex(where: { $0 == nil }) else { return }
        for (index, conflicts) in sets.enumerated() {
            let peer = grants.firstIndex(where: { $0 == grants[index] })!
            if peer != index, conflicts != sets[peer] {
                let mine = Set(conflicts.map { "\($0.key) \($0.value)" })
                let theirs = Set(sets[peer].map { "\($0.key) \($0.value)" })
                let rows = Set(
                    mine.symmetricDifference(theirs).compactMap { $0.split(separator: " ").dropFirst(3).first }
                        .map { String($0.split(separator: ".").first ?? "") })
                try printForDebugging(replicas: [peer, index], rows: rows)
                throw failure(
                    "replicas \(peer) and \(index) (same grant) hold different conflicts: only on \(peer): "
                        + "\(theirs.subtracting(mine).sorted()); only on \(index): \(mine.subtracting(theirs).sorted())"
                )
            }
            for (id, summary) in conflicts where sets[full][id] != summary {
                let row = summary.split(separator: " ").dropFirst(2).first?.split(separator: ".").first
                try printForDebugging(replicas: [full, index], rows: Set(row.map { [String($0)] } ?? []))
                throw failure(
                    "replica \(index) holds conflict \(id) (\(summary)), replica \(full) "
                        + (sets[full][id].map { "holds it as \($0)" } ?? "does not"))
            }
        }
    }

    /// Whether `later` had seen `earlier`'s value of a cell, by the engine's rule: its context covers
    /// it and, when it names bases, its base chain for the column reaches it (a write that held a
    /// change only as a digest had not seen it, and may rightly conflict with it).
    private func hadSeen(
        _ later: String, _ earlier: String, _ cell: (table: String, id: String, column: String),
        log bases: [String: [String: String]], writes: [String: CellWrite]
    ) -> Bool {
        guard let laterWrite = writes[later], let earlierWrite = writes[earlier], laterWrite.hasSeen(earlierWrite)
        else { return false }
        // A change without bases is judged by its context alone; one with bases by its chain,
        // where a step without a base for the column proves nothing (as `CellBases` decides).
        guard let named = bases["\(later)|\(cell.table)|\(cell.id)"] else { return true }
        var stepBases = named
        var base = named[cell.column]
        for _ in 0..<64 {
            // A step without a base for the column is judged by its context, as the engine does,
            // unless it names what it replaced (`#`: an insert): then it held no version of the cell.
            guard let text = base.map({ $0.hasPrefix("=") ? String($0.dropFirst()) : $0 }) else {
                return stepBases["#"] == nil
            }
            guard let colon = text.lastIndex(of: ":") else { return false }
            let step = String(text[..<colon]) + "#" + String(text[text.index(after: colon)...])
            if step == earlier { return true }
            guard let stepWrite = writes[step], stepWrite.hasSeen(earlierWrite) else { return false }
            stepBases = bases["\(step)|\(cell.table)|\(cell.id)"] ?? [:]
            base = stepBases[cell.column]
        }
        return false
    }

    private func verifyCells(
        log: [LogEntry], bases: [String: [String: String]], writes: [String: CellWrite]
    ) throws {
        let deletedRows = Set(log.flatMap(\.changes).filter { $0.op == .delete }.map { "\($0.table)/\($0.id)" })
        var cells: [String: [(write: CellWrite, value: CellValue)]] = [:]
        for entry in log {
            let base = writes["\(entry.origin)#\(entry.seq)"]!
            for change in entry.changes where !deletedRows.contains("\(change.table)/\(change.id)") {
                for (column, value) in change.values ?? [:] where !Self.isCarried(change, column) {
                    cells["\(change.table)/\(change.id)/\(column)", default: []].append(
                        (base.at(level: change.levels?[column] ?? 0), value))
                }
            }
        }
        let policies = Dictionary(uniqueKeysWithValues: replicas[0].schema.tables.map { ($0.name, $0.policy) })
        let losers = try replicas.map { replica in
            Set(
                // A duplicate names rows, not a cell's loser.
                try replica.conflicts(includeResolved: true).filter { $0.kind != .duplicate }.map {
                    "\($0.loser.siteID)#\($0.loser.seq)/\($0.table)/\($0.rowID)/\($0.column ?? "")"
                })
        }
        for (cell, candidates) in cells {
            let parts = cell.split(separator: "/", maxSplits: 2).map(String.init)
            let (table, id, column) = (parts[0], parts[1], parts[2])
            // A write that had seen another by its vector but not by its bases (its writer held that
            // change only as a digest) is concurrent with it, as the engine judges (compaction seed 197).
            let maximal = candidates.filter { candidate in
                !candidates.contains {
                    hadSeen(
                        "\($0.write.site)#\($0.write.seq)", "\(candidate.write.site)#\(candidate.write.seq)",
                        (table, id, column), log: bases, writes: writes)
                }
            }
            let policy = policies[table] ?? .lww
            guard
                let best = maximal.max(by: { MergeRule.wins($1.write, over: $0.write, policy: policy) })
            else { continue }
            let actual = try replicas[0].row(table, id: id)?[column]
            if actual != best.value {
                throw failure("\(cell) is \(actual?.debugDescription ?? "missing"), the policy picks \(best.value)")
            }
            for other in maximal where other.write != best.write {
                let key = "\(other.write.site)#\(other.write.seq)/\(table)/\(id)/\(column)"
                for (index, recorded) in losers.enumerated() where grants[index] == nil && !recorded.contains(key) {
                    throw failure("replica \(index) lost \(key) without a conflict")
                }
            }
        }
    }

    /// Whether a move only carried `column` (its base is marked `=`): a cell it did not write.
    static func isCarried(_ change: ChangeRecord, _ column: String) -> Bool {
        change.bases?[column]?.hasPrefix("=") == true
    }

    func failure(_ message: String) -> SimulationFailure {
        SimulationFailure(seed: seed, message: message, trace: trace + refusals.suffix(3).map { "refused \($0)" })
    }
}

extension CellValue: CustomDebugStringConvertible {
    public var debugDescription: String { displayText }
}
