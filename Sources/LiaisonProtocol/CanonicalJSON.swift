import Foundation

/// A small JSON writer whose output depends only on the values: keys sorted, no spaces, numbers in
/// their shortest form. `liaison dump` and the change log rely on it for byte-identical output.
public enum CanonicalJSON {
    /// A JSON object of column values with sorted keys.
    public static func object(_ values: [String: CellValue]) -> String {
        var writer = JSONWriter(capacity: 16 + 48 * values.count)
        writer.byte(UInt8(ascii: "{"))
        SortedEntries.withSorted(values, byUTF8: false) { entries in
            for position in entries.indices {
                if position > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.string(entries[position].key, letterEscapes: false)
                writer.byte(UInt8(ascii: ":"))
                switch entries[position].value {
                case .null: writer.raw("null")
                case .integer(let number): writer.integer(number)
                case .text(let text): writer.string(text, letterEscapes: false)
                case .real:
                    var text = ""
                    append(entries[position].value, to: &text)
                    writer.raw(text)
                }
            }
        }
        writer.byte(UInt8(ascii: "}"))
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public static func append(_ value: CellValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .integer(let number): out += String(number)
        case .real(let number):
            if number.isFinite {
                out += number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) + ".0" : "\(number)"
            } else {
                out += "null"
            }
        case .text(let text): appendString(text, to: &out)
        }
    }

    public static func appendString(_ text: String, to out: inout String) {
        out += "\""
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    public static func string(_ text: String) -> String {
        var out = ""
        appendString(text, to: &out)
        return out
    }
}
