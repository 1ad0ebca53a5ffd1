import Foundation

/// A wire type with a hand-written JSON form: `write(to:)` gives the bytes `WireJSON.encoder()`
/// gives, `read(from:)` the value `JSONDecoder` reads. `WireJSON` uses it for the hot sync
/// messages; its `Codable` conformance stays the reference and the fallback.
package protocol FastWireCodable {
    /// Whether the hand-written form knows every stored property of the type and of the types it
    /// holds. Checked once by reflection: a property added without teaching `FastWire` about it
    /// sends the type back to Foundation's coders (and fails `FastJSONTests`) instead of being lost.
    static var isFastWireComplete: Bool { get }

    /// Reads one value; throws `JSONScanner.Failure` for anything it does not read as `JSONDecoder` would.
    static func read(from scanner: inout JSONScanner) throws -> Self

    /// Writes the value as `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` would.
    func write(to writer: inout JSONWriter) throws
}

extension FastWireCodable {
    package static var isFastWireComplete: Bool { true }
}

/// Entry points of the hand-written coders, without the Foundation fallback `WireJSON` adds.
package enum FastWire {
    /// The JSON bytes of `value`.
    package static func encode<Value: FastWireCodable>(_ value: Value, capacity: Int = 256) throws -> [UInt8] {
        var writer = JSONWriter(capacity: capacity)
        try value.write(to: &writer)
        return writer.bytes
    }

    /// Reads one whole JSON document as a `Value`.
    package static func decode<Value: FastWireCodable>(_ type: Value.Type, from buffer: UnsafeRawBufferPointer) throws
        -> Value
    {
        var scanner = try JSONScanner(buffer)
        return try scanner.readDocument { try Value.read(from: &$0) }
    }

    package static func decode<Value: FastWireCodable>(_ type: Value.Type, from text: String) throws -> Value {
        var text = text
        return try text.withUTF8 { try decode(type, from: UnsafeRawBufferPointer($0)) }
    }

    /// Whether `fields` names exactly the stored properties of `sample` (its synthesized coding keys).
    static func covers(_ sample: Any, _ fields: JSONFields) -> Bool {
        Set(Mirror(reflecting: sample).children.compactMap(\.label)) == Set(fields.names)
    }
}

/// The keys of a wire struct, for matching the keys `JSONScanner` reads without making strings.
package struct JSONFields: Sendable {
    package let names: [String]
    private let utf8: [[UInt8]]

    package init(_ names: [String]) {
        precondition(names.count <= 32, "JSONFields tracks at most 32 keys")
        self.names = names
        self.utf8 = names.map { Array($0.utf8) }
    }

    /// The position of `key` in `names`, compared as `JSONDecoder` does (`String` equality).
    @inline(__always) package func index(of key: JSONScanner.Key) -> Int? {
        if let text = key.text { return names.firstIndex(of: text) }
        let count = key.bytes.count
        for position in utf8.indices where utf8[position].count == count {
            let equal = utf8[position].withUnsafeBytes { name in
                count == 0 || memcmp(name.baseAddress!, key.bytes.baseAddress!, count) == 0
            }
            if equal { return position }
        }
        return nil
    }
}

extension JSONScanner {
    /// Reads a wire struct's object: `body` gets the position of each known key in `fields`, the
    /// first time it appears (`JSONDecoder` keeps the first of repeated keys); other values are
    /// checked and skipped.
    package mutating func readFields(_ fields: JSONFields, _ body: (inout JSONScanner, Int) throws -> Void) throws {
        var seen: UInt32 = 0
        try readObject { scanner, key in
            guard let field = fields.index(of: key), seen & (1 << field) == 0 else { return try scanner.skipValue() }
            seen |= 1 << field
            try body(&scanner, field)
        }
    }

    /// `nil` for `null`, else what `read` reads (`decodeIfPresent`).
    @inline(__always) package mutating func readOptional<T>(_ read: (inout JSONScanner) throws -> T) throws -> T? {
        readNull() ? nil : try read(&self)
    }

    package func missing(_ key: String, in type: Any.Type) -> JSONScanner.Failure {
        failure("\(type) lacks '\(key)'")
    }
}

extension JSONWriter {
    /// Writes `"key":`, preceded by a comma unless it is the first of its object.
    @inline(__always) package mutating func key(_ quotedKey: StaticString, first: inout Bool) {
        if !first { byte(UInt8(ascii: ",")) }
        first = false
        raw(quotedKey)
    }
}

// MARK: - Values the wire types hold

extension String: FastWireCodable {
    package static func read(from scanner: inout JSONScanner) throws -> String { try scanner.readString() }
    package func write(to writer: inout JSONWriter) { writer.string(self) }
}

extension Int64: FastWireCodable {
    package static func read(from scanner: inout JSONScanner) throws -> Int64 { try scanner.readInt64() }
    package func write(to writer: inout JSONWriter) { writer.integer(self) }
}

extension Int: FastWireCodable {
    package static func read(from scanner: inout JSONScanner) throws -> Int { try scanner.readInt() }
    package func write(to writer: inout JSONWriter) { writer.integer(self) }
}

extension Array: FastWireCodable where Element: FastWireCodable {
    package static var isFastWireComplete: Bool { Element.isFastWireComplete }

    package static func read(from scanner: inout JSONScanner) throws -> [Element] {
        var elements: [Element] = []
        try scanner.readArray { elements.append(try Element.read(from: &$0)) }
        return elements
    }

    package func write(to writer: inout JSONWriter) throws {
        writer.byte(UInt8(ascii: "["))
        for (position, element) in enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            try element.write(to: &writer)
        }
        writer.byte(UInt8(ascii: "]"))
    }
}

extension Dictionary: FastWireCodable where Key == String, Value: FastWireCodable {
    package static var isFastWireComplete: Bool { Value.isFastWireComplete }

    /// Every value is read (and must have the right type); the first of repeated keys is kept.
    package static func read(from scanner: inout JSONScanner) throws -> [String: Value] {
        let isRow = Value.self == CellValue.self
        let expected = scanner.lastRowSize > 0 ? scanner.lastRowSize : Swift.min(64, scanner.remainingBytes / 40)
        var entries = [String: Value](minimumCapacity: isRow ? expected : 0)
        try scanner.readObject { scanner, key in
            let value = try Value.read(from: &scanner)
            let name = key.string
            if let first = entries.updateValue(value, forKey: name) { entries[name] = first }
        }
        if isRow { scanner.lastRowSize = entries.count }
        return entries
    }

    package func write(to writer: inout JSONWriter) throws {
        try writer.object(self) { try $1.write(to: &$0) }
    }
}
