import Foundation
import Liaison
import LiaisonTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `liaison` as a process under abuse: a server that must stop, a client fed a gzip bomb,
/// secrets on disk and in `ps`.
@Suite(.timeLimit(.minutes(2))) struct ProcessAbuseTests {
    @Test func serveStopsWithinASecondOfSIGTERMWithConnectionsOpen() async throws {
        let binary = try #require(FaultTools.liaison, "no built liaison next to the test bundle")
        try await withTemporaryDirectory { directory in
            let cli = FaultCLI(binary: binary, directory: directory)
            _ = try await cli.output(["init", "nl.db", "--site", "NL-NCTV"])
            _ = try await cli.output([
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--token", "ma-secret-1",
            ])
            let server = try await FaultServer.start(binary: binary, database: "nl.db", in: directory)
            let status = try #require(try await FaultHTTP.get("/v1/status", port: server.port, token: "ma-secret-1"))
            #expect(status.status == 200)
            let serverID = try #require(
                (try JSONSerialization.jsonObject(with: status.body) as? [String: Any])?["siteID"] as? String)
            var held: [FaultConnection] = []
            for index in 0..<30 {
                let connection = try FaultConnection(port: server.port)
                switch index < 3 ? 2 : index % 2 {
                case 0: break  // idle
                case 1: connection.send("POST /v1/pull HTTP/1.1\r\nHost: x\r\n")  // half-sent head
                default:  // a registered key's request waiting for its body
                    let signature = RequestSignature.sign(
                        token: "ma-secret-1", method: "POST", path: "/v1/pull", body: Data(),
                        now: FaultHTTP.nowMilliseconds, from: FaultHTTP.harnessSender, to: serverID)
                    connection.send(
                        "POST /v1/pull HTTP/1.1\r\nHost: x\r\nAuthorization: \(signature.headerValue)\r\n"
                            + "Content-Length: 500\r\n\r\n{")
                }
                held.append(connection)
            }
            try await Task.sleep(for: .milliseconds(200))
            // Timed on threads of its own (`TestExecutor`): on the cooperative pool, other suites'
            // synchronous work delayed the wait's wake-ups, not the server (7.6 s measured once).
            let (outcome, took) = await withTaskExecutorPreference(TestExecutor.shared) {
                let start = ContinuousClock.now
                let outcome = await server.stop()
                return (outcome, ContinuousClock.now - start)
            }
            #expect(!outcome.timedOut && outcome.signal == nil && outcome.status == 0, "\(outcome)")
            // 0.5 s of grace, then every connection is closed: about 0.52 s on a quiet machine, 3 s
            // seen with the whole suite and other builds on two cores. Before, open connections
            // kept it running for over 5 s (issue 13).
            #expect(took < .seconds(5), "liaison serve took \(took) to stop after SIGTERM")
            print("serve stopped \(took) after SIGTERM with 30 connections open")
            #expect(outcome.stdout.contains("stopped"))
            _ = held
        }
    }

    @Test func aGzipBombCostsASyncingClientAtMostItsAnswerBound() async throws {
        let binary = try #require(FaultTools.liaison, "no built liaison next to the test bundle")
        try await withTemporaryDirectory { directory in
            // 1 GiB of zeros, gzip-compressed to about 1 MB, as the answer to any request.
            let bomb = directory.appendingPathComponent("bomb.gz").path
            let made = try await FaultTools.run(
                URL(fileURLWithPath: "/bin/sh"), ["-c", "head -c 1073741824 /dev/zero | gzip -c > \(bomb)"],
                in: directory)
            #expect(made.status == 0, "\(made)")
            let compressed = try Data(contentsOf: URL(fileURLWithPath: bomb))
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                + "Content-Length: \(compressed.count)\r\nConnection: close\r\n\r\n"
            let stub = try FaultStub(answer: Data(head.utf8) + compressed)
            defer { stub.stop() }
            let cli = FaultCLI(binary: binary, directory: directory)
            _ = try await cli.output(["init", "ma.db", "--site", "MA-DGST"])
            _ = try await cli.output(["peer", "add", "ma.db", "NL-NCTV", stub.url, "--token", "nl-secret-1"])
            let process = try cli.start(["sync", "ma.db"])
            let outcome = await process.wait(timeout: .seconds(90))
            let peakMiB = process.peakResidentKiB / 1024
            print("client peak RSS under a \(compressed.count / 1024) KiB gzip bomb (1 GiB inflated): \(peakMiB) MiB")
            #expect(outcome.status == 1 && outcome.signal == nil, "\(outcome)")
            #expect(outcome.stderr.contains("inflates to more than"), "\(outcome)")
            #expect(peakMiB < 300, "the client reached \(peakMiB) MiB")
        }
    }
}
