import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Issue 6, fault tolerance: kill -9, cut connections, bad clocks and hostile input, with nothing
// lost. Real `liaison serve` and `liaison sync` processes on 127.0.0.1, real SQLite files.
// A short form runs by default; `LIAISON_FAULTS=1` (`Scripts/test --faults`) runs the long one;
// `LIAISON_FAULT_SEED=N` replays a run. Each suite prints one line of figures when it is done.

// MARK: - Scale and figures

/// How hard the fault suites push.
struct FaultScale: Sendable {
    var isLong: Bool
    var seed: UInt64
    /// SIGKILLs the crash suite delivers (at least).
    var kills: Int
    /// Rows each replica of the crash suite starts with.
    var rowsPerReplica: Int
    /// The size of the large transactions (many pages of 200 changes).
    var largeBatch: Int
    var crashBudget: Duration
    /// Rows behind the faulty proxy, both sides together.
    var proxyRows: Int
    var fuzzRequests: Int
    var corruptions: Int

    static let current: FaultScale = {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["LIAISON_FAULT_SEED"].flatMap { UInt64($0) } ?? 0x2026_1129
        if environment["LIAISON_FAULTS"] == "1" {
            return FaultScale(
                isLong: true, seed: seed, kills: 60, rowsPerReplica: 8_000, largeBatch: 3_000,
                crashBudget: .seconds(1_200),
                proxyRows: 16_000, fuzzRequests: 3_000, corruptions: 60)
        }
        return FaultScale(
            isLong: false, seed: seed, kills: 10, rowsPerReplica: 900, largeBatch: 500, crashBudget: .seconds(150),
            proxyRows: 1_600, fuzzRequests: 400, corruptions: 13)
    }()
}

/// What one test contributes to its suite's line.
struct FaultTally: Sendable {
    var kills = 0
    var faults = 0
    var requests = 0
    var rowsLost = 0
}

/// Adds up each suite's tallies and prints its line once all its tests have reported.
actor FaultFigures {
    static let shared = FaultFigures()
    private var tallies: [String: (tally: FaultTally, done: Int)] = [:]

    func report(_ suite: String, tests: Int, _ tally: FaultTally) {
        var entry = tallies[suite, default: (FaultTally(), 0)]
        entry.tally.kills += tally.kills
        entry.tally.faults += tally.faults
        entry.tally.requests += tally.requests
        entry.tally.rowsLost += tally.rowsLost
        entry.done += 1
        tallies[suite] = entry
        guard entry.done == tests else { return }
        let scale = FaultScale.current
        let line =
            "\(suite): kills survived \(entry.tally.kills), faults injected \(entry.tally.faults), "
            + "requests fuzzed \(entry.tally.requests), rows lost = \(entry.tally.rowsLost) "
            + "(seed \(scale.seed), \(scale.isLong ? "long run" : "short run"))\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

/// Runs `body` and reports its tally, also when it throws.
func withTally(_ suite: String, tests: Int, _ body: (inout FaultTally) async throws -> Void) async throws {
    var tally = FaultTally()
    do {
        try await body(&tally)
    } catch {
        await FaultFigures.shared.report(suite, tests: tests, tally)
        throw error
    }
    await FaultFigures.shared.report(suite, tests: tests, tally)
}

/// `a 2, b 3`, by key.
func describe(_ counts: [String: Int]) -> String {
    counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
}

/// Runs `body` with the built `liaison` in a fresh temporary directory.
func withFaultCLI(_ body: (FaultCLI) async throws -> Void) async throws {
    let binary = try #require(
        FaultTools.liaison, "no built liaison next to the test bundle; run 'swift build --build-tests' first")
    try await withTemporaryDirectory { directory in try await body(FaultCLI(binary: binary, directory: directory)) }
}

/// Starts `liaison serve`, runs `body` with it and stops it, whatever happens.
func withFaultServer<T>(
    _ cli: FaultCLI, _ database: String, arguments: [String] = [], environment: [String: String]? = nil,
    _ body: (FaultServer) async throws -> T
) async throws -> T {
    let server = try await FaultServer.start(
        binary: cli.binary, database: database, in: cli.directory, extraArguments: arguments,
        environment: environment ?? cli.environment)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

let faultToken = "fault-token-0123456789"
