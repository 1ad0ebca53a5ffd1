import CSQLite

/// Writes canonical JSON of selected columns straight from a statement positioned on a row
/// (`TableInfo.selectRowSQL`), without building Swift values: the hot path of publishing.
/// Output is byte-identical to `CanonicalJSON.object`.
struct RowJSON {
    /// Column positions sorted by column name (id excluded), and each `"name":` prefix.
    let order: [(position: Int32, key: [UInt8])]

    /// `columns` in storage order, `id` first.
    init(columns: [ColumnDefinition]) {
        order = columns.enumerated().dropFirst().sorted { $0.element.name < $1.element.name }.map {
            (Int32($0.offset), Array((CanonicalJSON.string($0.element.name) + ":").utf8))
        }
    }

    /// The JSON object of the columns whose bit is set in `mask`.
    func encode(_ statement: Statement, mask: Int64) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(512)
        var first = true
        for (position, key) in order where mask & (1 << Int64(position)) != 0 {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: key)
            append(statement, position, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private func append(_ statement: Statement, _ position: Int32, to out: inout [UInt8]) {
        let handle = statement.handle
        switch sqlite3_column_type(handle, position) {
        case SQLITE_NULL:
            out.append(contentsOf: [110, 117, 108, 108])  // null
        case SQLITE_INTEGER:
            out.append(contentsOf: String(sqlite3_column_int64(handle, position)).utf8)
        case SQLITE_FLOAT:
            var text = ""
            CanonicalJSON.append(.real(sqlite3_column_double(handle, position)), to: &text)
            out.append(contentsOf: text.utf8)
        default:
            let count = Int(sqlite3_column_bytes(handle, position))
            guard let bytes = sqlite3_column_text(handle, position) else {
                out.append(contentsOf: [34, 34])
                return
            }
            out.append(UInt8(ascii: "\""))
            for index in 0..<count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
                case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
                case UInt8(ascii: "\n"): out.append(contentsOf: [92, 110])
                case UInt8(ascii: "\r"): out.append(contentsOf: [92, 114])
                case UInt8(ascii: "\t"): out.append(contentsOf: [92, 116])
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [92, 117, 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
    }
}
