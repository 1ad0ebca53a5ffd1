import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Plain inserts (a row whose only journal entry of a publish run is its insert) are published in
/// bulk (`ChangeWriter+PlainInserts`); every other row row by row. Both must write what was signed:
/// the audit recomputes every digest from the values, a receiver checks every signature.
@Suite struct PlainInsertPublishTests {
    /// Text that needs escaping, numbers at the edges and NULLs, with and without other writes
    /// of the same rows in the same run.
    static let schema = SchemaDefinition(
        name: "plain-inserts", version: 1,
        tables: [
            TableDefinition(
                "item",
                columns: [
                    ColumnDefinition("label"), ColumnDefinition("count", .integer), ColumnDefinition("weight", .real),
                    ColumnDefinition("note"),
                ])
        ])

    static let texts = [
        "quote \" backslash \\ slash /", "tab\tnewline\ncr\r bell\u{07} unit \u{1F}", "ünïcødé — 中文 — 🙂", "",
    ]
    static let integers: [Int64] = [0, 1, -1, Int64.max, Int64.min, 9_007_199_254_740_993]
    static let reals = [0.1, -2.5e-300, 1e21, 123456789.125, -0.75]

    @Test func plainInsertsOfAwkwardValuesVerifyHereAndAtAReceiver() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", schema: Self.schema)
            let count = 12
            try nl.write(author: "anne") { editor in
                for index in 0..<count {
                    try editor.execute(
                        "INSERT INTO item(id, label, count, weight, note) VALUES (?, ?, ?, ?, ?)",
                        [
                            .text("i-\(index)"), .text(Self.texts[index % Self.texts.count]),
                            .integer(Self.integers[index % Self.integers.count]),
                            index == 5 ? .null : .real(Self.reals[index % Self.reals.count]),
                            index % 3 == 0 ? .null : .text(Self.texts[(index + 1) % Self.texts.count]),
                        ])
                }
            }
            // A second transaction in the same run: its changes carry its own seq.
            try nl.write(author: "bob") {
                try $0.execute("INSERT INTO item(id, label) VALUES ('i-second', 'second')")
            }
            let log = try nl.log()
            #expect(log.count == 2)
            #expect(log.map(\.changes.count).sorted() == [1, count])
            for index in 0..<count {
                let stored = try nl.changeStorage("item", id: "i-\(index)")
                #expect(stored.count == 1 && stored[0].op == "insert" && stored[0].stored == nil && stored[0].live != nil)
            }
            #expect(try nl.verify().problems.isEmpty)
            let ma = try factory.make("MA-DGST", schema: Self.schema)
            try transfer(from: nl, to: ma)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().problems.isEmpty)
            #expect(try ma.row("item", id: "i-0")?["label"] == .text(Self.texts[0]))
            #expect(try ma.row("item", id: "i-4")?["count"] == .integer(Int64.min))
        }
    }

    /// In one run: plain inserts beside a row inserted then updated, a row inserted then deleted,
    /// a row deleted and inserted again, and a row another SQLite client replaced. Only the plain
    /// ones go in bulk; the history of each row is what its transactions wrote.
    @Test func plainInsertsBesideRowsWrittenSeveralTimesInOneRun() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", schema: Self.schema)
            try nl.write(author: "anne") {
                try $0.set("item", id: "again", ["label": "first life"])
                try $0.set("item", id: "replaced", ["label": "before the shell", "note": "kept"])
            }
            _ = try nl.log()
            try nl.write(author: "anne") {
                try $0.set("item", id: "plain-1", ["label": "one"])
                try $0.set("item", id: "edited", ["label": "draft"])
                try $0.set("item", id: "gone", ["label": "short-lived"])
                try $0.delete("item", id: "again")
            }
            try nl.write(author: "anne") {
                try $0.set("item", id: "edited", ["label": "final", "count": .integer(3)])
                try $0.delete("item", id: "gone")
                try $0.set("item", id: "again", ["label": "second life"])
                try $0.set("item", id: "plain-2", ["label": "two", "weight": .real(0.5)])
            }
            try await runSQLite(
                nl.path,
                "INSERT OR REPLACE INTO item(id, label, scope, owner) VALUES ('replaced', 'from the shell', 'public', 'NL-NCTV');"
            )
            #expect(try nl.history("item", id: "plain-1").map { $0.values?["label"] } == ["one"])
            #expect(try nl.history("item", id: "plain-2").map { $0.values?["weight"] } == [.real(0.5)])
            // A cell written again in the run travels with the later write only; a deletion
            // supersedes the writes before it; a row deleted and inserted again is one insert.
            let edited = try nl.history("item", id: "edited")
            #expect(edited.map(\.op) == [.insert, .update])
            #expect(edited.map { $0.values?["label"] } == [nil, "final"])
            #expect(try nl.history("item", id: "gone").map(\.op) == [.delete])
            #expect(try nl.history("item", id: "again").map { $0.values?["label"] } == ["first life", "second life"])
            let replaced = try nl.history("item", id: "replaced")
            #expect(replaced.map { $0.values?["label"] } == ["before the shell", "from the shell"])
            #expect(replaced.first?.values?["note"] == "kept")
            #expect(try nl.verify().problems.isEmpty)
            // A later local edit of a row inserted in bulk keeps the values the insert signed.
            try nl.write(author: "anne") { try $0.set("item", id: "plain-1", ["label": "one, edited"]) }
            #expect(try nl.history("item", id: "plain-1").map { $0.values?["label"] } == ["one", "one, edited"])
            let ma = try factory.make("MA-DGST", schema: Self.schema)
            try transfer(from: nl, to: ma)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().problems.isEmpty)
            #expect(try ma.history("item", id: "again").map { $0.values?["label"] } == ["first life", "second life"])
        }
    }

    /// The receiver merges a concurrent update of a row inserted in bulk by its version: the
    /// insert version written in bulk is the one a later edit names as its base.
    @Test func aRowInsertedInBulkIsEditedElsewhereAndBothSidesConverge() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", schema: Self.schema)
            let ma = try factory.make("MA-DGST", schema: Self.schema)
            try nl.write(author: "anne") { editor in
                for index in 0..<50 { try editor.set("item", id: "row-\(index)", ["label": .text("row \(index)")]) }
            }
            try transfer(from: nl, to: ma)
            try ma.write(author: "mo") { try $0.set("item", id: "row-7", ["label": "edited at MA"]) }
            try nl.write(author: "anne") { try $0.set("item", id: "row-8", ["count": .integer(8)]) }
            try transfer(from: ma, to: nl)
            try transfer(from: nl, to: ma)
            #expect(try nl.dump() == ma.dump())
            #expect(try nl.row("item", id: "row-7")?["label"] == "edited at MA")
            #expect(try ma.row("item", id: "row-8")?["count"] == .integer(8))
            #expect(try nl.conflicts().isEmpty)
            #expect(try nl.verify().problems.isEmpty && ma.verify().problems.isEmpty)
        }
    }
}
