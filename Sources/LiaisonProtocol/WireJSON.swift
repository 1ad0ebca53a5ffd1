import Foundation

/// The JSON coders every side of the protocol uses: sorted keys, so equal values give equal bytes.
///
/// The sync messages and the values inside them (`FastWireCodable` types) go through the
/// hand-written `FastWire` coders, which give the same bytes and values as Foundation's, faster.
/// Anything the fast reader does not take (including every malformed input) is read again by
/// `JSONDecoder`, so values and errors are exactly `JSONDecoder`'s.
public enum WireJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        if let bytes = fastEncode(value) { return Data(bytes) }
        return try encoder().encode(value)
    }

    public static func string<T: Encodable>(_ value: T) throws -> String {
        if let bytes = fastEncode(value) { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if let value = data.withUnsafeBytes({ fastDecode(type, from: $0) }) { return value }
        return try JSONDecoder().decode(type, from: data)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        var text = text
        if let value = text.withUTF8({ fastDecode(type, from: UnsafeRawBufferPointer($0)) }) { return value }
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// The fast bytes, or `nil` to let `JSONEncoder` encode (or report why it cannot).
    private static func fastEncode<T: Encodable>(_ value: T) -> [UInt8]? {
        guard let value = value as? any FastWireCodable, type(of: value).isFastWireComplete else { return nil }
        return try? FastWire.encode(value)
    }

    /// The fast reading, or `nil` to let `JSONDecoder` read (or refuse) the input.
    private static func fastDecode<T: Decodable>(_ type: T.Type, from buffer: UnsafeRawBufferPointer) -> T? {
        // The change log's stored objects, named so they get code specialized for them.
        if type == [String: CellValue].self {
            return (try? FastWire.decode([String: CellValue].self, from: buffer)) as? T
        }
        if type == [String: Int64].self { return (try? FastWire.decode([String: Int64].self, from: buffer)) as? T }
        guard let fastType = type as? any FastWireCodable.Type, fastType.isFastWireComplete else { return nil }
        return (try? FastWire.decode(fastType, from: buffer)) as? T
    }
}
