import Foundation

/// How much a sender may keep staged (pieces of transactions whose last piece has not come).
public struct StagingLimits: Sendable, Hashable {
    /// The most bytes of staged pieces per sender.
    public var maxBytes: Int
    /// The most unfinished transactions per sender.
    public var maxTransactions: Int
    /// Pieces older than this are dropped (the sender resends from the start).
    public var maxAge: Duration

    public init(maxBytes: Int = 64 << 20, maxTransactions: Int = 64, maxAge: Duration = .seconds(24 * 3600)) {
        self.maxBytes = maxBytes
        self.maxTransactions = maxTransactions
        self.maxAge = maxAge
    }
}

/// Keeps staging bounded: per sender in bytes, unfinished transactions and age, and only for
/// senders allowed to write here. Called by `Staging` where each piece lands.
public final class StagingQuota: @unchecked Sendable {
    private let lock = NSLock()
    private var current = StagingLimits()

    public init() {}

    /// The limits in force (settable: `liaison serve` and tests change them).
    public var limits: StagingLimits {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    static let ageTableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_staging_age(
            source TEXT NOT NULL, origin TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL,
            PRIMARY KEY (source, origin, seq)) WITHOUT ROWID;
        """

    /// Before a piece of `record` from `source` is stored: refuses a sender with no write grant
    /// and drops pieces past their age.
    func admit(_ record: TransactionRecord, source: String, writableScopes: Set<String>?, db: Connection) throws {
        if let writableScopes, writableScopes.isEmpty {
            throw LiaisonError(
                .forbiddenScope,
                "\(source.isEmpty ? "this sender" : "peer \(source)") may not write here, so pieces of its transactions "
                    + "are not held; ask for a write grant ('liaison grant')")
        }
        let now = Int64(Date().timeIntervalSince1970)
        let limits = self.limits
        let oldest = now - limits.maxAge.components.seconds
        try db.run(
            """
            DELETE FROM _liaison_staging WHERE EXISTS (SELECT 1 FROM _liaison_staging_age a
                WHERE a.at < ? AND a.source = _liaison_staging.source AND a.origin = _liaison_staging.origin
                    AND a.seq = _liaison_staging.seq)
            """, [.integer(oldest)])
        try db.run(
            """
            DELETE FROM _liaison_staging_age WHERE at < ? OR NOT EXISTS (SELECT 1 FROM _liaison_staging s
                WHERE s.source = _liaison_staging_age.source AND s.origin = _liaison_staging_age.origin
                    AND s.seq = _liaison_staging_age.seq)
            """, [.integer(oldest)])
        try db.run(
            "INSERT OR IGNORE INTO _liaison_staging_age(source, origin, seq, at) VALUES (?, ?, ?, ?)",
            [.text(source), .text(record.origin), .integer(record.seq), .integer(now)])
    }

    /// After a piece is stored: refuses (and so rolls back) a sender past its bytes or count.
    func check(source: String, db: Connection) throws {
        let limits = self.limits
        let (count, bytes) =
            try db.first(
                """
                SELECT count(DISTINCT origin || '#' || seq), coalesce(sum(length(change)), 0) + coalesce(sum(length(header)), 0)
                FROM _liaison_staging WHERE source = ?
                """, [.text(source)]
            ) { ($0.int(0), $0.int(1)) } ?? (0, 0)
        if count > limits.maxTransactions {
            throw LiaisonError(
                .invalidTransaction,
                "\(source.isEmpty ? "this sender" : "peer \(source)") has \(count) unfinished transactions staged here, "
                    + "more than the \(limits.maxTransactions) allowed; finish them (send their last pieces) first",
                cause: SecurityFinding.quotaExhausted)
        }
        if bytes > limits.maxBytes {
            throw LiaisonError(
                .invalidTransaction,
                "\(source.isEmpty ? "this sender" : "peer \(source)") has \(bytes) bytes of pieces staged here, more than "
                    + "the \(limits.maxBytes) allowed; finish its unfinished transactions first",
                cause: SecurityFinding.quotaExhausted)
        }
    }
}
