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
    /// The server's Ed25519 public key, base64 (compared with the one its peers trust; never trusted because of this).
    public var publicKey: String?
    /// The head digest of every origin the server applied, by site id.
    public var heads: [String: SiteHead]?
    /// The server's key rotations, oldest first, so a client that trusts an earlier key follows.
    public var rotations: [KeyRotation]?
    /// A short hash of the server's schema as schema changes left it (`schemaVersion` is its major).
    public var schemaHash: String?
    /// The transaction forms the server reads in a push besides the plain one (`["packed"]`:
    /// docs/PROTOCOL.md, "The packed page"); absent from servers that read only the plain form.
    public var forms: [String]?

    public init(
        protocolVersion: Int = liaisonProtocolVersion, siteID: String, site: String, schema: String, schemaVersion: Int,
        vector: VersionVector, publicKey: String? = nil, heads: [String: SiteHead]? = nil,
        rotations: [KeyRotation]? = nil, schemaHash: String? = nil, forms: [String]? = nil
    ) {
        self.forms = forms
        self.schemaHash = schemaHash
        self.rotations = rotations
        self.publicKey = publicKey
        self.heads = heads
        self.protocolVersion = protocolVersion
        self.siteID = siteID
        self.site = site
        self.schema = schema
        self.schemaVersion = schemaVersion
        self.vector = vector
    }
}

/// A site's public key, carried with the transactions it signed. The receiver trusts it only when
/// its operator already does, or when `introduction` verifies as a statement of `introducer`, a site
/// the receiver's operator marked as introducer.
public struct SiteKeyRecord: Hashable, Sendable, Codable {
    /// The site code.
    public var site: String
    /// The Ed25519 public key, base64.
    public var key: String
    /// The site id of the site vouching for this key (the sender, which trusts it).
    public var introducer: String?
    /// The introducer's Ed25519 signature, base64, over the introduction's canonical bytes.
    public var introduction: String?
    /// The site's key rotations, oldest first: each new key signed by the one before it (or by an introducer).
    public var rotations: [KeyRotation]?
    /// Signed revocations of the site's keys (`KeyRevocation`), by the site itself or by introducers.
    public var revocations: [KeyRevocation]?

    public init(
        site: String, key: String, introducer: String? = nil, introduction: String? = nil,
        rotations: [KeyRotation]? = nil, revocations: [KeyRevocation]? = nil
    ) {
        self.site = site
        self.key = key
        self.introducer = introducer
        self.introduction = introduction
        self.rotations = rotations
        self.revocations = revocations
    }
}

/// A key event in a site's chain: from transaction `fromSeq` on, the site signs with `key`
/// instead of `previous`; `signature` is `previous`'s Ed25519 signature over the canonical
/// `{"fromSeq":N,"key":KEY,"previous":PREVIOUS,"siteID":SITE_ID}`, or, when `introducer` is set
/// (the old key was lost or stolen), that introducer's signature over
/// `{"fromSeq":N,"introducer":INTRODUCER,"key":KEY,"previous":PREVIOUS,"siteID":SITE_ID}`.
public struct KeyRotation: Hashable, Sendable, Codable {
    public var fromSeq: Int64
    public var key: String
    public var previous: String
    public var signature: String
    /// The site id of the introducer that vouches for `key` (`nil`: signed by `previous`).
    public var introducer: String?

    public init(fromSeq: Int64, key: String, previous: String, signature: String, introducer: String? = nil) {
        self.fromSeq = fromSeq
        self.key = key
        self.previous = previous
        self.signature = signature
        self.introducer = introducer
    }
}

/// The last transaction of one origin a replica applied: its sequence number and header digest.
/// Peers compare heads on every sync, so a forked origin is found even when no copy travels twice.
public struct SiteHead: Hashable, Sendable, Codable {
    public var seq: Int64
    public var digest: String

    public init(seq: Int64, digest: String) {
        self.seq = seq
        self.digest = digest
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
    /// The requester's head digest of every origin it applied (on the first page of a round): the
    /// server compares them with its own log, so a forked origin is found on either side.
    public var heads: [String: SiteHead]?

    /// Transactions from this server that the requester holds in quarantine, with the reasons (all
    /// of them, so the server can replace what it knew; absent: no news).
    public var held: [HeldTransaction]?

    /// The form the requester reads the page's transactions in: `"packed"` (`PackedPage`), or
    /// absent for the plain `transactions` array. A server that does not know it answers plain.
    public var form: String?

    public init(
        protocolVersion: Int = liaisonProtocolVersion, cursor: String?, vector: VersionVector, limit: Int? = nil,
        wanted: [WantedTransaction]? = nil, heads: [String: SiteHead]? = nil, held: [HeldTransaction]? = nil,
        form: String? = nil
    ) {
        self.form = form
        self.heads = heads
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
    /// Only with `equivocation`: the digest this server applied and the digest of the copy refused.
    public var digests: [String]?

    public init(error: String, message: String, serverTime: Int64? = nil, digests: [String]? = nil) {
        self.error = error
        self.message = message
        self.serverTime = serverTime
        self.digests = digests
    }
}
