import Foundation
import LiaisonTesting
import Testing

/// The `liaison` command line as users meet it: each test runs the built binary in a fresh
/// directory and compares stdout, stderr and the exit code (0 success, 64 bad usage or input,
/// 1 other failures; errors are one line starting with `liaison: `).
@Suite(.timeLimit(.minutes(3))) struct CLITests {
    let action = "act-roadmap-early-detection"

    // MARK: - The new user's first steps

    @Test func newUserStoryLogsEditsFromLiaisonAndFromTheSQLiteShell() async throws {
        try await withCLI { cli in
            let created = try await cli("init", "nl.db", "--site", "NL-NCTV", "--sample")
            #expect(created.status == 0 && created.stderr.isEmpty, "\(created)")
            #expect(created.stdout.hasPrefix("created nl.db for NL-NCTV (site id "), "\(created)")
            #expect(created.stdout.hasSuffix(") with the sample data\n"), "\(created)")
            let siteID = try await cli.status("nl.db").siteID
            #expect(created.stdout.contains(siteID))

            let set = try await cli("set", "nl.db", "action", action, "status=done", "--author", "alice")
            #expect(set == CommandResult(stdout: "set action \(action)\n"))

            let afterSet = try await cli.log("nl.db")
            #expect(afterSet.count == 2)
            let edit = try #require(afterSet.last)
            #expect(edit.origin == siteID)
            #expect(edit.site == "NL-NCTV")
            #expect(edit.seq == 2)
            #expect(edit.author == "alice")
            #expect(edit.hlc > afterSet[0].hlc)
            #expect(!edit.time.isEmpty)
            #expect(
                edit.changes == [
                    LoggedChange(table: "action", id: action, op: "update", values: ["status": .text("done")])
                ])

            let shell = try await cli.sqlite("nl.db", "UPDATE organisation SET name='X' WHERE id='org-nl'")
            #expect(shell == CommandResult(), "\(shell)")

            let afterShell = try await cli.log("nl.db")
            #expect(afterShell.count == 3)
            #expect(Array(afterShell.prefix(2)) == afterSet)
            let external = try #require(afterShell.last)
            #expect(external.origin == siteID && external.site == "NL-NCTV" && external.seq == 3)
            #expect(external.author == "external:sqlite")
            #expect(external.hlc > edit.hlc)
            #expect(
                external.changes == [
                    LoggedChange(table: "organisation", id: "org-nl", op: "update", values: ["name": .text("X")])
                ])
            #expect(try await cli.getJSON("nl.db", "organisation", "org-nl")["name"] == .text("X"))
        }
    }

    @Test func authorComesFromTheEnvironmentWhenNoAuthorOptionIsGiven() async throws {
        try await withCLI { cli in
            try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV", "--sample")
            try await cli.expectSuccess(
                "set", "nl.db", "topic", "topic-a", "name=A", environment: ["LIAISON_AUTHOR": "bob"])
            try await cli.expectSuccess(
                "set", "nl.db", "topic", "topic-b", "name=B", "--author", "alice",
                environment: ["LIAISON_AUTHOR": "bob"])
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-c", "name=C")
            let authors = try await cli.log("nl.db").suffix(3).map(\.author)
            #expect(authors.prefix(2) == ["bob", "alice"])
            // Neither given: the login name.
            #expect(authors.last == LiaisonCLI.loginName)
        }
    }

    @Test func helpGoesToStdoutAndAnUnknownSubcommandIsBadUsage() async throws {
        try await withCLI { cli in
            let help = try await cli("--help")
            #expect(help.status == 0 && help.stderr.isEmpty, "\(help)")
            #expect(help.stdout.contains("USAGE: liaison <subcommand>"))
            for command in ["init", "set", "log", "sync", "resolve"] {
                let usage = try await cli(command, "--help")
                #expect(usage.status == 0 && usage.stderr.isEmpty, "\(usage)")
                #expect(usage.stdout.contains("USAGE: liaison \(command) <database>"), "\(usage)")
            }
            let unknown = try await cli("frobnicate", "nl.db")
            expectBadInput(unknown, mentioning: "frobnicate")
            #expect(try cli.files() == [])
        }
    }

    // MARK: - Reading and editing rows

    @Test func getShowsOneRowAsTextAndAsCanonicalJSON() async throws {
        try await withCLI { cli in
            try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV")
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-border", "name=Border security")
            let text = try await cli("get", "nl.db", "topic", "topic-border")
            #expect(
                text
                    == CommandResult(
                        stdout:
                            "id: topic-border\nscope: public\nowner: NL-NCTV\nname: Border security\ndescription: NULL\n"
                    ))
            let json = try await cli("get", "nl.db", "topic", "topic-border", "--json")
            #expect(
                json
                    == CommandResult(
                        stdout:
                            #"{"description":null,"id":"topic-border","name":"Border security","owner":"NL-NCTV","scope":"public"}"#
                            + "\n"))
        }
    }

    @Test func listShowsEveryRowOfATableOrderedByID() async throws {
        try await withCLI { cli in
            try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV")
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-b", "name=Terrorist financing")
            try await cli.expectSuccess(
                "set", "nl.db", "topic", "topic-a", "name=Counter-narratives", "description=Online")
            let text = try await cli("list", "nl.db", "topic")
            #expect(
                text
                    == CommandResult(
                        stdout: "id\tscope\towner\tname\tdescription\n"
                            + "topic-a\tpublic\tNL-NCTV\tCounter-narratives\tOnline\n"
                            + "topic-b\tpublic\tNL-NCTV\tTerrorist financing\tNULL\n"))
            let json = try await cli("list", "nl.db", "topic", "--json")
            #expect(json.status == 0 && json.stderr.isEmpty)
            let rows = try JSONDecoder().decode([[String: JSONScalar]].self, from: Data(json.stdout.utf8))
            #expect(rows.map { $0["id"] } == [.text("topic-a"), .text("topic-b")])
            #expect(rows.first?["description"] == .text("Online") && rows.last?["description"] == .null)
        }
    }

    @Test func dumpIsRepeatableAndSortsTablesRowsAndKeys() async throws {
        try await withCLI { cli in
            try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV", "--sample")
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-zz", "name=Last", "description=Sorted keys")
            let first = try await cli("dump", "nl.db")
            let second = try await cli("dump", "nl.db")
            #expect(first.status == 0 && first.stderr.isEmpty)
            #expect(first.stdout == second.stdout)

            let tables = first.stdout.split(separator: "\n").filter { $0.hasPrefix("\"") }.map { line in
                line.prefix { $0 != ":" }
            }
            #expect(tables.count == 7)
            #expect(tables == tables.sorted())
            let parsed = try JSONDecoder().decode([String: [[String: JSONScalar]]].self, from: Data(first.stdout.utf8))
            #expect(
                parsed.keys.sorted() == [
                    "action", "agenda_item", "agreement", "membership", "organisation", "sharing_scope", "topic",
                ])
            for (table, rows) in parsed {
                let ids = rows.compactMap { $0["id"]?.text }
                #expect(ids.count == rows.count && ids == ids.sorted(), "rows of \(table) are not sorted by id")
            }
            // Keys inside a row are sorted too: one row a line, byte for byte.
            #expect(
                first.stdout.contains(
                    #"  {"description":"Sorted keys","id":"topic-zz","name":"Last","owner":"NL-NCTV","scope":"public"}"#
                        + "\n]"))
        }
    }

    @Test func deleteRemovesTheRowThenGetReportsNotFound() async throws {
        try await withCLI { cli in
            try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV", "--sample")
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-solo", "name=Solo")
            // A row others refer to is refused, naming them.
            try await cli.expectRefused(
                "delete", "nl.db", "topic", "topic-cve", mentioning: "referred to by", "agenda_item")
            let deleted = try await cli("delete", "nl.db", "topic", "topic-solo", "--author", "alice")
            #expect(deleted == CommandResult(stdout: "deleted topic topic-solo\n"))
            let entry = try #require(try await cli.log("nl.db").last)
            #expect(entry.author == "alice")
            #expect(entry.changes.map(\.op) == ["delete"] && entry.changes.map(\.id) == ["topic-solo"])

            let get = try await cli("get", "nl.db", "topic", "topic-solo")
            #expect(get == CommandResult(status: 64, stderr: "liaison: no row 'topic-solo' in 'topic'\n"))
            let before = try await cli.snapshot("nl.db")
            let again = try await cli("delete", "nl.db", "topic", "topic-solo")
            expectBadInput(again, mentioning: "no row 'topic-solo' in 'topic'")
            #expect(try await cli.snapshot("nl.db") == before)
        }
    }

    @Test func statusJSONCarriesTheVersionVector() async throws {
        try await withCLI { cli in
            try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV", "--sample")
            try await cli.expectSuccess("set", "nl.db", "action", action, "status=done")
            let raw = try await cli("status", "nl.db", "--json")
            #expect(raw.status == 0 && raw.stderr.isEmpty)
            let object = try JSONSerialization.jsonObject(with: Data(raw.stdout.utf8)) as? [String: Any]
            #expect(object?["vector"] is [String: Any])
            let status = try await cli.status("nl.db")
            #expect(status.site == "NL-NCTV")
            #expect(status.vector == [status.siteID: 2])
            #expect(status.openConflicts == 0)
        }
    }

    @Test func anEmptyValueSetsNULL() async throws {
        try await withCLI { cli in
            try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV", "--sample")
            #expect(try await cli.getJSON("nl.db", "organisation", "org-nl")["country"] == .text("NL"))
            try await cli.expectSuccess("set", "nl.db", "organisation", "org-nl", "country=")
            #expect(try await cli.getJSON("nl.db", "organisation", "org-nl")["country"] == .null)
            let change = try #require(try await cli.log("nl.db").last?.changes.first)
            #expect(change.values == ["country": .null])
        }
    }
}
