import Foundation

/// Writes JSON bytes exactly as `WireJSON.encoder()` (`JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes`) does: the writing half of `FastWire`.
///
/// `JSONEncoder`'s choices, which the golden fixtures pin: no spaces; `"`, `\` and control
/// characters escaped (`\b \t \n \f \r` by letter, the others as `\u00xx` in lower-case hex); `/`,
/// DEL and all non-ASCII characters as they are; integers in decimal; a `Double` as its
/// `description` without a trailing `.0` (`1`, `1.5`, `1e-07`, `1e+16`); object keys ordered by
/// their UTF-8 bytes.
package struct JSONWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends ASCII text as it is (punctuation, literals and pre-quoted keys such as `"id":`).
    @inline(__always) package mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends text as it is (a number already formatted).
    package mutating func raw(_ text: String) {
        text.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
            ?? bytes.append(contentsOf: text.utf8)
    }

    @inline(__always) package mutating func byte(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends bytes already written as JSON.
    package mutating func append(_ json: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: json)
    }

    package mutating func integer(_ value: Int64) {
        // 20 digits and a sign fit in 24 bytes.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var magnitude = value.magnitude
            var position = buffer.count
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[position...]))
        }
    }

    package mutating func integer(_ value: Int) {
        integer(Int64(value))
    }

    /// A finite `Double` as `JSONEncoder` writes it; throws for NaN and infinities, as it does.
    package mutating func real(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(
                    codingPath: [], debugDescription: "Unable to encode Double.\(value) directly in JSON."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        raw(text)
    }

    package mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    /// A quoted, escaped string. `CanonicalJSON` writes backspace and form feed as `\u0008` and
    /// `\u000c` (`letterEscapes: false`); `JSONEncoder` as `\b` and `\f`.
    package mutating func string(_ text: String, letterEscapes: Bool = true) {
        bytes.append(UInt8(ascii: "\""))
        if text.utf8.withContiguousStorageIfAvailable({ escape(UnsafeRawBufferPointer($0), letterEscapes) }) == nil {
            var copy = text
            copy.withUTF8 { escape(UnsafeRawBufferPointer($0), letterEscapes) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ utf8: UnsafeRawBufferPointer, _ letterEscapes: Bool) {
        guard let base = utf8.baseAddress else { return }
        var runStart = 0
        while true {
            let position = JSONBytes.firstSpecial(in: base, from: runStart, count: utf8.count)
            if position > runStart {
                bytes.append(contentsOf: UnsafeRawBufferPointer(start: base + runStart, count: position - runStart))
            }
            guard position < utf8.count else { return }
            let byte = utf8[position]
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
            case 0x08 where letterEscapes: bytes.append(UInt8(ascii: "b"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0C where letterEscapes: bytes.append(UInt8(ascii: "f"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            default:
                let hex: StaticString = "0123456789abcdef"
                bytes.append(UInt8(ascii: "u"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(hex.utf8Start[Int(byte >> 4)])
                bytes.append(hex.utf8Start[Int(byte & 0x0F)])
            }
            runStart = position + 1
        }
    }

    /// Writes `entries` as an object ordered by key bytes, each value through `value`.
    package mutating func object<Value>(
        _ entries: [String: Value], _ value: (inout JSONWriter, Value) throws -> Void
    ) rethrows {
        bytes.append(UInt8(ascii: "{"))
        try SortedEntries.withSorted(entries, byUTF8: true) { sorted in
            for position in sorted.indices {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                string(sorted[position].key)
                bytes.append(UInt8(ascii: ":"))
                try value(&self, sorted[position].value)
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Whether `a` sorts before `b` by UTF-8 bytes (`JSONEncoder`'s `.sortedKeys` order).
    package static func precedes(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Bool in
                let shared = min(x.count, y.count)
                if shared > 0 {
                    let order = memcmp(x.baseAddress!, y.baseAddress!, shared)
                    if order != 0 { return order < 0 }
                }
                return x.count < y.count
            }
        }
        return (fast ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
