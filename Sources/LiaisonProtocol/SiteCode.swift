import Foundation

/// A human site code such as `NL-NCTV`: upper-case letters, digits and dashes, 2 to 32 characters,
/// starting with a letter.
public struct SiteCode: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// Checks the code; `nil` when it does not follow the rule above.
    public init?(_ rawValue: String) {
        let characters = Array(rawValue.utf8)
        guard (2...32).contains(characters.count), let first = characters.first,
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first),
            characters.allSatisfy({
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: "-")
            })
        else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static let rule = "2 to 32 upper-case letters, digits or dashes, starting with a letter (e.g. NL-NCTV)"

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = SiteCode(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "invalid site code"))
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
