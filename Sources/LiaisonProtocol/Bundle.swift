import Foundation

/// What a bundle file carries.
public enum BundleKind: String, Hashable, Sendable, Codable {
    /// Transactions the recipient lacks, filtered to its read grant as a pull would.
    case changes
    /// What the recipient of a bundle applied and holds: the way back over a one-way path.
    case acknowledgement
}

/// A site's signed statement of what it has applied (its version vector at `at`).
///
/// `signature` is the site's Ed25519 signature, base64, over
/// `liaison-ack-v1\n{site}\n{peer}\n{at}\n{vector}` where `peer` is the addressee's site id (empty
/// when unknown) and `vector` is `SITE_ID=SEQ` entries sorted by site id, joined by `,`.
public struct Acknowledgement: Hashable, Sendable, Codable {
    /// The acknowledging site's id.
    public var site: String
    /// The acknowledging site's code.
    public var siteCode: String
    /// The site id it acknowledges to, when known.
    public var peer: String?
    /// What the site has applied.
    public var vector: VersionVector
    /// When (ISO 8601, UTC).
    public var at: String
    public var signature: String

    public init(site: String, siteCode: String, peer: String?, vector: VersionVector, at: String, signature: String) {
        self.site = site
        self.siteCode = siteCode
        self.peer = peer
        self.vector = vector
        self.at = at
        self.signature = signature
    }

    /// The bytes the signature covers.
    public var signedBytes: Data {
        let entries = vector.entries.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return Data("liaison-ack-v1\n\(site)\n\(peer ?? "")\n\(at)\n\(entries.joined(separator: ","))".utf8)
    }
}

/// The signed content of a bundle file (the payload, sealed or not). See docs/PROTOCOL.md.
public struct BundleBody: Hashable, Sendable, Codable {
    public var format: String
    public var version: Int
    public var kind: BundleKind
    /// A random UUID naming this bundle.
    public var id: String
    /// The sender's site id, code and Ed25519 public key (base64).
    public var sender: String
    public var senderSite: String
    public var senderKey: String
    /// The recipient's site id when the sender knows it, and the name the sender knows it by.
    public var recipient: String?
    public var recipientSite: String
    /// When the bundle was made (ISO 8601, UTC).
    public var created: String
    public var schema: String
    public var schemaVersion: Int
    /// What the sender assumed the recipient holds: transactions at or below it were left out.
    public var since: VersionVector
    /// What the recipient must have applied before these transactions apply (per origin).
    public var prerequisites: VersionVector
    /// The sender's version vector when it made the bundle.
    public var upTo: VersionVector
    /// Transactions (or pieces of them) in the sender's apply order, as pull pages carry them.
    public var transactions: [TransactionRecord]
    /// Public keys of the origins, as a pull page carries them (trusted only as a page's are).
    public var keys: [String: SiteKeyRecord]?
    /// The sender's signed statement of what it has applied.
    public var acknowledgement: Acknowledgement?
    /// For an acknowledgement: the id of the bundle it answers.
    public var acknowledges: String?
    /// For an acknowledgement: what the sender holds in quarantine of the recipient's traffic.
    public var held: [HeldTransaction]?
    /// The sender's X25519 public key (base64) for sealing bundles to it.
    public var sealingKey: String?

    public init(
        kind: BundleKind, id: String, sender: String, senderSite: String, senderKey: String, recipient: String?,
        recipientSite: String, created: String, schema: String, schemaVersion: Int, since: VersionVector,
        prerequisites: VersionVector, upTo: VersionVector, transactions: [TransactionRecord],
        keys: [String: SiteKeyRecord]? = nil, acknowledgement: Acknowledgement? = nil, acknowledges: String? = nil,
        held: [HeldTransaction]? = nil, sealingKey: String? = nil
    ) {
        self.format = "liaison-bundle"
        self.version = 1
        self.kind = kind
        self.id = id
        self.sender = sender
        self.senderSite = senderSite
        self.senderKey = senderKey
        self.recipient = recipient
        self.recipientSite = recipientSite
        self.created = created
        self.schema = schema
        self.schemaVersion = schemaVersion
        self.since = since
        self.prerequisites = prerequisites
        self.upTo = upTo
        self.transactions = transactions
        self.keys = keys
        self.acknowledgement = acknowledgement
        self.acknowledges = acknowledges
        self.held = held
        self.sealingKey = sealingKey
    }
}

/// How a sealed payload was encrypted: HPKE (RFC 9180) base mode,
/// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
public struct BundleSeal: Hashable, Sendable, Codable {
    /// `X25519-SHA256-ChaChaPoly`.
    public var suite: String
    /// The HPKE encapsulated key, base64.
    public var encapsulatedKey: String
    /// The recipient's X25519 public key it was sealed to, base64.
    public var recipientKey: String

    public init(suite: String, encapsulatedKey: String, recipientKey: String) {
        self.suite = suite
        self.encapsulatedKey = encapsulatedKey
        self.recipientKey = recipientKey
    }
}

/// The second line of a bundle file: who sent it to whom, and how to check and open the payload.
///
/// `signature` is the sender's Ed25519 signature, base64, over `liaison-bundle-v1\n{digest}`, where
/// `digest` is the lower-case hex SHA-256 of the plaintext body (the JSON `BundleBody` bytes). The
/// payload is that body, compressed when `compression` says so, then sealed when `seal` is present.
public struct BundleEnvelope: Hashable, Sendable, Codable {
    public var kind: BundleKind
    public var sender: String
    public var senderSite: String
    public var recipient: String?
    public var recipientSite: String
    /// The payload's length in bytes (what follows the envelope line).
    public var length: Int
    public var digest: String
    public var signature: String
    /// Present when the payload is sealed to the recipient.
    public var seal: BundleSeal?
    /// `deflate` when the body was compressed (a zlib stream) before it was sealed; absent when not.
    /// The digest and signature cover the body before compression.
    public var compression: String?

    public init(
        kind: BundleKind, sender: String, senderSite: String, recipient: String?, recipientSite: String, length: Int,
        digest: String, signature: String, seal: BundleSeal?, compression: String? = nil
    ) {
        self.kind = kind
        self.sender = sender
        self.senderSite = senderSite
        self.recipient = recipient
        self.recipientSite = recipientSite
        self.length = length
        self.digest = digest
        self.signature = signature
        self.seal = seal
        self.compression = compression
    }
}
