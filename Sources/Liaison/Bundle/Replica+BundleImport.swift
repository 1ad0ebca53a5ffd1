import Crypto
import Foundation

/// What importing (or verifying) a bundle did or would do.
public struct BundleImportReport: Sendable, Codable, Hashable {
    public var id: String
    public var kind: BundleKind
    /// The sender's site code and the peer it is registered as here.
    public var sender: String
    public var peer: String
    public var sealed: Bool
    /// Whole transactions the bundle carries.
    public var transactions: Int
    public var applied = 0
    public var skipped = 0
    public var held = 0
    /// Everything held here of what the sender sent (this bundle's and earlier), with reasons.
    public var heldHere: [HeldTransaction] = []
    /// What this replica lacks that the bundle builds on (`CODE#FROM-TO`): nothing was applied.
    public var missing: [String] = []
    /// When the same bundle was imported here before.
    public var importedBefore: String?
    /// Whether the sender's acknowledgement was newer than the one held, and kept.
    public var acknowledgementRecorded = false
    /// For an acknowledgement bundle: what the sender said it holds of this replica's traffic.
    public var heldThere: [HeldTransaction] = []
    /// Whether nothing was written (`bundle verify`).
    public var dryRun = false
}

extension Replica {
    /// The number of records applied per SQLite transaction on import, so local edits never wait
    /// long behind a large bundle.
    static let bundleChunk = 500

    /// Imports a bundle file. Transactions go through the same path as a push from the sender's
    /// peer (`apply(_:keys:writableScopes:from:)`: signatures, hash chains, its write grant here,
    /// quarantine), so importing twice changes nothing the second time. With `dryRun`, everything
    /// is checked and applied inside a transaction that is rolled back.
    public func importBundle(_ data: Data, dryRun: Bool = false) throws -> BundleImportReport {
        let opened = try openBundle(data)
        let body = opened.body
        let peer = opened.peer
        var report = BundleImportReport(
            id: body.id, kind: body.kind, sender: body.senderSite, peer: peer.name, sealed: opened.envelope.seal != nil,
            transactions: body.transactions.filter(\.isLastPiece).count, dryRun: dryRun)
        report.importedBefore = try withConnection { db in try AcknowledgementStore(db: db).importedAt(body.id) }
        report.missing = try missingPrerequisites(of: body)
        if body.kind == .changes, report.missing.isEmpty, !body.transactions.isEmpty {
            if dryRun {
                let result = try dryRunApply(body, from: peer)
                (report.applied, report.skipped, report.held) = (result.applied, result.skipped, result.held)
            } else {
                var start = 0
                while start < body.transactions.count {
                    let end = min(start + Self.bundleChunk, body.transactions.count)
                    var chunk = Array(body.transactions[start..<end])
                    // A signed run cut by the chunk: its tail carries the headers up to its signature.
                    SignedRuns.attachProofs(to: &chunk, from: body.transactions[end...], tables: tables)
                    let result = try apply(chunk, keys: body.keys, writableScopes: peer.writeScopes, from: peer.name)
                    report.applied += result.applied
                    report.skipped += result.skipped
                    report.held += result.held
                    start += Self.bundleChunk
                }
            }
        }
        report.heldHere = try held(from: peer.name)
        report.heldThere = body.held ?? []
        guard !dryRun else { return report }
        try recordBundleExtras(body, from: peer, report: &report)
        return report
    }

    /// Keeps what comes with a bundle: the sender's acknowledgement and sealing key, what it holds
    /// of this replica's traffic, and the bundle in the log (whatever was applied).
    private func recordBundleExtras(_ body: BundleBody, from peer: PeerRecord, report: inout BundleImportReport) throws
    {
        if let ack = body.acknowledgement {
            guard ack.site == body.sender else {
                throw BundleFile.refused("it carries an acknowledgement of another site")
            }
            report.acknowledgementRecorded = try recordAcknowledgement(ack, from: peer, via: "bundle")
            if report.acknowledgementRecorded {
                try recordRound(peer: peer.name, direction: .inbound, error: nil, peerVector: ack.vector, merging: true)
            }
        }
        if body.kind == .acknowledgement {
            try recordPeerHeld(peer: peer.name, body.held ?? [])
        }
        try withConnection { db in
            try transaction(db) {
                try AcknowledgementStore.prepare(db)
                let store = AcknowledgementStore(db: db)
                if let key = body.sealingKey, (try? BundleSealing.publicKey(key)) != nil {
                    try store.setSealingKey(key, of: peer.name, via: "bundle \(body.id)")
                }
                try store.log(
                    id: body.id, direction: "in", peer: peer.name, kind: body.kind,
                    transactions: report.transactions, applied: report.applied, held: report.held)
            }
        }
    }

    /// Applies the bundle as an import would, inside one SQLite transaction that is rolled back.
    private func dryRunApply(_ body: BundleBody, from peer: PeerRecord) throws -> ApplyResult {
        try withConnection { db in
            try publishIfNeeded(db)
            try db.run("BEGIN IMMEDIATE")
            defer { try? db.run("ROLLBACK") }
            let untrusted = try admitKeys(body.keys ?? [:], db, via: peer.name)
            let batch = try BatchApplication(
                replica: self, db: db, source: peer.name, writable: peer.writeScopes, presentedKeys: untrusted)
            var current: TransactionRecord?
            try batch.run(body.transactions, current: &current)
            return batch.result
        }
    }

    /// An acknowledgement bundle for `peerName`: this replica's signed vector, what it holds of the
    /// peer's traffic, and its sealing key, sealed to the peer when its key is known. It needs no
    /// answer, so it travels over a one-way path as well.
    public func makeAcknowledgementBundle(for peerName: String, answering id: String? = nil) throws -> (
        data: Data, summary: BundleSummary
    ) {
        let peer = try bundlePeer(named: peerName)
        let vector = try versionVector()
        let body = BundleBody(
            kind: .acknowledgement, id: UUID().uuidString, sender: siteID, senderSite: siteCode.rawValue,
            senderKey: try requireSigningKey().publicKey.rawRepresentation.base64EncodedString(),
            recipient: peer.siteID, recipientSite: peer.name, created: Date().formatted(.iso8601),
            schema: schema.name, schemaVersion: schema.version, since: vector, prerequisites: VersionVector(),
            upTo: vector, transactions: [], acknowledgement: try makeAcknowledgement(to: peer.siteID),
            acknowledges: id, held: try held(from: peer.name), sealingKey: try sealingKey())
        let (data, sealed) = try writeBundle(body, to: peer)
        return (
            data,
            BundleSummary(
                id: body.id, kind: .acknowledgement, peer: peer.name, transactions: 0, changes: 0, bytes: data.count,
                sealed: sealed, since: vector, sinceAcknowledged: false, upTo: vector)
        )
    }
}
