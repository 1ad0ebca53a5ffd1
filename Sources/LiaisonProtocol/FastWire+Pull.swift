import Foundation

// The hand-written JSON forms of the pull exchange: request, wanted transactions, heads and the page; `FastJSONTests` compares each with Foundation's.

extension WantedTransaction: FastWireCodable {
    static let fields = JSONFields(["missing", "origin", "seq"])

    package static let isFastWireComplete = FastWire.covers(WantedTransaction(origin: "", seq: 0), fields)

    package static func read(from scanner: inout JSONScanner) throws -> WantedTransaction {
        var missing: [Int]?
        var origin: String?
        var seq: Int64?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: missing = try scanner.readOptional { try [Int].read(from: &$0) }
            case 1: origin = try scanner.readString()
            default: seq = try scanner.readInt64()
            }
        }
        guard let origin, let seq else { throw scanner.missing("origin or seq", in: Self.self) }
        return WantedTransaction(origin: origin, seq: seq, missing: missing)
    }

    package func write(to writer: inout JSONWriter) throws {
        writer.byte(UInt8(ascii: "{"))
        if let missing {
            writer.raw("\"missing\":")
            try missing.write(to: &writer)
            writer.byte(UInt8(ascii: ","))
        }
        writer.raw("\"origin\":")
        writer.string(origin)
        writer.raw(",\"seq\":")
        writer.integer(seq)
        writer.byte(UInt8(ascii: "}"))
    }
}

extension SiteHead: FastWireCodable {
    static let fields = JSONFields(["digest", "seq"])

    package static let isFastWireComplete = FastWire.covers(SiteHead(seq: 0, digest: ""), fields)

    package static func read(from scanner: inout JSONScanner) throws -> SiteHead {
        var digest: String?
        var seq: Int64?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: digest = try scanner.readString()
            default: seq = try scanner.readInt64()
            }
        }
        guard let digest, let seq else { throw scanner.missing("digest or seq", in: Self.self) }
        return SiteHead(seq: seq, digest: digest)
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"digest\":")
        writer.string(digest)
        writer.raw(",\"seq\":")
        writer.integer(seq)
        writer.byte(UInt8(ascii: "}"))
    }
}

extension PullRequest: FastWireCodable {
    static let fields = JSONFields(["cursor", "form", "heads", "held", "limit", "protocolVersion", "vector", "wanted"])

    package static let isFastWireComplete =
        WantedTransaction.isFastWireComplete && SiteHead.isFastWireComplete && HeldTransaction.isFastWireComplete
        && FastWire.covers(PullRequest(cursor: nil, vector: VersionVector()), fields)

    package static func read(from scanner: inout JSONScanner) throws -> PullRequest {
        var cursor: String?
        var form: String?
        var heads: [String: SiteHead]?
        var held: [HeldTransaction]?
        var limit: Int?
        var protocolVersion: Int?
        var vector: VersionVector?
        var wanted: [WantedTransaction]?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: cursor = try scanner.readOptional { try $0.readString() }
            case 1: form = try scanner.readOptional { try $0.readString() }
            case 2: heads = try scanner.readOptional { try [String: SiteHead].read(from: &$0) }
            case 3: held = try scanner.readOptional { try [HeldTransaction].read(from: &$0) }
            case 4: limit = try scanner.readOptional { try $0.readInt() }
            case 5: protocolVersion = try scanner.readInt()
            case 6: vector = try VersionVector.read(from: &scanner)
            default: wanted = try scanner.readOptional { try [WantedTransaction].read(from: &$0) }
            }
        }
        guard let protocolVersion, let vector else { throw scanner.missing("a required key", in: Self.self) }
        return PullRequest(
            protocolVersion: protocolVersion, cursor: cursor, vector: vector, limit: limit, wanted: wanted,
            heads: heads, held: held, form: form)
    }

    package func write(to writer: inout JSONWriter) throws {
        var first = true
        writer.byte(UInt8(ascii: "{"))
        if let cursor {
            writer.key("\"cursor\":", first: &first)
            writer.string(cursor)
        }
        if let form {
            writer.key("\"form\":", first: &first)
            writer.string(form)
        }
        if let heads {
            writer.key("\"heads\":", first: &first)
            try heads.write(to: &writer)
        }
        if let held {
            writer.key("\"held\":", first: &first)
            try held.write(to: &writer)
        }
        if let limit {
            writer.key("\"limit\":", first: &first)
            writer.integer(limit)
        }
        writer.key("\"protocolVersion\":", first: &first)
        writer.integer(protocolVersion)
        writer.key("\"vector\":", first: &first)
        vector.write(to: &writer)
        if let wanted {
            writer.key("\"wanted\":", first: &first)
            try wanted.write(to: &writer)
        }
        writer.byte(UInt8(ascii: "}"))
    }
}

extension PullResponse: FastWireCodable {
    static let fields = JSONFields(["cursor", "hasMore", "held", "keys", "protocolVersion", "transactions"])
    /// The keys a reader takes: the stored properties, and `packed`, the packed form of `transactions`.
    static let readFields = JSONFields(fields.names + ["packed"])

    package static let isFastWireComplete =
        TransactionRecord.isFastWireComplete && SiteKeyRecord.isFastWireComplete && HeldTransaction.isFastWireComplete
        && FastWire.covers(PullResponse(transactions: [], cursor: "", hasMore: false), fields)

    package static func read(from scanner: inout JSONScanner) throws -> PullResponse {
        var cursor: String?
        var hasMore: Bool?
        var held: [HeldTransaction]?
        var keys: [String: SiteKeyRecord]?
        var protocolVersion: Int?
        var transactions: [TransactionRecord]?
        var packed: [TransactionRecord]?
        try scanner.readFields(readFields) { scanner, field in
            switch field {
            case 0: cursor = try scanner.readString()
            case 1: hasMore = try scanner.readBool()
            case 2: held = try scanner.readOptional { try [HeldTransaction].read(from: &$0) }
            case 3: keys = try scanner.readOptional { try [String: SiteKeyRecord].read(from: &$0) }
            case 4: protocolVersion = try scanner.readInt()
            case 5: transactions = try [TransactionRecord].read(from: &scanner)
            default: packed = try PackedPage.read(from: &scanner)
            }
        }
        // A reader that does not know `packed` takes `transactions` when both are there: so does this one.
        if transactions == nil { transactions = packed }
        guard let cursor, let hasMore, let protocolVersion, let transactions else {
            throw scanner.missing("a required key", in: Self.self)
        }
        return PullResponse(
            protocolVersion: protocolVersion, transactions: transactions, cursor: cursor, hasMore: hasMore, keys: keys,
            held: held)
    }

    package func write(to writer: inout JSONWriter) throws { try write(to: &writer, packed: false) }

    /// Writes the page, its transactions in the packed form (`PackedPage`) when `packed`.
    package func write(to writer: inout JSONWriter, packed: Bool) throws {
        var first = true
        writer.byte(UInt8(ascii: "{"))
        writer.key("\"cursor\":", first: &first)
        writer.string(cursor)
        writer.key("\"hasMore\":", first: &first)
        writer.bool(hasMore)
        if let held {
            writer.key("\"held\":", first: &first)
            try held.write(to: &writer)
        }
        if let keys {
            writer.key("\"keys\":", first: &first)
            try keys.write(to: &writer)
        }
        if packed {
            writer.key("\"packed\":", first: &first)
            try PackedPage.write(transactions, to: &writer)
        }
        writer.key("\"protocolVersion\":", first: &first)
        writer.integer(protocolVersion)
        if !packed {
            writer.key("\"transactions\":", first: &first)
            try transactions.write(to: &writer)
        }
        writer.byte(UInt8(ascii: "}"))
    }
}
