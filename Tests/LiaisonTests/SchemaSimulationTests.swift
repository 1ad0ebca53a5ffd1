import Foundation
import Liaison
import LiaisonTesting
import Testing

/// A randomized run with schema changes: two sites add columns, choice values and tables at
/// random steps and fill them, everyone edits and syncs in random pairs through the pages the HTTP
/// protocol carries, and one replica lets the two change its schema only at the end (keeping what
/// it does not know as opaque data and relaying it meanwhile). Afterwards all replicas hold the
/// same rows and the same schema. `LIAISON_SEED=N` replays one seed; `LIAISON_SIM_STEPS=N` sets
/// the steps (120 unless set).
@Suite(.timeLimit(.minutes(3))) struct SchemaSimulationTests {
    static let columns = ["note_a", "note_b", "note_c"]
    static let choices = ["review_a", "review_b"]
    static let tables = ["meeting_a", "meeting_b"]

    @Test func replicasConvergeThroughRandomSchemaChanges() async throws {
        let seeds: [UInt64] =
            ProcessInfo.processInfo.environment["LIAISON_SEED"].flatMap(UInt64.init).map { [$0] } ?? Array(1...12)
        // Seconds of synchronous SQLite work: off the cooperative pool, which in-process test
        // servers of other suites need to answer (two such bodies on two cores starve them).
        try await offCooperativePool {
            for seed in seeds {
                try withTemporaryDirectorySync { try Self.run(seed: seed, factory: ReplicaFactory(directory: $0)) }
            }
        }
    }

    static func run(seed: UInt64, factory: ReplicaFactory) throws {
        var random = SeededGenerator(seed: seed)
        let replicas = try (0..<4).map { try factory.make("SITE-\($0)") }
        try trustEachOther(replicas)
        try replicas[0].write(author: "seed") { editor in
            for index in 0..<3 {
                try editor.set("topic", id: "topic-\(index)", ["name": .text("Topic \(index)")])
                try editor.set(
                    "agreement", id: "agr-\(index)", ["title": .text("Agreement \(index)"), "kind": "roadmap"])
            }
        }
        for replica in replicas.dropFirst() { try transfer(from: replicas[0], to: replica) }
        let late = replicas[3]
        for replica in replicas.dropLast() {
            for site in 0..<2 { try replica.grantSchemaChanges(to: "SITE-\(site)") }
        }
        var trace: [String] = []
        func fail(_ message: String) -> any Error {
            LiaisonError(
                .storage, "seed \(seed): \(message); replay with LIAISON_SEED=\(seed); last: \(trace.suffix(10))")
        }
        for step in 0..<SimulationTests.steps(fallback: 120) {
            let roll = Int.random(in: 0..<100, using: &random)
            let index = Int.random(in: 0..<replicas.count, using: &random)
            let replica = replicas[index]
            switch roll {
            case 0..<8 where index < 2:
                do {
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0:
                        let name = columns.randomElement(using: &random)!
                        try replica.addColumn(ColumnDefinition(name), to: "topic", author: "admin")
                        trace.append("\(index) +topic.\(name)")
                    case 1:
                        let value = choices.randomElement(using: &random)!
                        try replica.addChoice(value, to: "status", of: "agreement", author: "admin")
                        trace.append("\(index) +status=\(value)")
                    default:
                        let name = tables.randomElement(using: &random)!
                        try replica.addTable(
                            TableDefinition(name, columns: [ColumnDefinition("title", required: true)]), author: "admin"
                        )
                        trace.append("\(index) +table \(name)")
                    }
                } catch let error as LiaisonError where error.code == .invalidInput {
                    // It has the change already.
                }
            case 0..<45:
                // Edits with what this replica's schema has now.
                let topic = replica.schema.tables.first { $0.name == "topic" }!
                let known = topic.columns.map(\.name).filter(columns.contains)
                var statuses = ["draft", "agreed"]
                if case .choice(let values)? = replica.schema.tables.first(where: { $0.name == "agreement" })?.columns
                    .first(where: { $0.name == "status" })?.type
                {
                    statuses += values.filter(choices.contains)
                }
                let newTables = replica.schema.tables.map(\.name).filter(tables.contains)
                let id = Int.random(in: 0..<3, using: &random)
                let column = (known + ["name"]).randomElement(using: &random)!
                let status = statuses.randomElement(using: &random)!
                let table = newTables.randomElement(using: &random)
                try replica.write(author: "user-\(index)") { editor in
                    try editor.set("topic", id: "topic-\(id)", [column: .text("\(column) \(index)/\(step)")])
                    try editor.set("agreement", id: "agr-\(id)", ["status": .text(status)])
                    if let table { try editor.set(table, id: "\(table)-\(id)", ["title": .text("\(index)/\(step)")]) }
                }
                trace.append("\(index) edits")
            default:
                var other = Int.random(in: 0..<replicas.count, using: &random)
                if other == index { other = (other + 1) % replicas.count }
                try transfer(from: replicas[other], to: replica, limits: PageLimits(maxChanges: 7))
                trace.append("\(other)->\(index)")
            }
        }
        // The late replica kept what it did not know; now it lets the two change its schema.
        for site in 0..<2 { try late.grantSchemaChanges(to: "SITE-\(site)") }
        for _ in 0..<4 {
            for a in replicas.indices {
                for b in replicas.indices where a != b { try transfer(from: replicas[a], to: replicas[b]) }
            }
        }
        let dumps = try replicas.map { try $0.dump() }
        guard Set(dumps).count == 1 else { throw fail("dumps differ") }
        guard Set(replicas.map(\.schema.hash)).count == 1 else { throw fail("schemas differ") }
        for (index, replica) in replicas.enumerated() {
            guard try replica.quarantined().isEmpty else { throw fail("replica \(index) still holds transactions") }
            guard try replica.verify().problems.isEmpty else { throw fail("replica \(index) fails verify") }
            guard try replica.schemaReport().changes.allSatisfy({ $0.pending == nil }) else {
                throw fail("replica \(index) keeps changes pending")
            }
        }
    }
}
