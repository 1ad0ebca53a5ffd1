import Foundation

/// A kind of event the security log counts (`liaison status` shows the counts).
public struct SecurityEvent: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }

    /// A request without a valid signature of a registered peer (missing, unknown key, bad, stale, replayed).
    public static let authenticationFailed = SecurityEvent("authentication_failed")
    /// A push refused whole (outside the write grant, a forged or altered transaction, …).
    public static let pushRefused = SecurityEvent("push_refused")
    /// A request refused because its peer or the server had no room (503 busy).
    public static let requestShed = SecurityEvent("request_shed")
    /// A connection closed to make room for another, or refused at the limit.
    public static let connectionShed = SecurityEvent("connection_shed")
    /// A signed request accepted before, sent again (a captured request replayed).
    public static let replayedRequest = SecurityEvent("replayed_request")
    /// An alarm: a site id or key claiming a site code bound to another here (impersonation).
    public static let identityConflict = SecurityEvent("identity_conflict")
    /// An alarm: two different transactions signed under one origin and sequence number.
    public static let equivocation = SecurityEvent("equivocation")
    /// A transaction not signed by its origin's key (forged, or altered on the way).
    public static let forgedTransaction = SecurityEvent("forged_transaction")
    /// A sender past its staging quota (unfinished pieces: count or bytes).
    public static let quotaExhausted = SecurityEvent("quota_exhausted")
}

/// What a refusal tells the security log beyond its error code, carried as the error's cause.
public enum SecurityFinding: Error, Sendable, Hashable {
    /// A transaction whose signature does not verify under its origin's key.
    case forgery
    /// A sender past one of its quotas.
    case quotaExhausted
}

extension LiaisonError {
    /// What this refusal tells the security log (`nil`: nothing beyond its code).
    public var securityFinding: SecurityFinding? { cause as? SecurityFinding }
}

/// How often one kind of security event happened, and when last.
public struct SecurityEventCount: Sendable, Codable, Hashable {
    public var event: String
    public var count: Int
    public var last: String
}

extension Replica {
    static let securityTableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_security(
            event TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL, last TEXT NOT NULL) WITHOUT ROWID;
        """

    /// Adds `counts` to the security log's counters.
    public func recordSecurityEvents(_ counts: [SecurityEvent: Int], at time: Date = Date()) throws {
        guard !counts.isEmpty else { return }
        let stamp = time.formatted(.iso8601)
        try withConnection { db in
            try transaction(db) {
                for (event, count) in counts {
                    try db.run(
                        """
                        INSERT INTO _liaison_security(event, count, last) VALUES (?, ?, ?)
                        ON CONFLICT(event) DO UPDATE SET count = count + excluded.count, last = excluded.last
                        """, [.text(event.name), .integer(Int64(count)), .text(stamp)])
                }
            }
        }
    }

    /// The security log's counters, by event name.
    public func securityEvents() throws -> [SecurityEventCount] {
        try withConnection { db in
            let exists =
                try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_security'") { _ in true } ?? false
            guard exists else { return [] }
            return try db.query("SELECT event, count, last FROM _liaison_security ORDER BY event") {
                SecurityEventCount(event: $0.text(0), count: $0.int(1), last: $0.text(2))
            }
        }
    }
}
