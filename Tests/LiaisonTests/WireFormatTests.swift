import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Golden wire fixtures: every message type encodes to the bytes in `Fixtures/`, and decodes back.
///
/// A failing comparison prints the expected and the actual text, so a change to the wire format
/// shows as a diff. Update a fixture only together with `docs/PROTOCOL.md` (and, when old peers
/// cannot read the new form, `liaisonProtocolVersion`).
@Suite struct WireFormatTests {
    @Test func statusResponse() throws {
        try expectGolden(
            StatusResponse(
                siteID: Sample.nl, site: "NL-NCTV", schema: "cooperation", schemaVersion: 1,
                vector: VersionVector([Sample.nl: 12, Sample.ma: 4])),
            fixture: "status-response")
    }

    @Test func pullRequest() throws {
        try expectGolden(
            PullRequest(cursor: "17:0:0", vector: VersionVector([Sample.nl: 6, Sample.ma: 4]), limit: 500),
            fixture: "pull-request")
    }

    @Test func pullRequestWithoutCursorOrLimitOmitsThem() throws {
        let text = try WireJSON.string(PullRequest(cursor: nil, vector: VersionVector()))
        #expect(text == #"{"protocolVersion":1,"vector":{}}"#)
    }

    @Test func pullResponseWithChangesOfEveryKindAndAPiece() throws {
        try expectGolden(
            PullResponse(transactions: [Sample.completeTransaction, Sample.piece], cursor: "18:6:6", hasMore: true),
            fixture: "pull-response")
    }

    @Test func pushRequest() throws {
        try expectGolden(PushRequest(transactions: [Sample.record]), fixture: "push-request")
    }

    @Test func pushResponse() throws {
        try expectGolden(
            PushResponse(
                applied: 1, skipped: 0, staged: 0, vector: VersionVector([Sample.nl: 12, Sample.ma: 4, Sample.tr: 3])),
            fixture: "push-response")
    }

    @Test func errorResponse() throws {
        try expectGolden(
            ErrorResponse(
                error: "unknown_table",
                message:
                    "no synced table 'organisatoin' (did you mean 'organisation'?); tables: organisation, membership, "
                    + "topic, agenda_item, agreement, action"),
            fixture: "error-response")
    }

    @Test func transactionRecord() throws {
        try expectGolden(Sample.record, fixture: "transaction-record")
    }

    @Test func cooperationSchema() throws {
        try expectGolden(SchemaDefinition.cooperation, fixture: "schema-cooperation")
    }

    @Test func hybridTimestampIsMillisecondsShiftedLeftBy16BitsOrCounter() throws {
        let hlc = HybridTimestamp(milliseconds: 1_764_424_800_123, counter: 2)
        #expect(hlc.rawValue == 115_633_343_700_860_930)
        #expect(hlc.milliseconds == 1_764_424_800_123 && hlc.counter == 2)
        #expect(try WireJSON.string(hlc) == "115633343700860930")
    }

    @Test func unknownFieldsAreIgnoredWhenDecoding() throws {
        let status = try WireJSON.decode(
            StatusResponse.self,
            from: #"""
                {"protocolVersion":1,"siteID":"s","site":"NL-NCTV","schema":"cooperation","schemaVersion":1,
                 "vector":{"s":3},"uptime":42,"features":{"signatures":true}}
                """#)
        #expect(
            status
                == StatusResponse(
                    siteID: "s", site: "NL-NCTV", schema: "cooperation", schemaVersion: 1,
                    vector: VersionVector(["s": 3])))

        var withExtras = try #require(
            JSONSerialization.jsonObject(with: try fixtureData("transaction-record")) as? [String: Any])
        withExtras["x-extension"] = "ed25519:abcdef"
        var changes = try #require(withExtras["changes"] as? [[String: Any]])
        changes[0]["previous"] = ["name": "Old name"]
        withExtras["changes"] = changes
        let data = try JSONSerialization.data(withJSONObject: withExtras)
        #expect(try WireJSON.decode(TransactionRecord.self, from: data) == Sample.record)
    }

    @Test(arguments: [
        (CellValue.null, "null"), (.integer(42), "42"), (.integer(-7), "-7"),
        (.integer(Int64.max), "9223372036854775807"), (.real(2.5), "2.5"), (.real(-0.125), "-0.125"),
        (.text("Returnees"), #""Returnees""#), (.text(""), #""""#), (.text("42"), #""42""#),
        (.text("EU/UN \"Türkiye\"\n"), #""EU/UN \"Türkiye\"\n""#),
    ])
    func cellValueRoundTrips(value: CellValue, json: String) throws {
        #expect(try WireJSON.string([value]) == "[\(json)]")
        #expect(try WireJSON.decode([CellValue].self, from: "[\(json)]") == [value])
        #expect(try WireJSON.decode([String: CellValue].self, from: #"{"v":\#(json)}"#) == ["v": value])
    }

    /// JSON cannot tell 1.0 from 1: a whole real may arrive as an integer, and the engine stores
    /// it by the column's type.
    @Test func wholeRealArrivingAsAnIntegerIsStoredAsAReal() async throws {
        let schema = SchemaDefinition(
            name: "measure", version: 1,
            tables: [TableDefinition("reading", columns: [ColumnDefinition("value", .real)])])
        try await withReplicas { factory in
            let a = try factory.make("NL-A", schema: schema)
            let b = try factory.make("NL-B", schema: schema)
            try b.pinKey(of: a.identity)
            try a.write(author: "t") { try $0.set("reading", id: "r1", ["value": .integer(1)]) }
            #expect(try a.row("reading", id: "r1")?["value"] == .real(1.0))
            let page = try a.changes(after: .start, excluding: VersionVector())
            let wire = try WireJSON.decode(PullResponse.self, from: try WireJSON.encode(page))
            _ = try b.apply(wire.transactions, keys: wire.keys)
            #expect(try b.row("reading", id: "r1")?["value"] == .real(1.0))
            #expect(try a.dump() == b.dump())
        }
    }

    @Test func cellValueRefusesArraysAndObjects() {
        #expect(throws: DecodingError.self) { try WireJSON.decode([CellValue].self, from: "[[1]]") }
        #expect(throws: DecodingError.self) { try WireJSON.decode([CellValue].self, from: #"[{"a":1}]"#) }
    }

    // MARK: - Support

    private func expectGolden<T: Codable & Equatable>(
        _ value: T, fixture name: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let expected = String(decoding: try fixtureData(name), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let actual = try WireJSON.string(value)
        if ProcessInfo.processInfo.environment["LIAISON_UPDATE_FIXTURES"] == "1" {
            // A deliberate wire change: rewrite the fixture in the source tree, then review the diff.
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Fixtures/\(name).json")
            try Data(actual.utf8).write(to: source)
            return
        }
        #expect(
            actual == expected,
            "the wire format of \(T.self) differs from Fixtures/\(name).json (expected: the fixture, actual: WireJSON)",
            sourceLocation: sourceLocation)
        let decoded = try WireJSON.decode(T.self, from: Data(expected.utf8))
        #expect(
            decoded == value, "Fixtures/\(name).json decodes to a different \(T.self)", sourceLocation: sourceLocation)
    }

    private func fixtureData(_ name: String) throws -> Data {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
    }
}

/// The fixed values behind the fixtures.
private enum Sample {
    static let nl = "3f0b6c9e-8d2a-4e71-9c55-1a2b3c4d5e6f"
    static let ma = "a7e4d1c0-2b3f-4a59-8e6d-0f1e2d3c4b5a"
    static let tr = "c2d9e8f7-6a5b-4c3d-9e1f-7a8b9c0d1e2f"
    static let hlc = HybridTimestamp(milliseconds: 1_764_424_800_123, counter: 2)

    /// A whole transaction that resolves a conflict.
    static let record = TransactionRecord(
        origin: ma, site: "MA-DGST", seq: 4, hlc: hlc, author: "karim", context: VersionVector([nl: 12, tr: 3]),
        resolves: ["c5f3a1e2b4d6c8a09"], total: 1,
        changes: [
            ChangeRecord(
                table: "topic", id: "topic-returnees", op: .update,
                values: ["description": "Returning foreign terrorist fighters", "name": "Returnees"])
        ])

    /// A whole transaction with an insert, an update and a delete.
    static let completeTransaction = TransactionRecord(
        origin: nl, site: "NL-NCTV", seq: 7, hlc: hlc, author: "anne", context: VersionVector([ma: 4]), total: 3,
        changes: [
            ChangeRecord(
                table: "topic", id: "topic-returnees", op: .insert,
                values: ["description": .null, "name": "Returnees", "owner": "NL-NCTV", "scope": "public"]),
            ChangeRecord(table: "agenda_item", id: "agenda-gctf-fff", op: .update, values: ["priority": 2]),
            ChangeRecord(table: "membership", id: "mem-nl-gctf", op: .delete, values: nil),
        ])

    /// Changes 5 and 6 of a 7-change transaction.
    static let piece = TransactionRecord(
        origin: tr, site: "TR-TNP", seq: 3, hlc: HybridTimestamp(milliseconds: 1_764_424_861_000), author: "mehmet",
        context: VersionVector([nl: 6]), resolves: ["c5f3a1e2b4d6c8a09"], total: 7, offset: 4,
        changes: [
            ChangeRecord(
                table: "organisation", id: "org-tr", op: .update,
                values: ["description": "Türkiye; co-chairs the EU/UN-backed working group", "name": "Türkiye"]),
            ChangeRecord(
                table: "organisation", id: "org-tnp", op: .insert,
                values: [
                    "country": "TR", "description": .null, "kind": "agency", "name": "Turkish National Police",
                    "owner": "TR-TNP", "parent_id": "org-tr", "scope": "bilateral:NL-TR",
                ]),
        ])
}
