import Foundation
import Liaison
import LiaisonTesting
import Testing

/// A clone whose process died: `liaison clone` into the same file starts over and says why (a
/// snapshot clone keeps nothing until its last page is verified), never over a replica that holds
/// transactions, and a replica that is not an unfinished clone is still refused.
@Suite(.timeLimit(.minutes(3))) struct UnfinishedCloneTests {
    @Test func aCloneThatDidNotFinishStartsOverAndSaysWhy() async throws {
        try await withSampleReplica { cli in
            // NL's history, compacted (no peer yet, so all of it counts as acknowledged): a new
            // peer cannot pull it from nothing and clones from NL's snapshot.
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-cli", "name=Returnees", "--author", "anna")
            for round in 0..<4 {
                try await cli.expectSuccess(
                    "set", "nl.db", "topic", "topic-cli", "description=draft \(round)", "--author", "anna")
            }
            let compacted = try await cli("compact", "nl.db", "--apply", "--remove-transactions")
            #expect(compacted.status == 0 && compacted.stdout.contains("transactions whole"), "\(compacted)")
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "BE-OCAM", "http://127.0.0.1:1", "--token", "be-to-nl-secret", "--read", "*",
                "--write", "*")
            let server = try await cli.serve("nl.db")
            let clone =
                ["clone", server.url, "be.db", "--site", "BE-OCAM", "--token", "be-to-nl-secret", "--write", "*"]
                + (try await cli.keyArguments("nl.db"))

            // What a clone leaves when its process dies mid-snapshot: a replica marked as an
            // unfinished clone that holds no transaction (the snapshot's SQLite transaction was
            // never committed).
            try await cli.expectSuccess("init", "be.db", "--site", "BE-OCAM")
            try Replica.open(at: cli.url("be.db").path).beginClone(from: server.url)
            let again = try await cli.run(clone)
            #expect(again.status == 0, "\(again)")
            #expect(
                again.stdout.contains(
                    "did not finish; a clone keeps nothing until it is complete, so this one starts over")
                    && again.stdout.contains("compacted its history: started from its signed snapshot"), "\(again)")
            #expect(try await cli("dump", "be.db").stdout == cli("dump", "nl.db").stdout)
            #expect(try Replica.open(at: cli.url("be.db").path).unfinishedClone() == nil)
            // Finished, it is an ordinary replica: cloning into it again is refused as before.
            try await cli.expectRefused(
                clone[0], clone[1], clone[2], clone[3], clone[4], clone[5], clone[6], clone[7], clone[8],
                mentioning: "exists already", leaving: "be.db")

            // An unfinished clone that holds a write made since is never removed.
            try await cli.expectSuccess("init", "ma.db", "--site", "MA-DGST")
            try Replica.open(at: cli.url("ma.db").path).beginClone(from: server.url)
            try await cli.expectSuccess("set", "ma.db", "topic", "topic-ma", "name=Local", "--author", "amina")
            try await cli.expectRefused(
                "clone", server.url, "ma.db", "--site", "MA-DGST", "--token", "ma-to-nl-secret",
                mentioning: "did not finish", "'liaison sync ma.db' goes on from where it stopped", leaving: "ma.db")
            #expect(try await cli("get", "ma.db", "topic", "topic-ma").status == 0)
            _ = try await server.stop()
        }
    }
}
