import Foundation

// Strings and keys: found eight bytes at a time, made into `String`s only when asked, UTF-8 checked.
extension JSONScanner {
    /// Reads a string.
    package mutating func readString() throws -> String {
        guard peek() == UInt8(ascii: "\"") else { throw failure("expected a string") }
        let token = try scanString()
        return try text(of: token)
    }

    mutating func readKey() throws -> Key {
        let token = try scanString()
        if !token.isEscaped && token.isASCII {
            return Key(
                bytes: UnsafeRawBufferPointer(start: base + token.start, count: token.end - token.start), text: nil)
        }
        return Key(bytes: UnsafeRawBufferPointer(start: base, count: 0), text: try text(of: token))
    }

    struct StringToken {
        var start: Int
        var end: Int
        var isEscaped: Bool
        var isASCII: Bool
    }

    /// Finds the end of the string starting at `index` (its opening quote); refuses raw control
    /// characters. Escapes are checked when the text is made.
    mutating func scanString() throws -> StringToken {
        index += 1
        let start = index
        var isEscaped = false
        var bits: UInt8 = 0
        var wordBits: UInt64 = 0
        while true {
            while index + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if JSONBytes.hasSpecialByte(word) { break }
                wordBits |= word
                index += 8
            }
            guard index < count else { throw failure("unterminated string") }
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                isEscaped = true
                index += 2
                continue
            }
            guard byte >= 0x20 else { throw failure("control character in a string") }
            bits |= byte
            index += 1
        }
        let end = index
        index += 1
        return StringToken(
            start: start, end: end, isEscaped: isEscaped, isASCII: bits < 0x80 && !JSONBytes.hasNonASCII(wordBits))
    }

    private mutating func text(of token: StringToken) throws -> String {
        let raw = UnsafeRawBufferPointer(start: base + token.start, count: token.end - token.start)
        if !token.isEscaped {
            if token.isASCII { return String(decoding: raw, as: UTF8.self) }
            guard let text = String(validating: raw, as: UTF8.self) else { throw failure("invalid UTF-8 in a string") }
            return text
        }
        scratch.removeAll(keepingCapacity: true)
        var position = token.start
        while position < token.end {
            let byte = base.load(fromByteOffset: position, as: UInt8.self)
            guard byte == UInt8(ascii: "\\") else {
                scratch.append(byte)
                position += 1
                continue
            }
            let escape = self.byte(at: position + 1)
            position += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escape)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hexQuad(at: position, end: token.end)
                position += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    guard self.byte(at: position) == UInt8(ascii: "\\"),
                        self.byte(at: position + 1) == UInt8(ascii: "u")
                    else { throw failure("unpaired surrogate in a string") }
                    let low = try hexQuad(at: position + 2, end: token.end)
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate in a string") }
                    position += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw failure("unpaired surrogate in a string")
                }
                appendUTF8(scalar)
            default:
                throw failure("invalid escape in a string")
            }
        }
        let text: String? = scratch.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
        guard let text else { throw failure("invalid UTF-8 in a string") }
        return text
    }

    private func hexQuad(at position: Int, end: Int) throws -> UInt32 {
        guard position + 4 <= end else { throw failure("short \\u escape") }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = base.load(fromByteOffset: position + offset, as: UInt8.self)
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            scratch.append(UInt8(scalar))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
