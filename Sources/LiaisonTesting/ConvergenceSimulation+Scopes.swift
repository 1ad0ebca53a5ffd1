import Foundation
import Liaison

extension ConvergenceSimulation {
    /// Fails at once when `page`, built for replica `to`, carries the values of a change in a
    /// scope that replica may not read.
    func checkSent(_ page: PullResponse, to: Int) throws {
        for record in page.transactions {
            for change in record.changes where !Scope.allows(grants[to], change.scope ?? "") {
                throw SimulationFailure(
                    seed: seed,
                    message: "replica \(to) was sent \(change.table)/\(change.id) in scope \(change.scope ?? "?"), "
                        + "which it may not read",
                    trace: trace)
            }
        }
    }

    /// Applies `page` at `to` under the write grant of `from`; `false` when it was refused for
    /// its scopes (a relay lacking a scope sent a change of a row moved since: it reaches `to` by
    /// another path), after checking that the refusal changed nothing.
    func deliver(_ page: PullResponse, from: Int, to: Int) throws -> Bool {
        let before = try replicas[to].dump()
        let vector = try replicas[to].versionVector()
        noteRelayed(page, from: from)
        do {
            let result = try replicas[to].apply(page.transactions, keys: page.keys, writableScopes: grants[from])
            if result.held > 0 { try noteHeld(at: to) }
            return true
        } catch let error as LiaisonError where error.code == .forbiddenScope {
            guard try replicas[to].dump() == before, try replicas[to].versionVector() == vector else {
                throw SimulationFailure(seed: seed, message: "a refused batch changed replica \(to)", trace: trace)
            }
            refusals.append("\(from)->\(to): \(error.message)")
            return false
        }
    }

    /// Everything `from` may send `to`, page by page, with what `to` asks for again; returns how
    /// many transactions were applied (none when refused).
    func settle(from: Int, to: Int) throws -> Int {
        var cursor = SyncCursor.start
        var moved = 0
        var wanted = try replicas[to].wantedTransactions()
        while true {
            let page = try replicas[from].changes(
                after: cursor, excluding: try replicas[to].versionVector(), readable: grants[to], wanted: wanted)
            wanted = []
            try checkSent(page, to: to)
            let vector = try replicas[to].versionVector()
            guard try deliver(page, from: from, to: to) else { return moved }
            moved += page.transactions.filter { vector[$0.origin] < $0.seq }.count
            cursor = try SyncCursor(parsing: page.cursor)
            if !page.hasMore { return moved }
        }
    }

    /// What a replica holds is within its grant: every row's scope, every logged change's scope,
    /// and every value of its rows is one that a change it may read set.
    func verifyConfinement() throws {
        for (index, replica) in replicas.enumerated() {
            guard let grant = grants[index] else { continue }
            var logged: [String: Set<CellValue>] = [:]
            for entry in try replica.log() {
                for change in entry.changes {
                    guard Scope.allows(grant, change.scope ?? "") else {
                        throw SimulationFailure(
                            seed: seed,
                            message: "replica \(index) holds a change of \(change.table)/\(change.id) in scope "
                                + "\(change.scope ?? "?")",
                            trace: trace)
                    }
                    for (column, value) in change.values ?? [:] {
                        logged["\(change.table)/\(change.id)/\(column)", default: []].insert(value)
                    }
                }
            }
            for definition in replica.schema.tables {
                let table = definition.name
                // A column added with a default reads it in rows written before it (no change sets it).
                let defaults = Dictionary(uniqueKeysWithValues: definition.columns.map { ($0.name, $0.defaultValue) })
                for row in try replica.rows(table) {
                    let id = row["id"]?.displayText ?? ""
                    for (column, value) in row
                    where column != "id" && value != .null && value != defaults[column] ?? nil {
                        guard logged["\(table)/\(id)/\(column)"]?.contains(value) == true else {
                            throw SimulationFailure(
                                seed: seed,
                                message: "replica \(index) holds \(table)/\(id).\(column) = \(value.displayText), "
                                    + "which no change it may read set",
                                trace: trace)
                        }
                    }
                }
            }
        }
    }
}
