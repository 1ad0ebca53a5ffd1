import Foundation

/// Fields of an `application/x-www-form-urlencoded` body or a query string, decoded.
struct FormData: Sendable {
    private(set) var pairs: [(String, String)] = []

    init(_ text: Substring) {
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let halves = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(halves[0])
            let value = halves.count > 1 ? Self.decode(halves[1]) : ""
            pairs.append((name, value))
        }
    }

    init(_ text: String?) { self.init(Substring(text ?? "")) }

    /// The first value of `name`.
    subscript(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }

    /// Every value of fields whose names start with `prefix`, keyed by the rest of the name.
    func fields(prefixed prefix: String) -> [String: String] {
        var out: [String: String] = [:]
        for (name, value) in pairs where name.hasPrefix(prefix) && out[String(name.dropFirst(prefix.count))] == nil {
            out[String(name.dropFirst(prefix.count))] = value
        }
        return out
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// Encodes `pairs` for a query string.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(component($0.0))=\(component($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but unreserved characters.
    static func component(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

/// RFC 4180 CSV: fields quoted when they hold a comma, quote or line break; a leading `=`, `+`,
/// `-` or `@` is prefixed with `'` so that a spreadsheet never runs a remote agency's text as a formula.
enum CSV {
    static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first), Double(text) == nil { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
