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

// Issue 6: hostile HTTP, arguments and files.

// MARK: - 4. Hostile input: HTTP fuzzing, bad arguments, corrupted files

@Suite(.timeLimit(.minutes(20))) struct HostileInputFaultTests {
    static let suite = "HostileInputFaultTests"
    static let tests = 8

    @Test func everyEndpointAnswersHostileRequestsWithA4xxJSONErrorAndWritesNothing() async throws {
        let scale = FaultScale.current
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                _ = try await cli.output(["init", "hub.db", "--site", "NL-NCTV", "--sample"])
                _ = try await cli.output([
                    "peer", "add", "hub.db", "MA-DGST", "http://127.0.0.1:1", "--token", faultToken,
                ])
                let maxBody = 262_144
                try await withFaultServer(cli, "hub.db", arguments: ["--max-body", String(maxBody)]) { server in
                    let baseline = try await cli.dump("hub.db")
                    let first = try #require(
                        try await FaultHTTP.get("/v1/status", port: server.port, token: faultToken))
                    #expect(first.status == 200, "\(first)")
                    let status = try #require(try JSONSerialization.jsonObject(with: first.body) as? [String: Any])
                    let siteID = try #require(status["siteID"] as? String)
                    let vector = status["vector"] as? [String: Int]
                    var fuzzer = FaultFuzzer(
                        seed: scale.seed &+ 5, token: faultToken, serverSiteID: siteID, maxBody: maxBody)
                    var failures: [String] = []
                    var restarts = 0
                    var sent = 0
                    var statuses: [Int: Int] = [:]
                    func unchanged(_ moment: String) async throws {
                        let dump = try await cli.dump("hub.db")
                        if dump != baseline { failures.append("\(moment): the dump changed") }
                        let answer = try? await FaultHTTP.get("/v1/status", port: server.port, token: faultToken)
                        let now = answer.flatMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
                        if now?["vector"] as? [String: Int] != vector {
                            failures.append("\(moment): the version vector changed")
                        }
                    }
                    for index in 0..<scale.fuzzRequests {
                        let request = fuzzer.next()
                        sent += 1
                        let answer = try? await FaultHTTP.exchange(
                            port: server.port, request: request.bytes(port: server.port))
                        statuses[answer?.status ?? 0, default: 0] += 1
                        if let problem = Self.judge(request, answer) {
                            failures.append("#\(index) \(request): \(problem)")
                        }
                        let alive = try? await FaultHTTP.get("/v1/status", port: server.port, token: faultToken)
                        if alive?.status != 200 {
                            let outcome = await server.process.wait(timeout: .seconds(10))
                            failures.append("#\(index) \(request): the server stopped answering: \(outcome)")
                            restarts += 1
                            if restarts > 3 { break }
                            try await server.restart()
                        }
                        if index % 100 == 99 { try await unchanged("after request #\(index)") }
                    }
                    try await unchanged("at the end")
                    tally.requests = sent
                    let histogram = statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(
                        separator: ", ")
                    FileHandle.standardOutput.write(
                        Data("HostileInputFaultTests: \(sent) hostile requests answered \(histogram)\n".utf8))
                    #expect(
                        failures.isEmpty,
                        "seed \(scale.seed &+ 5), \(failures.count) failures:\n\(failures.prefix(25).joined(separator: "\n"))"
                    )
                }
            }
        }
    }

    /// What is wrong with `answer` to `request`, if anything.
    static func judge(_ request: FaultRequest, _ answer: FaultHTTPAnswer?) -> String? {
        guard let answer else { return "no answer (connection closed)" }
        if (400..<500).contains(answer.status) {
            guard answer.headers["content-type"]?.hasPrefix("application/json") == true, answer.errorObject != nil
            else {
                return "a \(answer.status) that is not a JSON {error, message}: \(answer)"
            }
            return nil
        }
        guard answer.status == 200, request.expectation == .harmless else {
            return "answered \(answer)"
        }
        if request.isPush {
            let object = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
            if (object?["applied"] as? Int) != 0 { return "a hostile push was applied: \(answer)" }
        }
        return nil
    }

    @Test func badArgumentsGetOneClearLineAndNeverACrash() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                _ = try await cli.output(["init", "nl.db", "--site", "NL-NCTV", "--sample"])
                let before = try await cli.dump("nl.db") + (try await cli.output(["log", "nl.db", "--json"]))
                let long = String(repeating: "x", count: 100_000)
                let cases: [[String]] = [
                    ["frobnicate"], ["--unknown-flag"], ["set"], ["set", "nl.db"], ["set", "nl.db", "topic"],
                    ["set", "nl.db", "topic", "t1", "noequals"], ["set", "nl.db", "topic", "t1", "=x"],
                    ["serve", "nl.db", "--port", "abc"], ["serve", "nl.db", "--port", "70000"],
                    ["serve", "nl.db", "--port", "-1"],
                    ["serve", "nl.db", "--port", "0", "--max-body", "1"], ["log", "nl.db", "--limit", "0"],
                    ["log", "nl.db", "--limit", "99999999999999999999"], ["sync", "nl.db", "--page-changes", "0"],
                    ["sync", "nl.db", "--every", "never"], ["sync", "nl.db", "--peer", "nobody"], ["sync", "nl.db"],
                    ["init", "new.db", "--site", "not a code"], ["init", "nl.db", "--site", "NL-NCTV"],
                    ["init", "/nonexistent-dir/x.db", "--site", "NL-NCTV"], ["get", "missing.db", "topic", "x"],
                    ["get", "nl.db", "topic", long], ["set", "nl.db", "topic", long, "name=x"],
                    ["set", "nl.db", "organisation; DROP TABLE topic", "x", "name=y"],
                    ["set", "nl.db", "topic", "x", "name\"--=y"],
                    ["set", "nl.db", "topic", "x", "name=y", "bogus\u{0}=z"],
                    ["set", "nl.db", "topic", "id with space", "name=y"],
                    ["set", "nl.db", "agenda_item", "a1", "priority=1e999"],
                    ["set", "nl.db", "agenda_item", "a1", "priority=99999999999999999999"],
                    ["delete", "nl.db", "topic", "nothing-here"],
                    ["peer", "add", "nl.db", "bad name!", "http://127.0.0.1:1", "--token", "12345678"],
                    ["peer", "add", "nl.db", "P", "ftp://x", "--token", "12345678"],
                    ["peer", "add", "nl.db", "P", "http://127.0.0.1:1", "--token", "short"],
                    ["resolve", "nl.db", "nope", "--keep", "winner"], ["resolve", "nl.db", "nope", "--keep", "both"],
                    ["clone", "http://127.0.0.1:1", "c.db", "--site", "XX-YY", "--token", "12345678"],
                    ["dump"], ["dump", "nl.db", "extra"], ["dump", "/"], ["dump", "/dev/null"],
                    ["status", cli.directory.path],
                    ["conflicts", "nl.db", "--json", "--nope"], ["list", "nl.db", "nope", "--json"],
                ]
                var failures: [String] = []
                for arguments in cases {
                    let outcome = try await cli.run(arguments, timeout: .seconds(60))
                    let shown = arguments.map { $0.count > 60 ? "\($0.prefix(20))…(\($0.count) chars)" : $0 }.joined(
                        separator: " ")
                    if let problem = Self.problemWithFailure(outcome, json: arguments.contains("--json")) {
                        failures.append("liaison \(shown): \(problem)")
                    }
                }
                tally.requests = cases.count
                #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
                #expect(try await cli.dump("nl.db") + (try await cli.output(["log", "nl.db", "--json"])) == before)
            }
        }
    }

    /// A failed command: no crash, no hang, exit 1 or 64, nothing on stdout, one line on stderr.
    static func problemWithFailure(_ outcome: FaultOutcome, json: Bool) -> String? {
        if let signal = outcome.signal { return "crashed with signal \(signal): \(outcome)" }
        if outcome.timedOut { return "hung: \(outcome)" }
        guard outcome.status == 1 || outcome.status == 64 else {
            return "exit \(outcome.status), expected 1 or 64: \(outcome)"
        }
        guard outcome.stdout.isEmpty else { return "printed on stdout: \(outcome)" }
        let lines = outcome.errorLines
        guard lines.count == 1 else { return "\(lines.count) lines on stderr: \(outcome)" }
        if json, lines[0].hasPrefix("{") {
            let object = try? JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
            return object?["error"] is String && object?["message"] is String ? nil : "not a JSON error: \(outcome)"
        }
        return lines[0].hasPrefix("liaison: ") ? nil : "the error line does not start with 'liaison: ': \(outcome)"
    }

    @Test func corruptedReplicaFilesGiveAClearErrorNeverACrash() async throws {
        let scale = FaultScale.current
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                _ = try await cli.output(["init", "base.db", "--site", "NL-NCTV", "--sample"])
                let rows = try await cli.sqlite(
                    "base.db",
                    "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 2000) "
                        + "INSERT INTO topic(id, name, scope, owner) SELECT 'topic-' || n, 'Topic ' || n, 'public', 'NL-NCTV' FROM k;"
                )
                #expect(rows.status == 0, "\(rows)")
                _ = try await cli.output(["status", "base.db"])
                _ = try await cli.sqlite("base.db", "PRAGMA wal_checkpoint(TRUNCATE);")
                let base = try Data(contentsOf: cli.directory.appendingPathComponent("base.db"))
                let baseDump = try await cli.dump("base.db")
                var rng = SeededGenerator(seed: scale.seed &+ 6)
                var failures: [String] = []
                let kinds = FaultCorruption.kinds
                for trial in 0..<scale.corruptions {
                    let kind = trial < kinds ? trial : [0, 1, 2, 3, 8].randomElement(using: &rng)!
                    let name = "trial\(trial).db"
                    let url = cli.directory.appendingPathComponent(name)
                    let label = try await FaultCorruption.apply(kind: kind, base: base, at: url, cli: cli, rng: &rng)
                    // The key file beside it is intact: only the SQLite file is damaged.
                    try? FileManager.default.removeItem(atPath: url.path + ".keys")
                    try FileManager.default.copyItem(
                        atPath: cli.directory.appendingPathComponent("base.db.keys").path, toPath: url.path + ".keys")
                    for arguments in [
                        ["dump", name], ["status", name, "--json"],
                        ["set", name, "topic", "topic-after", "name=After"],
                    ] {
                        let outcome = try await cli.run(arguments, timeout: .seconds(60))
                        tally.faults += 1
                        if kind == 8 {
                            // A damaged write-ahead log is ignored: the data is all there.
                            if outcome.status != 0 || (arguments[0] == "dump" && outcome.stdout != baseDump) {
                                failures.append("\(label): liaison \(arguments.joined(separator: " ")): \(outcome)")
                            }
                            continue
                        }
                        if outcome.signal == nil, outcome.status == 0, !outcome.timedOut { continue }
                        if let problem = Self.problemWithFailure(outcome, json: arguments.contains("--json")) {
                            failures.append("\(label): liaison \(arguments.joined(separator: " ")): \(problem)")
                        }
                    }
                    try? FileManager.default.removeItem(at: url)
                    for suffix in ["-wal", "-shm", ".keys"] {
                        try? FileManager.default.removeItem(atPath: url.path + suffix)
                    }
                }
                #expect(failures.isEmpty, "\(failures.prefix(30).joined(separator: "\n"))")
            }
        }
    }

    // Three inputs that crashed the server (arithmetic overflow traps) until commit 7073f6b, kept as
    // regression tests. Each runs against a `liaison serve` process, never in the test process.

    @Test func pullWithACursorAtTheLastPossibleOrderDoesNotCrashTheServer() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await Self.expectServerSurvives(
                tally: &tally, path: "/v1/pull",
                body: Data(#"{"protocolVersion":1,"cursor":"9223372036854775807:0:0","vector":{}}"#.utf8))
        }
    }

    @Test func pushOfAPieceAtOffsetIntMaxIsRefusedWithoutACrash() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            let body = #"""
                {"protocolVersion":1,"transactions":[{"origin":"0d3e9a52-0000-4000-8000-000000000001","site":"MA-DGST","seq":1,"hlc":1,"author":"a","context":{},"total":1,"offset":9223372036854775807,"changes":[{"table":"topic","id":"t","op":"insert","scope":"public","values":{"name":"x"}}]}]}
                """#
            try await Self.expectServerSurvives(tally: &tally, path: "/v1/push", body: Data(body.utf8), refused: true)
        }
    }

    @Test func requestSignedAtTheEarliestTimestampIsRefusedWithoutACrash() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await Self.expectServerSurvives(
                tally: &tally, path: "/v1/pull", body: Data(#"{"protocolVersion":1,"cursor":"0","vector":{}}"#.utf8),
                timestamp: Int64.min, refused: true)
        }
    }

    /// Sends one request to a fresh `liaison serve`: the answer is a 4xx JSON error (or, unless
    /// `refused`, a page of nothing), and the server is still up.
    static func expectServerSurvives(
        tally: inout FaultTally, path: String, body: Data, timestamp: Int64? = nil, refused: Bool = false
    ) async throws {
        try await withFaultCLI { base in
            var cli = base
            cli.environment = FaultTools.environmentWithoutBacktraces
            _ = try await cli.output(["init", "hub.db", "--site", "NL-NCTV", "--sample"])
            _ = try await cli.output(["peer", "add", "hub.db", "MA-DGST", "http://127.0.0.1:1", "--token", faultToken])
            try await withFaultServer(cli, "hub.db") { server in
                // A real peer asks who answers first, then signs every request for it.
                let status = try await FaultHTTP.get("/v1/status", port: server.port, token: faultToken)
                let serverID = try #require(
                    status.flatMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }?["siteID"]
                        as? String)
                var request = FaultHTTP.request(
                    "POST", path, port: server.port, token: faultToken, to: serverID, body: body)
                if let timestamp {
                    let signature = RequestSignature.sign(
                        token: faultToken, method: "POST", path: path, body: body, now: timestamp,
                        from: FaultHTTP.harnessSender, to: serverID)
                    request = FaultHTTP.request(
                        "POST", path, port: server.port, token: nil, body: body,
                        headers: [("Authorization", signature.headerValue)])
                }
                let answer = try? await FaultHTTP.exchange(port: server.port, request: request)
                tally.requests += 1
                tally.faults += 1
                let alive = try? await FaultHTTP.get("/v1/status", port: server.port, token: faultToken)
                let isError = answer.map { (400..<500).contains($0.status) && $0.errorObject != nil } == true
                let isEmptyPage =
                    answer.map {
                        $0.status == 200
                            && ((try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any])?["transactions"]
                                as? [Any])?.isEmpty == true
                    } == true
                #expect(isError || (!refused && isEmptyPage), "\(String(describing: answer))")
                #expect(alive?.status == 200, "the server died: \(server.process.stderr.prefix(300))")
            }
        }
    }

    /// Requests too large for the HTTP parser: still a 4xx JSON error, and the server stays up.
    @Test func aRequestLineOrHeaderTooLongForTheHTTPParserGetsAJSONError() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                _ = try await cli.output(["init", "hub.db", "--site", "NL-NCTV"])
                _ = try await cli.output([
                    "peer", "add", "hub.db", "MA-DGST", "http://127.0.0.1:1", "--token", faultToken,
                ])
                try await withFaultServer(cli, "hub.db") { server in
                    let path = "/v1/" + String(repeating: "a", count: 300_000)
                    let longPath = try await FaultHTTP.exchange(
                        port: server.port, request: FaultHTTP.request("GET", path, port: server.port, token: faultToken)
                    )
                    let longHeader = try await FaultHTTP.exchange(
                        port: server.port,
                        request: FaultHTTP.request(
                            "GET", "/v1/status", port: server.port, token: faultToken,
                            headers: [("X-Padding", String(repeating: "b", count: 200_000))]))
                    tally.requests += 2
                    tally.faults += 2
                    let alive = try await FaultHTTP.get("/v1/status", port: server.port, token: faultToken)
                    #expect(alive?.status == 200, "\(String(describing: alive))")
                    #expect(longPath.map { (400..<500).contains($0.status) } == true, "\(String(describing: longPath))")
                    #expect(
                        longHeader.map { (400..<500).contains($0.status) } == true, "\(String(describing: longHeader))")
                    // The HTTP parser refuses them before the router; ParserErrorResponder answers in JSON.
                    #expect(longPath?.errorObject != nil, "\(String(describing: longPath))")
                    #expect(longHeader?.errorObject != nil, "\(String(describing: longHeader))")
                    let garbage = try await FaultHTTP.exchange(
                        port: server.port, request: Data("NOT HTTP AT ALL\r\n\r\n".utf8))
                    tally.requests += 1
                    tally.faults += 1
                    #expect(garbage?.status == 400 && garbage?.errorObject != nil, "\(String(describing: garbage))")
                }
            }
        }
    }

    /// A row that another SQLite client inserts without an owner (the column default was '', which
    /// every peer refused, so no later edit ever left: fixed in commit 7073f6b).
    @Test func rowInsertedBySQLite3WithoutAnOwnerDoesNotBlockSyncForever() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                _ = try await cli.output(["init", "hub.db", "--site", "NL-NCTV"])
                _ = try await cli.output(["init", "spoke.db", "--site", "MA-DGST"])
                _ = try await cli.output([
                    "peer", "add", "hub.db", "MA-DGST", "http://127.0.0.1:1", "--token", faultToken,
                ])
                try await cli.trustEachOther(["hub.db", "spoke.db"])
                let inserted = try await cli.sqlite(
                    "hub.db", "INSERT INTO topic(id, name) VALUES ('topic-shell', 'No owner given');")
                #expect(inserted.status == 0, "\(inserted)")
                _ = try await cli.output(["set", "hub.db", "topic", "topic-later", "name=A later edit"])
                tally.faults += 1
                try await withFaultServer(cli, "hub.db") { server in
                    _ = try await cli.output(["peer", "add", "spoke.db", "NL-NCTV", server.url, "--token", faultToken])
                    let synced = try await cli.run(["sync", "spoke.db"])
                    let shell = try await cli.run(["get", "spoke.db", "topic", "topic-shell"])
                    let later = try await cli.run(["get", "spoke.db", "topic", "topic-later"])
                    #expect(synced.status == 0, "\(synced)")
                    #expect(shell.status == 0, "the sqlite3 row never arrived: \(shell)")
                    #expect(later.status == 0, "a later edit never arrived: \(later)")
                }
            }
        }
    }
}
