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
            try await cli.expectRefused("delete", "nl.db", "topic", "topic-cve", mentioning: "referred to by", "agenda_item")
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

    // MARK: - Bad input: one clear line, exit 64, nothing written

    @Test func unknownTableIsRefusedWithTheNearestName() async throws {
        try await withSampleReplica { cli in
            try await cli.expectRefused(
                "set", "nl.db", "organisaton", "org-nl", "name=Y",
                mentioning: "'organisaton'", "did you mean 'organisation'")
        }
    }

    @Test func unknownColumnIsRefusedWithTheNearestName() async throws {
        try await withSampleReplica { cli in
            try await cli.expectRefused(
                "set", "nl.db", "organisation", "org-nl", "nmae=Y", mentioning: "'nmae'", "did you mean 'name'")
        }
    }

    static let badValues: [BadValue] = [
        BadValue("agenda_item", "agenda-eu-online-content", "priority=high", expecting: "whole number"),
        BadValue("action", "act-roadmap-early-detection", "due=2018-13", expecting: "date"),
        BadValue("action", "act-roadmap-early-detection", "due=next week", expecting: "date"),
        BadValue(
            "action", "act-roadmap-early-detection", "status=finished", expecting: "open, in_progress, done, cancelled"),
        BadValue("organisation", "org-nl", "kind=city", expecting: "one of"),
        BadValue("organisation", "org-nl", "name=", expecting: "NULL"),
    ]

    @Test(arguments: badValues)
    func valueOfTheWrongTypeIsRefused(_ bad: BadValue) async throws {
        try await withSampleReplica { cli in
            try await cli.expectRefused("set", "nl.db", bad.table, bad.id, bad.assignment, mentioning: bad.expected)
        }
    }

    @Test(arguments: ["act one", "", "tab\tid"])
    func invalidRowIDIsRefused(_ id: String) async throws {
        try await withSampleReplica { cli in
            try await cli.expectRefused("set", "nl.db", "action", id, "status=done", mentioning: "invalid row id")
        }
    }

    @Test func missingRowIDIsRefused() async throws {
        try await withSampleReplica { cli in
            // The assignment lands where the id goes, and nothing is left to assign.
            try await cli.expectRefused("set", "nl.db", "action", "status=done", mentioning: "COL=VALUE")
            try await cli.expectRefused("set", "nl.db", "action", mentioning: "<id>")
        }
    }

    @Test(arguments: ["nl", "NL NCTV", "1NL", ""])
    func invalidSiteCodeOnInitCreatesNothing(_ code: String) async throws {
        try await withCLI { cli in
            let result = try await cli("init", "x.db", "--site", code)
            expectBadInput(result, mentioning: "invalid site code")
            #expect(try cli.files() == [])
        }
    }

    @Test func initRefusesToOverwriteAnExistingFile() async throws {
        try await withSampleReplica { cli in
            try await cli.expectRefused(
                "init", "nl.db", "--site", "MA-DGST", "--sample", mentioning: "'nl.db' exists already")
            #expect(try await cli.status("nl.db").site == "NL-NCTV")

            try Data("notes\n".utf8).write(to: cli.url("notes.txt"))
            let onText = try await cli("init", "notes.txt", "--site", "MA-DGST")
            expectBadInput(onText, mentioning: "exists already")
            #expect(try Data(contentsOf: cli.url("notes.txt")) == Data("notes\n".utf8))
        }
    }

    @Test func aFileThatIsNotSQLiteIsLeftUntouched() async throws {
        try await withCLI { cli in
            let bytes = Data("these are meeting notes, not a database\n".utf8)
            try bytes.write(to: cli.url("notes.db"))
            for arguments in [
                ["get", "notes.db", "topic", "t"], ["set", "notes.db", "topic", "t", "name=x"], ["dump", "notes.db"],
            ] {
                let result = try await cli.run(arguments)
                expectBadInput(result, mentioning: "'notes.db' is not a SQLite database")
            }
            #expect(try Data(contentsOf: cli.url("notes.db")) == bytes)
            #expect(try cli.files() == ["notes.db"])
        }
    }

    @Test func aSQLiteDatabaseThatIsNotAReplicaIsRefused() async throws {
        try await withCLI { cli in
            let created = try await cli.sqlite(
                "plain.db", "CREATE TABLE topic(id TEXT PRIMARY KEY, name TEXT); INSERT INTO topic VALUES ('t', 'x');")
            #expect(created == CommandResult())
            let schema = try await cli.sqlite(
                "plain.db", "SELECT name FROM sqlite_master ORDER BY name; SELECT * FROM topic;")
            for arguments in [
                ["set", "plain.db", "topic", "t", "name=y"], ["log", "plain.db"], ["status", "plain.db"],
            ] {
                let result = try await cli.run(arguments)
                expectBadInput(result, mentioning: "'plain.db' is a SQLite database but not a Liaison replica")
            }
            #expect(
                try await cli.sqlite("plain.db", "SELECT name FROM sqlite_master ORDER BY name; SELECT * FROM topic;")
                    == schema)
            let journalMode = try await cli.sqlite("plain.db", "PRAGMA journal_mode;").stdout
            #expect(journalMode == "delete\n", "opening a plain SQLite file must not switch it to WAL")
        }
    }

    @Test func aMissingReplicaIsReportedWithoutCreatingIt() async throws {
        try await withCLI { cli in
            let result = try await cli("get", "missing.db", "topic", "t")
            expectBadInput(result, mentioning: "no replica at 'missing.db'", "liaison init missing.db")
            #expect(try cli.files() == [])
        }
    }

    @Test func aLockedDatabaseFailsFastWithExitOneAndWritesNothing() async throws {
        try await withSampleReplica { cli in
            let before = try await cli.snapshot("nl.db")
            let holder = try await cli.holdWriteLock(on: "nl.db")
            let blocked = try await cli(
                "set", "nl.db", "action", action, "status=done", environment: ["LIAISON_BUSY_TIMEOUT_MS": "200"])
            // Reading needs no write lock: a busy writer does not stop a reader.
            let read = try await cli(
                "get", "nl.db", "action", action, "--json", environment: ["LIAISON_BUSY_TIMEOUT_MS": "200"])
            let released = try await holder.release()
            #expect(released == 0)

            #expect(blocked.status == 1, "\(blocked)")
            #expect(blocked.stdout.isEmpty)
            expectOneErrorLine(blocked.stderr)
            #expect(blocked.stderr.contains("locked"), "\(blocked)")
            #expect(read.status == 0, "\(read)")
            #expect(try await cli.snapshot("nl.db") == before)
            // The failed attempt used no sequence number.
            try await cli.expectSuccess("set", "nl.db", "action", action, "status=done")
            #expect(try await cli.log("nl.db").last?.seq == 2)
        }
    }

    @Test func jsonErrorsAreOneJSONObjectOnStderr() async throws {
        try await withSampleReplica { cli in
            let notFound = try await cli("get", "nl.db", "action", "nope", "--json")
            #expect(
                notFound
                    == CommandResult(
                        status: 64, stderr: #"{"error":"not_found","message":"no row 'nope' in 'action'"}"# + "\n"))

            let cases: [([String], Int32, String)] = [
                (["list", "nl.db", "organisaton", "--json"], 64, "unknown_table"),
                (["log", "missing.db", "--json"], 64, "not_a_replica"),
                (["conflicts", "missing.db", "--json"], 64, "not_a_replica"),
                (["status", "missing.db", "--json"], 64, "not_a_replica"),
            ]
            for (arguments, status, code) in cases {
                let result = try await cli.run(arguments)
                #expect(result.status == status && result.stdout.isEmpty, "\(arguments): \(result)")
                let error = try? JSONDecoder().decode(ErrorObject.self, from: Data(result.stderr.utf8))
                #expect(error?.error == code, "\(arguments): \(result)")
                #expect(error?.message.isEmpty == false)
                #expect(result.stderr.filter { $0 == "\n" }.count == 1)
            }

            let badLimit = try await cli("log", "nl.db", "--json", "--limit", "0")
            #expect(badLimit.status == 64 && badLimit.stdout.isEmpty)
            let error = try JSONDecoder().decode(ErrorObject.self, from: Data(badLimit.stderr.utf8))
            #expect(error.message.contains("--limit"))
        }
    }

    @Test func syncWithoutPeersIsABadInput() async throws {
        try await withSampleReplica { cli in
            try await cli.expectRefused("sync", "nl.db", mentioning: "no peers registered")
            try await cli.expectRefused("sync", "nl.db", "--peer", "MA-DGST", mentioning: "no peer 'MA-DGST'")
        }
    }

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

// MARK: - Expectations

/// A value the schema refuses, and a phrase the error must contain.
struct BadValue: Sendable, CustomTestStringConvertible {
    let table: String
    let id: String
    let assignment: String
    let expected: String

    init(_ table: String, _ id: String, _ assignment: String, expecting expected: String) {
        self.table = table
        self.id = id
        self.assignment = assignment
        self.expected = expected
    }

    var testDescription: String { "\(table) \(assignment)" }
}

/// Checks the contract for refused input: exit 64, nothing on stdout, one `liaison: ` line on stderr.
func expectBadInput(
    _ result: CommandResult, mentioning phrases: String..., sourceLocation: SourceLocation = #_sourceLocation
) {
    expectBadInput(result, mentioning: phrases, sourceLocation: sourceLocation)
}

func expectBadInput(_ result: CommandResult, mentioning phrases: [String], sourceLocation: SourceLocation) {
    #expect(result.status == 64, "\(result)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
    expectOneErrorLine(result.stderr, sourceLocation: sourceLocation)
    for phrase in phrases {
        #expect(result.stderr.contains(phrase), "expected '\(phrase)' in \(result)", sourceLocation: sourceLocation)
    }
}

/// Errors are exactly one line on stderr, starting with `liaison: `.
func expectOneErrorLine(_ stderr: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(stderr.hasPrefix("liaison: "), "stderr: \(stderr)", sourceLocation: sourceLocation)
    #expect(
        stderr.hasSuffix("\n") && stderr.filter { $0 == "\n" }.count == 1, "stderr: \(stderr)",
        sourceLocation: sourceLocation)
}

// MARK: - Running the binary

/// What one run of a command printed and how it ended.
struct CommandResult: Sendable, Equatable, CustomStringConvertible {
    var status: Int32 = 0
    var stdout = ""
    var stderr = ""

    var description: String { "exit \(status), stdout: \(stdout.debugDescription), stderr: \(stderr.debugDescription)" }
}

/// Runs `body` with the built `liaison` in a fresh temporary directory.
func withCLI(_ body: (LiaisonCLI) async throws -> Void) async throws {
    let binary = try #require(
        FaultTools.liaison, "no built liaison next to the test bundle; run 'swift build --build-tests' first")
    try await withTemporaryDirectory { directory in try await body(LiaisonCLI(binary: binary, directory: directory)) }
}

/// Runs `body` with `nl.db`, a replica of NL-NCTV with the sample data, in a fresh temporary directory.
func withSampleReplica(_ body: (LiaisonCLI) async throws -> Void) async throws {
    try await withCLI { cli in
        try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV", "--sample")
        try await body(cli)
    }
}

/// The built `liaison` binary, run in one test's directory with a controlled environment.
struct LiaisonCLI: Sendable {
    let binary: URL
    let directory: URL

    /// The login name the binary sees when neither `--author` nor `$LIAISON_AUTHOR` is given.
    static let loginName = "cli-tester"

    /// The environment every command gets: no inherited author or busy timeout.
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in ["LIAISON_AUTHOR", "LIAISON_BUSY_TIMEOUT_MS", "LOGNAME"] { environment[key] = nil }
        environment["USER"] = Self.loginName
        return environment
    }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The names of the files in the directory, sorted.
    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    func callAsFunction(_ arguments: String..., environment extra: [String: String] = [:]) async throws -> CommandResult
    {
        try await run(arguments, environment: extra)
    }

    func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> CommandResult {
        try await runProcess(binary, arguments, in: directory, environment: environment.merging(extra) { $1 })
    }

    /// Runs the command and expects it to succeed quietly on stderr.
    func expectSuccess(
        _ arguments: String..., environment extra: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let result = try await run(arguments, environment: extra)
        #expect(
            result.status == 0 && result.stderr.isEmpty, "liaison \(arguments.joined(separator: " ")): \(result)",
            sourceLocation: sourceLocation)
    }

    /// Runs `sqlite3 DB SQL`, as a user editing the file by hand would.
    func sqlite(_ database: String, _ sql: String) async throws -> CommandResult {
        try await runProcess(FaultTools.sqlite3, [database, sql], in: directory, environment: environment)
    }

    /// Runs a command that must be refused as bad input, and checks that `database` is unchanged.
    func expectRefused(
        _ arguments: String..., mentioning phrases: String..., leaving database: String = "nl.db",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = try await snapshot(database)
        let result = try await run(arguments)
        expectBadInput(result, mentioning: phrases, sourceLocation: sourceLocation)
        #expect(
            try await snapshot(database) == before, "liaison \(arguments) wrote to \(database)",
            sourceLocation: sourceLocation)
    }

    /// `dump` and `log --json` together: what a refused command must leave as it was.
    func snapshot(_ database: String) async throws -> String {
        let dump = try await self("dump", database)
        let log = try await self("log", database, "--json")
        #expect(dump.status == 0 && log.status == 0, "\(dump) \(log)")
        return dump.stdout + log.stdout
    }

    func log(_ database: String) async throws -> [LoggedTransaction] {
        try decode(try await self("log", database, "--json"))
    }

    func status(_ database: String) async throws -> StatusReport {
        try decode(try await self("status", database, "--json"))
    }

    func conflicts(_ database: String, all: Bool = false) async throws -> [ConflictReport] {
        try decode(try await run(["conflicts", database, "--json"] + (all ? ["--all"] : [])))
    }

    func getJSON(_ database: String, _ table: String, _ id: String) async throws -> [String: JSONScalar] {
        try decode(try await self("get", database, table, id, "--json"))
    }

    private func decode<T: Decodable>(_ result: CommandResult) throws -> T {
        try #require(result.status == 0, "\(result)")
        return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
    }

    /// Starts `sqlite3 DB` holding `BEGIN EXCLUSIVE` until `release()`.
    func holdWriteLock(on database: String) async throws -> LockHolder {
        let holder = try LockHolder(sqlite3: FaultTools.sqlite3, database: database, directory: directory)
        try await holder.waitUntilLocked()
        return holder
    }

    /// Starts `liaison serve DB --port 0` and waits for the line that names its URL.
    func serve(_ database: String) async throws -> RunningServer {
        try await RunningServer.start(
            binary: binary, arguments: ["serve", database, "--port", "0"], directory: directory,
            environment: environment)
    }
}

/// Runs `executable` to completion. Output goes to files and the end is polled (`FaultProcess`),
/// so no thread blocks on a pipe or on `waitpid` while Swift Testing runs suites in parallel.
func runProcess(
    _ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String]
) async throws
    -> CommandResult
{
    let outcome = try await FaultTools.run(
        executable, arguments, in: directory, environment: environment, timeout: .seconds(170))
    if outcome.timedOut { throw LiaisonCLIError(message: "\(executable.lastPathComponent) timed out: \(outcome)") }
    return CommandResult(
        status: outcome.signal.map { 128 + $0 } ?? outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
}

/// A `sqlite3` shell that holds the write lock of a database until released.
final class LockHolder: Sendable {
    private let process: FaultProcess

    init(sqlite3: URL, database: String, directory: URL) throws {
        process = try FaultProcess(
            executable: sqlite3, arguments: [database], directory: directory, environment: FaultTools.environment,
            acceptsInput: true)
        try process.start()
    }

    deinit { process.kill() }

    func waitUntilLocked() async throws {
        process.send("BEGIN EXCLUSIVE;\nSELECT 'lock held';\n")
        let seen = await process.waitForOutput("lock held", timeout: .seconds(60))
        try #require(seen, "sqlite3 did not take the lock: \(process.stdout) \(process.stderr)")
    }

    /// Rolls back, quits, and returns the shell's exit status.
    func release() async throws -> Int32 {
        process.send("ROLLBACK;\n.quit\n")
        process.closeInput()
        return await process.wait(timeout: .seconds(60)).status
    }
}

/// A `liaison serve` process in the background.
final class RunningServer: Sendable {
    let url: String
    private let process: FaultProcess

    private init(url: String, process: FaultProcess) {
        self.url = url
        self.process = process
    }

    static func start(
        binary: URL, arguments: [String], directory: URL, environment: [String: String]
    ) async throws
        -> RunningServer
    {
        let process = try FaultProcess(
            executable: binary, arguments: arguments, directory: directory, environment: environment)
        try process.start()
        _ = await process.waitForOutput("\n", timeout: .seconds(60))
        let printed = process.stdout
        guard let line = printed.split(separator: "\n").first, line.contains(" serving "),
            let start = line.range(of: "http://")
        else {
            let outcome = await process.wait(timeout: .zero)
            throw LiaisonCLIError(message: "liaison serve did not print its URL: \(outcome)")
        }
        return RunningServer(url: String(line[start.lowerBound...]), process: process)
    }

    deinit { process.kill() }

    /// Sends SIGTERM and returns the exit status and everything printed.
    func stop() async throws -> CommandResult {
        process.kill(SIGTERM)
        let outcome = await process.wait(timeout: .seconds(30))
        return CommandResult(status: outcome.signal.map { 128 + $0 } ?? outcome.status, stdout: outcome.stdout)
    }
}

struct LiaisonCLIError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

// MARK: - What the JSON output looks like

/// One transaction of `liaison log --json`.
struct LoggedTransaction: Decodable, Equatable {
    var origin: String
    var site: String
    var seq: Int64
    var hlc: UInt64
    var time: String
    var author: String
    var changes: [LoggedChange]
}

/// One change of a logged transaction.
struct LoggedChange: Decodable, Equatable {
    var table: String
    var id: String
    var op: String
    var values: [String: JSONScalar]?
}

/// The parts of `liaison status --json` the tests read.
struct StatusReport: Decodable {
    var siteID: String
    var site: String
    var vector: [String: Int64]
    var openConflicts: Int
}

/// One conflict of `liaison conflicts --json`.
struct ConflictReport: Decodable, Equatable {
    struct Side: Decodable, Equatable {
        var site: String
        var author: String
        var value: JSONScalar?
    }

    var id: String
    var kind: String
    var table: String
    var rowID: String
    var column: String?
    var state: String
    var winner: Side
    var loser: Side
}

/// The error object `--json` commands print on stderr.
struct ErrorObject: Decodable {
    var error: String
    var message: String
}
