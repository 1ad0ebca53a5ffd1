import Foundation
import Liaison
import LiaisonTesting
import Testing

@Suite struct CaptureTests {
    @Test func libraryWriteIsOneTransactionWithOriginSeqClockAndAuthor() async throws {
        try await withReplicas { factory in
            let replica = try factory.make("NL-NCTV", sample: true)
            try replica.write(author: "alice") { editor in
                try editor.set("topic", id: "topic-a", ["name": "A"])
                try editor.set("topic", id: "topic-b", ["name": "B"])
                try editor.set("topic", id: "topic-a", ["description": "first"])
            }
            let entry = try #require(try replica.log(limit: 1).last)
            #expect(entry.seq == 2)
            #expect(entry.origin == replica.siteID)
            #expect(entry.site == "NL-NCTV")
            #expect(entry.author == "alice")
            #expect(entry.hlc > .zero)
            #expect(Set(entry.changes.map(\.id)) == ["topic-a", "topic-b"])
            let insertA = try #require(entry.changes.first { $0.id == "topic-a" && $0.op == .insert })
            #expect(insertA.values?["description"] == "first")
            #expect(try replica.versionVector()[replica.siteID] == 2)
        }
    }

    /// Capture is off while remote changes merge (`Connection.withCaptureOff`): the merge leaves
    /// no local transaction behind, and a local edit made afterwards with the very statement the
    /// merge used (SQLite re-prepares it when capture comes back on) is captured and travels.
    @Test func mergesAreNotCapturedAndLaterLocalEditsAre() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-ftf", ["name": "From NL"]) }
            try transfer(from: nl, to: ma)
            #expect(try ma.row("topic", id: "topic-ftf")?["name"] == "From NL")
            #expect(try ma.log().allSatisfy { $0.origin == nl.siteID })
            try ma.write(author: "mo") {
                try $0.execute("UPDATE \"topic\" SET \"name\" = ? WHERE id = ?", ["From MA", "topic-ftf"])
            }
            let own = try ma.log().filter { $0.origin == ma.siteID }
            #expect(own.count == 1)
            #expect(own.first?.changes.map(\.id) == ["topic-ftf"])
            #expect(own.first?.changes.first?.values?["name"] == "From MA")
            try transfer(from: ma, to: nl)
            #expect(try nl.row("topic", id: "topic-ftf")?["name"] == "From MA")
            #expect(try nl.dump() == ma.dump())
        }
    }

    /// A publish run signs its transactions on every core (`HeaderSigner`, from 32 on): each
    /// signature and chain link must be what signing one by one gives, which `verify` and a peer check.
    @Test func aLongPublishRunIsSignedAndChainedAsOneByOne() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            for index in 0..<70 {
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-ftf", ["name": .text("Name \(index)")]) }
            }
            #expect(try nl.versionVector()[nl.siteID] == 71)
            #expect(try nl.verify().isIntact)
            #expect(try transfer(from: nl, to: ma) == 71)
            #expect(try ma.verify().isIntact)
            #expect(try ma.dump() == nl.dump())
        }
    }

    @Test func rolledBackTransactionLeavesNoTrace() async throws {
        try await withReplicas { factory in
            let replica = try factory.make("NL-NCTV", sample: true)
            let before = try replica.log()
            struct Abort: Error {}
            #expect(throws: Abort.self) {
                try replica.write(author: "alice") { editor in
                    try editor.set("topic", id: "topic-x", ["name": "X"])
                    throw Abort()
                }
            }
            #expect(try replica.row("topic", id: "topic-x") == nil)
            #expect(try replica.log() == before)
            // A failing statement in the middle rolls back the statements before it too.
            #expect(throws: LiaisonError.self) {
                try replica.write(author: "alice") { editor in
                    try editor.set("topic", id: "topic-y", ["name": "Y"])
                    try editor.set("topic", id: "topic-z", ["nmae": "Z"])
                }
            }
            #expect(try replica.row("topic", id: "topic-y") == nil)
            #expect(try replica.log() == before)
        }
    }

    @Test func writeThatChangesNothingLeavesNoLogEntry() async throws {
        try await withReplicas { factory in
            let replica = try factory.make("NL-NCTV", sample: true)
            let row = try #require(try replica.row("topic", id: "topic-ftf"))
            try replica.write(author: "alice") { try $0.set("topic", id: "topic-ftf", ["name": row["name"]!]) }
            #expect(try replica.log().count == 1)
        }
    }

    @Test func editsFromTheSQLiteShellAreCapturedAsTheirOwnTransaction() async throws {
        try await withReplicas { factory in
            let replica = try factory.make("NL-NCTV", sample: true)
            try await runSQLite(
                factory.path("NL-NCTV"),
                "UPDATE organisation SET name = 'Koninkrijk der Nederlanden' WHERE id = 'org-nl';")
            try await runSQLite(
                factory.path("NL-NCTV"), "BEGIN; INSERT INTO topic(id, name) VALUES ('topic-shell', 'Shell'); ROLLBACK;"
            )
            // A later library write is not blamed for the shell's edit.
            try replica.write(author: "alice") { try $0.set("topic", id: "topic-lib", ["name": "Lib"]) }
            let log = try replica.log()
            #expect(log.count == 3)
            let shell = log[1]
            #expect(shell.author == "external:sqlite")
            // Published in one run with the sample's insert of the row: like that insert, it names
            // what it replaced (`#`), and no base for `name` (the row had no version before the run).
            #expect(
                shell.changes == [
                    ChangeRecord(
                        table: "organisation", id: "org-nl", op: .update,
                        values: ["name": "Koninkrijk der Nederlanden"],
                        scope: "public", bases: ["#": ""])
                ])
            #expect(log[2].author == "alice")
            #expect(log[2].changes.map(\.id) == ["topic-lib"])
            #expect(!log.flatMap(\.changes).contains { $0.id == "topic-shell" })
        }
    }

    @Test func deletionIsATombstoneAndSupersedesEarlierUnpublishedWrites() async throws {
        try await withReplicas { factory in
            let replica = try factory.make("NL-NCTV", sample: true)
            try replica.write(author: "a") { try $0.set("topic", id: "topic-ftf", ["description": "changed"]) }
            try replica.write(author: "b") { try $0.delete("topic", id: "topic-ftf") }
            let log = try replica.log()
            #expect(log.count == 3)
            #expect(log[1].changes.isEmpty)
            #expect(
                log[2].changes == [
                    ChangeRecord(table: "topic", id: "topic-ftf", op: .delete, values: nil, scope: "public")
                ])
            #expect(try replica.row("topic", id: "topic-ftf") == nil)
        }
    }

    @Test func idOfASyncedRowCannotChange() async throws {
        try await withReplicas { factory in
            _ = try factory.make("NL-NCTV", sample: true)
            await #expect(throws: (any Error).self) {
                try await runSQLite(factory.path("NL-NCTV"), "UPDATE topic SET id = 'other' WHERE id = 'topic-ftf';")
            }
        }
    }
}

/// Runs the `sqlite3` shell on a file; throws when it fails.
func runSQLite(_ path: String, _ sql: String) async throws {
    let outcome = try await FaultTools.run(
        FaultTools.sqlite3, [path, sql], in: URL(fileURLWithPath: path).deletingLastPathComponent(),
        timeout: .seconds(60))
    struct ShellFailed: Error { var message: String }
    if outcome.status != 0 || outcome.signal != nil || outcome.stderr.contains("Error") {
        throw ShellFailed(message: outcome.stderr)
    }
}
