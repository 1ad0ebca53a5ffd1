import Foundation
import Liaison
import LiaisonTesting
import Testing

@Suite struct SimulationTests {
    /// Seeds to run: `LIAISON_SEED` replays one; `LIAISON_SOAK=1` runs 1,000; otherwise 200.
    static var seeds: [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let seed = environment["LIAISON_SEED"].flatMap(UInt64.init) { return [seed] }
        let count = environment["LIAISON_SOAK"] == "1" ? 1_000 : 200
        return (1...UInt64(count)).map { $0 }
    }

    @Test(.timeLimit(.minutes(20))) func randomizedReplicasConverge() async throws {
        let (failures, spurious) = try await offCooperativePool { try Self.runSeeds() }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
        // Found after issues 10 and 12 met (2 seeds of 200): a conflict recorded between writes of
        // which one had seen the other. Dumps still converge and nothing is lost; reported as a
        // known issue, not hidden, until the per-cell causality is fixed for it.
        if !spurious.isEmpty {
            withKnownIssue("spurious conflicts between causally ordered writes (per-cell causality)") {
                Issue.record("\(spurious.joined(separator: "\n"))")
            }
        }
    }

    static func runSeeds() throws -> (failures: [String], spurious: [String]) {
        var failures: [String] = []
        var spurious: [String] = []
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
                    spurious += simulation.spuriousConflicts
                } catch let failure as SimulationFailure {
                    failures.append(failure.description)
                } catch {
                    failures.append("seed \(seed): \(error) (replay with LIAISON_SEED=\(seed))")
                }
            }
            if failures.count >= 3 { break }
        }
        return (failures, spurious)
    }
}
