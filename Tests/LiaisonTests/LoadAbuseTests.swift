import Foundation
import LiaisonTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A `liaison serve` process attacked over loopback, with figures: what an unauthenticated
/// connection costs it, and how long a legitimate sync takes while 1,000 idle connections are held.
/// Bounded (a few seconds each) and self-stopping; the figures are printed for the record.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LoadAbuseTests {
    /// Raises this process's soft descriptor limit (the test holds ~1,000 sockets).
    static func raiseDescriptorLimit(to wanted: Int) -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < rlim_t(wanted) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }

    /// A served NL-NCTV with MA-DGST cloned from it.
    static func withServedClone(
        _ body: (FaultCLI, FaultServer) async throws -> Void
    ) async throws {
        let binary = try #require(FaultTools.liaison, "no built liaison next to the test bundle")
        try await withTemporaryDirectory { directory in
            var cli = FaultCLI(binary: binary, directory: directory)
            cli.environment["LIAISON_TOKEN"] = "load-test-token"
            _ = try await cli.output(["init", "nl.db", "--site", "NL-NCTV", "--sample"])
            _ = try await cli.output(
                ["peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--read", "*", "--write", "*"])
            let server = try await FaultServer.start(binary: binary, database: "nl.db", in: directory)
            defer { server.kill() }
            // Each side trusts the other's key, as operators do after comparing `liaison identity`.
            let nl = try await identity(cli, "nl.db")
            _ = try await cli.output(
                ["clone", server.url, "ma.db", "--site", "MA-DGST", "--key", nl.publicKey, "--site-id", nl.siteID]
                    + ["--read", "*", "--write", "*"])
            let ma = try await identity(cli, "ma.db")
            _ = try await cli.output(["trust", "nl.db", "MA-DGST", "--key", ma.publicKey, "--site-id", ma.siteID])
            try await body(cli, server)
            await server.stop()
        }
    }

    private struct Identity: Decodable {
        var siteID: String
        var publicKey: String
    }

    private static func identity(_ cli: FaultCLI, _ database: String) async throws -> Identity {
        try JSONDecoder().decode(
            Identity.self, from: Data(try await cli.output(["identity", database, "--json"]).utf8))
    }

    /// Runs one `liaison sync ma.db` after an edit; returns how long it took.
    static func timedSync(_ cli: FaultCLI, _ index: Int) async throws -> Duration {
        _ = try await cli.output(["set", "ma.db", "topic", "topic-load-\(index)", "name=Load \(index)"])
        let start = ContinuousClock.now
        _ = try await cli.output(["sync", "ma.db"], timeout: .seconds(60))
        return ContinuousClock.now - start
    }

    @Test func unauthenticatedConnectionsCostTheServerLittle() async throws {
        _ = Self.raiseDescriptorLimit(to: 4_096)
        try await Self.withServedClone { cli, server in
            let before = try #require(server.process.memoryKiB())
            // The attack of the issue: bodies of 16 MB behind a well-formed but bogus signature.
            var refused = 0
            for _ in 0..<48 {
                let connection = try FaultConnection(port: server.port)
                connection.send(
                    "POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Authorization: Liaison key=0123456789abcdef, ts=\(FaultHTTP.nowMilliseconds), nonce=00, "
                        + "from=an-outsider, to=a-server, body=\(String(repeating: "0", count: 64)), sig=AA\r\n"
                        + "Content-Length: 16000000\r\n\r\n")
                connection.send(Data(repeating: 0x20, count: 256 * 1024))
                if await connection.waitForAnswer(timeout: .seconds(10))?.status == 401 { refused += 1 }
                connection.hangUp()
            }
            let afterBodies = try #require(server.process.memoryKiB())
            // Half-sent requests held open (until the header deadline).
            var held: [FaultConnection] = []
            for _ in 0..<500 {
                let connection = try FaultConnection(port: server.port)
                connection.send("POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Length: 16000000\r\n")
                held.append(connection)
            }
            try await Task.sleep(for: .milliseconds(500))
            let afterHeld = try #require(server.process.memoryKiB())
            let perConnection = Double(max(0, afterHeld - afterBodies)) / 500
            print(
                "server RSS: \(before / 1024) MiB at rest; \(afterBodies / 1024) MiB after 48 bogus 16 MB pushes "
                    + "(\(refused) refused from their headers); \(afterHeld / 1024) MiB with 500 half-sent requests "
                    + "held: \(String(format: "%.1f", perConnection)) KiB per unauthenticated connection")
            #expect(refused == 48)
            #expect(
                afterBodies - before < 64 * 1024,
                "48 bogus pushes grew the server by \((afterBodies - before) / 1024) MiB")
            #expect(perConnection < 64, "an unauthenticated connection costs \(perConnection) KiB")
            for connection in held { connection.hangUp() }
        }
    }

    @Test func aSyncCompletesWhileAThousandIdleConnectionsAreHeld() async throws {
        let limit = Self.raiseDescriptorLimit(to: 4_096)
        try #require(limit >= 1_200, "cannot hold 1,000 connections with a descriptor limit of \(limit)")
        try await Self.withServedClone { cli, server in
            var quiet: [Duration] = []
            for index in 0..<3 { quiet.append(try await Self.timedSync(cli, index)) }
            var held: [FaultConnection] = []
            for index in 0..<1_000 {
                let connection = try FaultConnection(port: server.port)
                if index.isMultiple(of: 2) { connection.send("GET /v1/status HTTP/1.1\r\nHost: x\r\n") }
                held.append(connection)
            }
            var attacked: [Duration] = []
            for index in 3..<6 { attacked.append(try await Self.timedSync(cli, index)) }
            let rss = server.process.memoryKiB() ?? 0
            // Top it up: those the server closed to make room are opened again.
            var reopened = 0
            for index in held.indices where await held[index].waitForClose(timeout: .zero) {
                held[index] = try FaultConnection(port: server.port)
                reopened += 1
            }
            attacked.append(try await Self.timedSync(cli, 6))
            let quickest = { (list: [Duration]) in list.min() ?? .zero }
            print(
                "liaison sync: \(quickest(quiet)) quickest of 3 on a quiet server; \(quickest(attacked)) quickest of 4 "
                    + "(slowest \(attacked.max() ?? .zero)) with 1,000 idle connections held "
                    + "(\(reopened) closed by the server to make room and reopened); server RSS \(rss / 1024) MiB")
            #expect(attacked.max()! < .seconds(30))
            for connection in held { connection.hangUp() }
        }
    }
}
