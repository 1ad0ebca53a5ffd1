import Foundation
import Liaison
import LiaisonTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `liaison serve` as a process: it stops promptly on SIGTERM whatever its clients hold open.
@Suite(.timeLimit(.minutes(2))) struct ServeShutdownTests {
    @Test func serveStopsWithinASecondOfSIGTERMWithConnectionsOpen() async throws {
        let binary = try #require(FaultTools.liaison, "no built liaison next to the test bundle")
        try await withTemporaryDirectory { directory in
            let cli = FaultCLI(binary: binary, directory: directory)
            _ = try await cli.output(["init", "nl.db", "--site", "NL-NCTV"])
            _ = try await cli.output(["peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--token", "ma-secret-1"])
            let server = try await FaultServer.start(binary: binary, database: "nl.db", in: directory)
            #expect(try await FaultHTTP.get("/v1/status", port: server.port, token: "ma-secret-1")?.status == 200)
            var held: [FaultConnection] = []
            for index in 0..<30 {
                let connection = try FaultConnection(port: server.port)
                switch index < 3 ? 2 : index % 2 {
                case 0: break  // idle
                case 1: connection.send("POST /v1/pull HTTP/1.1\r\nHost: x\r\n")  // half-sent head
                default:  // a registered key's request waiting for its body
                    let signature = RequestSignature.sign(
                        token: "ma-secret-1", method: "POST", path: "/v1/pull", body: Data(),
                        now: FaultHTTP.nowMilliseconds)
                    connection.send(
                        "POST /v1/pull HTTP/1.1\r\nHost: x\r\nAuthorization: \(signature.headerValue)\r\n"
                            + "Content-Length: 500\r\n\r\n{")
                }
                held.append(connection)
            }
            try await Task.sleep(for: .milliseconds(200))
            let start = ContinuousClock.now
            let outcome = await server.stop()
            let took = ContinuousClock.now - start
            #expect(!outcome.timedOut && outcome.signal == nil && outcome.status == 0, "\(outcome)")
            #expect(took < .milliseconds(1_500), "liaison serve took \(took) to stop after SIGTERM")
            print("serve stopped \(took) after SIGTERM with 30 connections open")
            #expect(outcome.stdout.contains("stopped"))
            _ = held
        }
    }
}
