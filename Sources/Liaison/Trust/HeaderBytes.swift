/// The pieces `TransactionDigest.header` writes a header's signed bytes from, as UTF-8 bytes.
enum HeaderBytes {
    static let author = StaticString("{\"author\":")
    static let context = StaticString(",\"context\":")
    static let hlc = StaticString(",\"hlc\":")
    static let origin = StaticString(",\"origin\":")
    static let previous = StaticString(",\"previous\":")
    static let resolves = StaticString(",\"resolves\":[")
    static let root = StaticString(",\"root\":")
    static let seq = StaticString(",\"seq\":")
    static let site = StaticString(",\"site\":")
    static let total = StaticString(",\"total\":")

    static func append(_ key: StaticString, to out: inout [UInt8]) {
        key.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// A JSON string, escaped as `CanonicalJSON.appendString` escapes it.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { RowJSON.appendText($0.baseAddress, $0.count, to: &out) }
    }

    /// A whole number in decimal, as `String(number)` writes it (a small string: no allocation).
    static func appendNumber(_ number: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: String(number).utf8)
    }
}
