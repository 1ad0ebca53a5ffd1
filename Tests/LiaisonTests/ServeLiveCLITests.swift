import Foundation
import Liaison
import LiaisonTesting
import Testing

/// `liaison serve --live` as operators run it: an edit made by another process on NL's file (the
/// CLI, as an application would) reaches MA's replica long before the 30 s round.
@Suite(.timeLimit(.minutes(2))) struct ServeLiveCLITests {
    private struct Identity: Decodable {
        var siteID: String
        var publicKey: String
    }

    private static func identity(_ cli: FaultCLI, _ database: String) async throws -> Identity {
        try JSONDecoder().decode(
            Identity.self, from: Data(try await cli.output(["identity", database, "--json"]).utf8))
    }

    @Test func anEditOfAnotherProcessReachesALivePeer() async throws {
        let binary = try #require(FaultTools.liaison, "no built liaison next to the test bundle")
        try await withTemporaryDirectory { directory in
            var cli = FaultCLI(binary: binary, directory: directory)
            cli.environment["LIAISON_TOKEN"] = "live-cli-token"
            _ = try await cli.output(["init", "nl.db", "--site", "NL-NCTV", "--sample"])
            _ = try await cli.output(
                ["peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--read", "*", "--write", "*"])
            let nlServer = try await FaultServer.start(binary: binary, database: "nl.db", in: directory)
            defer { nlServer.kill() }
            let nl = try await Self.identity(cli, "nl.db")
            _ = try await cli.output(
                ["clone", nlServer.url, "ma.db", "--site", "MA-DGST", "--key", nl.publicKey, "--site-id", nl.siteID]
                    + ["--read", "*", "--write", "*"])
            let ma = try await Self.identity(cli, "ma.db")
            _ = try await cli.output(["trust", "nl.db", "MA-DGST", "--key", ma.publicKey, "--site-id", ma.siteID])
            let maServer = try await FaultServer.start(
                binary: binary, database: "ma.db", in: directory, extraArguments: ["--live"])
            defer { maServer.kill() }
            let replica = try Replica.open(at: cli.path("ma.db"))
            // The first round (at start) done, MA waits on NL.
            try await Task.sleep(for: .seconds(1))
            _ = try await cli.output(["set", "nl.db", "topic", "topic-cli-live", "name=Live from the CLI"])
            let started = ContinuousClock.now
            var arrived = false
            while ContinuousClock.now - started < .seconds(20) {
                if try replica.row("topic", id: "topic-cli-live")?["name"] == .text("Live from the CLI") {
                    arrived = true
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let elapsed = ContinuousClock.now - started
            #expect(arrived && elapsed < .seconds(10), "arrived: \(arrived) after \(elapsed) (rounds are 30 s apart)")
            #expect(maServer.process.stdout.contains("live NL-NCTV: pulled"), "\(maServer.process.stdout)")
            await maServer.stop()
            await nlServer.stop()
        }
    }
}
