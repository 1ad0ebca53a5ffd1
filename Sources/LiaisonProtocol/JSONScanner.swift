import Foundation

/// A strict reader of RFC 8259 JSON over UTF-8 bytes: the parsing half of `FastWire`.
///
/// It never reads outside its buffer and never recurses deeper than `maxDepth`. Whatever it reads,
/// it reads as `JSONDecoder` does; whatever it is unsure of (a leading byte-order mark, a trailing
/// comma, nesting deeper than `maxDepth`, an integer `JSONDecoder` would round through `Decimal`)
/// it refuses with a `Failure`, and `WireJSON` then reads the input again with `JSONDecoder`. So
/// callers of `WireJSON` see exactly `JSONDecoder`'s value or error, faster.
package struct JSONScanner {
    /// Why the scanner stopped, and where.
    package struct Failure: Error, CustomStringConvertible {
        package var reason: String
        package var offset: Int
        package var description: String { "\(reason) at byte \(offset)" }
    }

    /// An object key: its raw bytes when they are plain ASCII without escapes, else its text.
    package struct Key {
        /// The key's bytes inside the input (empty when `text` is set).
        package var bytes: UnsafeRawBufferPointer
        /// The decoded key, for keys with escapes or non-ASCII characters.
        package var text: String?

        /// The key as a string.
        package var string: String { text ?? String(decoding: bytes, as: UTF8.self) }
    }

    /// Containers nested deeper than this are left to `JSONDecoder` (which allows 512).
    package static let maxDepth = 64

    let base: UnsafeRawPointer
    let count: Int
    var index = 0
    private var depth = 0
    /// Reused for strings with escapes.
    var scratch: [UInt8] = []
    /// The size of the last `[String: CellValue]` read: rows of a page tend to have the same columns,
    /// so the next dictionary is made that large at once.
    package var lastRowSize = 0

    /// A scanner over `buffer`, which must outlive it.
    package init(_ buffer: UnsafeRawBufferPointer) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            throw Failure(reason: "empty input", offset: 0)
        }
        self.base = base
        self.count = buffer.count
    }

    /// Reads one whole document: `body` reads the value, then only whitespace may follow.
    package mutating func readDocument<T>(_ body: (inout JSONScanner) throws -> T) throws -> T {
        let value = try body(&self)
        skipWhitespace()
        guard index == count else { throw failure("unexpected bytes after the value") }
        return value
    }

    // MARK: - Bytes

    @inline(__always) func byte(at offset: Int) -> UInt8 {
        offset < count ? base.load(fromByteOffset: offset, as: UInt8.self) : 0
    }

    @inline(__always) mutating func skipWhitespace() {
        while index < count {
            switch base.load(fromByteOffset: index, as: UInt8.self) {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// The next byte after whitespace, not consumed (0 at the end).
    @inline(__always) package mutating func peek() -> UInt8 {
        skipWhitespace()
        return byte(at: index)
    }

    /// How many bytes are left to read.
    package var remainingBytes: Int { count - index }

    package func failure(_ reason: String) -> Failure { Failure(reason: reason, offset: index) }

    private mutating func consume(_ byte: UInt8, _ what: StaticString) throws {
        skipWhitespace()
        guard self.byte(at: index) == byte else { throw failure("expected \(what)") }
        index += 1
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth)") }
    }

    // MARK: - Containers

    /// Reads an object, calling `body` with each key; `body` must read (or skip) the key's value.
    package mutating func readObject(_ body: (inout JSONScanner, Key) throws -> Void) throws {
        try consume(UInt8(ascii: "{"), "an object")
        try enter()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a key") }
            let key = try readKey()
            try consume(UInt8(ascii: ":"), "':'")
            try body(&self, key)
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    /// Reads an array, calling `body` once per element; `body` must read (or skip) the element.
    package mutating func readArray(_ body: (inout JSONScanner) throws -> Void) throws {
        try consume(UInt8(ascii: "["), "an array")
        try enter()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        while true {
            try body(&self)
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    /// Reads and checks any value, discarding it.
    package mutating func skipValue() throws {
        switch peek() {
        case UInt8(ascii: "{"): try readObject { scanner, _ in try scanner.skipValue() }
        case UInt8(ascii: "["): try readArray { scanner in try scanner.skipValue() }
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
        case UInt8(ascii: "n"): guard readNull() else { throw failure("expected a value") }
        default: _ = try scanNumber()
        }
    }

    // MARK: - Literals

    /// Consumes `null` if it comes next.
    package mutating func readNull() -> Bool {
        guard peek() == UInt8(ascii: "n"), byte(at: index + 1) == UInt8(ascii: "u"),
            byte(at: index + 2) == UInt8(ascii: "l"), byte(at: index + 3) == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    package mutating func readBool() throws -> Bool {
        switch peek() {
        case UInt8(ascii: "t")
        where byte(at: index + 1) == UInt8(ascii: "r") && byte(at: index + 2) == UInt8(ascii: "u")
            && byte(at: index + 3) == UInt8(ascii: "e"):
            index += 4
            return true
        case UInt8(ascii: "f")
        where byte(at: index + 1) == UInt8(ascii: "a") && byte(at: index + 2) == UInt8(ascii: "l")
            && byte(at: index + 3) == UInt8(ascii: "s") && byte(at: index + 4) == UInt8(ascii: "e"):
            index += 5
            return false
        default:
            throw failure("expected true or false")
        }
    }
}
