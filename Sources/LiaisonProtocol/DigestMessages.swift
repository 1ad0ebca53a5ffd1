/// `POST /v1/digest`: compares what two replicas hold without sending the rows.
///
/// Every row has a hash of its cells and their versions; a set of rows has a fingerprint that does
/// not depend on order (the rows' hashes summed, with their count). Without `ranges` the server
/// answers the fingerprint of every table and scope the requester may read (`scopes`). With
/// `ranges`, each range carries the requester's fingerprint or its items; the server answers only
/// the ranges where it differs: with its own items when it holds few rows there, else split into
/// smaller ranges with their fingerprints. The two sides alternate until the differing rows are named
/// (range-based set reconciliation, as negentropy does).
public struct DigestRequest: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    /// The requester's version vector: digests compare only when both sides applied the same transactions.
    public var vector: VersionVector
    /// Absent: ask for the fingerprint of every table and scope the requester may read.
    public var ranges: [DigestRange]?

    public init(protocolVersion: Int = liaisonProtocolVersion, vector: VersionVector, ranges: [DigestRange]? = nil) {
        self.protocolVersion = protocolVersion
        self.vector = vector
        self.ranges = ranges
    }
}

/// The server's side of a digest exchange.
public struct DigestResponse: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    /// The server's version vector.
    public var vector: VersionVector
    /// For a request without ranges: each table and scope the requester may read, with rows here.
    public var scopes: [ScopeDigest]?
    /// For a request without ranges: the scopes the requester may read here (`*` for all), so it
    /// knows which of its own scopes the comparison covers.
    public var readable: [String]?
    /// For a request with ranges: the ranges that differ, as fingerprints of smaller ranges or as items.
    public var ranges: [DigestRange]?

    public init(
        protocolVersion: Int = liaisonProtocolVersion, vector: VersionVector, scopes: [ScopeDigest]? = nil,
        readable: [String]? = nil, ranges: [DigestRange]? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.vector = vector
        self.scopes = scopes
        self.readable = readable
        self.ranges = ranges
    }
}

/// The fingerprint of the rows of one table in one scope.
public struct ScopeDigest: Hashable, Sendable, Codable {
    public var table: String
    public var scope: String
    public var count: Int
    /// 32 hex digits.
    public var fingerprint: String

    public init(table: String, scope: String, count: Int, fingerprint: String) {
        self.table = table
        self.scope = scope
        self.count = count
        self.fingerprint = fingerprint
    }
}

/// The rows of one table and scope whose ids are in `[lower, upper)` (byte order of UTF-8), given by
/// their fingerprint (`count` and `fingerprint`) or by their items.
public struct DigestRange: Hashable, Sendable, Codable {
    public var table: String
    public var scope: String
    /// The first id of the range (inclusive; `""` from the start).
    public var lower: String
    /// The end of the range (exclusive; absent to the end).
    public var upper: String?
    public var count: Int?
    public var fingerprint: String?
    /// Every row of the range: its id and hash.
    public var items: [DigestItem]?
    /// When present, the range is a node of the digest tree instead of `[lower, upper)`: the rows
    /// whose key (the hex SHA-256 of `liaison-digest-key-v1\0` and the id) starts with these hex
    /// digits (`""`: every row). A node splits into its 16 children, one more digit each, whose sums
    /// each side keeps (three digits deep), so no range is summed by reading its rows.
    public var node: String?

    public init(
        table: String, scope: String, lower: String = "", upper: String? = nil, count: Int? = nil,
        fingerprint: String? = nil, items: [DigestItem]? = nil, node: String? = nil
    ) {
        self.table = table
        self.scope = scope
        self.lower = lower
        self.upper = upper
        self.count = count
        self.fingerprint = fingerprint
        self.items = items
        self.node = node
    }
}

/// One row in a digest exchange: its id and the hash of its cells and versions (32 hex digits).
public struct DigestItem: Hashable, Sendable, Codable {
    public var id: String
    public var hash: String

    public init(id: String, hash: String) {
        self.id = id
        self.hash = hash
    }
}
