import Foundation
import Liaison

extension ConvergenceSimulation {
    /// Checks, after `settle()`:
    /// 1. replicas with the same grant print the same dump, every replica has the same version
    ///    vector, and no replica holds a change or a value of a scope it may not read;
    /// 2. every value conflict on any replica is between writes that were concurrent;
    /// 3. on rows never deleted, every cell's value is the policy's pick among the writes no other
    ///    write had seen, and each other such write is kept as a conflict loser on every replica.
    public func verify() throws {
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
                if let named = change.bases { bases["\(entry.origin)#\(entry.seq)|\(change.table)|\(change.id)"] = named }
            }
        }
        for (index, replica) in replicas.enumerated() {
            for conflict in try replica.conflicts(includeResolved: true) where conflict.kind == .value {
                guard let winner = writes["\(conflict.winner.siteID)#\(conflict.winner.seq)"],
                    let loser = writes["\(conflict.loser.siteID)#\(conflict.loser.seq)"]
                else { throw failure("conflict \(conflict.id) on replica \(index) names an unknown transaction") }
                let column = conflict.column ?? ""
                let cell = (table: conflict.table, id: conflict.rowID, column: column)
                if hadSeen(conflict.winner, conflict.loser, cell, log: bases, writes: writes)
                    || hadSeen(conflict.loser, conflict.winner, cell, log: bases, writes: writes)
                {
                    spuriousConflicts.append(
                        "seed \(seed): "
                            + "conflict \(conflict.id) on replica \(index) is between causally ordered writes: "
                            + "\(conflict.table) \(conflict.rowID).\(conflict.column ?? "-"), winner \(conflict.winner.site)#\(conflict.winner.seq), "
                            + "loser \(conflict.loser.site)#\(conflict.loser.seq); winner's bases "
                            + "\(bases["\(conflict.winner.siteID)#\(conflict.winner.seq)|\(conflict.table)|\(conflict.rowID)"] ?? [:]), "
                            + "loser's \(bases["\(conflict.loser.siteID)#\(conflict.loser.seq)|\(conflict.table)|\(conflict.rowID)"] ?? [:])")
                }
            }
        }
        try verifyCells(log: log, writes: writes)
    }

    /// Whether `later` had seen `earlier`'s value of a cell, by the engine's rule: its context covers
    /// it and, when it names bases, its base chain for the column reaches it (a write that held a
    /// change only as a digest had not seen it, and may rightly conflict with it).
    private func hadSeen(
        _ later: Conflict.Side, _ earlier: Conflict.Side, _ cell: (table: String, id: String, column: String),
        log bases: [String: [String: String]], writes: [String: CellWrite]
    ) -> Bool {
        guard let laterWrite = writes["\(later.siteID)#\(later.seq)"],
            let earlierWrite = writes["\(earlier.siteID)#\(earlier.seq)"], laterWrite.hasSeen(earlierWrite)
        else { return false }
        // A change without bases is judged by its context alone; one with bases by its chain,
        // where a step without a base for the column proves nothing (as `CellBases` decides).
        guard let named = bases["\(later.siteID)#\(later.seq)|\(cell.table)|\(cell.id)"] else { return true }
        var base = named[cell.column]
        for _ in 0..<64 {
            guard let text = base, let colon = text.lastIndex(of: ":") else { return false }
            let step = String(text[..<colon]) + "#" + String(text[text.index(after: colon)...])
            if step == "\(earlier.siteID)#\(earlier.seq)" { return true }
            guard let stepWrite = writes[step], stepWrite.hasSeen(earlierWrite) else { return false }
            base = bases["\(step)|\(cell.table)|\(cell.id)"]?[cell.column]
        }
        return false
    }

    private func verifyCells(log: [LogEntry], writes: [String: CellWrite]) throws {
        let deletedRows = Set(log.flatMap(\.changes).filter { $0.op == .delete }.map { "\($0.table)/\($0.id)" })
        var cells: [String: [(write: CellWrite, value: CellValue)]] = [:]
        for entry in log {
            let base = writes["\(entry.origin)#\(entry.seq)"]!
            for change in entry.changes where !deletedRows.contains("\(change.table)/\(change.id)") {
                for (column, value) in change.values ?? [:] {
                    cells["\(change.table)/\(change.id)/\(column)", default: []].append(
                        (base.at(level: change.levels?[column] ?? 0), value))
                }
            }
        }
        let policies = Dictionary(uniqueKeysWithValues: replicas[0].schema.tables.map { ($0.name, $0.policy) })
        let losers = try replicas.map { replica in
            Set(
                try replica.conflicts(includeResolved: true).map {
                    "\($0.loser.siteID)#\($0.loser.seq)/\($0.table)/\($0.rowID)/\($0.column ?? "")"
                })
        }
        for (cell, candidates) in cells {
            let parts = cell.split(separator: "/", maxSplits: 2).map(String.init)
            let (table, id, column) = (parts[0], parts[1], parts[2])
            let maximal = candidates.filter { candidate in !candidates.contains { $0.write.hasSeen(candidate.write) } }
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

    private func failure(_ message: String) -> SimulationFailure {
        SimulationFailure(seed: seed, message: message, trace: trace + refusals.suffix(3).map { "refused \($0)" })
    }
}

extension CellValue: CustomDebugStringConvertible {
    public var debugDescription: String { displayText }
}
