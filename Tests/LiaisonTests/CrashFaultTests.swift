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

// Issue 6: a killed process loses nothing.

// MARK: - 1. Crashes: SIGKILL during large pushes and pulls

@Suite(.timeLimit(.minutes(30))) struct CrashFaultTests {
    static let suite = "CrashFaultTests"
    static let tests = 2

    @Test func sigkillDuringLargePushesAndPullsLosesNothing() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                let scale = FaultScale.current
                let harness = FaultCrashRun(
                    cli: cli,
                    scale: .init(
                        seed: scale.seed, kills: scale.kills, rowsPerReplica: scale.rowsPerReplica,
                        largeBatch: scale.largeBatch,
                        budget: scale.crashBudget))
                do {
                    try await harness.run()
                } catch {
                    await harness.server?.stop()
                    throw error
                }
                await harness.server?.stop()
                let rows = harness.ledger.expectedRowCount
                let transactions = harness.ledger.transactions.values.reduce(0, +)
                let summary =
                    "CrashFaultTests: SIGKILL to \(describe(harness.killed)) (\(harness.recovered) killed sqlite3 "
                    + "commits recovered later); \(rows) rows in \(transactions) transactions converged\n"
                FileHandle.standardOutput.write(Data(summary.utf8))
                tally.kills = harness.kills
                tally.faults = harness.kills
                tally.rowsLost = harness.rowsLost
                #expect(
                    harness.problems.isEmpty,
                    "seed \(FaultScale.current.seed):\n\(harness.problems.prefix(40).joined(separator: "\n"))")
                #expect(harness.kills >= FaultScale.current.kills, "only \(harness.kills) kills landed")
            }
        }
    }

    /// Another SQLite client (the `sqlite3` shell) commits an edit while a pushed batch waits for the
    /// write lock: the edit is a local edit like any other and must be logged and reach the peers.
    @Test func editOfAnotherSQLiteClientCommittedWhileAPushWaitsForTheLockIsNotLost() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                _ = try await cli.output(["init", "hub.db", "--site", "NL-NCTV"])
                _ = try await cli.output(["init", "spoke.db", "--site", "MA-DGST"])
                _ = try await cli.output([
                    "peer", "add", "hub.db", "MA-DGST", "http://127.0.0.1:1", "--token", faultToken,
                ])
                try await cli.trustEachOther(["hub.db", "spoke.db"])
                // sqlite3 holds the write lock for about 3 s; on a busy machine longer than the
                // server's default 5 s wait, which would refuse the push (503) and fail the test.
                var patient = cli.environment
                patient["LIAISON_BUSY_TIMEOUT_MS"] = "60000"
                try await withFaultServer(cli, "hub.db", environment: patient) { server in
                    _ = try await cli.output(["peer", "add", "spoke.db", "NL-NCTV", server.url, "--token", faultToken])
                    _ = try await cli.output(["sync", "spoke.db"])
                    _ = try await cli.output(["set", "spoke.db", "topic", "topic-from-spoke", "name=From the spoke"])
                    let shell = try FaultProcess(
                        executable: FaultTools.sqlite3, arguments: [cli.path("hub.db")], directory: cli.directory,
                        environment: FaultTools.environment, acceptsInput: true)
                    try shell.start()
                    shell.send(
                        "BEGIN IMMEDIATE;\nINSERT INTO topic(id, name, scope, owner) "
                            + "VALUES ('topic-external', 'Written by sqlite3', 'public', 'NL-NCTV');\nSELECT 'locked';\n"
                    )
                    let locked = await shell.waitForOutput("locked")
                    if !locked { shell.kill() }
                    try #require(locked, "sqlite3 did not take the write lock: \(shell.stderr)")
                    // The push of the spoke's edit now waits for the lock; then sqlite3 commits.
                    let sync = try cli.start(["sync", "spoke.db"])
                    try await Task.sleep(for: .seconds(3))
                    shell.send("COMMIT;\n.quit\n")
                    shell.closeInput()
                    _ = await shell.wait(timeout: .seconds(30))
                    let pushed = await sync.wait(timeout: .seconds(60))
                    tally.faults += 1
                    #expect(pushed.status == 0 && pushed.signal == nil, "\(pushed)")
                    #expect(try await cli.run(["get", "hub.db", "topic", "topic-external"]).status == 0)
                    _ = try await cli.output(["sync", "spoke.db"])
                    let logged = try await cli.log("hub.db").contains {
                        $0.changes.contains { $0.id == "topic-external" }
                    }
                    let arrived = try await cli.run(["get", "spoke.db", "topic", "topic-external"])
                    // Apply publishes under its own write lock, so the sqlite3 edit is logged, not lost.
                    #expect(logged, "the hub's change log lacks the sqlite3 edit")
                    #expect(arrived.status == 0, "the sqlite3 edit never reached the spoke: \(arrived)")
                }
            }
        }
    }
}
