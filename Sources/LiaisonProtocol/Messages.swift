import Foundation

/// The protocol version carried by every message.
public let liaisonProtocolVersion = 1

/// `GET /v1/status`: who the server is and what it has applied.
public struct StatusResponse: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    public var siteID: String
    public var site: String
    public var schema: String
    public var schemaVersion: Int
    public var vector: VersionVector

    public init(protocolVersion: Int = liaisonProtocolVersion, siteID: String, site: String, schema: String, schemaVersion: Int, vector: VersionVector) {
        self.protocolVersion = protocolVersion
        self.siteID = siteID
        self.site = site
        self.schema = schema
        self.schemaVersion = schemaVersion
        self.vector = vector
    }
}

/// `POST /v1/pull`: a page of transactions the requester lacks.
public struct PullRequest: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    /// Where the previous page ended (`nil` or `"0"` for the beginning).
    public var cursor: String?
    /// What the requester has applied; transactions it has are skipped.
    public var vector: VersionVector
    /// The most changes the requester wants in one page.
    public var limit: Int?

    public init(protocolVersion: Int = liaisonProtocolVersion, cursor: String?, vector: VersionVector, limit: Int? = nil) {
        self.protocolVersion = protocolVersion
        self.cursor = cursor
        self.vector = vector
        self.limit = limit
    }
}

/// A page of transactions in the server's apply order.
public struct PullResponse: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    public var transactions: [TransactionRecord]
    /// Pass it back to continue after this page.
    public var cursor: String
    public var hasMore: Bool

    public init(protocolVersion: Int = liaisonProtocolVersion, transactions: [TransactionRecord], cursor: String, hasMore: Bool) {
        self.protocolVersion = protocolVersion
        self.transactions = transactions
        self.cursor = cursor
        self.hasMore = hasMore
    }
}

/// `POST /v1/push`: transactions for the server, applied atomically.
public struct PushRequest: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    public var transactions: [TransactionRecord]

    public init(protocolVersion: Int = liaisonProtocolVersion, transactions: [TransactionRecord]) {
        self.protocolVersion = protocolVersion
        self.transactions = transactions
    }
}

/// The answer to a push: what was applied and the server's new version vector.
public struct PushResponse: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    public var applied: Int
    public var skipped: Int
    /// Pieces of unfinished transactions held until their last piece arrives.
    public var staged: Int
    public var vector: VersionVector

    public init(protocolVersion: Int = liaisonProtocolVersion, applied: Int, skipped: Int, staged: Int = 0, vector: VersionVector) {
        self.protocolVersion = protocolVersion
        self.applied = applied
        self.skipped = skipped
        self.staged = staged
        self.vector = vector
    }
}

/// Every error answer: `{"error": code, "message": text}`.
public struct ErrorResponse: Hashable, Sendable, Codable {
    public var error: String
    public var message: String

    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}
