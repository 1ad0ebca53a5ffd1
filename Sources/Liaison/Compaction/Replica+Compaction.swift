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
        return CompactionPlan(
            floor: try describe(floor), changes: now.count, bytes: now.reduce(0) { $0 + $1.bytes }, peers: holds)
    }

    /// Drops the values of every change `compactionPlan()` names, records a signed checkpoint of
    /// them in the same SQLite transaction, then vacuums the file. `verify` still proves every
    /// signature and hash chain (the change digests stay) and checks the checkpoint.
    public func compact() throws -> CompactionResult {
        let floor = try compactionFloor()
        let before = Self.fileSize(path)
        let acks = try acknowledgements()
        let key = try requireSigningKey()
        let done: (changes: Int, bytes: Int, id: Int64?) = try withConnection { db in
            try publishIfNeeded(db)
            return try transaction(db) {
                try db.execute(CompactionCheckpoint.createSQL)
                let sites = try SiteDirectory(db: db)
                let list = try CompactionCandidates(db: db).list(
                    floor: try indexed(floor, sites), excludingTables: ownerWinsTables)
                guard !list.isEmpty else { return (0, 0, nil) }
                var rows: [(id: String, seq: Int64, n: Int64, digest: String)] = []
                for change in list {
                    let digest =
                        try db.first(
                            "SELECT digest FROM _liaison_change WHERE sidx = ? AND seq = ? AND n = ?",
                            [.integer(change.site), .integer(change.seq), .integer(change.n)]
                        ) { $0.text(0) } ?? ""
                    rows.append((sites.site(change.site).id, change.seq, change.n, digest))
                }
                let checkpoint = CompactionCheckpoint(
                    site: siteID, at: Self.acknowledgementTime(), floor: floor, changes: list.count,
                    digest: CompactionCheckpoint.digest(of: rows), heads: try CompactionCheckpoint.heads(db, floor: floor))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let bytes = list.reduce(0) { $0 + $1.bytes }
                try db.run(
                    "INSERT INTO _liaison_checkpoint(at, floor, changes, bytes, digest, acks, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(checkpoint.at), .text(String(decoding: try encoder.encode(floor), as: UTF8.self)),
                        .integer(Int64(list.count)), .integer(Int64(bytes)), .text(checkpoint.digest),
                        .text(String(decoding: try encoder.encode(acks), as: UTF8.self)),
                        .text(try TransactionDigest.sign(checkpoint.signedBytes, with: key)),
                    ])
                let id = try db.first("SELECT max(id) FROM _liaison_checkpoint") { $0.int64(0) } ?? 0
                for head in checkpoint.heads {
                    try db.run(
                        "INSERT INTO _liaison_checkpoint_head(checkpoint, site, through, head, headers) VALUES (?, ?, ?, ?, ?)",
                        [.integer(id), .text(head.site), .integer(head.through), .text(head.head), .text(head.headers)])
                }
                for change in list {
                    let position: [CellValue] = [.integer(change.site), .integer(change.seq), .integer(change.n)]
                    try db.run(
                        "INSERT INTO _liaison_compacted(sidx, seq, n, checkpoint) VALUES (?, ?, ?, ?)",
                        position + [.integer(id)])
                    try db.run("UPDATE _liaison_change SET vals = NULL WHERE sidx = ? AND seq = ? AND n = ?", position)
                }
                return (list.count, bytes, id)
            }
        }
        if done.id != nil {
            try withConnection { db in
                try db.execute("VACUUM")
                try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
        return CompactionResult(
            changes: done.changes, bytes: done.bytes, fileBytesBefore: before, fileBytesAfter: Self.fileSize(path),
            checkpoint: done.id)
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
