import Foundation

// Numbers, read with `JSONDecoder`'s rules for `Int64`, `Double` and hence `CellValue`.
extension JSONScanner {
    /// A number as `JSONDecoder` reads an `Int64`: plain digits, or a fraction or exponent that
    /// makes an exact whole number below 2^53.
    package mutating func readInt64() throws -> Int64 {
        let token = try scanNumber()
        if token.isPlain, let value = plainInteger(token) { return value }
        guard let value = try wholeNumber(token, try double(token)) else {
            throw failure("not a whole number in range")
        }
        return value
    }

    package mutating func readInt() throws -> Int {
        let value = try readInt64()
        guard let int = Int(exactly: value) else { throw failure("integer out of range") }
        return int
    }

    /// A cell value as `CellValue`'s `Decodable` conformance reads it through `JSONDecoder`: null;
    /// a number it reads as an `Int64`, else as a finite `Double`; a string.
    package mutating func readCellValue() throws -> CellValue {
        switch peek() {
        case UInt8(ascii: "n"):
            guard readNull() else { throw failure("expected a value") }
            return .null
        case UInt8(ascii: "\""):
            return .text(try readString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let token = try scanNumber()
            if token.isPlain, let value = plainInteger(token) { return .integer(value) }
            let number = try double(token)
            if let value = try wholeNumber(token, number) { return .integer(value) }
            guard number.isFinite else { throw failure("number out of range") }
            return .real(number)
        default:
            throw failure("a cell value must be a string, a number or null")
        }
    }

    private static let twoToThe53: Double = 9_007_199_254_740_992

    struct NumberToken {
        var start: Int
        var end: Int
        /// No fraction and no exponent.
        var isPlain: Bool
    }

    @inline(__always) private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    /// Finds the extent of the number at `index`, checking RFC 8259's grammar.
    mutating func scanNumber() throws -> NumberToken {
        skipWhitespace()
        let start = index
        if byte(at: index) == UInt8(ascii: "-") { index += 1 }
        switch byte(at: index) {
        case UInt8(ascii: "0"): index += 1
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            repeat { index += 1 } while isDigit(byte(at: index))
        default: throw failure("expected a value")
        }
        var isPlain = true
        if byte(at: index) == UInt8(ascii: ".") {
            isPlain = false
            index += 1
            guard isDigit(byte(at: index)) else { throw failure("expected a digit") }
            repeat { index += 1 } while isDigit(byte(at: index))
        }
        if byte(at: index) | 0x20 == UInt8(ascii: "e") {
            isPlain = false
            index += 1
            if byte(at: index) == UInt8(ascii: "+") || byte(at: index) == UInt8(ascii: "-") { index += 1 }
            guard isDigit(byte(at: index)) else { throw failure("expected a digit") }
            repeat { index += 1 } while isDigit(byte(at: index))
        }
        return NumberToken(start: start, end: index, isPlain: isPlain)
    }

    /// How `JSONDecoder` reads a number with a fraction or an exponent (or too large for an
    /// `Int64`) as an `Int64`, `nil` when it refuses: through the `Double` when that is an exact
    /// whole number below 2^53, else through `Decimal`, whose digits must fit a `UInt64` and whose
    /// fraction is truncated. Throws when the digits are too many to be sure what `Decimal` keeps.
    private func wholeNumber(_ token: NumberToken, _ number: Double) throws -> Int64? {
        guard Int64(exactly: number) != nil else { return nil }
        if number.magnitude < Self.twoToThe53 { return Int64(number) }
        var position = token.start
        let isNegative = base.load(fromByteOffset: position, as: UInt8.self) == UInt8(ascii: "-")
        if isNegative { position += 1 }
        var digits: UInt64 = 0
        var digitCount = 0
        var fractionCount = 0
        var inFraction = false
        var exponent = 0
        while position < token.end {
            let byte = base.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            if isDigit(byte) {
                digitCount += 1
                if inFraction { fractionCount += 1 }
                digits = digits &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
            } else if byte == UInt8(ascii: ".") {
                inFraction = true
            } else {
                let isNegativeExponent = self.byte(at: position) == UInt8(ascii: "-")
                if !isDigit(self.byte(at: position)) { position += 1 }
                while position < token.end {
                    exponent =
                        exponent * 10 + Int(base.load(fromByteOffset: position, as: UInt8.self) &- UInt8(ascii: "0"))
                    guard exponent <= 400 else { throw failure("exponent too large to read without Decimal") }
                    position += 1
                }
                if isNegativeExponent { exponent = -exponent }
            }
            guard digitCount <= 19 else { throw failure("too many digits to read without Decimal") }
        }
        var magnitude = digits
        var scale = exponent - fractionCount
        while scale < 0 {
            magnitude /= 10
            scale += 1
        }
        while scale > 0 {
            let (next, overflowed) = magnitude.multipliedReportingOverflow(by: 10)
            if overflowed { return nil }
            magnitude = next
            scale -= 1
        }
        guard let value = Int64(exactly: magnitude) else { return nil }
        return isNegative ? -value : value
    }

    /// The value of plain digits, or `nil` when it does not fit an `Int64`.
    private func plainInteger(_ token: NumberToken) -> Int64? {
        var position = token.start
        let isNegative = base.load(fromByteOffset: position, as: UInt8.self) == UInt8(ascii: "-")
        if isNegative { position += 1 }
        var value: Int64 = 0
        if token.end - position < 19 {
            while position < token.end {
                let digit = Int64(base.load(fromByteOffset: position, as: UInt8.self) &- UInt8(ascii: "0"))
                value = value &* 10 &+ digit
                position += 1
            }
            return isNegative ? -value : value
        }
        while position < token.end {
            let digit = Int64(base.load(fromByteOffset: position, as: UInt8.self) &- UInt8(ascii: "0"))
            let (shifted, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowedAgain) =
                isNegative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            if overflowed || overflowedAgain { return nil }
            value = next
            position += 1
        }
        return value
    }

    /// The number correctly rounded to a `Double` (as `strtod`, which `JSONDecoder` uses).
    private func double(_ token: NumberToken) throws -> Double {
        let text = String(
            decoding: UnsafeRawBufferPointer(start: base + token.start, count: token.end - token.start), as: UTF8.self)
        guard let value = Double(text) else { throw failure("unreadable number") }
        return value
    }
}
