import Foundation

/// For each site (by site id), the highest sequence number of its transactions that a replica has
/// applied.
public struct VersionVector: Hashable, Sendable, Codable {
    public var entries: [String: Int64]

    public init(_ entries: [String: Int64] = [:]) { self.entries = entries }

    public subscript(site: String) -> Int64 {
        get { entries[site] ?? 0 }
        set { entries[site] = newValue }
    }

    /// Whether this vector has seen transaction `seq` of `site`.
    public func includes(site: String, seq: Int64) -> Bool { self[site] >= seq }

    /// Whether this vector has seen everything `other` has.
    public func dominates(_ other: VersionVector) -> Bool {
        other.entries.allSatisfy { self[$0.key] >= $0.value }
    }

    public init(from decoder: any Decoder) throws {
        entries = try decoder.singleValueContainer().decode([String: Int64].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(entries)
    }
}
