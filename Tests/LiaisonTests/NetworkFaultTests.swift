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

// Issue 6: connections cut, delayed and reset.

// MARK: - 2. Network faults: a proxy that cuts, delays and resets

@Suite(.timeLimit(.minutes(20))) struct NetworkFaultTests {
    static let suite = "NetworkFaultTests"
    static let tests = 4

    /// `liaison sync` through a proxy that cuts requests and answers at random bytes, resets and
    /// delays connections, again and again until a round gets through: then both replicas hold
    /// exactly what was written, each transaction once, and another round moves nothing.
    @Test func liaisonSyncThroughCutDelayedAndResetConnectionsConvergesWithoutDuplicates() async throws {
        let scale = FaultScale.current
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                var ledger = FaultLedger()
                var rng = SeededGenerator(seed: scale.seed &+ 1)
                let sites = ["NL-NCTV", "MA-DGST"]
                var siteIDs: [String: String] = [:]
                func write(_ site: String, size: Int) throws {
                    let replica = try Replica.open(at: cli.path("\(site).db"))
                    let batch = FaultBatch(id: ledger.newBatchID(site: site), site: site, size: size, payload: "v0")
                    try FaultWorkload.insert(batch, into: replica)
                    ledger.recordInsert(batch)
                }
                for site in sites {
                    siteIDs[site] = try Replica.create(
                        at: cli.path("\(site).db"), site: SiteCode(site)!, schema: .faultItems
                    ).siteID
                    var written = 0
                    while written < scale.proxyRows / 2 {
                        let size = written == 0 ? scale.largeBatch : rng.int(1...150)
                        try write(site, size: size)
                        written += size
                    }
                }
                _ = try await cli.output([
                    "peer", "add", "NL-NCTV.db", "MA-DGST", "http://127.0.0.1:1", "--token", faultToken,
                ])
                try await cli.trustEachOther(["NL-NCTV.db", "MA-DGST.db"])
                try await withFaultServer(cli, "NL-NCTV.db") { server in
                    let proxy = try FaultProxy(
                        upstreamPort: server.port,
                        plan: FaultPlan(
                            seed: scale.seed &+ 2, faultRate: 0.9, maxCutBytes: 12_000, idleTimeoutSeconds: 3))
                    defer { proxy.stop() }
                    _ = try await cli.output(["peer", "add", "MA-DGST.db", "NL-NCTV", proxy.url, "--token", faultToken])
                    var failed = 0
                    var lastWrite = 0
                    var synced = false
                    let writing = scale.isLong ? 40 : 8
                    for attempt in 1...(scale.isLong ? 600 : 150) {
                        if attempt <= writing {
                            if rng.chance(0.5), let batch = ledger.liveBatches(of: "MA-DGST").randomElement(using: &rng)
                            {
                                let payload = "v\(attempt)"
                                try FaultWorkload.update(
                                    batch: batch.id, payload: payload, in: try Replica.open(at: cli.path("MA-DGST.db")))
                                ledger.recordUpdate(batch: batch.id, payload: payload)
                            } else {
                                try write(sites.randomElement(using: &rng)!, size: rng.int(1...300))
                            }
                            lastWrite = attempt
                        }
                        let outcome = try await cli.run(
                            ["sync", "MA-DGST.db", "--page-changes", "100"], timeout: .seconds(180))
                        if outcome.signal == nil, outcome.status == 0 {
                            if attempt > lastWrite {
                                synced = true
                                break
                            }
                            continue
                        }
                        failed += 1
                        #expect(
                            outcome.signal == nil && outcome.status == 1
                                && outcome.errorLines.allSatisfy { $0.hasPrefix("liaison: ") },
                            "attempt \(attempt): \(outcome)")
                    }
                    #expect(synced, "no round got through the proxy (\(failed) failed)")
                    // Without faults, one more round moves nothing: everything arrived, once.
                    proxy.isEnabled = false
                    let again = try await cli.output(["sync", "MA-DGST.db", "--json"])
                    let reports = try JSONSerialization.jsonObject(with: Data(again.utf8)) as? [[String: Any]] ?? []
                    #expect(
                        reports.count == 1
                            && reports.allSatisfy {
                                ($0["pulledChanges"] as? Int) == 0 && ($0["pushedChanges"] as? Int) == 0
                            },
                        "\(again)")

                    let hubDump = try await cli.dump("NL-NCTV.db")
                    #expect(hubDump == (try await cli.dump("MA-DGST.db")))
                    #expect(FaultDump.atomicityProblems(hubDump).isEmpty)
                    let (problems, missing) = ledger.differences(from: hubDump)
                    #expect(problems.isEmpty, "\(problems)")
                    var logs: [String: [FaultLogEntry]] = [:]
                    for site in sites {
                        logs[site] = try await cli.log("\(site).db")
                        #expect(logs[site]?.count == ledger.transactions.values.reduce(0, +))
                        #expect(try await cli.conflictCount("\(site).db") == 0)
                    }
                    var originOf: [String: String] = [:]
                    for site in sites { originOf[siteIDs[site]!] = site }
                    let logProblems = FaultLogs.problems(logs, originOf: originOf)
                    #expect(logProblems.isEmpty, "\(logProblems)")
                    FileHandle.standardOutput.write(
                        Data(
                            ("NetworkFaultTests: \(proxy.connections) connections, faults \(describe(proxy.faultKinds)), "
                                + "\(failed) failed rounds, no client crash\n").utf8))
                    tally.faults += proxy.faultsInjected
                    tally.rowsLost = missing
                }
            }
        }
    }

    /// A peer that closes the connection inside a response's headers: every client must fail with
    /// one clear line, and a node syncing periodically must stay up.
    @Test func aResponseCutInsideItsHeadersIsAnErrorNotACrash() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { base in
                var cli = base
                cli.environment = FaultTools.environmentWithoutBacktraces
                let stub = try FaultStub(
                    answer: Data("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Len".utf8))
                defer { stub.stop() }
                _ = try await cli.output(["init", "spoke.db", "--site", "MA-DGST"])
                _ = try await cli.output(["peer", "add", "spoke.db", "STUB", stub.url, "--token", faultToken])
                let synced = try await cli.run(["sync", "spoke.db"], timeout: .seconds(60))
                let cloned = try await cli.run(
                    ["clone", stub.url, "clone.db", "--site", "TR-TNP", "--token", faultToken], timeout: .seconds(60))
                _ = try await cli.output(["init", "hub.db", "--site", "NL-NCTV"])
                _ = try await cli.output(["peer", "add", "hub.db", "STUB", stub.url, "--token", faultToken])
                // The periodic sync starts with the server: it may die before it has printed its URL.
                let serve = try cli.start(["serve", "hub.db", "--port", "0", "--sync-every", "1s"])
                try await Task.sleep(for: .seconds(3))
                let alive = serve.isRunning
                serve.kill(SIGTERM)
                let served = await serve.wait(timeout: .seconds(20))
                tally.faults += stub.requests
                // Before AsyncHTTPClient, URLSession (FoundationNetworking) died here with SIGILL
                // ("Transfer completed, but there's no response").
                #expect(synced.signal == nil && synced.status == 1, "liaison sync: \(synced)")
                #expect(synced.errorLines.count == 1 && synced.stderr.contains("cannot reach"), "\(synced)")
                #expect(cloned.signal == nil && cloned.status == 1, "liaison clone: \(cloned)")
                #expect(!FileManager.default.fileExists(atPath: cli.path("clone.db")), "a failed clone left a file")
                #expect(alive, "liaison serve --sync-every went down with its periodic sync: \(served)")
            }
        }
    }

    /// A push whose connection dies in the middle of its body: the round fails at once, and the
    /// next one completes it.
    @Test func aPushCutInTheMiddleOfItsBodyFailsFastAndTheNextRoundCompletesIt() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                // The first connection carries status, pull, status, then the push; it is cut
                // 6,000 bytes in, inside the first push's body. A client that stalled instead of
                // failing would wait for the proxy's idle timeout (60 s): the bound below is half
                // of that, so a busy machine does not fail the test.
                let plan = FaultPlan(seed: 1, faultRate: 0, script: [.cutRequest(after: 6_000)], idleTimeoutSeconds: 60)
                try await withSpokeBehindProxy(cli, spokeRows: 400, plan: plan) { proxy, ledger in
                    let started = ContinuousClock.now
                    let cut = try await cli.run(
                        ["sync", "MA-DGST.db", "--page-changes", "100"], timeout: .seconds(120))
                    let elapsed = ContinuousClock.now - started
                    tally.faults += proxy.faultsInjected
                    #expect(cut.signal == nil && cut.status == 1, "\(cut)")
                    // URLSession's libcurl re-sent the cut POST without its body and waited for a timeout.
                    #expect(elapsed < .seconds(30), "the cut round took \(elapsed)")
                    let next = try await cli.run(
                        ["sync", "MA-DGST.db", "--page-changes", "100"], timeout: .seconds(120))
                    #expect(next.status == 0, "\(next)")
                    let dump = try await cli.dump("NL-NCTV.db")
                    #expect(dump == (try await cli.dump("MA-DGST.db")))
                    let (problems, missing) = ledger.differences(from: dump)
                    #expect(problems.isEmpty, "\(problems)")
                    tally.rowsLost = missing
                }
            }
        }
    }
}

extension NetworkFaultTests {
    /// A middlebox that delivers a push twice: the first copy is applied, the second refused as a
    /// replay; the next round sends the batch again, and it is skipped. Each transaction once.
    @Test func aPushDeliveredTwiceIsAppliedOnce() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                // Requests on the first connection: status, pull, status, push (number 3).
                let plan = FaultPlan(seed: 1, faultRate: 0, script: [.duplicateRequest(index: 3)])
                try await withSpokeBehindProxy(cli, spokeRows: 50, plan: plan) { proxy, ledger in
                    let doubled = try await cli.run(["sync", "MA-DGST.db"], timeout: .seconds(60))
                    tally.faults += proxy.faultsInjected
                    #expect(proxy.faultsInjected == 1, "\(proxy.faultKinds)")
                    #expect(doubled.signal == nil && doubled.status == 1, "\(doubled)")
                    #expect(doubled.stderr.contains("replayed"), "\(doubled)")
                    // The first copy was applied: the batch is there already, once.
                    let dump = try await cli.dump("NL-NCTV.db")
                    #expect(ledger.differences(from: dump).problems.isEmpty)
                    let next = try await cli.run(["sync", "MA-DGST.db", "--json"], timeout: .seconds(60))
                    #expect(next.status == 0, "\(next)")
                    #expect(try await cli.dump("NL-NCTV.db") == dump)
                    #expect(dump == (try await cli.dump("MA-DGST.db")))
                    let logs = ["NL-NCTV": try await cli.log("NL-NCTV.db"), "MA-DGST": try await cli.log("MA-DGST.db")]
                    for (site, log) in logs {
                        let keys = log.map { "\($0.origin)#\($0.seq)" }
                        #expect(Set(keys).count == keys.count && keys.count == 1, "\(site): \(keys)")
                    }
                    let (problems, missing) = ledger.differences(from: dump)
                    #expect(problems.isEmpty, "\(problems)")
                    tally.rowsLost = missing
                }
            }
        }
    }
}

/// An empty hub, NL-NCTV, served by `liaison serve`, and a spoke, MA-DGST, holding one batch of
/// `spokeRows` rows, that reaches the hub through a proxy following `plan`.
func withSpokeBehindProxy(
    _ cli: FaultCLI, spokeRows: Int, plan: FaultPlan, _ body: (FaultProxy, FaultLedger) async throws -> Void
) async throws {
    var ledger = FaultLedger()
    _ = try Replica.create(at: cli.path("NL-NCTV.db"), site: SiteCode("NL-NCTV")!, schema: .faultItems)
    do {  // The spoke's handle is closed before `liaison sync` runs on it.
        let spoke = try Replica.create(at: cli.path("MA-DGST.db"), site: SiteCode("MA-DGST")!, schema: .faultItems)
        let batch = FaultBatch(id: ledger.newBatchID(site: "MA-DGST"), site: "MA-DGST", size: spokeRows, payload: "v0")
        try FaultWorkload.insert(batch, into: spoke)
        ledger.recordInsert(batch)
    }
    _ = try await cli.output(["peer", "add", "NL-NCTV.db", "MA-DGST", "http://127.0.0.1:1", "--token", faultToken])
    try await cli.trustEachOther(["NL-NCTV.db", "MA-DGST.db"])
    try await withFaultServer(cli, "NL-NCTV.db") { server in
        let proxy = try FaultProxy(upstreamPort: server.port, plan: plan)
        defer { proxy.stop() }
        _ = try await cli.output(["peer", "add", "MA-DGST.db", "NL-NCTV", proxy.url, "--token", faultToken])
        try await body(proxy, ledger)
    }
}

/// Both replicas log the same transactions, each once, with the same changes.
func expectSameLogsWithoutDuplicates(_ a: Replica, _ b: Replica, sourceLocation: SourceLocation = #_sourceLocation)
    throws
{
    func index(_ replica: Replica) throws -> [String: [String]] {
        var entries: [String: [String]] = [:]
        for entry in try replica.log() {
            let key = "\(entry.origin)#\(entry.seq)"
            #expect(entries[key] == nil, "\(replica.siteCode) logs \(key) twice", sourceLocation: sourceLocation)
            entries[key] = entry.changes.map {
                "\($0.table) \($0.id) \($0.op.rawValue) \($0.values.map { CanonicalJSON.object($0) } ?? "-")"
            }
        }
        return entries
    }
    let left = try index(a)
    let right = try index(b)
    #expect(left.keys.sorted() == right.keys.sorted(), sourceLocation: sourceLocation)
    for (key, changes) in left where right[key] != changes {
        Issue.record("\(key) holds different changes on the two replicas", sourceLocation: sourceLocation)
    }
}
