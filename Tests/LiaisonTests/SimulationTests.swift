import Foundation
import Liaison
import LiaisonTesting
import Testing

@Suite struct SimulationTests {
    /// Seeds to run: `LIAISON_SEED` replays one (or a comma-separated list); `LIAISON_SOAK=1`
    /// runs 1,000; otherwise 200.
    static var seeds: [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let listed = environment["LIAISON_SEED"] {
            let seeds = listed.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            if !seeds.isEmpty { return seeds }
        }
        let count = environment["LIAISON_SOAK"] == "1" ? 1_000 : 200
        return (1...UInt64(count)).map { $0 }
    }

    @Test(.timeLimit(.minutes(30))) func randomizedReplicasConverge() async throws {
        let started = ContinuousClock.now
        let (failures, figures) = try await offCooperativePool { try Self.runSeeds() }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
        // The figures a soak run reports (docs/DECISIONS.md).
        print(
            "simulation: \(Self.seeds.count) seeds in \(ContinuousClock.now - started), \(figures.conflicts) conflicts, "
                + "held \(figures.held.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
    }

    static func runSeeds() throws -> (failures: [String], figures: (conflicts: Int, held: [String: Int])) {
        var failures: [String] = []
        var conflicts = 0
        var held: [String: Int] = [:]
        let keep = ProcessInfo.processInfo.environment["LIAISON_SIM_KEEP"].map { URL(fileURLWithPath: $0) }
        for seed in Self.seeds {
            try withTemporaryDirectorySync { temporary in
                let directory = keep?.appendingPathComponent("seed-\(seed)") ?? temporary
                try? FileManager.default.removeItem(at: directory)
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                do {
                    let simulation = try ConvergenceSimulation(seed: seed, replicaCount: 5, directory: directory)
                    try simulation.run(steps: 60)
                    try simulation.verify()
                    conflicts += try simulation.replicas[0].conflicts(includeResolved: true).count
                    held.merge(simulation.heldByReason, uniquingKeysWith: +)
                } catch let failure as SimulationFailure {
                    failures.append(failure.description)
                } catch {
                    failures.append("seed \(seed): \(error) (replay with LIAISON_SEED=\(seed))")
                }
            }
            if failures.count >= 3, ProcessInfo.processInfo.environment["LIAISON_SIM_ALL"] != "1" { break }
        }
        return (failures, (conflicts, held))
    }
}
