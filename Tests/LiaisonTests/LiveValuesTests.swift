import Foundation
import Liaison
import LiaisonTesting
import Testing

/// A local change keeps no values while its cells are current (`ChangeValues`, format 6): the log
/// reads them from the row, and copies them in before anything overwrites them, on every path
/// (the library, another SQLite client, a merge, a deletion), so history, audits, pages and
/// signatures see the values that were signed.
@Suite struct LiveValuesTests {
    @Test func aPublishedInsertKeepsNoValuesUntilALaterLocalWriteSupersedesIt() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "t-live", ["name": "First", "description": "Kept"])
            }
            _ = try nl.log()
            let fresh = try nl.changeStorage("topic", id: "t-live")
            #expect(fresh.count == 1)
            #expect(fresh[0].op == "insert" && fresh[0].stored == nil && fresh[0].live != nil)
            #expect(try nl.history("topic", id: "t-live").first?.values?["name"] == "First")

            // Edited twice before the next publish (the later edit alone carries the name), then
            // again after it: each earlier change keeps what it wrote, not a middle value.
            try nl.write(author: "anne") { try $0.set("topic", id: "t-live", ["name": "Second"]) }
            try nl.write(author: "anne") { try $0.set("topic", id: "t-live", ["name": "Third"]) }
            var history = try nl.history("topic", id: "t-live")
            #expect(history.map(\.op) == [.insert, .update])
            #expect(history.map { $0.values?["name"] } == ["First", "Third"])
            try nl.write(author: "anne") { try $0.set("topic", id: "t-live", ["name": "Fourth"]) }
            history = try nl.history("topic", id: "t-live")
            #expect(history.map { $0.values?["name"] } == ["First", "Third", "Fourth"])
            #expect(history[0].values?["description"] == "Kept")
            let stored = try nl.changeStorage("topic", id: "t-live")
            try #require(stored.count == 3)
            #expect(stored[0].stored?.contains("\"First\"") == true && stored[0].live == nil)
            #expect(stored[1].stored?.contains("\"Third\"") == true && stored[1].live == nil)
            #expect(stored[2].stored == nil && stored[2].live != nil)

            // A deletion keeps every value before the row goes.
            try nl.write(author: "anne") { try $0.delete("topic", id: "t-live") }
            #expect(
                try nl.history("topic", id: "t-live").map { $0.values?["name"] } == ["First", "Third", "Fourth", nil])
            #expect(try nl.changeStorage("topic", id: "t-live").allSatisfy { $0.live == nil })
            #expect(try nl.verify().problems.isEmpty)

            // A replica that receives it all later checks every signature against those values.
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            #expect(
                try ma.history("topic", id: "t-live").map { $0.values?["name"] } == ["First", "Third", "Fourth", nil])
            #expect(try ma.verify().problems.isEmpty)
            #expect(try ma.dump() == nl.dump())
        }
    }

    /// Another SQLite client's edit is captured by the triggers, which keep the row as it was.
    @Test func anEditByAnotherSQLiteClientKeepsTheValuesItOverwrites() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            try nl.write(author: "anne") { try $0.set("topic", id: "t-shell", ["name": "Before the shell"]) }
            _ = try nl.log()
            try await runSQLite(nl.path, "UPDATE topic SET name = 'From the shell' WHERE id = 't-shell';")
            // Before publishing, the log already reads the insert's values from the kept copy.
            #expect(try nl.row("topic", id: "t-shell")?["name"] == "From the shell")
            let history = try nl.history("topic", id: "t-shell")
            #expect(history.map { $0.values?["name"] } == ["Before the shell", "From the shell"])
            #expect(try nl.verify().problems.isEmpty)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().problems.isEmpty)
        }
    }

    /// `INSERT OR REPLACE` by another client deletes the row without a delete trigger; the row it
    /// replaced is still kept, so the published insert keeps its signed values.
    @Test func anInsertOrReplaceByAnotherSQLiteClientKeepsTheValuesItReplaces() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "t-upsert", ["name": "Signed first", "description": "Kept"])
            }
            _ = try nl.log()
            try await runSQLite(
                nl.path,
                "INSERT OR REPLACE INTO topic(id, name, scope, owner) VALUES ('t-upsert', 'Replaced', 'public', 'NL-NCTV');"
            )
            let history = try nl.history("topic", id: "t-upsert")
            #expect(history.first?.values?["name"] == "Signed first")
            #expect(history.first?.values?["description"] == "Kept")
            #expect(history.last?.values?["name"] == "Replaced")
            #expect(try nl.verify().problems.isEmpty)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().problems.isEmpty)
            #expect(try ma.row("topic", id: "t-upsert")?["name"] == "Replaced")
        }
    }

    /// Merges run with capture off: the applier keeps the values of live changes before it writes
    /// the row, for an update and for a deletion, and a third replica still verifies them.
    @Test func aMergedUpdateOrDeletionKeepsTheValuesOfLiveLocalChanges() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "t-merged", ["name": "NL wrote this"])
                try $0.set("topic", id: "t-gone", ["name": "NL made this"])
            }
            try transfer(from: nl, to: ma)
            try ma.write(author: "mo") {
                try $0.set("topic", id: "t-merged", ["name": "MA renamed it"])
                try $0.delete("topic", id: "t-gone")
            }
            try transfer(from: ma, to: nl)
            #expect(try nl.row("topic", id: "t-merged")?["name"] == "MA renamed it")
            #expect(try nl.row("topic", id: "t-gone") == nil)
            #expect(
                try nl.history("topic", id: "t-merged").map { $0.values?["name"] } == [
                    "NL wrote this", "MA renamed it",
                ])
            #expect(try nl.history("topic", id: "t-gone").first?.values?["name"] == "NL made this")
            #expect(try nl.changeStorage("topic", id: "t-merged").allSatisfy { $0.live == nil })
            #expect(try nl.verify().problems.isEmpty)
            let tr = try factory.make("TR-EGM")
            try transfer(from: nl, to: tr)
            #expect(try tr.dump() == nl.dump())
            #expect(try tr.verify().problems.isEmpty)
            #expect(try tr.history("topic", id: "t-merged").first?.values?["name"] == "NL wrote this")
        }
    }

    /// A move to another scope writes the cells it changed and carries the others; all read from
    /// the row while current, then kept when a later edit overwrites one.
    @Test func aMoveAndItsCarriedCellsReadFromTheRowThenAreKept() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "t-move", ["name": "Moving", "description": "Carried"])
            }
            // Published apart: a move published in the run that creates the row is no move.
            _ = try nl.log()
            try nl.write(author: "anne") { try $0.set("topic", id: "t-move", ["scope": "eu"]) }
            _ = try nl.log()
            let move = try #require(try nl.changeStorage("topic", id: "t-move").last)
            #expect(move.op == "update" && move.stored == nil && move.live != nil)
            let moved = try #require(try nl.history("topic", id: "t-move").last)
            #expect(moved.values?["scope"] == "eu")
            #expect(moved.values?["description"] == "Carried")
            try nl.write(author: "anne") { try $0.set("topic", id: "t-move", ["description": "Changed after"]) }
            #expect(
                try nl.history("topic", id: "t-move").map { $0.values?["description"] } == [
                    "Carried", "Carried", "Changed after",
                ])
            #expect(try nl.verify().problems.isEmpty)
        }
    }
}
