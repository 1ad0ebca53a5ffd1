import Foundation
import LiaisonProtocol
import Testing

/// The hand-written wire coders (`FastWire`) against Foundation's: the same bytes out, the same
/// values in, the same refusals. Every property runs over seeded random values; a failure names
/// its seed.
@Suite struct FastJSONTests {
    // MARK: Encoding gives JSONEncoder's bytes, decoding gives JSONDecoder's values

    @Test(arguments: 0..<8)
    func everyMessageEncodesAndDecodesAsFoundationDoes(seed: UInt64) throws {
        var samples = WireSamples(seed: seed)
        for _ in 0..<60 {
            try expectSameAsFoundation(samples.pullResponse(), seed: seed)
            try expectSameAsFoundation(samples.pushRequest(), seed: seed)
            try expectSameAsFoundation(samples.pullRequest(), seed: seed)
            try expectSameAsFoundation(samples.pushResponse(), seed: seed)
            try expectSameAsFoundation(samples.transaction(), seed: seed)
            try expectSameAsFoundation(samples.change(), seed: seed)
            try expectSameAsFoundation(samples.values(), seed: seed)
            try expectSameAsFoundation([samples.cell(), samples.cell(), samples.cell()], seed: seed)
            try expectSameAsFoundation(samples.vector(), seed: seed)
            try expectSameAsFoundation(HybridTimestamp(rawValue: samples.integer()), seed: seed)
        }
    }

    @Test(arguments: 0..<8)
    func reformattedDocumentsDecodeAsFoundationDecodesThem(seed: UInt64) throws {
        var samples = WireSamples(seed: 1_000 + seed)
        var fast = 0
        for _ in 0..<100 {
            let original = samples.pullResponse()
            let json = samples.reformat(Array(try WireJSON.encoder().encode(original)))
            // Some notations of large integers (9223372036854775807e0) are beyond what JSONDecoder reads.
            let expected = try? JSONDecoder().decode(PullResponse.self, from: Data(json))
            #expect((try? WireJSON.decode(PullResponse.self, from: Data(json))) == expected, "seed \(seed)")
            if let value = try? json.withUnsafeBytes({ try FastWire.decode(PullResponse.self, from: $0) }) {
                #expect(value == expected, "seed \(seed): \(String(decoding: json, as: UTF8.self))")
                fast += 1
            }
        }
        #expect(fast >= 30, "seed \(seed): only \(fast) of 100 reformatted pages were read without JSONDecoder")
    }

    @Test func doublesAreWrittenAsJSONEncoderWritesThem() throws {
        var random = SplitMix(state: 7)
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 1.5, 1e-7, 1e15, 1e16, 1e21, 1e22, .leastNonzeroMagnitude, 1.7976931348623157e308,
        ]
        while values.count < 20_000 {
            let value = Double(bitPattern: random.next())
            if value.isFinite { values.append(value) }
        }
        let reals = values.map(CellValue.real)
        #expect(try FastWire.encode(reals) == Array(WireJSON.encoder().encode(reals)))
    }

    @Test func numbersInAnyNotationDecodeAsJSONDecoderDecodesThem() throws {
        var random = SplitMix(state: 11)
        var texts = [
            "0", "-0", "1.0", "-0.0", "1e2", "1E+2", "1.5e1", "0.1e1", "1e-400", "-1e-400", "1e400", "-1e400", "5e-324",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
            "100000000000000000000000", "9007199254740993.0", "9007199254740993e0", "123456789012345678.0",
            "1.23456789012345678e17", "4611686018427387903.5", "9223372036854775806.0", "-9223372036854775808.0",
            "1e+16", "1.2345678901234568e+17", "-9.223372036854775808e18", "9.223372036854775807e18", "2.50", "1e18",
            "1e19",
            "0.000000000000000000000000000000000000000000000000000000000000000001e66",
            "1.00000000000000000000000000001",
        ]
        for _ in 0..<3_000 {
            var text = Int.random(in: 0...3, using: &random) == 0 ? "-" : ""
            let digits = Int.random(in: 1...22, using: &random)
            text += String(Int.random(in: 1...9, using: &random))
            for _ in 1..<digits { text += String(Int.random(in: 0...9, using: &random)) }
            if Bool.random(using: &random) {
                let point = Int.random(in: 1...text.count, using: &random)
                text.insert(".", at: text.index(text.startIndex, offsetBy: max(point, text.hasPrefix("-") ? 2 : 1)))
                if text.hasSuffix(".") { text += "0" }
            }
            if Bool.random(using: &random) { text += "e" + String(Int.random(in: -30...25, using: &random)) }
            texts.append(text)
        }
        for text in texts {
            let json = Data("[\(text)]".utf8)
            let expected = try? JSONDecoder().decode([CellValue].self, from: json)
            #expect((try? WireJSON.decode([CellValue].self, from: json)) == expected, "\(text)")
            if let fast = try? FastWire.decode([CellValue].self, from: "[\(text)]") {
                #expect(fast == expected, "\(text)")
            }
            let expectedInteger = try? JSONDecoder().decode([Int64].self, from: json)
            #expect((try? WireJSON.decode([Int64].self, from: json)) == expectedInteger, "\(text)")
        }
    }

    @Test func keysAreOrderedByTheirUTF8Bytes() throws {
        let keys = [
            "e\u{301}x", "\u{E9}a", "Å", "\u{212B}b", "A\u{30A}c", "\u{E000}", "😀", "｡", "a10", "a9", "aB", "a_b", "",
        ]
        let values = Dictionary(
            uniqueKeysWithValues: keys.enumerated().map { ($0.element, CellValue.integer(Int64($0.offset))) })
        #expect(try WireJSON.string(values) == String(decoding: try WireJSON.encoder().encode(values), as: UTF8.self))
        #expect(try FastWire.encode(values) == Array(try WireJSON.encoder().encode(values)))
    }

    @Test func everyWireTypeIsCoveredByTheFastCoders() {
        // Fails when a stored property is added to a wire type without adding it to FastWire+*.swift.
        #expect(PullRequest.isFastWireComplete)
        #expect(PullResponse.isFastWireComplete)
        #expect(PushRequest.isFastWireComplete)
        #expect(PushResponse.isFastWireComplete)
        #expect(TransactionRecord.isFastWireComplete)
        #expect(ChangeRecord.isFastWireComplete)
        #expect(SiteKeyRecord.isFastWireComplete)
        #expect(WantedTransaction.isFastWireComplete)
        #expect(ChangeOutline.isFastWireComplete)
    }

    @Test(arguments: 0..<4)
    func canonicalObjectsAreUnchanged(seed: UInt64) {
        var samples = WireSamples(seed: 500 + seed)
        for _ in 0..<500 {
            let values = samples.values()
            #expect(CanonicalJSON.object(values) == Self.canonicalObjectAsBefore(values), "seed \(seed)")
        }
    }

    /// `CanonicalJSON.object` as it was written before `JSONWriter`: the change log's format.
    private static func canonicalObjectAsBefore(_ values: [String: CellValue]) -> String {
        var out = "{"
        var first = true
        for key in values.keys.sorted() {
            if !first { out += "," }
            first = false
            CanonicalJSON.appendString(key, to: &out)
            out += ":"
            CanonicalJSON.append(values[key]!, to: &out)
        }
        return out + "}"
    }

    // MARK: Unknown keys, repeated keys, escapes

    @Test func unknownKeysAreIgnoredAndTheFirstOfRepeatedKeysWins() throws {
        let json = #"""
            {"x":{"deep":[1,2,{"y":null}],"s":"\u00e9\ud83d\ude00"},"id":"r1","op":"update","table":"t","id":"r2",
             "values":{"name":"A","name":"B","n":1},"levels":null,"future":[true,false,null,-1.5e-3]}
            """#
        let expected = ChangeRecord(table: "t", id: "r1", op: .update, values: ["name": "A", "n": 1])
        #expect(try FastWire.decode(ChangeRecord.self, from: json) == expected)
        #expect(try JSONDecoder().decode(ChangeRecord.self, from: Data(json.utf8)) == expected)
    }

    @Test func escapedKeysAndSurrogatePairsAreRead() throws {
        let json = #"{"\u0069d":"\ud83d\ude00\u00E9\/\b\f\n\r\t\"\\","op":"delete","t\u0061ble":"\u0000"}"#
        let expected = ChangeRecord(table: "\u{0}", id: "😀é/\u{8}\u{C}\n\r\t\"\\", op: .delete, values: nil)
        #expect(try FastWire.decode(ChangeRecord.self, from: json) == expected)
        #expect(try JSONDecoder().decode(ChangeRecord.self, from: Data(json.utf8)) == expected)
    }

    // MARK: Refusals

    @Test(arguments: [
        "", " ", "nul", "[", "]", "{", "[1,]", "[1 2]", "[01]", "[1.]", "[.5]", "[+1]", "[-]", "[1e]", "[1e+]", "[NaN]",
        "[Infinity]", "[true]", "[[1]]", #"[{"a":1}]"#, #"["a]"#, #"["\x"]"#, #"["\u12"]"#, #"["\ud800"]"#,
        #"["\udc00"]"#, #"["\ud800\u0041"]"#, "[\"a\u{1}\"]", "[1] x", "[1]]", "\u{FEFF}[1]", "[1e400]", "['a']",
        "[\"\\u00e9\" \"x\"]", "/* */[1]",
    ])
    func malformedCellArraysAreRefused(json: String) {
        #expect(throws: JSONScanner.Failure.self) { try FastWire.decode([CellValue].self, from: json) }
        let foundation = Result { try JSONDecoder().decode([CellValue].self, from: Data(json.utf8)) }
        let wire = Result { try WireJSON.decode([CellValue].self, from: json) }
        switch (foundation, wire) {
        case (.success(let expected), .success(let value)): #expect(value == expected)
        case (.failure, .failure(let error)): #expect(error is DecodingError)
        default: Issue.record("WireJSON and JSONDecoder disagree on \(json)")
        }
    }

    @Test func invalidUTF8IsRefused() {
        for bad: [UInt8] in [
            [0xFF], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82],
        ] {
            let json = Data(Array(#"["a"#.utf8) + bad + Array(#""]"#.utf8))
            #expect(throws: DecodingError.self) { try WireJSON.decode([CellValue].self, from: json) }
            #expect(throws: JSONScanner.Failure.self) {
                try json.withUnsafeBytes { try FastWire.decode([String].self, from: $0) }
            }
        }
    }

    @Test func wrongTypesAndMissingKeysAreRefusedWithDecodingErrors() {
        let bodies = [
            #"{"protocolVersion":"1","transactions":[]}"#,
            #"{"protocolVersion":1,"transactions":{"seq":1}}"#,
            #"{"protocolVersion":1,"transactions":[{"origin":"x","seq":1}]}"#,
            #"{"protocolVersion":1.5,"transactions":[]}"#,
            #"{"protocolVersion":null,"transactions":[]}"#,
            #"{"protocolVersion":1,"transactions":[{"author":"a","changes":[{"id":"t","op":"upsert","table":"topic"}],"context":{},"hlc":1,"offset":0,"origin":"x","seq":1,"site":"MA-DGST","total":1}]}"#,
            #"{"protocolVersion":1,"transactions":[{"author":"a","changes":[{"id":"t","op":"update","table":"topic","values":{"name":[1]}}],"context":{},"hlc":1,"offset":0,"origin":"x","seq":1,"site":"MA-DGST","total":1}]}"#,
            #"{"protocolVersion":1,"transactions":[{"author":"a","changes":[],"context":{"s":"1"},"hlc":1,"offset":0,"origin":"x","seq":1,"site":"MA-DGST","total":1}]}"#,
        ]
        for body in bodies {
            #expect(throws: DecodingError.self, "\(body)") {
                try WireJSON.decode(PushRequest.self, from: Data(body.utf8))
            }
            #expect(throws: JSONScanner.Failure.self, "\(body)") { try FastWire.decode(PushRequest.self, from: body) }
        }
    }

    @Test func everyTruncationAndManyMutationsAgreeWithJSONDecoder() throws {
        var samples = WireSamples(seed: 99)
        var random = SplitMix(state: 99)
        let json = Array(
            try WireJSON.encode(
                PullResponse(
                    transactions: [samples.transaction(), samples.transaction()], cursor: "1:0:0", hasMore: true)))
        for end in 0..<json.count {
            let prefix = Data(json[..<end])
            #expect(throws: DecodingError.self) { try WireJSON.decode(PullResponse.self, from: prefix) }
        }
        for _ in 0..<3_000 {
            var mutated = json
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 0..<mutated.count, using: &random)
                let replacement: UInt8 =
                    random.next() % 2 == 0
                    ? UInt8.random(in: 0...255, using: &random)
                    : Array(#"{}[],:"\0-e.1 n"#.utf8).randomElement(using: &random)!
                mutated[position] = replacement
            }
            let expected = try? JSONDecoder().decode(PullResponse.self, from: Data(mutated))
            #expect((try? WireJSON.decode(PullResponse.self, from: Data(mutated))) == expected)
            if let fast = try? mutated.withUnsafeBytes({ try FastWire.decode(PullResponse.self, from: $0) }) {
                #expect(fast == expected, "\(String(decoding: mutated, as: UTF8.self))")
            }
        }
    }

    @Test func deepNestingIsRefusedWithoutCrashing() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONScanner.Failure.self) { try FastWire.decode([CellValue].self, from: deep) }
        #expect(throws: DecodingError.self) { try WireJSON.decode([CellValue].self, from: deep) }
        let hidden = #"{"id":"r","op":"delete","table":"t","x":"# + deep + "}"
        #expect(throws: DecodingError.self) { try WireJSON.decode(ChangeRecord.self, from: hidden) }
        // Within JSONDecoder's own limit, deep unknown values are read (by JSONDecoder, past the fast reader's).
        let nested =
            #"{"id":"r","op":"delete","table":"t","x":"# + String(repeating: "[", count: 100)
            + String(repeating: "]", count: 100) + "}"
        #expect(throws: JSONScanner.Failure.self) { try FastWire.decode(ChangeRecord.self, from: nested) }
        #expect(
            try WireJSON.decode(ChangeRecord.self, from: nested)
                == ChangeRecord(table: "t", id: "r", op: .delete, values: nil))
    }

    @Test func valuesJSONEncoderCannotWriteAreRefusedByWireJSONToo() {
        #expect(throws: EncodingError.self) { try WireJSON.encode([CellValue.real(.nan)]) }
        #expect(throws: EncodingError.self) { try WireJSON.encode(["v": CellValue.real(.infinity)]) }
    }

    // MARK: - Support

    private func expectSameAsFoundation<T: Codable & Equatable & FastWireCodable>(
        _ value: T, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let expected = Array(try WireJSON.encoder().encode(value))
        let bytes = try FastWire.encode(value)
        #expect(
            bytes == expected, "seed \(seed): \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation
        )
        #expect(Array(try WireJSON.encode(value)) == expected, "seed \(seed)", sourceLocation: sourceLocation)
        let decoded = try JSONDecoder().decode(T.self, from: Data(expected))
        #expect(
            try WireJSON.decode(T.self, from: Data(expected)) == decoded, "seed \(seed)", sourceLocation: sourceLocation
        )
        // Only whole numbers past 2^53 with more than 19 digits are left to JSONDecoder; the encoder never writes those.
        let fast = try expected.withUnsafeBytes { try FastWire.decode(T.self, from: $0) }
        #expect(
            fast == decoded, "seed \(seed): \(String(decoding: expected, as: UTF8.self))",
            sourceLocation: sourceLocation)
    }
}
