/// Text bound for a terminal, with every control character of remote data written as a visible
/// escape (`\u001b`, `\r`, …) instead of being passed on: a peer's author, value or error message
/// cannot move the cursor, rewrite a line, change colours or forge a line of output.
///
/// Escapes are JSON's, so JSON output stays valid and means the same.
enum TerminalText {
    /// `text` as one field: newlines and tabs escaped too.
    static func field(_ text: String) -> String { escaped(text, keepingLayout: false) }

    /// `text` as whole lines: newlines and tabs kept, every other control character escaped.
    static func lines(_ text: String) -> String { escaped(text, keepingLayout: true) }

    static func escaped(_ text: String, keepingLayout: Bool) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingLayout: keepingLayout) }) else {
            return text
        }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar, keepingLayout: keepingLayout) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }
        }
        return result
    }

    /// C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional overrides
    /// that reorder what a terminal shows.
    static func needsEscape(_ scalar: Unicode.Scalar, keepingLayout: Bool) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: return !keepingLayout
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}

/// Every line the CLI prints to stdout passes here (it shadows the standard library's `print`
/// in this module): control characters are escaped whatever the command forgot.
func print(_ text: String, terminator: String = "\n") {
    Swift.print(TerminalText.lines(text), terminator: terminator)
}
