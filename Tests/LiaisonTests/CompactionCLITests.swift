import Foundation
import Liaison
import LiaisonTesting
import Testing

/// `liaison compact --remove-transactions` and a `liaison clone` of the compacted replica, as
/// operators run them: the built binary and a real `liaison serve`.
@Suite(.timeLimit(.minutes(3))) struct CompactionCLITests {
    @Test func removeTransactionsThenCloneFromTheSnapshot() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess("init", "tr.db", "--site", "TR-TNP")
            let tr = try JSONDecoder().decode(
                Identity.self, from: Data(try await cli("identity", "tr.db", "--json").stdout.utf8))
            let nl = try JSONDecoder().decode(
                Identity.self, from: Data(try await cli("identity", "nl.db", "--json").stdout.utf8))
            let environment = ["LIAISON_TOKEN": "bundles-only-token"]
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "TR-TNP", "http://air-gapped.invalid", "--key", tr.publicKey, "--site-id",
                tr.siteID, "--read", "*", "--write", "public", environment: environment)
            try await cli.expectSuccess(
                "peer", "add", "tr.db", "NL-NCTV", "http://air-gapped.invalid", "--key", nl.publicKey, "--site-id",
                nl.siteID, "--read", "public", "--write", "*", environment: environment)
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-cli", "name=Returnees", "--author", "anna")
            for round in 0..<6 {
                try await cli.expectSuccess(
                    "set", "nl.db", "topic", "topic-cli", "description=draft \(round)", "--author", "anna")
            }
            try await cli.expectSuccess("bundle", "create", "nl.db", "--for", "TR-TNP", "--out", "nl-tr.bundle")
            try await cli.expectSuccess("bundle", "import", "tr.db", "nl-tr.bundle", "--ack-out", "tr-nl.ack")
            try await cli.expectSuccess("bundle", "import", "nl.db", "tr-nl.ack")

            let before = try await cli("status", "nl.db")
            #expect(before.stdout.contains("compaction: never run here"), "\(before)")
            #expect(
                before.stdout.contains("compaction floor: ") && before.stdout.contains("no peer holds it back"),
                "\(before)")
            let plan = try await cli("compact", "nl.db", "--plan")
            #expect(plan.stdout.contains("removable whole (--remove-transactions): 5 transactions"), "\(plan)")
            #expect(plan.stdout.contains("compaction: never run here"), "\(plan)")
            try await cli.expectRefused(
                "compact", "nl.db", "--plan", "--remove-transactions",
                mentioning: "--remove-transactions goes with --apply")
            let applied = try await cli("compact", "nl.db", "--apply", "--remove-transactions")
            #expect(applied.status == 0 && applied.stdout.contains("and removed 5 transactions whole"), "\(applied)")
            let after = try await cli("status", "nl.db")
            #expect(
                after.stdout.contains("compaction: last checkpoint 1 at ")
                    && after.stdout.contains("(1 in all); removed 5 transactions whole, dropped "),
                "\(after)")
            let verified = try await cli("verify", "nl.db")
            #expect(
                verified.status == 0
                    && verified.stdout.contains("; 5 transactions removed by compaction, their chain heads signed"),
                "\(verified)")

            // A new peer clones: the log cannot be synced from nothing, so clone starts from the
            // signed snapshot, checks it, and syncs on.
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "BE-OCAM", "http://127.0.0.1:1", "--token", "be-to-nl-secret", "--read", "*",
                "--write", "*")
            let server = try await cli.serve("nl.db")
            let cloned = try await cli.run(
                ["clone", server.url, "be.db", "--site", "BE-OCAM", "--token", "be-to-nl-secret", "--write", "*"]
                    + (try await cli.keyArguments("nl.db")))
            #expect(cloned.status == 0, "\(cloned)")
            #expect(cloned.stdout.contains("compacted its history: started from its signed snapshot"), "\(cloned)")
            _ = try await server.stop()
            try await cli.expectSuccess("verify", "be.db")
            let cloneStatus = try await cli("status", "be.db")
            #expect(
                cloneStatus.stdout.contains(
                    "compaction: 5 transactions removed by the source of the snapshot this replica was cloned from"),
                "\(cloneStatus)")
            #expect(try await cli("dump", "be.db").stdout == cli("dump", "nl.db").stdout)
        }
    }
}
