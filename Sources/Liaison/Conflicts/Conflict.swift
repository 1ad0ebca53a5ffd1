import Foundation

/// A conflict kept for a person to look at: the write that lost, the write that won, and why.
public struct Conflict: Hashable, Sendable, Codable {
    /// What collided.
    public enum Kind: String, Hashable, Sendable, Codable {
        /// Two concurrent writes of one column.
        case value
        /// A deletion against a concurrent update: the row was kept.
        case delete
        /// A row whose reference points to a row deleted concurrently: the row was kept.
        case orphan
        /// Two rows with different ids but the same natural key (the same body created twice offline).
        case duplicate
    }

    /// One side of a conflict.
    public struct Side: Hashable, Sendable, Codable {
        public var site: String
        public var siteID: String
        /// The short fingerprint of the site's trusted key.
        public var fingerprint: String?
        public var seq: Int64
        public var author: String
        public var hlc: HybridTimestamp
        /// The value this side wrote (`nil` for a deletion).
        public var value: CellValue?
    }

    /// Stable across replicas: every replica that holds both writes names the conflict the same.
    public var id: String
    public var kind: Kind
    public var table: String
    public var rowID: String
    public var column: String?
    public var policy: ConflictPolicy
    public var winner: Side
    public var loser: Side
    /// `open` until a resolution is applied, then `resolved`.
    public var state: String
}
