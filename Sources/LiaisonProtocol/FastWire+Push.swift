import Foundation

// The hand-written JSON forms of the push exchange; `FastJSONTests` compares each with Foundation's.

extension PushRequest: FastWireCodable {
    static let fields = JSONFields(["keys", "protocolVersion", "transactions"])
    /// The keys a reader takes: the stored properties, and `packed`, the packed form of `transactions`.
    static let readFields = JSONFields(fields.names + ["packed"])

    package static let isFastWireComplete =
        TransactionRecord.isFastWireComplete && SiteKeyRecord.isFastWireComplete
        && FastWire.covers(PushRequest(transactions: []), fields)

    package static func read(from scanner: inout JSONScanner) throws -> PushRequest {
        var keys: [String: SiteKeyRecord]?
        var protocolVersion: Int?
        var transactions: [TransactionRecord]?
        var packed: [TransactionRecord]?
        try scanner.readFields(readFields) { scanner, field in
            switch field {
            case 0: keys = try scanner.readOptional { try [String: SiteKeyRecord].read(from: &$0) }
            case 1: protocolVersion = try scanner.readInt()
            case 2: transactions = try [TransactionRecord].read(from: &scanner)
            default: packed = try PackedPage.read(from: &scanner)
            }
        }
        // As for a pull page: `transactions` wins when both are there.
        if transactions == nil { transactions = packed }
        guard let protocolVersion, let transactions else { throw scanner.missing("a required key", in: Self.self) }
        return PushRequest(protocolVersion: protocolVersion, transactions: transactions, keys: keys)
    }

    package func write(to writer: inout JSONWriter) throws { try write(to: &writer, packed: false) }

    /// Writes the request, its transactions in the packed form (`PackedPage`) when `packed`.
    package func write(to writer: inout JSONWriter, packed: Bool) throws {
        var first = true
        writer.byte(UInt8(ascii: "{"))
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

extension PushResponse: FastWireCodable {
    static let fields = JSONFields(["applied", "held", "protocolVersion", "skipped", "staged", "vector"])

    package static let isFastWireComplete =
        HeldTransaction.isFastWireComplete
        && FastWire.covers(PushResponse(applied: 0, skipped: 0, vector: VersionVector()), fields)

    package static func read(from scanner: inout JSONScanner) throws -> PushResponse {
        var applied: Int?
        var held: [HeldTransaction]?
        var protocolVersion: Int?
        var skipped: Int?
        var staged: Int?
        var vector: VersionVector?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: applied = try scanner.readInt()
            case 1: held = try scanner.readOptional { try [HeldTransaction].read(from: &$0) }
            case 2: protocolVersion = try scanner.readInt()
            case 3: skipped = try scanner.readInt()
            case 4: staged = try scanner.readInt()
            default: vector = try VersionVector.read(from: &scanner)
            }
        }
        guard let applied, let protocolVersion, let skipped, let staged, let vector else {
            throw scanner.missing("a required key", in: Self.self)
        }
        return PushResponse(
            protocolVersion: protocolVersion, applied: applied, skipped: skipped, staged: staged, vector: vector,
            held: held)
    }

    package func write(to writer: inout JSONWriter) throws {
        writer.raw("{\"applied\":")
        writer.integer(applied)
        if let held {
            writer.raw(",\"held\":")
            try held.write(to: &writer)
        }
        writer.raw(",\"protocolVersion\":")
        writer.integer(protocolVersion)
        writer.raw(",\"skipped\":")
        writer.integer(skipped)
        writer.raw(",\"staged\":")
        writer.integer(staged)
        writer.raw(",\"vector\":")
        vector.write(to: &writer)
        writer.byte(UInt8(ascii: "}"))
    }
}
