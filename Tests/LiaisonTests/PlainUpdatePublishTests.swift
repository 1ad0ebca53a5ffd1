import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Plain updates (a row whose only journal entry of a publish run is one update) are published in
/// bulk, their bases read for the whole run at once (`ChangeWriter+PlainUpdates`); every other row
/// row by row. Both must write what was signed and name the same bases.
@Suite struct PlainUpdatePublishTests {
    static let schema = PlainInsertPublishTests.schema
    static let texts = PlainInsertPublishTests.texts

    /// Many one-row update transactions of awkward values, some by the sqlite3 shell, published in
    /// one run: each is one change with the row's values live, verifiable here and at a receiver.
    @Test func oneRowUpdatesOfAwkwardValuesVerifyHereAndAtAReceiver() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", schema: Self.schema)
            let count = 12
            try nl.write(author: "anne") { editor in
                for index in 0..<count { try editor.set("item", id: "i-\(index)", ["label": .text("row \(index)")]) }
            }
            _ = try nl.log()
            for index in 0..<count {
                try nl.write(author: "anne") {
                    try $0.set(
                        "item", id: "i-\(index)",
                        [
                            "label": .text(Self.texts[index % Self.texts.count]),
                            "count": .integer(PlainInsertPublishTests.integers[index % 6]),
                            "weight": index == 5 ? .null : .real(PlainInsertPublishTests.reals[index % 5]),
                        ])
                }
            }
            try await runSQLite(nl.path, "UPDATE item SET note = 'from the shell' WHERE id = 'i-3';")
            let log = try nl.log()
            #expect(log.count == count + 2)
            for index in 0..<count {
                let stored = try nl.changeStorage("item", id: "i-\(index)")
                #expect(stored.map(\.op) == ["insert", "update"] + (index == 3 ? ["update"] : []))
                #expect(stored.last?.stored == nil && stored.last?.live != nil)
            }
            #expect(try nl.history("item", id: "i-0").map { $0.values?["label"] } == ["row 0", .text(Self.texts[0])])
            #expect(try nl.verify().problems.isEmpty)
            let ma = try factory.make("MA-DGST", schema: Self.schema)
            try transfer(from: nl, to: ma)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().problems.isEmpty)
            #expect(try ma.row("item", id: "i-3")?["note"] == "from the shell")
        }
    }

    /// In one run, a row updated once (in bulk) and a row updated twice (row by row) name the same
    /// base for the same cell; a later run's update of the bulk row takes the values of the one
    /// before from the row's copy, so history keeps both.
    @Test func bulkAndRowByRowUpdatesNameTheSameBases() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", schema: Self.schema)
            try nl.write(author: "anne") {
                try $0.set("item", id: "bulk", ["label": "a", "count": .integer(1)])
                try $0.set("item", id: "by-row", ["label": "a", "count": .integer(1)])
            }
            _ = try nl.log()
            try nl.write(author: "anne") {
                try $0.set("item", id: "bulk", ["label": "b"])
                try $0.set("item", id: "by-row", ["label": "b"])
            }
            try nl.write(author: "anne") { try $0.set("item", id: "by-row", ["count": .integer(2)]) }
            _ = try nl.log()
            let bulk = try nl.changeLogEntries("item", id: "bulk")
            let byRow = try nl.changeLogEntries("item", id: "by-row")
            try #require(bulk.count == 2 && byRow.count == 3)
            #expect(bulk[1].op == "update" && byRow[1].op == "update")
            #expect(bulk[1].bases != nil)
            #expect(bulk[1].bases == byRow[1].bases)
            try nl.write(author: "anne") { try $0.set("item", id: "bulk", ["label": "c"]) }
            #expect(try nl.history("item", id: "bulk").map { $0.values?["label"] } == ["a", "b", "c"])
            let stored = try nl.changeStorage("item", id: "bulk")
            #expect(stored[1].stored != nil && stored[2].live != nil)
            // The update of a cell written by an update names that update as its base.
            let third = try nl.changeLogEntries("item", id: "bulk")[2]
            let second = try nl.log().filter { $0.changes.contains { $0.id == "bulk" && $0.op == .update } }
                .map(\.seq).min()
            try #require(second != nil)
            #expect(third.bases?.contains(":\(second!)\"") == true)
            #expect(try nl.verify().problems.isEmpty)
            let ma = try factory.make("MA-DGST", schema: Self.schema)
            try transfer(from: nl, to: ma)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().problems.isEmpty)
        }
    }

    /// Updates published in bulk merge by their bases at a peer that edited the same rows
    /// concurrently: one conflict per cell both wrote, none where they wrote different cells, the
    /// same records and values on both sides.
    @Test func updatesPublishedInBulkMergeByTheirBases() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", schema: Self.schema)
            let ma = try factory.make("MA-DGST", schema: Self.schema)
            try nl.write(author: "anne") { editor in
                for index in 0..<20 { try editor.set("item", id: "row-\(index)", ["label": .text("row \(index)")]) }
            }
            try transfer(from: nl, to: ma)
            for index in 0..<20 {
                try nl.write(author: "anne") { try $0.set("item", id: "row-\(index)", ["label": .text("NL \(index)")]) }
            }
            try ma.write(author: "mo") { editor in
                for index in 0..<10 { try editor.set("item", id: "row-\(index)", ["label": .text("MA \(index)")]) }
                for index in 10..<20 { try editor.set("item", id: "row-\(index)", ["count": .integer(Int64(index))]) }
            }
            try transfer(from: nl, to: ma)
            try transfer(from: ma, to: nl)
            try transfer(from: nl, to: ma)
            #expect(try nl.dump() == ma.dump())
            #expect(try nl.conflicts().count == 10)
            #expect(try Set(nl.conflicts().map(\.id)) == Set(ma.conflicts().map(\.id)))
            #expect(try nl.row("item", id: "row-15")?["label"] == "NL 15")
            #expect(try nl.row("item", id: "row-15")?["count"] == .integer(15))
            #expect(try nl.verify().problems.isEmpty && ma.verify().problems.isEmpty)
        }
    }
}
