import Foundation
import LiaisonTesting
import Testing

extension CLITests {
    // MARK: - Conflicts

    @Test(arguments: [[], ["--keep", "winner", "--value", "done"], ["--keep", "both"]])
    func resolveNeedsExactlyOneOfKeepAndValue(_ options: [String]) async throws {
        try await withSampleReplica { cli in
            let before = try await cli.snapshot("nl.db")
            let result = try await cli.run(["resolve", "nl.db", "c-123"] + options)
            expectBadInput(result, mentioning: "--keep")
            #expect(try await cli.snapshot("nl.db") == before)
        }
    }

    @Test(arguments: [["--keep", "winner"], ["--keep", "loser"], ["--value", "done"]])
    func resolvingAnUnknownConflictIsABadInput(_ options: [String]) async throws {
        try await withSampleReplica { cli in
            let before = try await cli.snapshot("nl.db")
            let result = try await cli.run(["resolve", "nl.db", "c-123"] + options)
            expectBadInput(result, mentioning: "no conflict 'c-123'")
            #expect(try await cli.snapshot("nl.db") == before)
        }
    }

    /// A peer that is down fails the round with one clear line, and nothing local changes (that
    /// it fails at once is `SyncHTTPTests.aPeerThatIsDownIsRefusedAtOnce`).
    @Test func syncWithAPeerThatIsDownFailsWithOneClearLine() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--token", "ma-to-nl-secret")
            let before = try await cli.snapshot("nl.db")
            let result = try await cli.run(["sync", "nl.db"])
            #expect(result.status == 1, "\(result)")
            expectOneErrorLine(result.stderr)
            #expect(result.stderr.contains("connection refused"), "\(result)")
            #expect(try await cli.snapshot("nl.db") == before)
        }
    }

    @Test func twoAgenciesSyncOverHTTPAndResolveTheirConflict() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--token", "ma-to-nl-secret")
            let server = try await cli.serve("nl.db")

            let refused = try await cli(
                "clone", server.url, "intruder.db", "--site", "MA-DGST", "--token", "wrong-token")
            #expect(refused.status == 1 && refused.stdout.isEmpty, "\(refused)")
            expectOneErrorLine(refused.stderr)
            #expect(refused.stderr.contains("401"))
            #expect(!FileManager.default.fileExists(atPath: cli.url("intruder.db").path))

            let cloned = try await cli.run(
                ["clone", server.url, "ma.db", "--site", "MA-DGST", "--token", "ma-to-nl-secret"]
                    + (try await cli.keyArguments("nl.db")))
            #expect(cloned.status == 0 && cloned.stderr.isEmpty, "\(cloned)")
            try await cli.trust("nl.db", "ma.db")
            #expect(
                cloned.stdout.hasPrefix("cloned ")
                    && cloned.stdout.contains("from NL-NCTV into ma.db; peer 'NL-NCTV' registered"))

            // A public row, so the conflict travels whatever scopes the peers are granted.
            let topic = "topic-cve"
            try await cli.expectSuccess(
                "set", "nl.db", "topic", topic, "description=Prevention first", "--author", "anne")
            try await cli.expectSuccess(
                "set", "ma.db", "topic", topic, "description=Prevention and reintegration", "name=CVE",
                "--author", "karim")
            let sync = try await cli("sync", "ma.db")
            #expect(sync.status == 0 && sync.stderr.isEmpty, "\(sync)")
            #expect(
                sync.stdout.hasPrefix("NL-NCTV: pulled ") && sync.stdout.contains("pushed 1 (1 changes)"), "\(sync)")

            let onNL = try await cli.conflicts("nl.db")
            let onMA = try await cli.conflicts("ma.db")
            #expect(onNL.count == 1)
            #expect(onNL == onMA)
            let conflict = try #require(onNL.first)
            #expect(conflict.kind == "value" && conflict.state == "open")
            #expect(conflict.table == "topic" && conflict.rowID == topic && conflict.column == "description")
            #expect(Set([conflict.winner.author, conflict.loser.author]) == ["anne", "karim"])
            #expect(
                Set([conflict.winner.value, conflict.loser.value])
                    == [.text("Prevention first"), .text("Prevention and reintegration")])
            #expect(try await cli.status("nl.db").openConflicts == 1)

            let resolved = try await cli(
                "resolve", "nl.db", conflict.id, "--value", "Prevention, then reintegration", "--author", "anne")
            #expect(resolved == CommandResult(stdout: "resolved \(conflict.id)\n"))
            try await cli.expectSuccess("sync", "ma.db")
            #expect(try await cli.conflicts("ma.db").isEmpty)
            #expect(try await cli.conflicts("ma.db", all: true).map(\.state) == ["resolved"])
            let onBoth = try await cli.getJSON("ma.db", "topic", topic)
            #expect(onBoth["description"] == .text("Prevention, then reintegration"))
            #expect(onBoth["name"] == .text("CVE"))
            #expect(try await cli.getJSON("nl.db", "topic", topic) == onBoth)
            let nlTopics = try await cli("list", "nl.db", "topic", "--json")
            let maTopics = try await cli("list", "ma.db", "topic", "--json")
            #expect(nlTopics.status == 0 && nlTopics == maTopics)
            // No echo: once both sides have everything, a round moves nothing.
            let again = try await cli("sync", "ma.db")
            #expect(
                again.stdout.hasPrefix("NL-NCTV: pulled 0 transactions (0 changes), pushed 0 (0 changes)"), "\(again)")

            let stopped = try await server.stop()
            #expect(stopped.status == 0, "\(stopped)")
            #expect(stopped.stdout.hasSuffix("liaison NL-NCTV stopped\n"), "\(stopped)")
        }
    }
}

extension CLITests {
    /// The issue's own story: NL marks a roadmap action done while MA, offline, sets it in progress
    /// and moves its due date; then a deletion against an update, and a reference to a deleted body.
    @Test func actionConflictDeleteAgainstUpdateAndOrphanOverHTTP() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--token", "ma-to-nl-secret",
                "--read", "public,eu,gctf,coalition", "--write", "public,eu,gctf,coalition")
            let server = try await cli.serve("nl.db")
            let cloned = try await cli.run(
                ["clone", server.url, "ma.db", "--site", "MA-DGST", "--token", "ma-to-nl-secret"]
                    + (try await cli.keyArguments("nl.db"))
                    + ["--read", "public,eu,gctf,coalition", "--write", "public,eu,gctf,coalition"])
            #expect(cloned.status == 0 && cloned.stderr.isEmpty, "\(cloned)")
            try await cli.trust("nl.db", "ma.db")
            let action = "act-roadmap-early-detection"
            try await cli.expectSuccess("set", "nl.db", "action", action, "status=done", "--author", "anne")
            try await cli.expectSuccess(
                "set", "ma.db", "action", action, "status=in_progress", "due=2018-03", "--author", "karim")
            try await cli.expectSuccess("sync", "ma.db")
            let row = try await cli.getJSON("nl.db", "action", action)
            let rowOnMA = try await cli.getJSON("ma.db", "action", action)
            #expect(row == rowOnMA)
            #expect(row["due"] == .text("2018-03"))
            let conflicts = try await cli.conflicts("nl.db")
            let conflictsOnMA = try await cli.conflicts("ma.db")
            #expect(conflicts.count == 1 && conflicts == conflictsOnMA)
            let conflict = try #require(conflicts.first)
            #expect(Set([conflict.winner.value, conflict.loser.value]) == [.text("done"), .text("in_progress")])
            #expect(Set([conflict.winner.author, conflict.loser.author]) == ["anne", "karim"])
            try await cli.expectSuccess("resolve", "nl.db", conflict.id, "--keep", "loser", "--author", "anne")
            try await cli.expectSuccess("sync", "ma.db")
            #expect(try await cli.conflicts("ma.db").isEmpty)

            // Delete against a concurrent update: the row survives with the update, one conflict.
            let other = "act-roadmap-ftf-exchange"
            try await cli.expectSuccess("delete", "nl.db", "action", other, "--author", "anne")
            try await cli.expectSuccess("set", "ma.db", "action", other, "status=done", "--author", "karim")
            try await cli.expectSuccess("sync", "ma.db")
            let survived = try await cli.getJSON("nl.db", "action", other)
            #expect(survived["status"] == .text("done"))
            let deletes = try await cli.conflicts("nl.db").filter { $0.kind == "delete" }
            let deletesOnMA = try await cli.conflicts("ma.db").filter { $0.kind == "delete" }
            #expect(deletes.count == 1 && deletes.map(\.id) == deletesOnMA.map(\.id))

            // A membership of a body deleted concurrently: kept, recorded as an orphan.
            try await cli.expectRefused(
                "delete", "nl.db", "organisation", "org-gctf-ftf-wg", mentioning: "referred to by", "--cascade")
            try await cli.expectSuccess(
                "delete", "nl.db", "organisation", "org-gctf-ftf-wg", "--orphan", "--author", "anne")
            try await cli.expectSuccess(
                "set", "ma.db", "membership", "mem-ma-ftf", "organisation_id=org-ma", "body_id=org-gctf-ftf-wg",
                "role=participant", "scope=gctf", "--author", "karim")
            try await cli.expectSuccess("sync", "ma.db")
            let kept = try await cli.getJSON("nl.db", "membership", "mem-ma-ftf")
            #expect(kept["body_id"] == .text("org-gctf-ftf-wg"))
            let orphans = try await cli.conflicts("nl.db").filter { $0.kind == "orphan" }
            #expect(orphans.map(\.rowID) == ["mem-ma-ftf"])
            let nlDump = try await cli("dump", "nl.db")
            let maDump = try await cli("dump", "ma.db")
            #expect(nlDump == maDump)
            _ = try await server.stop()
        }
    }
}
