import Foundation

/// The outcome of comparing this replica's digests with a peer's (`liaison compare`, and the
/// summary check at the end of every sync round). A difference is an alarm: nothing is repaired.
public struct PeerComparison: Sendable, Codable, Hashable {
    public var peer: String
    /// When it ended (ISO 8601).
    public var at: String
    /// `in_step`, `differ` or `not_comparable`.
    public var result: String
    /// For people: what was found, or why it could not compare.
    public var message: String
    /// Whether differing ranges were reconciled down to rows (`liaison compare`), or only the
    /// fingerprints of each table and scope were compared (a sync round).
    public var full: Bool
    /// How many table-and-scope pairs were compared, and the rows they hold here.
    public var scopes: Int
    public var rows: Int
    /// The tables and scopes whose fingerprints differ (`table/scope`).
    public var differingScopes: [String]
    /// The rows found different (at most 200 kept).
    public var differences: [RowDifference]
    public var roundTrips: Int
    public var bytesSent: Int
    public var bytesReceived: Int

    public init(
        peer: String, at: String = Date().formatted(.iso8601), result: String, message: String, full: Bool,
        scopes: Int = 0, rows: Int = 0, differingScopes: [String] = [], differences: [RowDifference] = [],
        roundTrips: Int = 0, bytesSent: Int = 0, bytesReceived: Int = 0
    ) {
        self.peer = peer
        self.at = at
        self.result = result
        self.message = message
        self.full = full
        self.scopes = scopes
        self.rows = rows
        self.differingScopes = differingScopes
        self.differences = differences
        self.roundTrips = roundTrips
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
    }

    public var isAlarm: Bool { result == "differ" }
}

extension Replica {
    static let comparisonTableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_comparison(
            peer TEXT PRIMARY KEY NOT NULL, at TEXT NOT NULL, result TEXT NOT NULL, detail TEXT NOT NULL) WITHOUT ROWID
        """

    /// Keeps `comparison` as the last one with its peer (a summary check does not replace the rows
    /// a full comparison named while the scopes still differ).
    public func recordComparison(_ comparison: PeerComparison) throws {
        var kept = comparison
        kept.differences = Array(comparison.differences.prefix(200))
        if !comparison.full, comparison.result == "differ", let last = try lastComparison(with: comparison.peer),
            last.full, last.result == "differ", last.differingScopes == comparison.differingScopes
        {
            kept.differences = last.differences
        }
        let detail = try WireJSON.string(kept)
        try withConnection { db in
            guard !db.isReadOnly else { return }
            try db.execute(Self.comparisonTableSQL)
            try db.run(
                "INSERT OR REPLACE INTO _liaison_comparison(peer, at, result, detail) VALUES (?, ?, ?, ?)",
                [.text(kept.peer), .text(kept.at), .text(kept.result), .text(detail)])
        }
    }

    /// The last comparison with each peer, by peer name.
    public func comparisons() throws -> [PeerComparison] {
        try withConnection { db in
            guard
                try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_comparison'", [], { _ in true })
                    ?? false
            else { return [] }
            return try db.query("SELECT detail FROM _liaison_comparison ORDER BY peer", []) {
                try WireJSON.decode(PeerComparison.self, from: $0.text(0))
            }
        }
    }

    func lastComparison(with peer: String) throws -> PeerComparison? {
        try comparisons().first { $0.peer == peer }
    }
}
