/// Eight-bytes-at-a-time tests on UTF-8 text, for the string loops of `JSONScanner` and
/// `JSONWriter` (the classic "has a byte less than / equal to" word tricks: exact as a yes or no
/// for the word, though not for which byte).
enum JSONBytes {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether some byte of `word` ends or escapes a JSON string: a control character, `"` or `\`.
    @inline(__always) static func hasSpecialByte(_ word: UInt64) -> Bool {
        let control = (word &- (ones &* 0x20)) & ~word & highs
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        return (control | ((quote &- ones) & ~quote & highs) | ((backslash &- ones) & ~backslash & highs)) != 0
    }

    /// Whether some byte of `word` is not ASCII.
    @inline(__always) static func hasNonASCII(_ word: UInt64) -> Bool { word & highs != 0 }

    /// Whether `byte` ends or escapes a JSON string.
    @inline(__always) static func isSpecial(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// The offset of the first byte from `start` that ends or escapes a JSON string, or `count`.
    @inline(__always) static func firstSpecial(in base: UnsafeRawPointer, from start: Int, count: Int) -> Int {
        var position = start
        while position + 8 <= count {
            if hasSpecialByte(base.loadUnaligned(fromByteOffset: position, as: UInt64.self)) { break }
            position += 8
        }
        while position < count, !isSpecial(base.load(fromByteOffset: position, as: UInt8.self)) { position += 1 }
        return position
    }
}
