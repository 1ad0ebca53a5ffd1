/// Durations as people type them, the same wherever the CLI or the console takes one: a whole
/// number of seconds (`90`), or one or more amounts with a unit from the largest down (`30s`, `5m`,
/// `2h`, `7d`, `1h30m`, `1d12h`, `2m30s`). Units: `w` weeks, `d` days, `h` hours, `m` minutes,
/// `s` seconds.
public enum DurationText {
    /// How to write one, for error messages.
    public static let examples = "30s, 5m, 1h30m or 7d"

    private static let units: [(Character, Int64)] = [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]

    /// The duration `text` names, or `nil` when it is not one (empty, zero, a unit repeated or out of
    /// order such as `30m1h`, an unknown unit, or more than about 290 million years).
    public static func parse(_ text: String) -> Duration? {
        seconds(text).map { .seconds($0) }
    }

    /// The whole seconds `text` names (see `parse`).
    public static func seconds(_ text: String) -> Int64? {
        let text = text.lowercased()
        guard !text.isEmpty, text.count <= 40 else { return nil }
        if let plain = Int64(text) { return plain > 0 ? plain : nil }
        var total: Int64 = 0
        var digits = ""
        var nextUnit = 0  // units must come from the largest down, each at most once
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard let position = units[nextUnit...].firstIndex(where: { $0.0 == character }),
                let amount = Int64(digits)
            else { return nil }
            let (product, overflow) = amount.multipliedReportingOverflow(by: units[position].1)
            let (sum, overflowAgain) = total.addingReportingOverflow(product)
            guard !overflow, !overflowAgain else { return nil }
            total = sum
            digits = ""
            nextUnit = position + 1
        }
        guard digits.isEmpty, total > 0 else { return nil }
        return total
    }

    /// `seconds` written back the way `parse` reads it (`5400` → `1h30m`).
    public static func format(seconds: Int64) -> String {
        guard seconds > 0 else { return "0s" }
        var rest = seconds
        var out = ""
        for (unit, size) in units where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}
