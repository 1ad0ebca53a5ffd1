import Foundation
import LiaisonTesting
import Testing

extension CLITests {
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
}
