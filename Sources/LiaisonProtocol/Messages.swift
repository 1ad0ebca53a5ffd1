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
    /// The server's Ed25519 public key, base64 (pinned by clients on first contact).
    public var publicKey: String?

    public init(
        protocolVersion: Int = liaisonProtocolVersion, siteID: String, site: String, schema: String, schemaVersion: Int,
        vector: VersionVector, publicKey: String? = nil
    ) {
        self.publicKey = publicKey
        self.protocolVersion = protocolVersion
        self.siteID = siteID
        self.site = site
        self.schema = schema
        self.schemaVersion = schemaVersion
        self.vector = vector
    }
}

/// A site's pinned public key, carried with the transactions it signed.
public struct SiteKeyRecord: Hashable, Sendable, Codable {
    /// The site code.
    public var site: String
    /// The Ed25519 public key, base64.
    public var key: String

    public init(site: String, key: String) {
        self.site = site
        self.key = key
    }
}

/// A transaction whose changes a requester lacks in part (withheld by a peer that could not share them).
public struct WantedTransaction: Hashable, Sendable, Codable {
    public var origin: String
    public var seq: Int64
    /// The positions of the changes the requester lacks (`nil`: any it may read).
    public var missing: [Int]?

    public init(origin: String, seq: Int64, missing: [Int]? = nil) {
        self.origin = origin
        self.seq = seq
        self.missing = missing
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
    /// Transactions the requester holds with changes withheld; the server sends what it may of them.
    public var wanted: [WantedTransaction]?
    /// Transactions from this server that the requester holds in quarantine, with the reasons (all
    /// of them, so the server can replace what it knew; absent: no news).
    public var held: [HeldTransaction]?

    public init(
        protocolVersion: Int = liaisonProtocolVersion, cursor: String?, vector: VersionVector, limit: Int? = nil,
        wanted: [WantedTransaction]? = nil, held: [HeldTransaction]? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.cursor = cursor
        self.vector = vector
        self.limit = limit
        self.wanted = wanted
        self.held = held
    }
}

/// A page of transactions in the server's apply order.
public struct PullResponse: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    public var transactions: [TransactionRecord]
    /// Pass it back to continue after this page.
    public var cursor: String
    public var hasMore: Bool
    /// The public keys of the origins in this page, by site id.
    public var keys: [String: SiteKeyRecord]?
    /// Transactions from the requester that the server holds in quarantine, with the reasons.
    public var held: [HeldTransaction]?

    public init(
        protocolVersion: Int = liaisonProtocolVersion, transactions: [TransactionRecord], cursor: String, hasMore: Bool,
        keys: [String: SiteKeyRecord]? = nil, held: [HeldTransaction]? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.transactions = transactions
        self.cursor = cursor
        self.hasMore = hasMore
        self.keys = keys
        self.held = held
    }
}

/// `POST /v1/push`: transactions for the server, applied atomically.
public struct PushRequest: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    public var transactions: [TransactionRecord]
    /// The public keys of the origins in this batch, by site id.
    public var keys: [String: SiteKeyRecord]?

    public init(
        protocolVersion: Int = liaisonProtocolVersion, transactions: [TransactionRecord],
        keys: [String: SiteKeyRecord]? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.transactions = transactions
        self.keys = keys
    }
}

/// The answer to a push: what was applied, what is held, and the server's new version vector.
public struct PushResponse: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    public var applied: Int
    public var skipped: Int
    /// Pieces of unfinished transactions held until their last piece arrives.
    public var staged: Int
    public var vector: VersionVector
    /// Every transaction from the pusher that the server holds in quarantine (this batch's and
    /// earlier ones), each with its reason; absent when none.
    public var held: [HeldTransaction]?

    public init(
        protocolVersion: Int = liaisonProtocolVersion, applied: Int, skipped: Int, staged: Int = 0,
        vector: VersionVector, held: [HeldTransaction]? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.applied = applied
        self.skipped = skipped
        self.staged = staged
        self.vector = vector
        self.held = held
    }
}

/// Every error answer: `{"error": code, "message": text}`.
public struct ErrorResponse: Hashable, Sendable, Codable {
    public var error: String
    public var message: String
    /// Only with `stale_signature`: the server's clock in ms since 1970, so that a peer whose
    /// clock differs can sign its next request in the server's time.
    public var serverTime: Int64?

    public init(error: String, message: String, serverTime: Int64? = nil) {
        self.error = error
        self.message = message
        self.serverTime = serverTime
    }
}
