import Crypto
import Foundation

/// A bundle whose envelope, seal, signature and body have been checked against this replica.
public struct OpenedBundle: Sendable {
    public var envelope: BundleEnvelope
    public var body: BundleBody
    /// The registered peer that sent it.
    public var peer: PeerRecord
}

extension Replica {
    /// Opens a bundle file as hostile input: the envelope must name this replica, the sender's
    /// key must be trusted here and its signature must cover the exact body, a sealed payload must
    /// open with this replica's key, and the body must agree with the envelope and this replica's
    /// schema. Anything else refuses the whole file (`.invalidInput`, `.untrustedKey`).
    public func openBundle(_ data: Data) throws -> OpenedBundle {
        let (envelope, payload) = try BundleFile.decode(data)
        if let recipient = envelope.recipient, recipient != siteID {
            throw BundleFile.refused(
                "it is meant for site \(recipient) (\(envelope.recipientSite)), not this replica (\(siteID))")
        }
        if envelope.recipient == nil, envelope.recipientSite != siteCode.rawValue {
            throw BundleFile.refused("it is meant for \(envelope.recipientSite), not \(siteCode)")
        }
        guard envelope.sender != siteID else { throw BundleFile.refused("it was made by this replica") }
        let (trusted, boundCode) = try withConnection { db in
            (
                try TrustStore(db: db).trustedKey(of: envelope.sender),
                try db.first("SELECT code FROM _liaison_site WHERE site_id = ?", [.text(envelope.sender)]) {
                    $0.text(0)
                }
            )
        }
        guard let trusted, let key = try? SiteKey.publicKey(trusted) else {
            throw LiaisonError(
                .untrustedKey,
                "the bundle is signed by \(envelope.senderSite) (site \(envelope.sender)), whose key is not trusted here: "
                    + "compare fingerprints with its operator and run 'liaison trust'; nothing was imported")
        }
        guard boundCode == envelope.senderSite else {
            throw BundleFile.refused(
                "it claims the code \(envelope.senderSite) for site \(envelope.sender), which is \(boundCode ?? "unknown") here"
            )
        }
        let opened =
            try envelope.seal.map { try BundleSealing.open(payload, seal: $0, with: sealingPrivateKey()) } ?? payload
        let plaintext =
            envelope.compression == nil
            ? opened : try BundleCompression.decompress(opened, limit: BundleFile.maxBytes)
        guard SiteKey.sha256Hex(plaintext) == envelope.digest else {
            throw BundleFile.refused("its content does not match its digest (altered after it was signed)")
        }
        guard
            TransactionDigest.isValid(
                signature: envelope.signature, header: BundleFile.signedBytes(digest: envelope.digest), key: key)
        else {
            throw BundleFile.refused("it is not signed by \(envelope.senderSite)'s trusted key (forged or altered)")
        }
        let body: BundleBody
        do {
            body = try JSONDecoder().decode(BundleBody.self, from: plaintext)
        } catch {
            throw BundleFile.refused("its signed body is not a bundle body this liaison reads")
        }
        guard body.format == "liaison-bundle", body.version == 1, body.kind == envelope.kind,
            body.sender == envelope.sender, body.senderSite == envelope.senderSite,
            body.recipient == envelope.recipient, body.recipientSite == envelope.recipientSite,
            UUID(uuidString: body.id) != nil
        else { throw BundleFile.refused("its signed body disagrees with its envelope") }
        guard body.schema == schema.name, body.schemaVersion == schema.version else {
            throw LiaisonError(
                .schemaMismatch,
                "the bundle carries schema \(body.schema.prefix(40)) v\(body.schemaVersion); this replica has "
                    + "\(schema.name) v\(schema.version); nothing was imported")
        }
        let peers = try self.peers()
        guard
            let peer = peers.first(where: { $0.siteID == envelope.sender })
                ?? peers.first(where: { $0.siteID == nil && $0.name == envelope.senderSite })
        else {
            throw LiaisonError(
                .invalidInput,
                "\(envelope.senderSite) is not a registered peer here: add it with 'liaison peer add' and grant "
                    + "what it may write with 'liaison grant'; nothing was imported")
        }
        return OpenedBundle(envelope: envelope, body: body, peer: peer)
    }

    /// Transactions of the bundle this replica cannot apply yet, as `CODE#FROM-TO` ranges of what
    /// it lacks (empty when every prerequisite is here). Computed from the transactions themselves,
    /// never from what the bundle declares.
    func missingPrerequisites(of body: BundleBody) throws -> [String] {
        let needed = Self.prerequisites(of: body.transactions)
        let vector = try versionVector()
        let codes = Dictionary(
            body.transactions.map { ($0.origin, $0.site) } + (body.keys ?? [:]).map { ($0.key, $0.value.site) },
            uniquingKeysWith: { first, _ in first })
        return needed.entries.sorted { $0.key < $1.key }.compactMap { site, seq in
            guard seq > vector[site] else { return nil }
            let name =
                codes[site].flatMap(SiteCode.init)?.rawValue
                ?? (TrustStore.isValidSiteID(site) ? site : "an invalid site id")
            return vector[site] + 1 == seq ? "\(name)#\(seq)" : "\(name)#\(vector[site] + 1)-\(seq)"
        }
    }
}
