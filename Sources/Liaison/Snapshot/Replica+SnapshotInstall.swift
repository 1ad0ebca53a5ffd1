import Foundation

/// What installing a snapshot did.
public struct SnapshotInstallReport: Sendable, Codable, Hashable {
    /// Transactions applied from the snapshot's log.
    public var transactions: Int
    /// Runs of origins' chains the source had removed, taken on its signed word.
    public var gaps: Int
    /// Current rows, each found equal to what the signed log gives.
    public var rows: Int
}

/// The record of the snapshot a replica was cloned from: what its source signed of the removed
/// runs, so `verify` can prove every gap in the log was the source's deliberate act.
enum SnapshotRecord {
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_snapshot(
            id INTEGER PRIMARY KEY, format TEXT NOT NULL, signer TEXT NOT NULL, at TEXT NOT NULL,
            gaps TEXT NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL);
        """

    /// Problems with the gaps a snapshot brought (`checkpoint` 0): each must be one the recorded
    /// snapshot's signer signed, under the key this replica trusts for it.
    static func problems(_ db: Connection) throws -> [String] {
        guard try ChainBase.hasTable(db) else { return [] }
        let sites = try SiteDirectory(db: db)
        let taken = try ChainBase.all(db).values.joined().filter { $0.checkpoint == 0 }
        guard !taken.isEmpty else { return [] }
        guard try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_snapshot'") { _ in true } ?? false,
            let (format, signer, at, gaps, body, signature) = try db.first(
                "SELECT format, signer, at, gaps, body, signature FROM _liaison_snapshot ORDER BY id DESC LIMIT 1", [],
                { ($0.text(0), $0.text(1), $0.text(2), $0.text(3), $0.text(4), $0.text(5)) })
        else {
            return [
                "\(taken.count) runs of the log are missing and no snapshot this replica was cloned from names them"
            ]
        }
        var problems: [String] = []
        let bytes = SnapshotEnvelope.signedBytes(format: format, signer: signer, at: at, gaps: gaps, body: body)
        let key = try TrustStore(db: db).trustedKey(of: signer).flatMap { try? SiteKey.publicKey($0) }
        if key.map({ !TransactionDigest.isValid(signature: signature, header: bytes, key: $0) }) ?? true {
            problems.append(
                "the snapshot of \(at) this replica was cloned from is not signed by its source's trusted key")
        }
        let held = SnapshotEnvelope.gapsText(
            taken.map {
                SnapshotGap(
                    origin: sites.site($0.site).id, site: sites.site($0.site).code, first: $0.first,
                    through: $0.through,
                    head: $0.head)
            })
        if held != gaps {
            problems.append(
                "the log lacks runs other than those the snapshot of \(at) it was cloned from signed (history was cut after it)"
            )
        }
        return problems
    }
}

extension Replica {
    /// Starts this replica, which holds no transaction yet, from `envelope`, a snapshot of peer
    /// `peerName`: checks its signature under the key trusted for that peer, records the runs it
    /// removed, applies its log through the ordinary checks (signatures, hash chains from each
    /// run's head, the peer's write grant), then checks every current row it carries against what
    /// the signed log gives. Anything wrong refuses the whole snapshot and installs nothing.
    public func installSnapshot(_ envelope: SnapshotEnvelope, from peerName: String) throws -> SnapshotInstallReport {
        let peer = try bundlePeer(named: peerName)
        func refuse(_ why: String) -> LiaisonError {
            LiaisonError(
                .invalidTransaction,
                "the snapshot from \(peer.name) was refused: \(why); nothing was installed. Clone from another peer, "
                    + "or sync with one that kept the whole history")
        }
        guard envelope.format == "liaison-snapshot-v1" else { throw refuse("unknown format") }
        guard let source = peer.siteID, source == envelope.signer else {
            throw refuse("it is signed as another site than the peer")
        }
        return try withConnection { db in
            try transaction(db) {
                guard try db.first("SELECT count(*) FROM _liaison_tx") { $0.int(0) } == 0 else {
                    throw LiaisonError(
                        .invalidInput, "this replica holds transactions already: a snapshot starts only a new replica")
                }
                guard let key = try TrustStore(db: db).trustedKey(of: source).flatMap({ try? SiteKey.publicKey($0) }),
                    TransactionDigest.isValid(signature: envelope.signature, header: envelope.signedBytes, key: key)
                else { throw refuse("it is not signed by \(peer.name)'s trusted key") }
                let body: SnapshotBody
                do {
                    body = try WireJSON.decode(SnapshotBody.self, from: Data(envelope.body.utf8))
                } catch { throw refuse("its body is not readable") }
                _ = try publishValid(db)
                try db.execute(CompactionCheckpoint.createSQL)
                try db.execute(ChainBase.createSQL)
                try db.execute(SnapshotRecord.createSQL)
                let untrusted = try admitKeys(body.keys ?? [:], db, via: peer.name)
                let sites = try SiteDirectory(db: db)
                for gap in envelope.gaps {
                    guard TrustStore.isValidSiteID(gap.origin), gap.origin != siteID, SiteCode(gap.site) != nil,
                        gap.first >= 1, gap.through >= gap.first, gap.head.count == 64
                    else { throw refuse("a removed run is malformed") }
                    let index = try sites.index(of: gap.origin, code: gap.site)
                    try db.run(
                        "INSERT INTO _liaison_chain_gap(sidx, first, through, head, checkpoint) VALUES (?, ?, ?, ?, 0)",
                        [.integer(index), .integer(gap.first), .integer(gap.through), .text(gap.head)])
                }
                try db.run(
                    "INSERT INTO _liaison_snapshot(format, signer, at, gaps, body, signature) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .text(envelope.format), .text(envelope.signer), .text(envelope.at),
                        .text(SnapshotEnvelope.gapsText(envelope.gaps)),
                        .text(SiteKey.sha256Hex(Data(envelope.body.utf8))),
                        .text(envelope.signature),
                    ])
                let batch = try BatchApplication(
                    replica: self, db: db, source: peer.name, writable: peer.writeScopes, presentedKeys: untrusted)
                defer { batch.applier.verified.cancel() }
                var current: TransactionRecord?
                let records = ChainLinks.restore(body.transactions, tables: tables)
                // A run the source removed counts as applied once the log reaches it; writes that
                // had not seen it were admitted by the source, which vouches for them.
                batch.admitsBehindCheckpoint = true
                do {
                    try db.withCaptureOff { try batch.run(records, current: &current) }
                } catch let error as LiaisonError {
                    throw refuse(error.message)
                }
                try Self.stepOverGaps(db)
                try DigestStore.markWritten(body.transactions, db)
                if batch.result.held > 0 {
                    let codes = Set(try QuarantineStore(db: db).held(from: peer.name).map(\.error)).sorted()
                    throw refuse(
                        "\(batch.result.held) of its transactions would be held here (\(codes.joined(separator: ", "))): "
                            + "trust the keys of the agencies it relays ('liaison trust', or clone with --introducer) "
                            + "and give the peer the write grant of its data")
                }
                let unfinished =
                    try db.first(
                        "SELECT count(*) FROM _liaison_chain_gap g JOIN _liaison_site s ON s.sidx = g.sidx WHERE s.seq < g.through"
                    ) { $0.int(0) } ?? 0
                if unfinished > 0 { throw refuse("its log does not reach past every run it says it removed") }
                // Every current row it carries is exactly what the signed log gives here, and no more.
                var claimed: Set<String> = []
                for row in body.rows { claimed.insert("\(row.table)\n\(CanonicalJSON.object(row.values))") }
                var derived: Set<String> = []
                for table in tables.keys.sorted() where table != SchemaLog.table {
                    guard let info = tables[table], info.isKnown else { continue }
                    for row in try db.query(
                        info.selectAllSQL, [],
                        { statement in
                            var row: [String: CellValue] = [:]
                            for (index, column) in info.columns.enumerated() {
                                row[column.name] = statement.value(Int32(index))
                            }
                            return row
                        })
                    {
                        derived.insert("\(table)\n\(CanonicalJSON.object(row))")
                    }
                }
                let differing = claimed.symmetricDifference(derived).count
                if differing > 0 {
                    throw refuse(
                        "\(differing) rows differ between what it carries and what its signed log gives (the source "
                            + "altered them)")
                }
                return SnapshotInstallReport(
                    transactions: body.transactions.count, gaps: envelope.gaps.count, rows: body.rows.count)
            }
        }
    }

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
