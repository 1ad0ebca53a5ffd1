import Foundation
import Liaison
import LiaisonTesting
import Testing

/// The digests' storage (`_liaison_digest_hash`: one B-tree of 32-byte hashes by table, scope and
/// key) and the row hasher that reads cells straight from SQLite: every row's kept hash is the one
/// the rule (`liaison-row-v2`) gives when the row is read cell by cell, through writes, moves,
/// deletions, edits by other SQLite clients and awkward values; a replica whose digests were kept
/// in the layout before hashes again with the same fingerprints.
@Suite(.timeLimit(.minutes(3))) struct DigestLayoutTests {
    static let schema = SchemaDefinition(
        name: "digest-values", version: 1,
        tables: [
            TableDefinition(
                "item",
                columns: [
                    ColumnDefinition("label"), ColumnDefinition("count", .integer), ColumnDefinition("weight", .real),
                    ColumnDefinition("note"),
                ])
        ])

    static let texts = ["", "a", "ünïcødé — 中文 — 🙂", "quote \" tab\t newline\n", String(repeating: "long ", count: 40)]
    static let integers: [Int64] = [0, 7, 10, -1, Int64.max, Int64.min]
    static let reals = [0.0, 0.1, -2.5e-300, 1e21, -0.75, 3.0]

    @Test func keptHashesFollowTheRuleThroughWritesMovesDeletionsAndOtherClients() async throws {
        try await withReplicas { factory in
            let replica = try factory.make("NL-DGST", schema: Self.schema)
            try replica.write(author: "anne") { editor in
                for index in 0..<30 {
                    try editor.set(
                        "item", id: "item-\(index)",
                        [
                            "label": .text(Self.texts[index % Self.texts.count]),
                            "count": index % 4 == 0 ? .null : .integer(Self.integers[index % Self.integers.count]),
                            "weight": .real(Self.reals[index % Self.reals.count]),
                        ])
                }
            }
            // The first use hashes every row (a rebuild).
            _ = try replica.scopeDigests()
            var hashes = try replica.digestRowHashes()
            #expect(hashes.stored.count == 30)
            #expect(hashes.stored == hashes.reference)
            // Written rows, a row moved to another scope, a deletion: hashed again one by one.
            try replica.write(author: "anne") { editor in
                try editor.set("item", id: "item-3", ["label": "Renamed", "note": "ünï"])
                try editor.set("item", id: "item-4", ["scope": "eu"])
                try editor.delete("item", id: "item-5")
                try editor.set("item", id: "item-new", ["count": .integer(42)])
            }
            _ = try replica.scopeDigests()
            hashes = try replica.digestRowHashes()
            #expect(hashes.stored.count == 30)
            #expect(hashes.stored["item/item-5"] == nil)
            #expect(hashes.stored == hashes.reference)
            let eu = try #require(try replica.scopeDigests().first { $0.scope == "eu" })
            #expect(eu.count == 1)
            // Another SQLite client writes text that is not UTF-8 and text with a NUL: the hash
            // reads it as the engine reads any cell.
            let folder = URL(fileURLWithPath: replica.path).deletingLastPathComponent()
            let outcome = try await FaultTools.run(
                FaultTools.sqlite3,
                [
                    replica.path,
                    "UPDATE item SET note = CAST(X'41FF42' AS TEXT) WHERE id = 'item-6'; "
                        + "UPDATE item SET note = CAST(X'410042' AS TEXT) WHERE id = 'item-7'; "
                        + "UPDATE item SET count = 3.5 WHERE id = 'item-8'",
                ], in: folder)
            #expect(outcome.status == 0, "\(outcome)")
            let before = try replica.scopeDigests()
            hashes = try replica.digestRowHashes()
            #expect(hashes.stored == hashes.reference)
            // A full rehash gives the sums kept write by write.
            try replica.rehashDigests()
            #expect(try replica.scopeDigests() == before)
        }
    }

    @Test func digestsKeptAsHexRowsAreHashedAgainWithTheSameFingerprints() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let expected = try nl.scopeDigests()
            let nodes = try nl.digestTreeNodes()
            // The layout before: hex text rows with two indexes, and no `_liaison_digest_hash`.
            try nl.write(author: "operator") {
                try $0.execute("DROP TABLE _liaison_digest_hash")
                try $0.execute(
                    "CREATE TABLE _liaison_digest_row(tbl TEXT NOT NULL, pk TEXT NOT NULL, scope TEXT NOT NULL, "
                        + "key TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (tbl, pk)) WITHOUT ROWID")
                try $0.execute(
                    "INSERT INTO _liaison_digest_row VALUES ('topic', 'topic-x', 'public', '0123456789abcdef', 'ff')")
            }
            #expect(try nl.scopeDigests() == expected)
            #expect(try nl.digestTreeNodes() == nodes)
            let hashes = try nl.digestRowHashes()
            #expect(hashes.stored == hashes.reference)
            let left = try await FaultTools.run(
                FaultTools.sqlite3, [nl.path, "SELECT count(*) FROM sqlite_master WHERE name = '_liaison_digest_row'"],
                in: URL(fileURLWithPath: nl.path).deletingLastPathComponent())
            #expect(left.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(left)")
        }
    }
}
