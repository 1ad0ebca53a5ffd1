import Liaison

/// Text that came from another agency, made safe to print on a terminal: control characters
/// (escape sequences, carriage returns) are shown as `\u{…}` instead of acting.
enum TerminalText {
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// One held transaction on one line.
    static func describe(_ held: HeldTransaction) -> String {
        escaped("\(held.id) \(held.error): \(held.message)")
    }
}
