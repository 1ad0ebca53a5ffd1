import Foundation
import Liaison
import LiaisonTesting
import Testing

/// The randomized simulation with compaction at random steps, gated by acknowledgements as in real
/// use (`ConvergenceSimulation.compactAtRandom`): replicas remove superseded transactions whole
/// while the others keep editing, relaying and syncing. Each seed runs twice, with compaction and
/// without it (a control run whose steps, syncs and acknowledgements are the same): compaction must
/// change nothing any replica shows (rows, conflicts, version vectors), every replica's log must
/// still verify, and `verify()` must hold wherever it holds in the control run (a seed that fails
/// without compaction is a fault of the simulation's own, counted apart). 3 seeds by default;
/// `LIAISON_SOAK=1` runs 200; `LIAISON_SEED` picks seeds as for `SimulationTests`.
@Suite struct CompactionSimulationTests {
    static var seeds: [UInt64] {
        SimulationTests.listedSeeds ?? Array(1...UInt64(SimulationTests.soak ? 200 : 3))
    }

    /// Longer runs than `SimulationTests` (60 steps), so histories are long enough to compact.
    static let steps = 150

    /// What a replica shows: rows, conflicts and version vector.
    static func shown(_ replica: Replica) throws -> String {
        let conflicts = try replica.conflicts(includeResolved: true).map {
            "\($0.id) \($0.kind) \($0.table) \($0.rowID) \($0.column ?? "-") \($0.winner.siteID)#\($0.winner.seq) \($0.loser.siteID)#\($0.loser.seq) \($0.state)"
        }.sorted()
        return try replica.dump() + "\n" + conflicts.joined(separator: "\n") + "\n"
            + replica.versionVector().entries.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                separator: ",")
    }

    /// One seed: `nil` when it passed, else why.
    static func run(_ seed: UInt64, tally: SimulationCompactionTally) throws -> (failure: String?, control: String?) {
        try withTemporaryDirectorySync { temporary in
            // `LIAISON_SIM_KEEP=DIR` keeps each seed's replicas there, to look into.
            let keep = ProcessInfo.processInfo.environment["LIAISON_SIM_KEEP"].map { URL(fileURLWithPath: $0) }
            let directory = keep?.appendingPathComponent("compaction-seed-\(seed)") ?? temporary
            try? FileManager.default.removeItem(at: directory)
            var runs: [(simulation: ConvergenceSimulation, verified: String?, clones: SimulationClones)] = []
            for compacting in [false, true] {
                let folder = directory.appendingPathComponent(compacting ? "compacting" : "control")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let simulation = try ConvergenceSimulation(seed: seed, replicaCount: 5, directory: folder)
                // New replicas cloned by snapshot after compactions, caught up at the end.
                let clones = SimulationClones(directory: folder)
                // `LIAISON_COMPACT_VALUES=1`: compactions drop values only, no transaction removed.
                try simulation.compactAtRandom(
                    percent: 4, tally: compacting ? tally : SimulationCompactionTally(), compacting: compacting,
                    removing: ProcessInfo.processInfo.environment["LIAISON_COMPACT_VALUES"] != "1", clones: clones)
                do {
                    try simulation.run(steps: steps)
                    try simulation.verify()
                    try simulation.catchUpClones(clones)
                    runs.append((simulation, nil, clones))
                } catch let failure as SimulationFailure {
                    runs.append((simulation, "\(failure)", clones))
                } catch {
                    runs.append(
                        (
                            simulation, "\(error)\nlast steps: \(simulation.trace.suffix(16).joined(separator: "; "))",
                            clones
                        ))
                }
            }
            let (control, compacted) = (runs[0], runs[1])
            if let failed = control.verified { return (nil, failed) }
            if let failed = compacted.verified { return ("seed \(seed), compacting: \(failed)", nil) }
            for index in control.simulation.replicas.indices {
                let report = try compacted.simulation.replicas[index].verify()
                guard report.isIntact else {
                    return (
                        "seed \(seed): replica \(index) does not verify after compacting: \(report.problems)", nil
                    )
                }
                let (before, after) = (
                    try shown(control.simulation.replicas[index]), try shown(compacted.simulation.replicas[index])
                )
                guard before == after else {
                    let first = zip(before.split(separator: "\n"), after.split(separator: "\n")).first { $0 != $1 }
                    return (
                        "seed \(seed): replica \(index) shows other rows or conflicts when it compacts:\n  "
                            + "\(first?.0 ?? "(end)")\n  \(first?.1 ?? "(end)")", nil
                    )
                }
            }
            // Each clone shows what its twin cloned at the same step of the control run shows.
            for (index, (control, clone)) in zip(runs[0].clones.clones, runs[1].clones.clones).enumerated() {
                let report = try clone.replica.verify()
                guard report.isIntact else {
                    return ("seed \(seed): clone \(index) does not verify: \(report.problems)", nil)
                }
                let (before, after) = (try shown(control.replica), try shown(clone.replica))
                guard before == after else {
                    let first = zip(before.split(separator: "\n"), after.split(separator: "\n")).first { $0 != $1 }
                    return (
                        "seed \(seed): clone \(index) (grant \(clone.grant?.sorted() ?? ["*"])) of a compacted replica "
                            + "shows other rows or conflicts than one of the whole log:\n  \(first?.0 ?? "(end)")\n  "
                            + "\(first?.1 ?? "(end)")", nil
                    )
                }
            }
            tally.addClones(runs[1].clones.clones.count)
            return (nil, nil)
        }
    }

    @Test(.timeLimit(.minutes(120))) func compactingChangesNothingAReplicaShows() async throws {
        let started = ContinuousClock.now
        let tally = SimulationCompactionTally()
        let seeds = Self.seeds
        let (failures, controlFailed) = try await offCooperativePool { () -> ([String], [UInt64]) in
            var failures: [String] = []
            var controlFailed: [UInt64] = []
            for seed in seeds {
                let outcome = try Self.run(seed, tally: tally)
                if let failure = outcome.failure { failures.append(failure) }
                if let failed = outcome.control {
                    controlFailed.append(seed)
                    // `LIAISON_SIM_DEBUG=1`: why a seed fails without compaction too.
                    if ProcessInfo.processInfo.environment["LIAISON_SIM_DEBUG"] == "1" {
                        print("seed \(seed) fails without compaction: \(failed)")
                    }
                }
                if failures.count >= 3, ProcessInfo.processInfo.environment["LIAISON_SIM_ALL"] != "1" { break }
            }
            return (failures, controlFailed)
        }
        let controlFailures = controlFailed.count
        let figures = tally.figures
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
        #expect(figures.compactions > 0, "\(figures)")
        print(
            "simulation with compaction: \(seeds.count) seeds, \(seeds.count - failures.count - controlFailures) passed, "
                + "\(failures.count) failed, \(controlFailures) fail without compaction too \(controlFailed), in "
                + "\(ContinuousClock.now - started); \(figures.compactions) compactions removed \(figures.transactions) "
                + "transactions whole and dropped \(figures.values) values; \(figures.heldBack) removed nothing whole "
                + "(a peer had acknowledged what the replica lacked); \(tally.clones) clones by snapshot matched")
    }
}
