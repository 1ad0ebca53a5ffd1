import Foundation

/// A signed record of one compaction: which logged values this replica dropped, under which
/// acknowledged floor. The dropped changes keep their signed digests, so every transaction's
/// signature and every origin's hash chain still verify; the checkpoint proves that the missing
/// values were dropped by this replica's key, on purpose, and not edited away.
///
/// `signature` is this replica's Ed25519 signature over
/// `liaison-checkpoint-v1\n{site}\n{at}\n{floor}\n{changes}\n{digest}`, where `floor` is
/// `SITE_ID=SEQ` sorted and joined by `,`, and `digest` the hex SHA-256 of one line
/// `SITE_ID:SEQ:N:CHANGE_DIGEST\n` per dropped change, in site id, seq, n order.
struct CompactionCheckpoint {
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_checkpoint(
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, floor TEXT NOT NULL, changes INTEGER NOT NULL,
            bytes INTEGER NOT NULL, digest TEXT NOT NULL, acks TEXT NOT NULL, signature TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS _liaison_compacted(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL, checkpoint INTEGER NOT NULL,
            PRIMARY KEY (sidx, seq, n)) WITHOUT ROWID;
        """

    var site: String
    var at: String
    var floor: VersionVector
    var changes: Int
    var digest: String

    var signedBytes: Data {
        let entries = floor.entries.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return Data(
            "liaison-checkpoint-v1\n\(site)\n\(at)\n\(entries.joined(separator: ","))\n\(changes)\n\(digest)".utf8)
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
        guard try hasTables(db) else { return [] }
        var keys = try db.query("SELECT public_key FROM _liaison_site WHERE sidx = 1 AND public_key IS NOT NULL") {
            $0.text(0)
        }
        for rotation in try TrustStore(db: db).rotations(of: site) { keys += [rotation.key, rotation.previous] }
        let verifiers = keys.compactMap { try? SiteKey.publicKey($0) }
        var problems: [String] = []
        let checkpoints = try db.query(
            "SELECT id, at, floor, changes, digest, signature FROM _liaison_checkpoint ORDER BY id", [],
            { ($0.int64(0), $0.text(1), $0.text(2), $0.int(3), $0.text(4), $0.text(5)) })
        for (id, at, floorText, changes, digest, signature) in checkpoints {
            let floor = (try? JSONDecoder().decode(VersionVector.self, from: Data(floorText.utf8))) ?? VersionVector()
            let signed = CompactionCheckpoint(site: site, at: at, floor: floor, changes: changes, digest: digest)
            if !verifiers.contains(where: {
                TransactionDigest.isValid(signature: signature, header: signed.signedBytes, key: $0)
            }) {
                problems.append("compaction checkpoint \(id) of \(at) is not signed by this replica's key")
            }
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
        return problems
    }
}
