import Foundation
import Liaison
import LiaisonTesting
import Testing

/// `liaison bundle` as an operator at each end of a one-way gateway uses it: the built binary,
/// no server, no network.
@Suite(.timeLimit(.minutes(2))) struct BundleCLITests {
    @Test func createVerifyImportAndAcknowledgeOverADisk() async throws {
        try await withCLI { cli in
            try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV", "--sample")
            try await cli.expectSuccess("init", "tr.db", "--site", "TR-TNP")
            let nl = try JSONDecoder().decode(
                Identity.self, from: Data(try await cli("identity", "nl.db", "--json").stdout.utf8))
            let tr = try JSONDecoder().decode(
                Identity.self, from: Data(try await cli("identity", "tr.db", "--json").stdout.utf8))
            let environment = ["LIAISON_TOKEN": "bundles-only-token"]
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "TR-TNP", "http://air-gapped.invalid", "--key", tr.publicKey, "--site-id",
                tr.siteID, "--read", "public,gctf", "--write", "public", environment: environment)
            try await cli.expectSuccess(
                "peer", "add", "tr.db", "NL-NCTV", "http://air-gapped.invalid", "--key", nl.publicKey, "--site-id",
                nl.siteID, "--read", "public", "--write", "*", environment: environment)
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-cli", "name=Returnees", "--author", "anna")

            let created = try await cli("bundle", "create", "nl.db", "--for", "TR-TNP", "--out", "nl-tr.bundle")
            #expect(created.status == 0 && created.stderr.isEmpty, "\(created)")
            #expect(created.stdout.hasPrefix("wrote nl-tr.bundle for TR-TNP: 2 transactions, "), "\(created)")
            #expect(created.stdout.contains("signed, not sealed"), "\(created)")

            let before = try await cli.snapshot("tr.db")
            let verified = try await cli("bundle", "verify", "nl-tr.bundle", "--db", "tr.db")
            #expect(verified.status == 0, "\(verified)")
            #expect(verified.stdout.hasPrefix("would import bundle "), "\(verified)")
            #expect(verified.stdout.contains("2 transactions, 2 applied, 0 already here, 0 held"), "\(verified)")
            #expect(try await cli.snapshot("tr.db") == before)

            let imported = try await cli("bundle", "import", "tr.db", "nl-tr.bundle", "--ack-out", "tr-nl.ack")
            #expect(imported.status == 0 && imported.stderr.isEmpty, "\(imported)")
            #expect(imported.stdout.contains("2 transactions, 2 applied, 0 already here, 0 held"), "\(imported)")
            #expect(imported.stdout.contains("wrote acknowledgement tr-nl.ack for NL-NCTV (sealed)"), "\(imported)")
            #expect(try await cli.getJSON("tr.db", "topic", "topic-cli")["name"] == .text("Returnees"))

            let again = try await cli("bundle", "import", "tr.db", "nl-tr.bundle")
            #expect(again.stdout.contains("2 transactions, 0 applied, 2 already here, 0 held"), "\(again)")
            #expect(again.stdout.contains("imported here before, at "), "\(again)")

            let acknowledged = try await cli("bundle", "import", "nl.db", "tr-nl.ack")
            #expect(acknowledged == CommandResult(stdout: "acknowledgement from TR-TNP recorded\n"), "\(acknowledged)")
            // `status` says what TR acknowledged, when and how, and that it holds nothing back.
            let status = try await cli("status", "nl.db")
            let line = try #require(
                status.stdout.split(separator: "\n").first { $0.hasPrefix("acknowledgement TR-TNP: ") }, "\(status)")
            #expect(
                line.contains("acknowledged NL-NCTV=") && line.contains(" by bundle; holds nothing back"), "\(line)")
            let statusJSON = try JSONDecoder().decode(
                ReplicaStatus.self, from: Data(try await cli("status", "nl.db", "--json").stdout.utf8))
            let ack = try #require(statusJSON.acknowledgements.first { $0.peer == "TR-TNP" })
            #expect(
                ack.via == "bundle" && ack.acknowledgedAt != nil && !ack.holdsBackCompaction && ack.unacknowledged == 0)
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-cli", "name=Sealed", "--author", "anna")
            let next = try await cli("bundle", "create", "nl.db", "--for", "TR-TNP", "--out", "next.bundle")
            #expect(next.stdout.hasPrefix("wrote next.bundle for TR-TNP: 1 transactions, 1 changes, "), "\(next)")
            #expect(
                next.stdout.contains("sealed to TR-TNP's key") && next.stdout.contains("since TR-TNP's acknowledgement")
            )

            // A tampered bundle is bad input: one line, exit 64, nothing written.
            let genuine = try Data(contentsOf: cli.url("nl-tr.bundle"))
            let body = String(decoding: try Replica.bundlePlaintext(of: genuine), as: UTF8.self)
            let tampered = try Replica.bundleReplacingPayload(
                of: genuine, with: Data(body.replacingOccurrences(of: "Returnees", with: "Returnerz").utf8))
            try tampered.write(to: cli.url("bad.bundle"))
            try await cli.expectRefused(
                "bundle", "import", "tr.db", "bad.bundle", mentioning: "the bundle was refused",
                "does not match its digest",
                leaving: "tr.db")
            try await cli.expectRefused(
                "bundle", "create", "nl.db", "--for", "MA-DGST", "--out", "x.bundle", mentioning: "no peer 'MA-DGST'")
            try await cli.expectRefused(
                "bundle", "create", "nl.db", "--for", "TR-TNP", "--out", "x.bundle", "--since", "NL-NCTV",
                mentioning: "expected CODE=SEQ")
        }
    }
}
