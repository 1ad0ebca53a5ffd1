import Foundation

/// What `compact()` did.
public struct CompactionResult: Sendable, Codable, Hashable {
    /// Values dropped, and their bytes in the log.
    public var changes: Int
    public var bytes: Int
    /// The database file before and after (after `VACUUM`).
    public var fileBytesBefore: Int
    public var fileBytesAfter: Int
    /// The signed checkpoint recording it (`nil` when there was nothing to drop).
    public var checkpoint: Int64?
    /// Transactions removed whole (headers and change rows), with `removingTransactions`.
    public var transactions: Int = 0
    /// Counted peers whose acknowledgement names transactions this replica lacks: no transaction is
    /// removed until it holds them (their earlier writes may not have seen it).
    public var heldBackBy: [String] = []
}

extension Replica {
    /// What compaction could drop now, and which peer holds the rest back.
    public func compactionPlan() throws -> CompactionPlan {
        let acks = try acknowledgements()
        let stale = try stalePeers()
        let floor = try compactionFloor()
        let now = try compactionCandidates(floor)
        var holds: [CompactionPlan.PeerHold] = []
        for peer in try peers() {
            let ack = acks[peer.name]
            var hold = CompactionPlan.PeerHold(
                peer: peer.name, acknowledgedAt: ack?.at, acknowledged: try ack.map { try describe($0.vector) },
                staleSince: stale[peer.name], holdsBack: 0)
            if stale[peer.name] == nil {
                hold.holdsBack = try compactionCandidates(try compactionFloor(excluding: peer.name)).count - now.count
            }
            holds.append(hold)
        }
        var plan = CompactionPlan(
            floor: try describe(floor), changes: now.count, bytes: now.reduce(0) { $0 + $1.bytes }, peers: holds)
        plan.transactionsHeldBackBy = try peersAheadOfThisReplica()
        if plan.transactionsHeldBackBy.isEmpty {
            let tables = self.tables
            plan.transactions = try withConnection { db in
                try transactionOfReads(db) {
                    let sites = try SiteDirectory(db: db)
                    let floor = try indexed(floor, sites)
                    let list = try CompactionCandidates(db: db).list(floor: floor, excludingTables: ownerWinsTables)
                    let dropping = Set(list.map { RemovableRuns.Position(site: $0.site, seq: $0.seq, n: $0.n) })
                    return try RemovableRuns(db: db, tables: tables).runs(floor: floor, dropping: dropping).values
                        .joined().reduce(0) { $0 + $1.count }
                }
            }
        }
        return plan
    }

    /// Drops the values of every change `compactionPlan()` names, records a signed checkpoint of
    /// them in the same SQLite transaction, then vacuums the file. `verify` still proves every
    /// signature and hash chain (the change digests stay) and checks the checkpoint.
    ///
    /// With `removingTransactions`, every wholly superseded, acknowledged transaction (`RemovableRuns`)
    /// also goes, header and change rows, in runs: the checkpoint signs the chain head where each
    /// run ends (`ChainBase`), and the origin's next transaction links to it. Nothing goes while
    /// a counted peer acknowledged transactions this replica lacks (`heldBackBy`).
    public func compact(removingTransactions: Bool = false) throws -> CompactionResult {
        let floor = try compactionFloor()
        let before = Self.fileSize(path)
        let beforeWithLog = before + Self.fileSize(path + "-wal")
        let acks = try acknowledgements()
        let key = try requireSigningKey()
        let ahead = removingTransactions ? try peersAheadOfThisReplica() : []
        let tables = self.tables
        let done: (changes: Int, bytes: Int, transactions: Int, id: Int64?) = try withConnection { db in
            try publishIfNeeded(db)
            return try transaction(db) {
                try db.execute(CompactionCheckpoint.createSQL)
                try db.execute(ChainBase.createSQL)
                let sites = try SiteDirectory(db: db)
                let indexedFloor = try indexed(floor, sites)
                let list = try CompactionCandidates(db: db).list(floor: indexedFloor, excludingTables: ownerWinsTables)
                let dropping = Set(list.map { RemovableRuns.Position(site: $0.site, seq: $0.seq, n: $0.n) })
                let newBases =
                    removingTransactions && ahead.isEmpty
                    ? try RemovableRuns(db: db, tables: tables).runs(floor: indexedFloor, dropping: dropping) : [:]
                guard !list.isEmpty || !newBases.isEmpty else { return (0, 0, 0, nil) }
                func removed(_ site: Int64, _ seq: Int64) -> Bool {
                    newBases[site]?.contains { $0.contains(seq) } ?? false
                }
                func digest(_ site: Int64, _ seq: Int64, _ n: Int64) throws -> String {
                    try db.first(
                        "SELECT digest FROM _liaison_change WHERE sidx = ? AND seq = ? AND n = ?",
                        [.integer(site), .integer(seq), .integer(n)]
                    ) { $0.text(0) } ?? ""
                }
                // The values marked dropped once this pass is done: this pass's, and when transactions
                // goes, every earlier checkpoint's still above it (folded into this checkpoint).
                var marked: [(id: String, seq: Int64, n: Int64, digest: String)] = []
                for change in list where !removed(change.site, change.seq) {
                    marked.append(
                        (
                            sites.site(change.site).id, change.seq, change.n,
                            try digest(change.site, change.seq, change.n)
                        ))
                }
                if !newBases.isEmpty {
                    for (site, seq, n, text) in try db.query(
                        """
                        SELECT k.sidx, k.seq, k.n, coalesce(c.digest, '') FROM _liaison_compacted k
                        LEFT JOIN _liaison_change c ON c.sidx = k.sidx AND c.seq = k.seq AND c.n = k.n
                        """, [], { ($0.int64(0), $0.int64(1), $0.int64(2), $0.text(3)) })
                    where !removed(site, seq) {
                        marked.append((sites.site(site).id, seq, n, text))
                    }
                }
                var bases: [(site: String, first: Int64, through: Int64, head: String)] = []
                var gaps: [(site: Int64, run: ClosedRange<Int64>)] = []
                for (site, runs) in newBases.sorted(by: { $0.key < $1.key }) {
                    for run in runs {
                        guard let head = try ChainBase.digest(db, site: site, seq: run.upperBound) else {
                            throw LiaisonError(
                                .storage,
                                "the change log lacks \(sites.site(site).code)#\(run.upperBound) it would remove")
                        }
                        bases.append((sites.site(site).id, run.lowerBound, run.upperBound, head))
                        gaps.append((site, run))
                    }
                }
                let checkpoint = CompactionCheckpoint(
                    site: siteID, at: Self.acknowledgementTime(), floor: floor, changes: marked.count,
                    digest: CompactionCheckpoint.digest(of: marked),
                    heads: try CompactionCheckpoint.heads(db, floor: floor),
                    bases: bases)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let bytes = list.reduce(0) { $0 + $1.bytes }
                try db.run(
                    "INSERT INTO _liaison_checkpoint(at, floor, changes, bytes, digest, acks, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(checkpoint.at), .text(String(decoding: try encoder.encode(floor), as: UTF8.self)),
                        .integer(Int64(marked.count)), .integer(Int64(bytes)), .text(checkpoint.digest),
                        .text(String(decoding: try encoder.encode(acks), as: UTF8.self)),
                        .text(try TransactionDigest.sign(checkpoint.signedBytes, with: key)),
                    ])
                let id = try db.first("SELECT max(id) FROM _liaison_checkpoint") { $0.int64(0) } ?? 0
                for head in checkpoint.heads {
                    try db.run(
                        "INSERT INTO _liaison_checkpoint_head(checkpoint, site, through, head, headers) VALUES (?, ?, ?, ?, ?)",
                        [.integer(id), .text(head.site), .integer(head.through), .text(head.head), .text(head.headers)])
                }
                if !newBases.isEmpty {
                    try db.run(
                        """
                        INSERT OR IGNORE INTO _liaison_checkpoint_folded(checkpoint, folded_into)
                        SELECT id, ? FROM _liaison_checkpoint WHERE id <> ?
                        """, [.integer(id), .integer(id)])
                    try db.run("UPDATE _liaison_compacted SET checkpoint = ?", [.integer(id)])
                }
                for change in list {
                    let position: [CellValue] = [.integer(change.site), .integer(change.seq), .integer(change.n)]
                    try db.run(
                        "INSERT INTO _liaison_compacted(sidx, seq, n, checkpoint) VALUES (?, ?, ?, ?)",
                        position + [.integer(id)])
                    try db.run("UPDATE _liaison_change SET vals = NULL WHERE sidx = ? AND seq = ? AND n = ?", position)
                }
                var transactions = 0
                for (gap, signed) in zip(gaps, bases) {
                    let range: [CellValue] = [
                        .integer(gap.site), .integer(gap.run.lowerBound), .integer(gap.run.upperBound),
                    ]
                    transactions += gap.run.count
                    try RemovedStep.keep(db, site: gap.site, run: gap.run)
                    for table in ["_liaison_compacted", "_liaison_change", "_liaison_withheld", "_liaison_tx"] {
                        try db.run("DELETE FROM \(table) WHERE sidx = ? AND seq BETWEEN ? AND ?", range)
                    }
                    try db.run(
                        "INSERT INTO _liaison_chain_gap(sidx, first, through, head, checkpoint) VALUES (?, ?, ?, ?, ?)",
                        range + [.text(signed.head), .integer(id)])
                    try db.run(
                        "INSERT INTO _liaison_checkpoint_gap(checkpoint, site, first, through, head) VALUES (?, ?, ?, ?, ?)",
                        [
                            .integer(id), .text(signed.site), .integer(gap.run.lowerBound),
                            .integer(gap.run.upperBound),
                            .text(signed.head),
                        ])
                }
                return (list.count, bytes, transactions, id)
            }
        }
        if let id = done.id {
            try withConnection { db in
                try db.execute("VACUUM")
                try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                try CompactionRuns.record(
                    db, checkpoint: id, before: beforeWithLog,
                    after: Self.fileSize(path) + Self.fileSize(path + "-wal"),
                    transactions: done.transactions)
            }
        }
        return CompactionResult(
            changes: done.changes, bytes: done.bytes, fileBytesBefore: before, fileBytesAfter: Self.fileSize(path),
            checkpoint: done.id, transactions: done.transactions, heldBackBy: ahead)
    }

    /// The vector every registered peer not marked stale has acknowledged (a peer without an
    /// acknowledgement counts as having nothing), capped by this replica's own.
    func compactionFloor(excluding excluded: String? = nil) throws -> VersionVector {
        var floor = try versionVector()
        let acks = try acknowledgements()
        let stale = try stalePeers()
        for peer in try peers() where stale[peer.name] == nil && peer.name != excluded {
            let acknowledged = acks[peer.name]?.vector ?? VersionVector()
            for (site, seq) in floor.entries { floor[site] = min(seq, acknowledged[site]) }
        }
        return floor
    }

    private func compactionCandidates(_ floor: VersionVector) throws -> [(
        site: Int64, seq: Int64, n: Int64, bytes: Int
    )] {
        try withConnection { db in
            try publishIfNeeded(db)
            return try transactionOfReads(db) {
                try CompactionCandidates(db: db).list(
                    floor: try indexed(floor, try SiteDirectory(db: db)), excludingTables: ownerWinsTables)
            }
        }
    }

    private var ownerWinsTables: [String] {
        tables.values.filter { $0.definition.policy == .ownerWins }.map(\.name).sorted()
    }

    private func indexed(_ vector: VersionVector, _ sites: SiteDirectory) throws -> [Int64: Int64] {
        var floor: [Int64: Int64] = [:]
        for (site, seq) in vector.entries { if let index = sites.existingIndex(of: site) { floor[index] = seq } }
        return floor
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}
