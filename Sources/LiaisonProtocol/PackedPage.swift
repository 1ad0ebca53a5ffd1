import Foundation

/// The packed form of a page's transactions, sent when a pull request asks for it
/// (`"form":"packed"`): the same records as `transactions`, with no repetition of what the page
/// already says. Every repeated string (site ids, site codes, authors, tables, scopes, column
/// names) is written once per page in `strings` and named by its index; the columns of a
/// change's values are named once per column set (`shapes`); each record and change is an array
/// in a fixed order; `seq` and `hlc` are differences from the record before. Decoding gives back
/// exactly the records, so signatures and every check on them are unchanged.
/// docs/PROTOCOL.md "The packed page" is the reference for other implementations.
package enum PackedPage {
    /// The value of a pull request's `form` that asks for this form.
    package static let form = "packed"

    static let fields = JSONFields(["shapes", "strings", "transactions"])
    static let extraFields = JSONFields(["digests", "evictions", "previous", "proof", "resolves", "signature", "span"])
    static let operations: [ChangeRecord.Operation] = [.insert, .update, .delete]

    // MARK: - Writing

    /// Strings and column sets in order of first use.
    struct Dictionary {
        var strings: [String] = []
        var positions: [String: Int] = [:]
        var shapes: [[Int]] = []
        var shapePositions: [[Int]: Int] = [:]

        mutating func id(_ text: String) -> Int {
            if let position = positions[text] { return position }
            positions[text] = strings.count
            strings.append(text)
            return strings.count - 1
        }

        mutating func shape(_ columns: [Int]) -> Int {
            if let position = shapePositions[columns] { return position }
            shapePositions[columns] = shapes.count
            shapes.append(columns)
            return shapes.count - 1
        }
    }

    /// Writes the packed object `{"shapes":…,"strings":…,"transactions":…}` of `records`.
    package static func write(_ records: [TransactionRecord], to writer: inout JSONWriter) throws {
        var dictionary = Dictionary()
        var body = JSONWriter(capacity: records.count * 160 + 16)
        body.byte(UInt8(ascii: "["))
        var previous: (seq: Int64, hlc: Int64) = (0, 0)
        for (position, record) in records.enumerated() {
            if position > 0 { body.byte(UInt8(ascii: ",")) }
            try write(record, after: previous, to: &body, &dictionary)
            previous = (record.seq, record.hlc.rawValue)
        }
        body.byte(UInt8(ascii: "]"))
        writer.raw("{\"shapes\":[")
        for (position, shape) in dictionary.shapes.enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.byte(UInt8(ascii: "["))
            for (column, name) in shape.enumerated() {
                if column > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.integer(name)
            }
            writer.byte(UInt8(ascii: "]"))
        }
        writer.raw("],\"strings\":")
        try dictionary.strings.write(to: &writer)
        writer.raw(",\"transactions\":")
        body.bytes.withUnsafeBytes { writer.append($0) }
        writer.byte(UInt8(ascii: "}"))
    }

    /// `[origin, site, seq, hlc, author, context, total, offset, changes, extras]`, extras only when any.
    private static func write(
        _ record: TransactionRecord, after previous: (seq: Int64, hlc: Int64), to writer: inout JSONWriter,
        _ dictionary: inout Dictionary
    ) throws {
        writer.byte(UInt8(ascii: "["))
        writer.integer(dictionary.id(record.origin))
        writer.byte(UInt8(ascii: ","))
        writer.integer(dictionary.id(record.site))
        writer.byte(UInt8(ascii: ","))
        writer.integer(record.seq &- previous.seq)
        writer.byte(UInt8(ascii: ","))
        writer.integer(record.hlc.rawValue &- previous.hlc)
        writer.byte(UInt8(ascii: ","))
        writer.integer(dictionary.id(record.author))
        writer.raw(",[")
        let context = record.context.entries.sorted { JSONWriter.precedes($0.key, $1.key) }
        for (position, entry) in context.enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.integer(dictionary.id(entry.key))
            writer.byte(UInt8(ascii: ","))
            writer.integer(entry.value)
        }
        writer.raw("],")
        writer.integer(record.total)
        writer.byte(UInt8(ascii: ","))
        writer.integer(record.offset)
        writer.raw(",[")
        for (position, change) in record.changes.enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            try write(change, to: &writer, &dictionary)
        }
        writer.byte(UInt8(ascii: "]"))
        try writeExtras(of: record, to: &writer)
        writer.byte(UInt8(ascii: "]"))
    }

    /// The record's optional fields, in their JSON form, as one object (nothing when none is set).
    private static func writeExtras(of record: TransactionRecord, to writer: inout JSONWriter) throws {
        guard
            record.digests != nil || record.evictions != nil || record.previous != nil || record.proof != nil
                || record.resolves != nil || record.signature != nil || record.span != nil
        else { return }
        var first = true
        writer.raw(",{")
        if let digests = record.digests {
            writer.key("\"digests\":", first: &first)
            try digests.write(to: &writer)
        }
        if let evictions = record.evictions {
            writer.key("\"evictions\":", first: &first)
            try evictions.write(to: &writer)
        }
        if let previous = record.previous {
            writer.key("\"previous\":", first: &first)
            writer.string(previous)
        }
        if let proof = record.proof {
            writer.key("\"proof\":", first: &first)
            try proof.write(to: &writer)
        }
        if let resolves = record.resolves {
            writer.key("\"resolves\":", first: &first)
            try resolves.write(to: &writer)
        }
        if let signature = record.signature {
            writer.key("\"signature\":", first: &first)
            writer.string(signature)
        }
        if let span = record.span {
            writer.key("\"span\":", first: &first)
            writer.integer(span)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    /// `[table, id, op, scope, values, bases, levels, index]`, trailing absent parts left out.
    private static func write(_ change: ChangeRecord, to writer: inout JSONWriter, _ dictionary: inout Dictionary)
        throws
    {
        writer.byte(UInt8(ascii: "["))
        writer.integer(dictionary.id(change.table))
        writer.byte(UInt8(ascii: ","))
        writer.string(change.id)
        writer.byte(UInt8(ascii: ","))
        writer.integer(operations.firstIndex(of: change.op)!)
        writer.byte(UInt8(ascii: ","))
        if let scope = change.scope { writer.integer(dictionary.id(scope)) } else { writer.raw("null") }
        let last =
            change.index != nil ? 7 : change.levels != nil ? 6 : change.bases != nil ? 5 : change.values != nil ? 4 : 3
        if last >= 4 {
            writer.byte(UInt8(ascii: ","))
            if let values = change.values {
                let sorted = values.sorted { JSONWriter.precedes($0.key, $1.key) }
                writer.byte(UInt8(ascii: "["))
                writer.integer(dictionary.shape(sorted.map { dictionary.id($0.key) }))
                for entry in sorted {
                    writer.byte(UInt8(ascii: ","))
                    try entry.value.write(to: &writer)
                }
                writer.byte(UInt8(ascii: "]"))
            } else {
                writer.raw("null")
            }
        }
        if last >= 5 {
            writer.byte(UInt8(ascii: ","))
            writePairs(change.bases, to: &writer, &dictionary) { writer, base, dictionary in
                writeBase(base, to: &writer, &dictionary)
            }
        }
        if last >= 6 {
            writer.byte(UInt8(ascii: ","))
            writePairs(change.levels, to: &writer, &dictionary) { writer, level, _ in writer.integer(level) }
        }
        if let index = change.index {
            writer.byte(UInt8(ascii: ","))
            writer.integer(index)
        }
        writer.byte(UInt8(ascii: "]"))
    }

    /// `[column, value, column, value, …]` by column name, or `null`.
    private static func writePairs<Value>(
        _ entries: [String: Value]?, to writer: inout JSONWriter, _ dictionary: inout Dictionary,
        _ value: (inout JSONWriter, Value, inout Dictionary) -> Void
    ) {
        guard let entries else { return writer.raw("null") }
        writer.byte(UInt8(ascii: "["))
        for (position, entry) in entries.sorted(by: { JSONWriter.precedes($0.key, $1.key) }).enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.integer(dictionary.id(entry.key))
            writer.byte(UInt8(ascii: ","))
            value(&writer, entry.value, &dictionary)
        }
        writer.byte(UInt8(ascii: "]"))
    }

    /// A cell base `SITE_ID:SEQ` as `[site, seq]`, `=SITE_ID:SEQ` as `[site, seq, 1]`; any other text as it is.
    private static func writeBase(_ base: String, to writer: inout JSONWriter, _ dictionary: inout Dictionary) {
        guard let parsed = parseBase(base) else { return writer.string(base) }
        writer.byte(UInt8(ascii: "["))
        writer.integer(dictionary.id(parsed.site))
        writer.byte(UInt8(ascii: ","))
        writer.integer(parsed.seq)
        if parsed.carried { writer.raw(",1") }
        writer.byte(UInt8(ascii: "]"))
    }

    /// The parts of a base that `baseText` turns back into exactly `base`, else `nil`.
    static func parseBase(_ base: String) -> (site: String, seq: Int64, carried: Bool)? {
        let carried = base.hasPrefix("=")
        let rest = carried ? base.dropFirst() : Substring(base)
        guard let colon = rest.lastIndex(of: ":") else { return nil }
        let site = String(rest[..<colon])
        let digits = rest[rest.index(after: colon)...]
        guard !site.isEmpty, let seq = Int64(digits), seq >= 0, String(seq) == digits else { return nil }
        return (site, seq, carried)
    }

    static func baseText(site: String, seq: Int64, carried: Bool) -> String {
        (carried ? "=" : "") + site + ":" + String(seq)
    }
}
