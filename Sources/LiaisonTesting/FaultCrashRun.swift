import Foundation
import Liaison

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SeededGenerator {
    /// `true` with this probability.
    public mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
    /// A number in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
}

/// The crash run: a hub served by `liaison serve` and two spokes running `liaison sync` against it,
/// each with thousands of rows in transactions of 1 to `largeBatch` rows; processes are SIGKILLed
/// at seeded random moments, then everything must converge to exactly what was written.
public final class FaultCrashRun {
    /// How big and how long.
    public struct Scale: Sendable {
        public var seed: UInt64
        /// SIGKILLs to deliver (the run stops once they have landed).
        public var kills: Int
        public var rowsPerReplica: Int
        /// The size of the large transactions (many pages of 200 changes).
        public var largeBatch: Int
        /// An upper bound on the faulty part of the run.
        public var budget: Duration

        public init(seed: UInt64, kills: Int, rowsPerReplica: Int, largeBatch: Int, budget: Duration) {
            self.seed = seed
            self.kills = kills
            self.rowsPerReplica = rowsPerReplica
            self.largeBatch = largeBatch
            self.budget = budget
        }
    }

    let cli: FaultCLI
    let scale: Scale
    public private(set) var ledger = FaultLedger()
    var rng: SeededGenerator
    public private(set) var server: FaultServer?
    let hub = "NL-NCTV"
    let spokes = ["MA-DGST", "TR-TNP"]
    var siteIDs: [String: String] = [:]
    var lastVectors: [String: [String: Int64]] = [:]
    /// SIGKILLs that hit a running process.
    public private(set) var kills = 0
    /// Those kills by target.
    public private(set) var killed: [String: Int] = [:]
    /// Rows of the ledger missing from a replica at the end (the most of any replica).
    public private(set) var rowsLost = 0
    /// Everything found wrong, with the moment it was found.
    public private(set) var problems: [String] = []
    /// Killed sqlite3 transactions not visible right after the kill (see `resolveInDoubt`).
    var inDoubt: [FaultBatch] = []
    /// Of those, how many SQLite recovered later.
    public private(set) var recovered = 0

    public init(cli: FaultCLI, scale: Scale) {
        self.cli = cli
        self.scale = scale
        self.rng = SeededGenerator(seed: scale.seed)
    }

    var sites: [String] { [hub] + spokes }
    func database(_ site: String) -> String { "\(site).db" }
    func token(_ site: String) -> String { "fault-token-\(site.lowercased())" }

    /// Sets up, injects the faults, converges and checks the end state. Stop the server afterwards.
    public func run() async throws {
        try await setUp()
        let started = ContinuousClock.now
        var attempt = 0
        while kills < scale.kills, attempt < scale.kills * 4, ContinuousClock.now - started < scale.budget {
            attempt += 1
            if rng.chance(0.7) { try writeSomething() }
            if rng.chance(0.15) { try await killLocalWriter(attempt: attempt) }
            try await syncAndKill(attempt: attempt)
        }
        try await converge()
        try await checkEnd()
    }

    private func setUp() async throws {
        for site in sites {
            let replica = try Replica.create(at: cli.path(database(site)), site: SiteCode(site)!, schema: .faultItems)
            siteIDs[site] = replica.siteID
            var written = 0
            while written < scale.rowsPerReplica {
                let size = written == 0 ? scale.largeBatch : rng.int(1...150)
                try insert(size: size, at: site, into: replica)
                written += size
            }
        }
        for spoke in spokes {
            _ = try await cli.output([
                "peer", "add", database(hub), spoke, "http://127.0.0.1:1", "--token", token(spoke),
            ])
        }
        try await cli.trustEachOther(sites.map(database))
        let server = try await FaultServer.start(binary: cli.binary, database: database(hub), in: cli.directory)
        self.server = server
        for spoke in spokes {
            _ = try await cli.output(["peer", "add", database(spoke), hub, server.url, "--token", token(spoke)])
        }
    }

    private func insert(size: Int, at site: String, into replica: Replica) throws {
        let batch = FaultBatch(id: ledger.newBatchID(site: site), site: site, size: size, payload: "v0")
        try FaultWorkload.insert(batch, into: replica)
        ledger.recordInsert(batch)
    }

    /// One local transaction at a random site: a new batch (now and then a large one), or an
    /// update or deletion of a whole batch of its own.
    private func writeSomething() throws {
        let site = sites.randomElement(using: &rng)!
        let replica = try Replica.open(at: cli.path(database(site)))
        let live = ledger.liveBatches(of: site)
        let roll = rng.int(0...9)
        if roll < 5 || live.isEmpty {
            try insert(size: roll == 0 ? scale.largeBatch : rng.int(1...80), at: site, into: replica)
        } else if roll < 9 {
            let batch = live.randomElement(using: &rng)!
            let payload = "v\(ledger.transactions[site, default: 0] + 1)"
            try FaultWorkload.update(batch: batch.id, payload: payload, in: replica)
            ledger.recordUpdate(batch: batch.id, payload: payload)
        } else {
            let batch = live.randomElement(using: &rng)!
            try FaultWorkload.delete(batch: batch.id, in: replica)
            ledger.recordDelete(batch: batch.id)
        }
    }

    /// The `sqlite3` shell inserts thousands of rows in one transaction and is SIGKILLed at a random
    /// moment: the batch is there whole or not at all, and when there it is a local edit like any other.
    private func killLocalWriter(attempt: Int) async throws {
        let site = sites.randomElement(using: &rng)!
        let batch = FaultBatch(
            id: ledger.newBatchID(site: site), site: site, size: rng.int(2_000...6_000), payload: "v0")
        let shell = try FaultProcess(
            executable: FaultTools.sqlite3, arguments: [database(site), FaultWorkload.shellInsertSQL(batch)],
            directory: cli.directory, environment: FaultTools.environment)
        try shell.start()
        try await Task.sleep(for: .milliseconds(rng.int(0...40)))
        if shell.kill() {
            kills += 1
            killed["sqlite3 writing", default: 0] += 1
        }
        let outcome = await shell.wait(timeout: .seconds(60))
        let count = try await rowCount(of: batch)
        if count == batch.size {
            ledger.recordInsert(batch)
        } else if count == 0 {
            if outcome.signal == SIGKILL { inDoubt.append(batch) }
        } else {
            problems.append(
                "attempt \(attempt): the killed sqlite3 transaction of \(batch.id) left \(count) of \(batch.size) rows (\(outcome))"
            )
        }
    }

    /// Rows of `batch` at its site, as a new connection sees them.
    private func rowCount(of batch: FaultBatch) async throws -> Int {
        let counted = try await cli.sqlite(
            database(batch.site), "SELECT count(*) FROM item WHERE batch = '\(batch.id)'")
        return Int(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// A sqlite3 transaction killed inside COMMIT, after its frames reached the write-ahead log but
    /// before the log's index knew of them, is invisible at first; SQLite recovers it, whole, when a
    /// connection next rebuilds the index from the log. Such batches count once they appear.
    private func resolveInDoubt() async throws {
        var still: [FaultBatch] = []
        for batch in inDoubt {
            let count = try await rowCount(of: batch)
            if count == batch.size {
                ledger.recordInsert(batch)
                recovered += 1
            } else if count == 0 {
                still.append(batch)
            } else {
                problems.append("the recovered sqlite3 transaction of \(batch.id) has \(count) of \(batch.size) rows")
            }
        }
        inDoubt = still
    }

    /// Runs `liaison sync` of a spoke and SIGKILLs it, the server, or both, at a random moment.
    private func syncAndKill(attempt: Int) async throws {
        guard let server else { return }
        let spoke = spokes.randomElement(using: &rng)!
        let sync = try cli.start(["sync", database(spoke), "--page-changes", "200"])
        try await Task.sleep(for: .milliseconds(rng.int(20...1_200)))
        let roll = rng.int(0...19)
        var killed: [String] = []
        if roll < 9 || roll >= 16, sync.kill() {
            kills += 1
            killed.append(spoke)
            self.killed["liaison sync", default: 0] += 1
        }
        if roll >= 9, server.kill() {
            kills += 1
            killed.append(hub)
            self.killed["liaison serve", default: 0] += 1
        }
        let outcome = await sync.wait(timeout: .seconds(300))
        if outcome.timedOut { problems.append("attempt \(attempt): liaison sync \(spoke) hung: \(outcome)") }
        if let signal = outcome.signal, signal != SIGKILL {
            problems.append("attempt \(attempt): liaison sync \(spoke) crashed with signal \(signal): \(outcome)")
        }
        if outcome.signal == nil, outcome.status != 0, !killed.contains(hub) {
            problems.append("attempt \(attempt): liaison sync \(spoke) failed with nothing killed: \(outcome)")
        }
        if !killed.contains(hub), !server.process.isRunning {
            problems.append("attempt \(attempt): the server died on its own: \(server.process.stderr.suffix(3_000))")
            killed.append(hub)
        }
        if killed.contains(hub) { try await server.restart() }
        for site in Set(killed + [spoke]).sorted() {
            try await checkReplica(
                site,
                context: "attempt \(attempt) (SIGKILL to \(killed.isEmpty ? "none" : killed.joined(separator: ", ")))")
        }
    }

    /// At any moment: no batch half there, no applied transaction forgotten, every local edit kept.
    private func checkReplica(_ site: String, context: String) async throws {
        try await resolveInDoubt()
        let dump = try await cli.dump(database(site))
        problems += FaultDump.atomicityProblems(dump).map { "\(site) after \(context): \($0)" }
        let vector = try await cli.vector(database(site))
        for (id, seq) in lastVectors[site, default: [:]] where vector[id, default: 0] < seq {
            problems.append(
                "\(site) after \(context): its version vector went back for \(id) from \(seq) to \(vector[id, default: 0])"
            )
        }
        let own = vector[siteIDs[site]!, default: 0]
        let committed = Int64(ledger.transactions[site, default: 0])
        let doubtful = Int64(inDoubt.filter { $0.site == site }.count)
        if own < committed || own > committed + doubtful {
            problems.append(
                "\(site) after \(context): it holds \(own) of its own transactions; \(committed) were committed")
        }
        lastVectors[site] = vector
    }

    private var expectedVector: [String: Int64] {
        var vector: [String: Int64] = [:]
        for site in sites where ledger.transactions[site, default: 0] > 0 {
            vector[siteIDs[site]!] = Int64(ledger.transactions[site]!)
        }
        return vector
    }

    /// Syncs without faults until every replica holds every transaction (at most six rounds).
    private func converge() async throws {
        for _ in 0..<6 {
            try await resolveInDoubt()
            for spoke in spokes + [spokes[0]] {
                let outcome = try await cli.run(["sync", database(spoke), "--page-changes", "1000"])
                if outcome.signal != nil || outcome.status != 0 {
                    problems.append("a sync after the faults failed: \(outcome)")
                }
            }
            var vectors: [[String: Int64]] = []
            for site in sites { vectors.append(try await cli.vector(database(site))) }
            try await resolveInDoubt()
            if vectors.allSatisfy({ $0 == expectedVector }) { return }
        }
        problems.append("the replicas did not converge in six rounds after the faults")
    }

    private func checkEnd() async throws {
        var dumps: [String: String] = [:]
        var logs: [String: [FaultLogEntry]] = [:]
        for site in sites {
            dumps[site] = try await cli.dump(database(site))
            logs[site] = try await cli.log(database(site))
            let conflicts = try await cli.conflictCount(database(site))
            if conflicts != 0 {
                problems.append("\(site) invented \(conflicts) conflicts (no concurrent edits were made)")
            }
        }
        for site in spokes where dumps[site] != dumps[hub] {
            problems.append("the dumps of \(site) and \(hub) differ")
        }
        for site in sites {
            let (differences, missing) = ledger.differences(from: dumps[site]!)
            problems += differences.map { "\(site): \($0)" }
            rowsLost = max(rowsLost, missing)
            let expected = ledger.transactions.values.reduce(0, +)
            if logs[site]!.count != expected {
                problems.append("\(site) logs \(logs[site]!.count) transactions; \(expected) were committed")
            }
        }
        var originOf: [String: String] = [:]
        for site in sites { originOf[siteIDs[site]!] = site }
        problems += FaultLogs.problems(logs, originOf: originOf)
    }
}
