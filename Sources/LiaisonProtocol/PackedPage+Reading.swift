import Foundation

// Reading the packed form (`PackedPage`): every index is checked against the page's `strings`
// and `shapes`, every array against its layout; anything else is refused with the position it
// was found at, and the page is not used.
extension PackedPage {
    /// Reads a packed object back into the records it was written from.
    package static func read(from scanner: inout JSONScanner) throws -> [TransactionRecord] {
        var strings: [String]?
        var shapes: [[Int]]?
        var transactions: JSONScanner?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0:
                var read: [[Int]] = []
                try scanner.readArray { read.append(try [Int].read(from: &$0)) }
                shapes = read
            case 1: strings = try [String].read(from: &scanner)
            default:
                // Read once `strings` and `shapes` are known, whatever the order of the keys.
                transactions = scanner
                try scanner.skipValue()
            }
        }
        guard let strings, let shapes, var transactions else {
            throw scanner.missing("shapes, strings or transactions", in: PackedPage.self)
        }
        var reader = Reader(strings: strings, shapes: try resolved(shapes, strings, scanner))
        var records: [TransactionRecord] = []
        try transactions.readArray { records.append(try reader.record(from: &$0)) }
        return records
    }

    /// Each shape as column names; a shape naming a string that is not there, or one column twice, is refused.
    private static func resolved(_ shapes: [[Int]], _ strings: [String], _ scanner: JSONScanner) throws -> [[String]] {
        try shapes.map { shape in
            let names = try shape.map { position -> String in
                guard strings.indices.contains(position) else { throw scanner.failure("a shape names no string") }
                return strings[position]
            }
            guard Set(names).count == names.count else { throw scanner.failure("a shape names a column twice") }
            return names
        }
    }

    struct Reader {
        let strings: [String]
        let shapes: [[String]]
        var previous: (seq: Int64, hlc: Int64) = (0, 0)

        func string(_ scanner: inout JSONScanner) throws -> String {
            let position = try scanner.readInt()
            guard strings.indices.contains(position) else { throw scanner.failure("no string \(position) in the page") }
            return strings[position]
        }

        mutating func record(from scanner: inout JSONScanner) throws -> TransactionRecord {
            var record = TransactionRecord(
                origin: "", site: "", seq: 0, hlc: .zero, author: "", context: VersionVector(), total: 0, changes: [])
            var count = 0
            let previous = previous
            try scanner.readArray { scanner in
                switch count {
                case 0: record.origin = try string(&scanner)
                case 1: record.site = try string(&scanner)
                case 2: record.seq = previous.seq &+ (try scanner.readInt64())
                case 3: record.hlc = HybridTimestamp(rawValue: previous.hlc &+ (try scanner.readInt64()))
                case 4: record.author = try string(&scanner)
                case 5: record.context = try context(&scanner)
                case 6: record.total = try scanner.readInt()
                case 7: record.offset = try scanner.readInt()
                case 8: try scanner.readArray { record.changes.append(try change(from: &$0)) }
                case 9: try PackedPage.readExtras(into: &record, from: &scanner)
                default: throw scanner.failure("a packed transaction has more than 10 parts")
                }
                count += 1
            }
            guard count >= 9 else { throw scanner.failure("a packed transaction has \(count) of its 9 parts") }
            self.previous = (record.seq, record.hlc.rawValue)
            return record
        }

        func context(_ scanner: inout JSONScanner) throws -> VersionVector {
            var entries: [String: Int64] = [:]
            var site: String?
            try scanner.readArray { scanner in
                if let named = site {
                    let seq = try scanner.readInt64()
                    // The first of a repeated site is kept, as for a repeated key of the JSON form.
                    if entries[named] == nil { entries[named] = seq }
                    site = nil
                } else {
                    site = try string(&scanner)
                }
            }
            guard site == nil else { throw scanner.failure("a packed context ends with a site without its seq") }
            return VersionVector(entries)
        }

        func change(from scanner: inout JSONScanner) throws -> ChangeRecord {
            var change = ChangeRecord(table: "", id: "", op: .update, values: nil)
            var count = 0
            try scanner.readArray { scanner in
                switch count {
                case 0: change.table = try string(&scanner)
                case 1: change.id = try scanner.readString()
                case 2:
                    let operation = try scanner.readInt()
                    guard PackedPage.operations.indices.contains(operation) else {
                        throw scanner.failure("unknown operation \(operation)")
                    }
                    change.op = PackedPage.operations[operation]
                case 3: change.scope = scanner.readNull() ? nil : try string(&scanner)
                case 4: change.values = scanner.readNull() ? nil : try values(&scanner)
                case 5: change.bases = scanner.readNull() ? nil : try pairs(&scanner) { try base(&$0) }
                case 6: change.levels = scanner.readNull() ? nil : try pairs(&scanner) { try $0.readInt64() }
                case 7: change.index = try scanner.readInt()
                default: throw scanner.failure("a packed change has more than 8 parts")
                }
                count += 1
            }
            guard count >= 4 else { throw scanner.failure("a packed change has \(count) of its 4 parts") }
            return change
        }

        /// `[shape, value, …]`: one value per column of the shape.
        func values(_ scanner: inout JSONScanner) throws -> [String: CellValue] {
            var names: [String]?
            var values: [String: CellValue] = [:]
            try scanner.readArray { scanner in
                guard let shape = names else {
                    let position = try scanner.readInt()
                    guard shapes.indices.contains(position) else {
                        throw scanner.failure("no shape \(position) in the page")
                    }
                    names = shapes[position]
                    values.reserveCapacity(shapes[position].count)
                    return
                }
                guard values.count < shape.count else { throw scanner.failure("more values than the shape names") }
                values[shape[values.count]] = try scanner.readCellValue()
            }
            guard let names, values.count == names.count else {
                throw scanner.failure("packed values do not match their shape")
            }
            return values
        }

        /// `[column, value, column, value, …]`.
        func pairs<Value>(_ scanner: inout JSONScanner, _ read: (inout JSONScanner) throws -> Value) throws
            -> [String: Value]
        {
            var entries: [String: Value] = [:]
            var column: String?
            try scanner.readArray { scanner in
                if let name = column {
                    let value = try read(&scanner)
                    if entries[name] == nil { entries[name] = value }
                    column = nil
                } else {
                    column = try string(&scanner)
                }
            }
            guard column == nil else { throw scanner.failure("a packed list ends with a column without its value") }
            return entries
        }

        /// `[site, seq]`, `[site, seq, 1]` (carried) or the base's text.
        func base(_ scanner: inout JSONScanner) throws -> String {
            if scanner.peek() == UInt8(ascii: "\"") { return try scanner.readString() }
            var parts: (site: String, seq: Int64, carried: Bool) = ("", 0, false)
            var count = 0
            try scanner.readArray { scanner in
                switch count {
                case 0: parts.site = try string(&scanner)
                case 1: parts.seq = try scanner.readInt64()
                case 2:
                    guard try scanner.readInt() == 1 else { throw scanner.failure("a base's third part must be 1") }
                    parts.carried = true
                default: throw scanner.failure("a packed base has more than 3 parts")
                }
                count += 1
            }
            guard count >= 2, parts.seq >= 0 else { throw scanner.failure("a packed base needs a site and a seq") }
            return PackedPage.baseText(site: parts.site, seq: parts.seq, carried: parts.carried)
        }
    }

    /// The record's optional fields, read as in the JSON form.
    static func readExtras(into record: inout TransactionRecord, from scanner: inout JSONScanner) throws {
        try scanner.readFields(extraFields) { scanner, field in
            switch field {
            case 0: record.digests = try scanner.readOptional { try [String].read(from: &$0) }
            case 1: record.evictions = try scanner.readOptional { try [ChangeOutline].read(from: &$0) }
            case 2: record.previous = try scanner.readOptional { try $0.readString() }
            case 3: record.proof = try scanner.readOptional { try [ChainHeader].read(from: &$0) }
            case 4: record.resolves = try scanner.readOptional { try [String].read(from: &$0) }
            case 5: record.signature = try scanner.readOptional { try $0.readString() }
            default: record.span = try scanner.readOptional { try $0.readInt() }
            }
        }
    }
}

/// A pull answer written in the packed form (`PackedPage`) when the request asked for it.
/// Foundation's coders (the fallback) write it in the plain form, which every client reads too.
package struct PackedPullResponse: Encodable, FastWireCodable {
    package var page: PullResponse

    package init(_ page: PullResponse) { self.page = page }

    package func encode(to encoder: any Encoder) throws { try page.encode(to: encoder) }

    package static func read(from scanner: inout JSONScanner) throws -> PackedPullResponse {
        PackedPullResponse(try PullResponse.read(from: &scanner))
    }

    package func write(to writer: inout JSONWriter) throws {
        try page.write(to: &writer, packed: true)
    }
}
