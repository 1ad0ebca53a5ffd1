import Crypto
import Foundation

/// Starts a replica that holds no transaction yet from a paged snapshot of peer `peerName`
/// (docs/PROTOCOL.md, "Snapshots"), in one SQLite transaction kept open from the manifest to the
/// last page, so nothing of it is visible, to this process or any other, before the whole was
/// verified, and a refusal or an abandoned clone leaves the replica as it was.
///
/// The manifest's signature is checked under the key trusted for the peer, and its removed runs
/// recorded. Each page is checked where it lands: signed by the same key, naming this snapshot, the
/// same removed runs and the cursor the previous page ended at (so pages of two snapshots, or out
/// of order, are refused), and its transactions go through the ordinary checks (signatures, hash
/// chains from each run's head, the peer's write grant). Only one page is in memory at a time.
/// `finish` then requires that the log reached past every removed run, that nothing was held, and
/// that the rows the signed log gives here digest to what the last page signed; it commits only then.
public final class SnapshotInstallation: @unchecked Sendable {
    let replica: Replica
    /// The manifest every page is checked against.
    public let manifest: SnapshotManifest
    let peer: PeerRecord
    let key: Curve25519.Signing.PublicKey
    /// What to ask for next.
    public private(set) var next: SnapshotPageRequest
    /// Whether the last page arrived (then `finish`).
    public private(set) var isComplete = false
    /// Pages and transactions received so far.
    public private(set) var pages = 0
    public private(set) var transactions = 0
    private var signedRows: SnapshotRowsDigest?
    private var isOpen = false
    /// The transaction being handled, across pages (a large one travels in pieces).
    private var current: TransactionRecord?

    /// Checks `manifest` and opens the installation.
    ///
    /// - Throws: `.invalidTransaction` when the manifest is refused, `.invalidInput` when the replica
    ///   holds transactions already.
    public init(replica: Replica, manifest: SnapshotManifest, from peerName: String) throws {
        self.replica = replica
        self.manifest = manifest
        let peer = try replica.bundlePeer(named: peerName)
        self.peer = peer
        self.next = SnapshotPageRequest(snapshot: manifest.id, gaps: manifest.gapsDigest, after: "0", steps: true)
        let refuse = Self.refusal(peer.name)
        guard manifest.format == SnapshotManifest.currentFormat else { throw refuse("unknown format") }
        guard let source = peer.siteID, source == manifest.signer else {
            throw refuse("it is signed as another site than the peer")
        }
        let own = replica.siteID
        self.key = try replica.withConnection { db in
            guard let key = try TrustStore(db: db).trustedKey(of: source).flatMap({ try? SiteKey.publicKey($0) }),
                TransactionDigest.isValid(signature: manifest.signature, header: manifest.signedBytes, key: key)
            else { throw refuse("it is not signed by \(peer.name)'s trusted key") }
            try db.run("BEGIN IMMEDIATE")
            do {
                try replica.refreshSchemaIfChanged(db)
                guard try db.first("SELECT count(*) FROM _liaison_tx") { $0.int(0) } == 0 else {
                    throw LiaisonError(
                        .invalidInput, "this replica holds transactions already: a snapshot starts only a new replica")
                }
                _ = try replica.publishValid(db)
                try db.execute(CompactionCheckpoint.createSQL)
                try db.execute(ChainBase.createSQL)
                let sites = try SiteDirectory(db: db)
                for gap in manifest.gaps {
                    guard TrustStore.isValidSiteID(gap.origin), gap.origin != own, SiteCode(gap.site) != nil,
                        gap.first >= 1, gap.through >= gap.first, gap.head.count == 64
                    else { throw refuse("a removed run is malformed") }
                    let index = try sites.index(of: gap.origin, code: gap.site)
                    try db.run(
                        "INSERT INTO _liaison_chain_gap(sidx, first, through, head, checkpoint) VALUES (?, ?, ?, ?, 0)",
                        [.integer(index), .integer(gap.first), .integer(gap.through), .text(gap.head)])
                }
                try SnapshotRecord.record(manifest, db)
                return key
            } catch {
                try? db.run("ROLLBACK")
                throw error
            }
        }
        isOpen = true
    }

    deinit { cancel() }

    /// Applies one page, checked first; refuses the whole snapshot (rolled back) on any fault.
    public func apply(_ page: SnapshotPage) throws {
        let refuse = Self.refusal(peer.name)
        guard isOpen, !isComplete else {
            throw LiaisonError(.invalidInput, "this snapshot installation is finished or was abandoned")
        }
        do {
            guard page.snapshot == manifest.id else { throw refuse("a page belongs to another snapshot") }
            guard page.gaps == manifest.gapsDigest else {
                throw refuse("a page names other removed runs than the snapshot's manifest")
            }
            guard page.after == next.after else {
                throw refuse("a page does not follow the one before it (it starts at \(page.after.prefix(40)))")
            }
            guard TransactionDigest.isValid(signature: page.signature, header: page.signedBytes, key: key) else {
                throw refuse("a page is not signed by \(peer.name)'s trusted key")
            }
            guard page.hasMore || page.rows != nil else { throw refuse("its last page signs no digest of its rows") }
            if SnapshotRemovedSteps.isCursor(page.cursor) {
                // Removed steps come before the log, and a steps page carries nothing else.
                guard page.hasMore, SnapshotRemovedSteps.isCursor(page.after) || page.after == "0" else {
                    throw refuse("a page of removed steps comes after its log")
                }
                _ = try SnapshotRemovedSteps.parseCursor(page.cursor)
            } else {
                _ = try SyncCursor(parsing: page.cursor)
            }
            let body: SnapshotPageBody
            do {
                body = try WireJSON.decode(SnapshotPageBody.self, from: Data(page.body.utf8))
            } catch { throw refuse("a page's body is not readable") }
            try replica.withConnection { db in try applyPage(body, db) }
            pages += 1
            transactions += body.transactions.count
            next.after = page.cursor
            if !page.hasMore {
                signedRows = page.rows
                isComplete = true
            }
        } catch {
            cancel()
            throw error
        }
    }

    private func applyPage(_ body: SnapshotPageBody, _ db: Connection) throws {
        let refuse = Self.refusal(peer.name)
        // Removed steps land first: the walks that judge this page's transactions read them.
        try SnapshotRemovedSteps.land(body.removed ?? [], gaps: manifest.gaps, db, refuse: refuse)
        let untrusted = try replica.admitKeys(body.keys ?? [:], db, via: peer.name)
        let forms = BatchForms(body.transactions, tables: replica.tables)
        let records = ChainLinks.restore(body.transactions, tables: replica.tables, forms: forms) { origin, seq in
            try db.first(
                "SELECT t.digest FROM _liaison_tx t JOIN _liaison_site s ON s.sidx = t.sidx WHERE s.site_id = ? AND t.seq = ?",
                [.text(origin), .integer(seq)]
            ) { $0.text(0) }
        }
        let batch = try BatchApplication(
            replica: replica, db: db, source: peer.name, writable: peer.writeScopes, presentedKeys: untrusted)
        defer { batch.applier.verified.cancel() }
        // A run the source removed counts as applied once the log reaches it; writes that had not
        // seen it were admitted by the source, which vouches for them.
        batch.admitsBehindCheckpoint = true
        do {
            try db.withCaptureOff { try batch.run(records, current: &current, forms: forms) }
        } catch let error as LiaisonError {
            throw refuse(error.message)
        }
        try Replica.stepOverGaps(db)
        try DigestStore.markWritten(records, db)
    }

    /// Verifies the whole snapshot and commits it; refuses it (rolled back) otherwise.
    public func finish() throws -> SnapshotInstallReport {
        let refuse = Self.refusal(peer.name)
        guard isOpen, isComplete, let signedRows else {
            throw LiaisonError(.invalidInput, "the snapshot's last page has not arrived; nothing was installed")
        }
        do {
            return try replica.withConnection { db in
                try Replica.stepOverGaps(db)
                let held = try QuarantineStore(db: db).held(from: peer.name)
                if !held.isEmpty {
                    let codes = Set(held.map(\.error)).sorted()
                    throw refuse(
                        "\(held.count) of its transactions would be held here (\(codes.joined(separator: ", "))): "
                            + "trust the keys of the agencies it relays ('liaison trust', or clone with --introducer) "
                            + "and give the peer the write grant of its data")
                }
                let unfinished =
                    try db.first(
                        "SELECT count(*) FROM _liaison_chain_gap g JOIN _liaison_site s ON s.sidx = g.sidx WHERE s.seq < g.through"
                    ) { $0.int(0) } ?? 0
                if unfinished > 0 { throw refuse("its log does not reach past every run it says it removed") }
                // Every removed step within what its origin's signed transactions allow.
                try SnapshotRemovedSteps.verify(db, tables: replica.tables, refuse: refuse)
                try RemovedStepForm.convert(db)
                // The rows the signed log gives here are exactly those it signed, and no more.
                let derived = try SnapshotRows.digest(db, tables: replica.tables, readable: nil)
                if derived != signedRows {
                    throw refuse(
                        "the rows its signed log gives here (\(derived.count)) differ from the rows it signed "
                            + "(\(signedRows.count)): the source altered them")
                }
                try db.run("COMMIT")
                isOpen = false
                return SnapshotInstallReport(
                    transactions: transactions, gaps: manifest.gaps.count, rows: derived.count, pages: pages)
            }
        } catch {
            cancel()
            throw error
        }
    }

    /// Abandons the installation: nothing of it stays.
    public func cancel() {
        guard isOpen else { return }
        isOpen = false
        try? replica.withConnection { db in try? db.run("ROLLBACK") }
    }

    static func refusal(_ peer: String) -> (String) -> LiaisonError {
        { why in
            LiaisonError(
                .invalidTransaction,
                "the snapshot from \(peer) was refused: \(why); nothing was installed. Clone from another peer, "
                    + "or sync with one that kept the whole history")
        }
    }
}

extension Replica {
    /// Moves each origin's applied seq past a removed run that starts right after it.
    static func stepOverGaps(_ db: Connection) throws {
        var moved = true
        while moved {
            moved = false
            for gap in try ChainBase.all(db).values.joined() {
                let applied = try db.first("SELECT seq FROM _liaison_site WHERE sidx = ?", [.integer(gap.site)]) {
                    $0.int64(0)
                }
                guard applied == gap.first - 1 else { continue }
                try db.run(
                    "UPDATE _liaison_site SET seq = ? WHERE sidx = ?", [.integer(gap.through), .integer(gap.site)])
                moved = true
            }
        }
    }
}
