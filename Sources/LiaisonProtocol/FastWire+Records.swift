import Foundation

// The hand-written JSON forms of the values inside a transaction. Keys are written in
// `JSONEncoder`'s sorted order and optional properties left out when nil, as synthesized
// `Codable` does; `FastJSONTests` compares every form with Foundation's.

extension CellValue: FastWireCodable {
    package static func read(from scanner: inout JSONScanner) throws -> CellValue { try scanner.readCellValue() }

    package func write(to writer: inout JSONWriter) throws {
        switch self {
        case .null: writer.raw("null")
        case .integer(let value): writer.integer(value)
        case .real(let value): try writer.real(value)
        case .text(let value): writer.string(value)
        }
    }
}

extension HybridTimestamp: FastWireCodable {
    package static func read(from scanner: inout JSONScanner) throws -> HybridTimestamp {
        HybridTimestamp(rawValue: try scanner.readInt64())
    }

    package func write(to writer: inout JSONWriter) { writer.integer(rawValue) }
}

extension VersionVector: FastWireCodable {
    package static func read(from scanner: inout JSONScanner) throws -> VersionVector {
        VersionVector(try [String: Int64].read(from: &scanner))
    }

    package func write(to writer: inout JSONWriter) { writer.object(entries) { $0.integer($1) } }
}

extension ChangeRecord.Operation: FastWireCodable {
    package static func read(from scanner: inout JSONScanner) throws -> ChangeRecord.Operation {
        guard let operation = ChangeRecord.Operation(rawValue: try scanner.readString()) else {
            throw scanner.failure("unknown operation")
        }
        return operation
    }

    package func write(to writer: inout JSONWriter) {
        switch self {
        case .insert: writer.raw("\"insert\"")
        case .update: writer.raw("\"update\"")
        case .delete: writer.raw("\"delete\"")
        }
    }
}

extension ChangeRecord: FastWireCodable {
    static let fields = JSONFields(["bases", "id", "index", "levels", "op", "scope", "table", "values"])

    package static let isFastWireComplete = FastWire.covers(
        ChangeRecord(table: "", id: "", op: .insert, values: nil), fields)

    package static func read(from scanner: inout JSONScanner) throws -> ChangeRecord {
        var bases: [String: String]?
        var id: String?
        var index: Int?
        var levels: [String: Int64]?
        var op: Operation?
        var scope: String?
        var table: String?
        var values: [String: CellValue]?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: bases = try scanner.readOptional { try [String: String].read(from: &$0) }
            case 1: id = try scanner.readString()
            case 2: index = try scanner.readOptional { try $0.readInt() }
            case 3: levels = try scanner.readOptional { try [String: Int64].read(from: &$0) }
            case 4: op = try Operation.read(from: &scanner)
            case 5: scope = try scanner.readOptional { try $0.readString() }
            case 6: table = try scanner.readString()
            default: values = try scanner.readOptional { try [String: CellValue].read(from: &$0) }
            }
        }
        guard let id else { throw scanner.missing("id", in: Self.self) }
        guard let op else { throw scanner.missing("op", in: Self.self) }
        guard let table else { throw scanner.missing("table", in: Self.self) }
        return ChangeRecord(
            table: table, id: id, op: op, values: values, levels: levels, scope: scope, index: index, bases: bases)
    }

    package func write(to writer: inout JSONWriter) throws {
        var first = true
        writer.byte(UInt8(ascii: "{"))
        if let bases {
            writer.key("\"bases\":", first: &first)
            writer.object(bases) { $0.string($1) }
        }
        writer.key("\"id\":", first: &first)
        writer.string(id)
        if let index {
            writer.key("\"index\":", first: &first)
            writer.integer(index)
        }
        if let levels {
            writer.key("\"levels\":", first: &first)
            writer.object(levels) { $0.integer($1) }
        }
        writer.key("\"op\":", first: &first)
        op.write(to: &writer)
        if let scope {
            writer.key("\"scope\":", first: &first)
            writer.string(scope)
        }
        writer.key("\"table\":", first: &first)
        writer.string(table)
        if let values {
            writer.key("\"values\":", first: &first)
            try writer.object(values) { try $1.write(to: &$0) }
        }
        writer.byte(UInt8(ascii: "}"))
    }
}

extension ChangeOutline: FastWireCodable {
    static let fields = JSONFields(["body", "id", "index", "op", "scope", "table"])

    package static let isFastWireComplete = FastWire.covers(
        ChangeOutline(index: 0, table: "", id: "", op: .update, scope: "", body: ""), fields)

    package static func read(from scanner: inout JSONScanner) throws -> ChangeOutline {
        var body: String?
        var id: String?
        var index: Int?
        var op: ChangeRecord.Operation?
        var scope: String?
        var table: String?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: body = try scanner.readString()
            case 1: id = try scanner.readString()
            case 2: index = try scanner.readInt()
            case 3: op = try ChangeRecord.Operation.read(from: &scanner)
            case 4: scope = try scanner.readString()
            default: table = try scanner.readString()
            }
        }
        guard let body, let id, let index, let op, let scope, let table else {
            throw scanner.missing("body, id, index, op, scope or table", in: Self.self)
        }
        return ChangeOutline(index: index, table: table, id: id, op: op, scope: scope, body: body)
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"body\":")
        writer.string(body)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"index\":")
        writer.integer(index)
        writer.raw(",\"op\":")
        op.write(to: &writer)
        writer.raw(",\"scope\":")
        writer.string(scope)
        writer.raw(",\"table\":")
        writer.string(table)
        writer.byte(UInt8(ascii: "}"))
    }
}

extension TransactionRecord: FastWireCodable {
    static let fields = JSONFields([
        "author", "changes", "context", "digests", "evictions", "hlc", "offset", "origin", "previous", "proof",
        "resolves", "seq", "signature", "site", "span", "total",
    ])

    package static let isFastWireComplete =
        ChangeRecord.isFastWireComplete && ChangeOutline.isFastWireComplete
        && ChainHeader.isFastWireComplete
        && FastWire.covers(
            TransactionRecord(
                origin: "", site: "", seq: 0, hlc: .zero, author: "", context: VersionVector(), total: 0, changes: []),
            fields)

    package static func read(from scanner: inout JSONScanner) throws -> TransactionRecord {
        var author: String?
        var changes: [ChangeRecord]?
        var context: VersionVector?
        var digests: [String]?
        var evictions: [ChangeOutline]?
        var hlc: HybridTimestamp?
        var offset: Int?
        var origin: String?
        var previous: String?
        var proof: [ChainHeader]?
        var resolves: [String]?
        var seq: Int64?
        var signature: String?
        var site: String?
        var span: Int?
        var total: Int?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: author = try scanner.readString()
            case 1: changes = try [ChangeRecord].read(from: &scanner)
            case 2: context = try VersionVector.read(from: &scanner)
            case 3: digests = try scanner.readOptional { try [String].read(from: &$0) }
            case 4: evictions = try scanner.readOptional { try [ChangeOutline].read(from: &$0) }
            case 5: hlc = try HybridTimestamp.read(from: &scanner)
            case 6: offset = try scanner.readInt()
            case 7: origin = try scanner.readString()
            case 8: previous = try scanner.readOptional { try $0.readString() }
            case 9: proof = try scanner.readOptional { try [ChainHeader].read(from: &$0) }
            case 10: resolves = try scanner.readOptional { try [String].read(from: &$0) }
            case 11: seq = try scanner.readInt64()
            case 12: signature = try scanner.readOptional { try $0.readString() }
            case 13: site = try scanner.readString()
            case 14: span = try scanner.readOptional { try $0.readInt() }
            default: total = try scanner.readInt()
            }
        }
        guard let author, let changes, let context, let hlc, let offset, let origin, let seq, let site, let total else {
            throw scanner.missing("a required key", in: Self.self)
        }
        var record = TransactionRecord(
            origin: origin, site: site, seq: seq, hlc: hlc, author: author, context: context, resolves: resolves,
            total: total, offset: offset, changes: changes, previous: previous, digests: digests, signature: signature)
        record.span = span
        record.evictions = evictions
        record.proof = proof
        return record
    }

    package func write(to writer: inout JSONWriter) throws {
        var first = true
        writer.byte(UInt8(ascii: "{"))
        writer.key("\"author\":", first: &first)
        writer.string(author)
        writer.key("\"changes\":", first: &first)
        try changes.write(to: &writer)
        writer.key("\"context\":", first: &first)
        context.write(to: &writer)
        if let digests {
            writer.key("\"digests\":", first: &first)
            try digests.write(to: &writer)
        }
        if let evictions {
            writer.key("\"evictions\":", first: &first)
            try evictions.write(to: &writer)
        }
        writer.key("\"hlc\":", first: &first)
        writer.integer(hlc.rawValue)
        writer.key("\"offset\":", first: &first)
        writer.integer(offset)
        writer.key("\"origin\":", first: &first)
        writer.string(origin)
        if let previous {
            writer.key("\"previous\":", first: &first)
            writer.string(previous)
        }
        if let proof {
            writer.key("\"proof\":", first: &first)
            try proof.write(to: &writer)
        }
        if let resolves {
            writer.key("\"resolves\":", first: &first)
            try resolves.write(to: &writer)
        }
        writer.key("\"seq\":", first: &first)
        writer.integer(seq)
        if let signature {
            writer.key("\"signature\":", first: &first)
            writer.string(signature)
        }
        writer.key("\"site\":", first: &first)
        writer.string(site)
        if let span {
            writer.key("\"span\":", first: &first)
            writer.integer(span)
        }
        writer.key("\"total\":", first: &first)
        writer.integer(total)
        writer.byte(UInt8(ascii: "}"))
    }
}
