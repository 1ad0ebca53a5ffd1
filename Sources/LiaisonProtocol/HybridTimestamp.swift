import Foundation

/// A hybrid logical clock reading: milliseconds of wall time in the high bits, a counter in the
/// low 16 bits. Ordered like the integers; only orders writes already known to be concurrent.
public struct HybridTimestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }

    public init(milliseconds: Int64, counter: Int64 = 0) {
        self.rawValue = (milliseconds << 16) | (counter & 0xffff)
    }

    /// Wall-clock milliseconds since 1970.
    public var milliseconds: Int64 { rawValue >> 16 }
    /// Logical counter for events within one millisecond.
    public var counter: Int64 { rawValue & 0xffff }

    public static let zero = HybridTimestamp(rawValue: 0)

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// ISO 8601 time with milliseconds, then the counter: `2026-11-29T14:00:00.123Z+0002`.
    public var description: String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let formatted = date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        let utc = formatted.hasSuffix("Z") ? formatted : formatted + "Z"
        return counter == 0 ? utc : "\(utc)+\(String(format: "%04d", counter))"
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
