import Foundation
import Liaison
import LiaisonTesting
import Testing

/// `clone` as safe as `peer add`: the source's key is pinned only when the user gives it or
/// confirms its fingerprint, and the source gets only the grants given.
@Suite(.timeLimit(.minutes(3))) struct CloneTrustTests {
    @Test func cloneTrustsOnlyAKeyTheUserGaveOrConfirmed() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--token", "ma-to-nl-secret",
                "--read", "public,eu", "--write", "public")
            try await cli.expectSuccess("init", "other.db", "--site", "ZZ-OTHER")
            let server = try await cli.serve("nl.db")
            let base = ["clone", server.url, "ma.db", "--site", "MA-DGST", "--token", "ma-to-nl-secret"]
            let nlKey = try await cli.keyArguments("nl.db")
            let nlFingerprint = try JSONDecoder().decode(
                Identity.self, from: Data(try await cli("identity", "nl.db", "--json").stdout.utf8)
            ).fingerprint

            // No key and no confirmation (no one at the terminal): the fingerprint is shown, nothing is cloned.
            let unconfirmed = try await cli.run(base + ["--write", "public,eu"])
            #expect(unconfirmed.status == 64, "\(unconfirmed)")
            #expect(unconfirmed.stderr.contains(nlFingerprint) && unconfirmed.stderr.contains("not confirmed"))
            #expect(!FileManager.default.fileExists(atPath: cli.url("ma.db").path))
            // Another agency's key: refused.
            let otherKey = try await cli.keyArguments("other.db")
            let wrong = try await cli.run(base + [otherKey[0], otherKey[1], nlKey[2], nlKey[3]])
            #expect(wrong.status == 1 && wrong.stderr.contains("not the key you gave"), "\(wrong)")
            #expect(!FileManager.default.fileExists(atPath: cli.url("ma.db").path))

            let cloned = try await cli.run(base + nlKey + ["--write", "public,eu"])
            #expect(cloned.status == 0 && cloned.stderr.isEmpty, "\(cloned)")
            let peers = try await cli("peer", "list", "ma.db")
            #expect(peers.stdout.contains("NL-NCTV"), "\(peers)")
            let status = try await cli("status", "ma.db", "--json")
            let report = try JSONDecoder().decode(ClonedStatus.self, from: Data(status.stdout.utf8))
            #expect(report.peers.map(\.readScopes) == ["public"] && report.peers.map(\.writeScopes) == ["eu,public"])
            let log = try await cli("log", "ma.db", "--limit", "1")
            #expect(log.stdout.contains("NL-NCTV#1 [\(nlFingerprint.prefix(9))]"), "\(log)")

            // A script that checked the key otherwise.
            let scripted = try await cli.run(
                [
                    "clone", server.url, "ma2.db", "--site", "MA-DGST", "--token", "ma-to-nl-secret",
                    "--trust-first-key",
                    "--write", "public,eu",
                ])
            #expect(scripted.status == 0 && scripted.stderr.contains(nlFingerprint), "\(scripted)")
            _ = try await server.stop()
        }
    }

    /// What the operator sees and does: alarms and waiting keys in `status` and `trust`, a key
    /// rotated with `identity --rotate`, one revoked with `trust --revoke --since`.
    @Test func operatorsSeeAlarmsAndWaitingKeysAndRotateAndRevokeKeys() async throws {
        try await withSampleReplica { cli in
            for (file, code) in [("ma.db", "MA-DGST"), ("fake.db", "NL-NCTV"), ("tr.db", "TR-TNP")] {
                try await cli.expectSuccess("init", file, "--site", code)
            }
            try await cli.trust("ma.db", "nl.db")
            try await offCooperativePool {
                let ma = try Replica.open(at: cli.url("ma.db").path)
                for file in ["fake.db", "tr.db"] {
                    let other = try Replica.open(at: cli.url(file).path)
                    try other.write(author: "x") { try $0.set("topic", id: "topic-\(file)", ["name": "Planted"]) }
                    let page = try other.changes(after: .start, excluding: VersionVector())
                    if file == "fake.db" {
                        #expect(throws: LiaisonError.self) { try ma.apply(page.transactions, keys: page.keys) }
                    } else {
                        // An agency not met yet: held until its key is trusted, never applied.
                        let held = try ma.apply(page.transactions, keys: page.keys)
                        #expect(held.applied == 0 && held.held == 1, "\(held)")
                    }
                }
            }
            let status = try await cli("status", "ma.db")
            #expect(status.status == 0 && status.stdout.contains("ALARM impersonation NL-NCTV"), "\(status)")
            #expect(status.stdout.contains("untrusted key: TR-TNP"), "\(status)")
            let listing = try await cli("trust", "ma.db")
            #expect(listing.stdout.contains("trusted   NL-NCTV") && listing.stdout.contains("untrusted TR-TNP"))
            #expect(listing.stdout.contains("ALARM"), "\(listing)")

            let before = try await cli("identity", "nl.db")
            let rotated = try await cli("identity", "nl.db", "--rotate")
            #expect(rotated.status == 0 && rotated.stdout != before.stdout, "\(rotated)")
            let revoked = try await cli("trust", "ma.db", "NL-NCTV", "--revoke", "--since", "2026-11-30T00:00:00Z")
            #expect(revoked.status == 0 && revoked.stdout.contains("revoked NL-NCTV"), "\(revoked)")
            let vague = try await cli("trust", "ma.db", "NL-NCTV", "--revoke", "--since", "yesterday")
            #expect(vague.status == 64, "\(vague)")
        }
    }

    /// The key commands as an operator types them: a rotation declaring the old key stolen, a
    /// new key after a loss, an introducer vouching for it; bad combinations exit 64.
    @Test func operatorsRevokeReplaceAndVouchForKeysFromTheCommandLine() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess("init", "co.db", "--site", "BE-OCAM")
            try await cli.trust("co.db", "nl.db")
            let stolen = try await cli("identity", "nl.db", "--rotate", "--compromised-since", "2026-11-30T00:00:00Z")
            #expect(stolen.status == 0, "\(stolen)")
            let alone = try await cli("identity", "nl.db", "--compromised-since", "2026-11-30T00:00:00Z")
            #expect(alone.status == 64 && alone.stderr.contains("--compromised-since goes with --rotate"), "\(alone)")
            let replaced = try await cli("identity", "nl.db", "--new-key")
            #expect(replaced.status == 0 && replaced.stdout.contains("--from-seq"), "\(replaced)")
            let vouch = try #require(replaced.stdout.firstMatch(of: /--key (\S+) --from-seq (\d+)/), "\(replaced)")
            let key = String(vouch.1)
            let vouched = try await cli("trust", "co.db", "NL-NCTV", "--key", key, "--from-seq", String(vouch.2))
            #expect(vouched.status == 0 && vouched.stdout.contains("vouched for NL-NCTV"), "\(vouched)")
            let listing = try await cli("trust", "co.db")
            #expect(listing.stdout.contains(Identity.fingerprint(of: key)), "\(listing)")
            let again = try await cli("trust", "co.db", "NL-NCTV", "--key", key, "--from-seq", String(vouch.2))
            #expect(again.status != 0 && again.stderr.contains("has that key already"), "\(again)")
            let noKey = try await cli("trust", "co.db", "NL-NCTV", "--from-seq", "3")
            #expect(noKey.status == 64, "\(noKey)")
        }
    }

    /// At a terminal: the fingerprint is shown and the answer decides.
    @Test func cloneAsksForConfirmationAndTakesTheAnswer() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--token", "ma-to-nl-secret")
            let server = try await cli.serve("nl.db")
            let fingerprint = try JSONDecoder().decode(
                Identity.self, from: Data(try await cli("identity", "nl.db", "--json").stdout.utf8)
            ).fingerprint
            for (answer, file, status) in [("no\n", "refused.db", Int32(64)), ("yes\n", "ma.db", Int32(0))] {
                let clone = try FaultProcess(
                    executable: cli.binary,
                    arguments: ["clone", server.url, file, "--site", "MA-DGST", "--token", "ma-to-nl-secret"],
                    directory: cli.directory, environment: cli.environment, acceptsInput: true)
                try clone.start()
                clone.send(answer)
                clone.closeInput()
                let outcome = await clone.wait(timeout: .seconds(60))
                #expect(outcome.status == status && outcome.stderr.contains(fingerprint), "\(outcome)")
                #expect(FileManager.default.fileExists(atPath: cli.url(file).path) == (status == 0))
            }
            _ = try await server.stop()
        }
    }

    struct ClonedStatus: Decodable {
        struct Peer: Decodable {
            var readScopes: String
            var writeScopes: String
        }
        var peers: [Peer]
    }
}

extension LiaisonCLI {
    /// `--key K --site-id ID` from `liaison identity DB --json`, as an operator copies them.
    func keyArguments(_ database: String) async throws -> [String] {
        let result = try await self("identity", database, "--json")
        let identity = try JSONDecoder().decode(Identity.self, from: Data(result.stdout.utf8))
        return ["--key", identity.publicKey, "--site-id", identity.siteID]
    }

    /// `truster` trusts the key of `trusted` (its operator read `liaison identity` out of band).
    func trust(_ truster: String, _ trusted: String) async throws {
        let result = try await self("identity", trusted, "--json")
        let identity = try JSONDecoder().decode(Identity.self, from: Data(result.stdout.utf8))
        let outcome = try await run(["trust", truster, identity.site] + (try await keyArguments(trusted)))
        #expect(outcome.status == 0, "\(outcome)")
    }
}
