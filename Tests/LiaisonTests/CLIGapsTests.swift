import Foundation
import LiaisonTesting
import Testing

/// The command-line gaps a newcomer hit: conflict id prefixes and notes, peer remove/rename and
/// re-adding with new grants, log and list filters, escaped TSV, CSV export/import, revert.
@Suite(.timeLimit(.minutes(3))) struct CLIGapsTests {
    let action = "act-roadmap-early-detection"

    @Test func resolveTakesAUniquePrefixAndANoteThatSyncs() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--token", "ma-nl-token")
            let server = try await cli.serve("nl.db")
            let cloned = try await cli.run(
                ["clone", server.url, "ma.db", "--site", "MA-DGST", "--token", "ma-nl-token"]
                    + (try await cli.keyArguments("nl.db")))
            #expect(cloned.status == 0, "\(cloned)")
            try await cli.trust("nl.db", "ma.db")
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-cve", "description=first", "--author", "anne")
            try await cli.expectSuccess("set", "ma.db", "topic", "topic-cve", "description=second", "--author", "karim")
            try await cli.expectSuccess("sync", "ma.db")
            let conflict = try #require(try await cli.conflicts("ma.db").first)
            try await cli.expectRefused(
                "resolve", "ma.db", "c", "--keep", "winner", mentioning: "at least its first 4 characters",
                leaving: "ma.db")
            try await cli.expectRefused(
                "resolve", "ma.db", String(conflict.id.prefix(8)), "--keep", "winner", "--note", "bell\u{07}",
                mentioning: "control characters", leaving: "ma.db")
            let resolved = try await cli(
                "resolve", "ma.db", String(conflict.id.prefix(8)), "--keep", "loser", "--note",
                "NL's wording is agreed",
                "--author", "karim")
            #expect(resolved == CommandResult(stdout: "resolved \(conflict.id)\n"))
            try await cli.expectSuccess("sync", "ma.db")
            #expect(try await cli.conflicts("nl.db").isEmpty)
            let log = try await cli("log", "nl.db", "--author", "karim", "--limit", "1")
            #expect(
                log.stdout.contains("resolves \(conflict.id), note:\(conflict.id):NL's wording is agreed"), "\(log)")
        }
    }

    @Test func peersAreRenamedRemovedAndReaddedWithTheGrantsPrinted() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess("peer", "add", "nl.db", "MA", "http://127.0.0.1:9", "--token", "secret-token")
            let readd = try await cli(
                "peer", "add", "nl.db", "MA", "http://127.0.0.1:9", "--token", "secret-token", "--read", "eu,public")
            #expect(readd.stdout == "peer MA at http://127.0.0.1:9 (reads eu,public; writes public)\n")
            let status = try await cli("status", "nl.db", "--json")
            #expect(status.stdout.contains("\"readScopes\" : \"eu,public\""), "\(status)")
            #expect(try await cli("peer", "rename", "nl.db", "MA", "MA-DGST").stdout == "renamed peer MA to MA-DGST\n")
            try await cli.expectRefused("peer", "remove", "nl.db", "MA-DGS", mentioning: "did you mean 'MA-DGST'?")
            #expect(try await cli("peer", "remove", "nl.db", "MA-DGST").stdout == "removed peer MA-DGST\n")
            #expect(try await cli("peer", "list", "nl.db").stdout.isEmpty)
        }
    }

    @Test func logAndListFilter() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess("set", "nl.db", "action", action, "status=done", "--author", "anne")
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-cve", "name=CVE", "--author", "bert")
            let byAnne = try await cli("log", "nl.db", "--author", "anne", "--since", "1h")
            #expect(
                byAnne.stdout.hasPrefix("NL-NCTV#2") && byAnne.stdout.contains("by anne")
                    && !byAnne.stdout.contains("bert"))
            let topics = try await cli("log", "nl.db", "--table", "topic", "--since", "2020-01-01")
            #expect(topics.stdout.contains("by bert") && !topics.stdout.contains("by anne"))
            #expect(try await cli("log", "nl.db", "--since", "7d").stdout.contains("by seed"))
            expectBadInput(try await cli("log", "nl.db", "--since", "soon"), mentioning: "--since takes a duration")
            expectBadInput(try await cli("log", "nl.db", "--table", "topics"), mentioning: "did you mean 'topic'?")

            let done = try await cli("list", "nl.db", "action", "--where", "status=done")
            #expect(done.stdout.split(separator: "\n").count == 3 && done.stdout.contains(action), "\(done)")
            #expect(done.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix("\tdone") })
            expectBadInput(try await cli("list", "nl.db", "action", "--where", "stats=done"), mentioning: "stats")

            try await cli.expectSuccess("set", "nl.db", "topic", "topic-tab", "name=a\tb\nc\\d")
            let tsv = try await cli("list", "nl.db", "topic", "--where", "id=topic-tab")
            let line = try #require(tsv.stdout.split(separator: "\n").last)
            #expect(line.split(separator: "\t", omittingEmptySubsequences: false).count == 5)
            #expect(line.contains("a\\tb\\nc\\\\d"), "\(tsv)")
        }
    }

    @Test func exportAndImportCSVAreCheckedAndAtomic() async throws {
        try await withSampleReplica { cli in
            let exported = try await cli("export", "nl.db", "topic", "--csv")
            #expect(
                exported.status == 0 && exported.stdout.hasPrefix("id,scope,owner,name,description\r\n"), "\(exported)")
            try Data("id,name,description\r\ntopic-new,\"New, with comma\",\"two\nlines\"\r\n".utf8)
                .write(to: cli.url("good.csv"))
            #expect(
                try await cli("import", "nl.db", "topic", "good.csv", "--csv").stdout == "imported 1 rows into topic\n")
            let row = try await cli.getJSON("nl.db", "topic", "topic-new")
            #expect(row["name"] == .text("New, with comma") && row["description"] == .text("two\nlines"))

            try Data("id,status\r\nact-roadmap-info-quality,done\r\n\(action),dnoe\r\n".utf8).write(
                to: cli.url("bad.csv"))
            try await cli.expectRefused(
                "import", "nl.db", "action", "bad.csv", "--csv", mentioning: "did you mean 'done'?",
                "nothing was imported")
            try Data("id,stauts\r\n\(action),done\r\n".utf8).write(to: cli.url("column.csv"))
            try await cli.expectRefused(
                "import", "nl.db", "action", "column.csv", "--csv", mentioning: "stauts", "nothing was imported")
        }
    }

    @Test func revertWritesTheInverse() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess("set", "nl.db", "action", action, "status=cancelled", "--author", "anne")
            let reverted = try await cli("revert", "nl.db", "NL-NCTV#2", "--author", "bert")
            #expect(reverted == CommandResult(stdout: "reverted NL-NCTV#2 (1 row edits)\n"))
            #expect(try await cli.getJSON("nl.db", "action", action)["status"] == .text("open"))
            try await cli.expectRefused("revert", "nl.db", "NL-NCTV#9", mentioning: "no transaction NL-NCTV#9")
            try await cli.expectRefused("revert", "nl.db", "NL-NCTV", mentioning: "SITE#SEQ")
        }
    }
}
