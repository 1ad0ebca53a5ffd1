import Foundation
import Liaison
import LiaisonTesting
import Testing

@Suite struct SimulationTests {
    /// Seeds to run: `LIAISON_SEED` replays one, or a comma-separated list of seeds and ranges
    /// (`376,562,700-799`); `LIAISON_SOAK=1` runs 1,000; otherwise 200.
    static var seeds: [UInt64] { listedSeeds ?? Array(1...UInt64(soak ? 1_000 : 200)) }

    /// Seeds of the run with schema changes: as `seeds`, but 30 without `LIAISON_SOAK=1`.
    static var schemaSeeds: [UInt64] { listedSeeds ?? Array(1...UInt64(soak ? 1_000 : 30)) }

    static var soak: Bool { ProcessInfo.processInfo.environment["LIAISON_SOAK"] == "1" }

    /// Steps of each seed's run: `LIAISON_SIM_STEPS=N`, or `fallback` (60 for these simulations).
    static func steps(fallback: Int = 60) -> Int {
        ProcessInfo.processInfo.environment["LIAISON_SIM_STEPS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
            ?? fallback
    }

    /// The seeds `LIAISON_SEED` lists, if any.
    static var listedSeeds: [UInt64]? {
        guard let listed = ProcessInfo.processInfo.environment["LIAISON_SEED"] else { return nil }
        let seeds = listed.split(separator: ",").flatMap { item -> [UInt64] in
            let bounds = item.split(separator: "-").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            if bounds.count == 2, bounds[0] <= bounds[1] { return Array(bounds[0]...bounds[1]) }
            return bounds.count == 1 ? bounds : []
        }
        return seeds.isEmpty ? nil : seeds
    }

    @Test(.timeLimit(.minutes(120))) func randomizedReplicasConverge() async throws {
        try await Self.runAndReport(seeds: Self.seeds, schemaChanges: false)
    }

    /// The same run, with sites adding columns, choices and tables, and replicas that learn them
    /// late and relay what they do not know yet (`ConvergenceSimulation+Schema.swift`).
    @Test(.timeLimit(.minutes(120))) func randomizedReplicasConvergeThroughSchemaChanges() async throws {
        try await Self.runAndReport(seeds: Self.schemaSeeds, schemaChanges: true)
    }

    static func runAndReport(seeds: [UInt64], schemaChanges: Bool) async throws {
        let started = ContinuousClock.now
        let (failures, figures) = try await offCooperativePool {
            try Self.runSeeds(seeds, schemaChanges: schemaChanges)
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
        // The figures a soak run reports (docs/DECISIONS.md).
        print(
            "simulation\(schemaChanges ? " with schema changes" : ""): \(seeds.count) seeds in \(ContinuousClock.now - started), \(figures.conflicts) conflicts, "
                + "held \(figures.held.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")), "
                + "\(figures.schemaChanges) schema changes, \(figures.opaqueRelayed) transactions relayed by a replica lacking their column or table"
        )
    }

    static func runSeeds(_ seeds: [UInt64], schemaChanges: Bool) throws -> (
        failures: [String], figures: (conflicts: Int, held: [String: Int], schemaChanges: Int, opaqueRelayed: Int)
    ) {
        var failures: [String] = []
        var conflicts = 0
        var (changesMade, opaqueRelayed) = (0, 0)
        var held: [String: Int] = [:]
        let keep = ProcessInfo.processInfo.environment["LIAISON_SIM_KEEP"].map { URL(fileURLWithPath: $0) }
        for seed in seeds {
            try withTemporaryDirectorySync { temporary in
                let directory = keep?.appendingPathComponent("seed-\(seed)") ?? temporary
                try? FileManager.default.removeItem(at: directory)
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                do {
                    let simulation = try ConvergenceSimulation(
                        seed: seed, replicaCount: 5, directory: directory, schemaChanges: schemaChanges)
                    try simulation.run(steps: Self.steps())
                    try simulation.verify()
                    conflicts += try simulation.replicas[0].conflicts(includeResolved: true).count
                    held.merge(simulation.heldByReason, uniquingKeysWith: +)
                    changesMade += simulation.schemaPlan.changesMade
                    opaqueRelayed += simulation.schemaPlan.opaqueRelayed
                } catch let failure as SimulationFailure {
                    failures.append(failure.description)
                } catch {
                    failures.append("seed \(seed): \(error) (replay with LIAISON_SEED=\(seed))")
                }
            }
            if failures.count >= 3, ProcessInfo.processInfo.environment["LIAISON_SIM_ALL"] != "1" { break }
        }
        return (failures, (conflicts, held, changesMade, opaqueRelayed))
    }
}
