import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Edits made with another SQLite client pass the CLI's rules before they are signed: an invalid
/// one never leaves the replica, is reported naming the row, and can be fixed or reverted.
@Suite(.timeLimit(.minutes(2))) struct PublishValidationTests {
    @Test func anInvalidShellEditIsNeverSignedAndCanBeFixed() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try await SyncDriver(replica: ma).sync(with: peer)
                let published = try nl.log().count
                try await runSQLite(
                    factory.path("NL-NCTV"),
                    "UPDATE action SET status = 'finished' WHERE id = 'act-roadmap-early-detection';")
                let problem = try #require(try nl.unpublishedEdit())
                #expect(problem.code == .invalidEdit)
                #expect(problem.message.contains("action 'act-roadmap-early-detection'"))
                #expect(problem.message.contains("action.status"))
                // Nothing is signed; sync goes on both ways.
                try ma.write(author: "karim") { try $0.set("topic", id: "topic-ma", ["name": "Returnees"]) }
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try nl.row("topic", id: "topic-ma") != nil)
                #expect(try nl.log().filter { $0.author == "external:sqlite" }.isEmpty)
                #expect(try nl.log().count == published + 1)
                #expect(try ma.row("action", id: "act-roadmap-early-detection")?["status"] != "finished")
                // Fixed with liaison set: the fix is what gets published, never the invalid value.
                try nl.write(author: "anne") {
                    try $0.set("action", id: "act-roadmap-early-detection", ["status": "done"])
                }
                #expect(try nl.unpublishedEdit() == nil)
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("action", id: "act-roadmap-early-detection")?["status"] == "done")
                let everything = try nl.log().flatMap(\.changes).compactMap { $0.values?["status"] }
                #expect(!everything.contains("finished"))
                #expect(try nl.verify().isIntact)
            }
        }
    }

    @Test func aRevertedShellEditPublishesTheRowAsItIs() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let path = factory.path("NL-NCTV")
            let original = try #require(try nl.row("topic", id: "topic-ftf")?["name"])
            try await runSQLite(path, "UPDATE topic SET name = NULL WHERE id = 'topic-ftf';")
            let problem = try #require(try nl.unpublishedEdit())
            #expect(problem.message.contains("topic 'topic-ftf'") && problem.message.contains("cannot be NULL"))
            guard case .text(let name) = original else { throw LiaisonError(.storage, "no name") }
            try await runSQLite(
                path,
                "UPDATE topic SET name = '\(name.replacingOccurrences(of: "'", with: "''"))' WHERE id = 'topic-ftf';")
            #expect(try nl.unpublishedEdit() == nil)
            #expect(try nl.row("topic", id: "topic-ftf")?["name"] == original)
            let shell = try #require(try nl.log().last)
            #expect(shell.author == "external:sqlite" && shell.changes.first?.values?["name"] == original)
        }
    }

    @Test func theNextCommandFailsNamingTheRow() async throws {
        try await withSampleReplica { cli in
            let edited = try await cli.sqlite(
                "nl.db", "UPDATE action SET status = 'finished' WHERE id = 'act-roadmap-early-detection';")
            #expect(edited.status == 0, "\(edited)")
            let log = try await cli("log", "nl.db")
            #expect(log.status == 1, "\(log)")
            #expect(log.stderr.contains("act-roadmap-early-detection") && log.stderr.contains("action.status"))
            let status = try await cli("status", "nl.db")
            #expect(status.status == 1 && status.stderr.contains("act-roadmap-early-detection"), "\(status)")
            try await cli.expectSuccess("set", "nl.db", "action", "act-roadmap-early-detection", "status=done")
            try await cli.expectSuccess("log", "nl.db")
        }
    }
}
