import CSQLite

/// Writes canonical JSON of selected columns straight from a statement positioned on a row
/// (`TableInfo.selectRowSQL`), without building Swift values: the hot path of publishing.
/// Output is byte-identical to `CanonicalJSON.object`.
struct RowJSON {
    private static let hexDigits = Array("0123456789abcdef".utf8)
    /// Column positions sorted by column name (id excluded), and each `"name":` prefix.
    let order: [(position: Int32, key: [UInt8])]

    /// `columns` in storage order, `id` first.
    init(columns: [ColumnDefinition]) {
        self.init(names: columns.map(\.name))
    }

    /// Column names in storage order, `id` first.
    init(names: [String]) {
        order = names.enumerated().dropFirst().sorted { $0.element < $1.element }.map {
            (Int32($0.offset), Array((CanonicalJSON.string($0.element) + ":").utf8))
        }
    }

    /// The JSON object of the columns whose bit is set in `mask`.
    func encode(_ statement: Statement, mask: Int64) -> [UInt8] {
        encode(handle: statement.handle, mask: mask)
    }

    /// The JSON object of the columns whose bit is set in `mask`, from a raw statement on a row.
    func encode(handle: OpaquePointer, mask: Int64) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(512)
        var first = true
        for (position, key) in order where mask & (1 << Int64(position)) != 0 {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: key)
            append(handle, position, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private func append(_ handle: OpaquePointer, _ position: Int32, to out: inout [UInt8]) {
        switch sqlite3_column_type(handle, position) {
        case SQLITE_NULL: out.append(contentsOf: [110, 117, 108, 108])  // null
        case SQLITE_INTEGER: out.append(contentsOf: String(sqlite3_column_int64(handle, position)).utf8)
        case SQLITE_FLOAT: Self.appendReal(sqlite3_column_double(handle, position), to: &out)
        default:
            Self.appendText(
                sqlite3_column_text(handle, position), Int(sqlite3_column_bytes(handle, position)), to: &out)
        }
    }

    /// The JSON object of the columns whose bit is set in `mask`, from function arguments: `values[i]`
    /// holds the column in storage position `i` (`id` at 0). Byte-identical to `encode(handle:mask:)`
    /// on a statement positioned on the same row (a function argument keeps the stored type).
    func encode(values: UnsafeMutablePointer<OpaquePointer?>, mask: Int64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        append(values: values, mask: mask, to: &out)
        return out
    }

    /// `encode(values:mask:)` appended to `out`.
    func append(values: UnsafeMutablePointer<OpaquePointer?>, mask: Int64, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (position, key) in order where mask & (1 << Int64(position)) != 0 {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: key)
            let value = values[Int(position)]
            switch sqlite3_value_type(value) {
            case SQLITE_NULL: out.append(contentsOf: [110, 117, 108, 108])  // null
            case SQLITE_INTEGER: out.append(contentsOf: String(sqlite3_value_int64(value)).utf8)
            case SQLITE_FLOAT: Self.appendReal(sqlite3_value_double(value), to: &out)
            default: Self.appendText(sqlite3_value_text(value), Int(sqlite3_value_bytes(value)), to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendReal(_ number: Double, to out: inout [UInt8]) {
        var text = ""
        CanonicalJSON.append(.real(number), to: &text)
        out.append(contentsOf: text.utf8)
    }

    /// A JSON string of `count` UTF-8 bytes (`""` when SQLite gives no pointer).
    static func appendText(_ bytes: UnsafePointer<UInt8>?, _ count: Int, to out: inout [UInt8]) {
        guard let bytes else {
            out.append(contentsOf: [34, 34])
            return
        }
        out.append(UInt8(ascii: "\""))
        // Runs of bytes that need no escape are copied whole (most text has none).
        var start = 0
        for index in 0..<count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if start < index {
                out.append(contentsOf: UnsafeBufferPointer(start: bytes + start, count: index - start))
            }
            start = index + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: [117, 48, 48, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]])
            }
        }
        if start < count { out.append(contentsOf: UnsafeBufferPointer(start: bytes + start, count: count - start)) }
        out.append(UInt8(ascii: "\""))
    }
}
