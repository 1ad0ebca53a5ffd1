import Foundation

/// A signed record of one compaction: which logged values this replica dropped, under which
/// acknowledged floor. The dropped changes keep their signed digests, so every transaction's
/// signature and every origin's hash chain still verify; the checkpoint proves that the missing
/// values were dropped by this replica's key, on purpose, and not edited away.
///
/// `signature` is this replica's Ed25519 signature over
/// `liaison-checkpoint-v2\n{site}\n{at}\n{floor}\n{changes}\n{digest}\n{heads}`, where `floor` is
/// `SITE_ID=SEQ` sorted and joined by `,`, `digest` the hex SHA-256 of one line
/// `SITE_ID:SEQ:N:CHANGE_DIGEST\n` per dropped change, in site id, seq, n order, and `heads` one
/// `SITE_ID=SEQ:HEAD:HEADERS` per origin of the floor, sorted and joined by `,`: the digest of the
/// origin's transaction at the floor (its chain head there) and the hex SHA-256 of one line
/// `SEQ:DIGEST\n` per transaction of the origin up to it. Checkpoints made before heads were
/// signed (no `heads`) use `liaison-checkpoint-v1` and stop after `digest`.
struct CompactionCheckpoint {
    /// What a checkpoint signs of one origin's chain: through which seq, the head digest there,
    /// and the digest over every header digest up to it.
    struct Head: Hashable {
        var site: String
        var through: Int64
        var head: String
        var headers: String

        var signedText: String { "\(site)=\(through):\(head):\(headers)" }
    }

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_checkpoint_head(
            checkpoint INTEGER NOT NULL, site TEXT NOT NULL, through INTEGER NOT NULL, head TEXT NOT NULL,
            headers TEXT NOT NULL, PRIMARY KEY (checkpoint, site)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_checkpoint(
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, floor TEXT NOT NULL, changes INTEGER NOT NULL,
            bytes INTEGER NOT NULL, digest TEXT NOT NULL, acks TEXT NOT NULL, signature TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS _liaison_checkpoint_gap(
            checkpoint INTEGER NOT NULL, site TEXT NOT NULL, first INTEGER NOT NULL, through INTEGER NOT NULL,
            head TEXT NOT NULL, PRIMARY KEY (checkpoint, site, through)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_compacted(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL, checkpoint INTEGER NOT NULL,
            PRIMARY KEY (sidx, seq, n)) WITHOUT ROWID;
        """

    var site: String
    var at: String
    var floor: VersionVector
    var changes: Int
    var digest: String
    var heads: [Head] = []
    /// The runs of each origin's chain this checkpoint removed whole (`first…through`), `head`
    /// standing for each (`ChainBase`). Signed as v3 when not empty.
    var bases: [(site: String, first: Int64, through: Int64, head: String)] = []

    var signedBytes: Data {
        let entries = floor.entries.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let common = "\(site)\n\(at)\n\(entries.joined(separator: ","))\n\(changes)\n\(digest)"
        if heads.isEmpty { return Data("liaison-checkpoint-v1\n\(common)".utf8) }
        let signedHeads = heads.sorted { $0.site < $1.site }.map(\.signedText).joined(separator: ",")
        if bases.isEmpty { return Data("liaison-checkpoint-v2\n\(common)\n\(signedHeads)".utf8) }
        return Data("liaison-checkpoint-v3\n\(common)\n\(signedHeads)\n\(ChainBase.signedText(bases))".utf8)
    }

    /// The removed runs checkpoint `id` signed.
    static func storedBases(_ db: Connection, checkpoint id: Int64) throws -> [(
        site: String, first: Int64, through: Int64, head: String
    )] {
        guard
            try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_checkpoint_gap'", [], { _ in true })
                ?? false
        else { return [] }
        return try db.query(
            "SELECT site, first, through, head FROM _liaison_checkpoint_gap WHERE checkpoint = ? ORDER BY site, through",
            [.integer(id)], { (site: $0.text(0), first: $0.int64(1), through: $0.int64(2), head: $0.text(3)) })
    }

    /// The chain of each origin of `floor` as the log holds it now, up to the floor.
    static func heads(_ db: Connection, floor: VersionVector) throws -> [Head] {
        try floor.entries.filter { $0.value > 0 }.sorted { $0.key < $1.key }.compactMap { site, through in
            try head(db, site: site, through: through)
        }
    }

    /// One origin's chain up to `through` as the log holds it (`nil` when the site is unknown here).
    static func head(_ db: Connection, site: String, through: Int64) throws -> Head? {
        guard
            let index = try db.first("SELECT sidx FROM _liaison_site WHERE site_id = ?", [.text(site)], { $0.int64(0) })
        else { return nil }
        let rows = try db.query(
            "SELECT seq, digest FROM _liaison_tx WHERE sidx = ? AND seq <= ? ORDER BY seq",
            [.integer(index), .integer(through)], { ($0.int64(0), $0.text(1)) })
        let head = rows.last.map { $0.0 == through ? $0.1 : "" } ?? ""
        return Head(
            site: site, through: through, head: head,
            headers: SiteKey.sha256Hex(Data(rows.map { "\($0.0):\($0.1)\n" }.joined().utf8)))
    }

    /// The heads checkpoint `id` signed.
    static func storedHeads(_ db: Connection, checkpoint id: Int64) throws -> [Head] {
        guard
            try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_checkpoint_head'", [], { _ in true })
                ?? false
        else { return [] }
        return try db.query(
            "SELECT site, through, head, headers FROM _liaison_checkpoint_head WHERE checkpoint = ? ORDER BY site",
            [.integer(id)], { Head(site: $0.text(0), through: $0.int64(1), head: $0.text(2), headers: $0.text(3)) })
    }

    /// The digest over the dropped changes of checkpoint `id` (or of `rows`, before they are stored).
    static func digest(of rows: [(id: String, seq: Int64, n: Int64, digest: String)]) -> String {
        let sorted = rows.sorted { ($0.id, $0.seq, $0.n) < ($1.id, $1.seq, $1.n) }
        return SiteKey.sha256Hex(Data(sorted.map { "\($0.id):\($0.seq):\($0.n):\($0.digest)\n" }.joined().utf8))
    }

    static func hasTables(_ db: Connection) throws -> Bool {
        try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_compacted'") { _ in true } ?? false
    }

    /// The positions (`n`) of a transaction's changes whose values were compacted.
    static func compacted(_ db: Connection, site: Int64, seq: Int64) throws -> Set<Int64> {
        guard try hasTables(db) else { return [] }
        return Set(
            try db.query(
                "SELECT n FROM _liaison_compacted WHERE sidx = ? AND seq = ?", [.integer(site), .integer(seq)],
                {
                    $0.int64(0)
                }))
    }

    /// Problems with the checkpoints: a signature that does not verify under any key this replica
    /// has had, or dropped changes that do not add up to what a checkpoint signed.
    static func problems(_ db: Connection, siteID site: String) throws -> [String] {
        guard try hasTables(db) else { return try SnapshotRecord.problems(db) }
        var keys = try db.query("SELECT public_key FROM _liaison_site WHERE sidx = 1 AND public_key IS NOT NULL") {
            $0.text(0)
        }
        for rotation in try TrustStore(db: db).rotations(of: site) { keys += [rotation.key, rotation.previous] }
        let verifiers = keys.compactMap { try? SiteKey.publicKey($0) }
        var problems: [String] = []
        let checkpoints = try db.query(
            "SELECT id, at, floor, changes, digest, signature FROM _liaison_checkpoint ORDER BY id", [],
            { ($0.int64(0), $0.text(1), $0.text(2), $0.int(3), $0.text(4), $0.text(5)) })
        let chainBases = try ChainBase.all(db)
        let sites = try SiteDirectory(db: db)
        let folded = Set(
            try ChainBase.hasTable(db)
                ? db.query("SELECT checkpoint FROM _liaison_checkpoint_folded") { $0.int64(0) } : [])
        for (id, at, floorText, changes, digest, signature) in checkpoints {
            let floor = (try? JSONDecoder().decode(VersionVector.self, from: Data(floorText.utf8))) ?? VersionVector()
            let heads = try storedHeads(db, checkpoint: id)
            let signed = CompactionCheckpoint(
                site: site, at: at, floor: floor, changes: changes, digest: digest, heads: heads,
                bases: try storedBases(db, checkpoint: id))
            if !verifiers.contains(where: {
                TransactionDigest.isValid(signature: signature, header: signed.signedBytes, key: $0)
            }) {
                problems.append("compaction checkpoint \(id) of \(at) is not signed by this replica's key")
            }
            // The chain of each origin up to the checkpoint is the one it signed. Below a chain base
            // the headers are gone: the head is compared where the log (or the base) still has it,
            // and the hash links from the base up are checked with every transaction.
            for head in heads {
                if let index = sites.existingIndex(of: head.site), chainBases[index] != nil {
                    guard let held = try ChainBase.digest(db, site: index, seq: head.through), held != head.head
                    else { continue }
                } else if try Self.head(db, site: head.site, through: head.through) == head {
                    continue
                }
                problems.append(
                    "compaction checkpoint \(id) of \(at) signed another chain of \(head.site) up to #\(head.through) "
                        + "than the log holds (a transaction was removed, replaced or reordered after it)")
            }
            // Dropped values of a checkpoint folded into a later one are counted by that one.
            if folded.contains(id) { continue }
            let rows = try db.query(
                """
                SELECT s.site_id, k.seq, k.n, coalesce(c.digest, '') FROM _liaison_compacted k
                JOIN _liaison_site s ON s.sidx = k.sidx
                LEFT JOIN _liaison_change c ON c.sidx = k.sidx AND c.seq = k.seq AND c.n = k.n
                WHERE k.checkpoint = ?
                """, [.integer(id)], { (id: $0.text(0), seq: $0.int64(1), n: $0.int64(2), digest: $0.text(3)) })
            if rows.count != changes || Self.digest(of: rows) != digest {
                problems.append(
                    "compaction checkpoint \(id) of \(at) signed \(changes) dropped values; the log shows "
                        + "\(rows.count) that do not add up to it (values dropped or marked after it was signed)")
            }
        }
        let orphans =
            try db.first(
                "SELECT count(*) FROM _liaison_compacted k WHERE NOT EXISTS (SELECT 1 FROM _liaison_checkpoint p WHERE p.id = k.checkpoint)"
            ) { $0.int(0) } ?? 0
        if orphans > 0 { problems.append("\(orphans) changes are marked compacted by no signed checkpoint") }
        // Each removed run is one a checkpoint signed (or, on a clone, the snapshot it started from).
        problems += try SnapshotRecord.problems(db)
        for base in chainBases.values.joined().sorted(by: { ($0.site, $0.through) < ($1.site, $1.through) })
        where base.checkpoint != 0 {
            let id = sites.site(base.site).id
            let signed = try storedBases(db, checkpoint: base.checkpoint)
            guard
                !signed.contains(where: {
                    $0.site == id && $0.first == base.first && $0.through == base.through && $0.head == base.head
                })
            else { continue }
            problems.append(
                "the log of \(sites.site(base.site).code) lacks #\(base.first)-\(base.through), which no signed "
                    + "checkpoint of this replica removed (history was cut outside compaction)")
        }
        return problems
    }
}
