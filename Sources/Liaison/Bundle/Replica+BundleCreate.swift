import Crypto
import Foundation

/// What `makeBundle` wrote.
public struct BundleSummary: Sendable, Codable, Hashable {
    public var id: String
    public var kind: BundleKind
    public var peer: String
    /// Whole transactions and the changes they carry (withheld changes travel as digests only).
    public var transactions: Int
    public var changes: Int
    public var bytes: Int
    /// Whether the payload is sealed to the recipient's key.
    public var sealed: Bool
    /// What the recipient was assumed to hold, and whether that came from its acknowledgement.
    public var since: VersionVector
    public var sinceAcknowledged: Bool
    public var upTo: VersionVector
}

extension Replica {
    /// A signed bundle of the transactions `peerName` lacks: those above its last acknowledged
    /// vector (or `since`), read by the pull page builder under the peer's read grant, so the
    /// bundle carries exactly what a pull would (withheld changes as signed digests). Sealed to the
    /// peer's X25519 key when it is known (from its acknowledgement bundles or `setSealingKey`).
    public func makeBundle(for peerName: String, since: VersionVector? = nil) throws -> (
        data: Data, summary: BundleSummary
    ) {
        let peer = try bundlePeer(named: peerName)
        let acknowledged = try withConnection { db in try AcknowledgementStore(db: db).acknowledgement(of: peer.name) }
        let base = since ?? acknowledged?.vector ?? VersionVector()
        var transactions: [TransactionRecord] = []
        var keys: [String: SiteKeyRecord] = [:]
        var cursor = SyncCursor.start
        while true {
            let page = try changes(after: cursor, excluding: base, readable: peer.readScopes)
            transactions += page.transactions
            for (site, key) in page.keys ?? [:] { keys[site] = key }
            cursor = try SyncCursor(parsing: page.cursor)
            if !page.hasMore { break }
        }
        let body = BundleBody(
            kind: .changes, id: UUID().uuidString, sender: siteID, senderSite: siteCode.rawValue,
            senderKey: try requireSigningKey().publicKey.rawRepresentation.base64EncodedString(),
            recipient: peer.siteID, recipientSite: peer.name, created: Date().formatted(.iso8601),
            schema: schema.name, schemaVersion: schema.version, since: base,
            prerequisites: Self.prerequisites(of: transactions), upTo: try versionVector(), transactions: transactions,
            keys: keys.isEmpty ? nil : keys, acknowledgement: try makeAcknowledgement(to: peer.siteID),
            sealingKey: try sealingKey())
        let (data, sealed) = try writeBundle(body, to: peer)
        let whole = transactions.filter(\.isLastPiece).count
        try withConnection { db in
            try transaction(db) {
                try AcknowledgementStore.prepare(db)
                try AcknowledgementStore(db: db).log(
                    id: body.id, direction: "out", peer: peer.name, kind: .changes, transactions: whole)
            }
        }
        return (
            data,
            BundleSummary(
                id: body.id, kind: .changes, peer: peer.name, transactions: whole,
                changes: transactions.reduce(0) { $0 + $1.changes.count }, bytes: data.count, sealed: sealed,
                since: base, sinceAcknowledged: since == nil && acknowledged != nil, upTo: body.upTo)
        )
    }

    /// Signs `body`, seals it when the recipient's sealing key is known, and lays out the file.
    func writeBundle(_ body: BundleBody, to peer: PeerRecord) throws -> (Data, sealed: Bool) {
        let key = try withConnection { db in try AcknowledgementStore(db: db).sealingKey(of: peer.name) }
        let data = try assembleBundle(
            try Self.encodeBundleBody(body), kind: body.kind, sender: siteID, senderSite: siteCode.rawValue,
            recipient: peer.siteID, recipientSite: peer.name, sealTo: key)
        return (data, key != nil)
    }

    /// The body's bytes as a bundle carries them (sorted keys).
    package static func encodeBundleBody(_ body: BundleBody) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(body)
    }

    /// A bundle file of `plaintext` signed with this replica's key under whatever envelope the
    /// caller names (tests use it to play a forger), compressed, and sealed to `key` when given.
    package func assembleBundle(
        _ plaintext: Data, kind: BundleKind, sender: String, senderSite: String, recipient: String?,
        recipientSite: String, sealTo key: String?
    ) throws -> Data {
        let digest = SiteKey.sha256Hex(plaintext)
        let signature = try TransactionDigest.sign(
            BundleFile.signedBytes(digest: digest), with: try requireSigningKey())
        // Compressed before sealing: a ciphertext does not compress.
        var payload = try BundleCompression.compress(plaintext)
        var seal: BundleSeal?
        if let key { (seal, payload) = try BundleSealing.seal(payload, to: key) }
        let envelope = BundleEnvelope(
            kind: kind, sender: sender, senderSite: senderSite, recipient: recipient, recipientSite: recipientSite,
            length: payload.count, digest: digest, signature: signature, seal: seal,
            compression: BundleCompression.method)
        return try BundleFile.encode(envelope, payload: payload)
    }

    /// The registered peer a bundle is for, or an error saying how to register it.
    func bundlePeer(named name: String) throws -> PeerRecord {
        guard let peer = try peers().first(where: { $0.name == name }) else {
            throw LiaisonError(
                .invalidInput,
                "no peer '\(name)': register it first with 'liaison peer add' (a peer reached only by bundles "
                    + "needs a URL all the same, e.g. http://air-gapped.invalid) and 'liaison grant'")
        }
        return peer
    }

    /// What a receiver must have applied before `transactions` apply: for each origin with
    /// transactions here, everything before the first of them; for every site a context names
    /// beyond what the list brings, that much.
    static func prerequisites(of transactions: [TransactionRecord]) -> VersionVector {
        var first: [String: Int64] = [:]
        var last: [String: Int64] = [:]
        for record in transactions {
            first[record.origin] = min(first[record.origin] ?? record.seq, record.seq)
            last[record.origin] = max(last[record.origin] ?? record.seq, record.seq)
        }
        var needed = VersionVector()
        for (origin, seq) in first { needed[origin] = seq - 1 }
        for record in transactions {
            for (site, seq) in record.context.entries where site != record.origin && seq > needed[site] {
                if let brought = last[site], let from = first[site], seq >= from, seq <= brought { continue }
                needed[site] = seq
            }
        }
        return VersionVector(needed.entries.filter { $0.value > 0 })
    }

    /// Records the X25519 key (base64) to seal bundles for `peer` to, read from the peer's
    /// `liaison bundle key` out of band.
    public func setSealingKey(_ key: String, of peerName: String) throws {
        _ = try BundleSealing.publicKey(key)
        let peer = try bundlePeer(named: peerName)
        try withConnection { db in
            try transaction(db) {
                try AcknowledgementStore.prepare(db)
                try AcknowledgementStore(db: db).setSealingKey(key, of: peer.name, via: "operator")
            }
        }
    }
}

extension Replica {
    /// A version vector written `CODE=SEQ,CODE=SEQ` with the site codes known here (`none` for
    /// the empty vector), as `bundle create --since` takes it.
    public func versionVector(parsing text: String) throws -> VersionVector {
        var vector = VersionVector()
        guard text != "none" else { return vector }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", omittingEmptySubsequences: false)
            guard pair.count == 2, let code = SiteCode(String(pair[0])), let seq = Int64(pair[1]), seq >= 0 else {
                throw LiaisonError(
                    .invalidInput,
                    "invalid vector '\(text.prefix(80))': expected CODE=SEQ,CODE=SEQ (e.g. NL-NCTV=12) or none")
            }
            guard
                let id = try withConnection({ db in
                    try db.first("SELECT site_id FROM _liaison_site WHERE code = ?", [.text(code.rawValue)]) {
                        $0.text(0)
                    }
                })
            else {
                throw LiaisonError(.invalidInput, "no site \(code) is known here; 'liaison status' lists the sites")
            }
            vector[id] = seq
        }
        return vector
    }

    /// A version vector as `CODE=SEQ,...` with the site codes known here (the form `--since` takes).
    public func describe(_ vector: VersionVector) throws -> String {
        let codes = try withConnection { db in
            Dictionary(
                try db.query("SELECT site_id, code FROM _liaison_site", [], { ($0.text(0), $0.text(1)) }),
                uniquingKeysWith: { first, _ in first })
        }
        let parts = vector.entries.filter { $0.value > 0 }.map { (codes[$0.key] ?? $0.key, $0.value) }
        return parts.isEmpty ? "none" : parts.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
    }
}
