import Crypto
import Foundation

/// One version of a row, as `liaison history` shows it.
public struct RowVersion: Sendable, Codable, Hashable {
    public var site: String
    public var siteID: String
    /// The short fingerprint of the origin's trusted key.
    public var fingerprint: String?
    public var seq: Int64
    public var author: String
    public var hlc: HybridTimestamp
    public var time: String
    public var op: ChangeRecord.Operation
    public var scope: String
    public var values: [String: CellValue]?
    /// `verified`, `invalid`, or `unknown key`.
    public var signature: String
}

/// What `liaison verify` found.
public struct VerificationReport: Sendable, Codable, Hashable {
    public var transactions: Int
    public var changes: Int
    public var withheld: Int
    public var problems: [String]
    /// Transactions compaction removed whole (or the snapshot this replica started from did):
    /// not checked one by one, their chain heads signed by a checkpoint or the snapshot's source.
    public var removed = 0

    public var isIntact: Bool { problems.isEmpty }
}

extension Replica {
    /// Every version of a row in apply order, with origin, author, time and signature status.
    public func history(_ tableName: String, id: String) throws -> [RowVersion] {
        _ = try table(named: tableName)
        return try withConnection { db in
            try publishIfNeeded(db)
            let sites = try SiteDirectory(db: db)
            let rows = try db.query(
                """
                SELECT c.sidx, c.seq, c.op, \(ChangeValues.sql("c")), c.scope, t.hlc, t.author FROM _liaison_change c
                JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
                WHERE c.tbl = ? AND c.pk = ? ORDER BY t.ord, c.n
                """, [.text(tableName), .text(id)]
            ) { ($0.int64(0), $0.int64(1), $0.text(2), $0.optionalText(3), $0.text(4), $0.int64(5), $0.text(6)) }
            var status: [VersionStore.Origin: String] = [:]
            return try rows.map { site, seq, op, vals, scope, hlc, author in
                let origin = VersionStore.Origin(site: site, seq: seq)
                if status[origin] == nil { status[origin] = try AuditCheck(db: db).signatureStatus(origin) }
                let stamp = HybridTimestamp(rawValue: hlc)
                return RowVersion(
                    site: sites.site(site).code, siteID: sites.site(site).id, fingerprint: sites.fingerprint(site),
                    seq: seq, author: author, hlc: stamp,
                    time: stamp.description, op: ChangeRecord.Operation(rawValue: op) ?? .update, scope: scope,
                    values: try ChangeCodec.decodeValues(vals), signature: status[origin]!)
            }
        }
    }

    /// Checks the whole log: every change against its digest, every transaction's signature, and
    /// each origin's hash chain (no transaction missing, removed or edited after the fact).
    /// Open equivocation alarms count as problems: the log holds one version of a transaction its
    /// origin signed twice.
    public func verify() throws -> VerificationReport {
        var report = try withConnection { db in
            try publishIfNeeded(db)
            var report = try AuditCheck(db: db).run()
            report.problems += try CompactionCheckpoint.problems(db, siteID: siteID)
            return report
        }
        for alarm in try alarms() where alarm.kind == .equivocation {
            report.problems.append("\(alarm.site) equivocated: \(alarm.message)")
        }
        return report
    }
}

/// Recomputes digests and signatures from what the log stores.
struct AuditCheck {
    let db: Connection

    func signatureStatus(_ origin: VersionStore.Origin) throws -> String {
        let problems = try check(origin, previous: nil, checkChain: false)
        if problems.contains(where: { $0.contains("no public key") }) { return "unknown key" }
        return problems.isEmpty ? "verified" : "invalid"
    }

    func run() throws -> VerificationReport {
        var report = VerificationReport(transactions: 0, changes: 0, withheld: 0, problems: [])
        let sites = try SiteDirectory(db: db)
        let origins = try db.query("SELECT sidx, seq FROM _liaison_site ORDER BY sidx") { ($0.int64(0), $0.int64(1)) }
        // Runs compaction removed are gone: the chain goes on after each from the head a checkpoint signed.
        let bases = try ChainBase.all(db)
        for (site, applied) in origins {
            let code = sites.site(site).code
            let seqs = try db.query("SELECT seq FROM _liaison_tx WHERE sidx = ? ORDER BY seq", [.integer(site)]) {
                $0.int64(0)
            }
            let gaps = bases[site] ?? []
            report.removed += gaps.reduce(0) { $0 + Int($1.through - $1.first + 1) }
            var expected = Set(1...max(applied, 1))
            if applied == 0 { expected = [] }
            for gap in gaps { expected.subtract(gap.first...gap.through) }
            if seqs != expected.sorted() {
                let missing = expected.subtracting(seqs).sorted()
                report.problems.append(
                    "\(code): the log lacks transactions \(missing.prefix(10).map(String.init).joined(separator: ", ")) of 1...\(applied)"
                        + (gaps.isEmpty ? "" : " (besides those compaction removed)"))
            }
            let gapHeads = Dictionary(gaps.map { ($0.through, $0.head) }, uniquingKeysWith: { first, _ in first })
            var previous: String?? = .none
            for seq in seqs {
                if let head = gapHeads[seq - 1] { previous = .some(head) }
                let origin = VersionStore.Origin(site: site, seq: seq)
                report.problems += try check(origin, previous: previous, checkChain: true)
                previous = .some(
                    try db.first(
                        "SELECT digest FROM _liaison_tx WHERE sidx = ? AND seq = ?", [.integer(site), .integer(seq)]
                    ) {
                        $0.text(0)
                    })
                report.transactions += 1
            }
        }
        report.changes = try db.first("SELECT count(*) FROM _liaison_change") { $0.int(0) } ?? 0
        report.withheld = try db.first("SELECT count(*) FROM _liaison_withheld") { $0.int(0) } ?? 0
        return report
    }

    /// Problems with one transaction; `previous` is the digest of the one before it (`.none` unknown).
    func check(_ origin: VersionStore.Origin, previous: String??, checkChain: Bool) throws -> [String] {
        let key: [CellValue] = [.integer(origin.site), .integer(origin.seq)]
        guard
            let tx = try db.first(
                """
                SELECT s.site_id, s.code, s.public_key, t.hlc, t.author, t.context, t.resolves, t.changes, t.previous,
                    t.root, t.signature, t.digest
                FROM _liaison_tx t JOIN _liaison_site s ON s.sidx = t.sidx WHERE t.sidx = ? AND t.seq = ?
                """, key,
                {
                    (
                        id: $0.text(0), code: $0.text(1), publicKey: $0.optionalText(2), hlc: $0.int64(3),
                        author: $0.text(4),
                        context: $0.text(5), resolves: $0.optionalText(6), total: $0.int(7),
                        previous: $0.optionalText(8),
                        root: $0.text(9), signature: $0.text(10), digest: $0.text(11)
                    )
                })
        else { return ["transaction \(origin.site)#\(origin.seq) is missing"] }
        let name = "\(tx.code)#\(origin.seq)"
        var problems: [String] = []
        var digests: [Int: String] = [:]
        let isLocal = origin.site == 1
        let rows = try db.query(
            "SELECT n, tbl, pk, op, \(ChangeValues.sql()), lvls, scope, digest, bases FROM _liaison_change WHERE sidx = ? AND seq = ? ORDER BY n",
            key
        ) {
            (
                $0.int(0), $0.text(1), $0.text(2), $0.text(3), $0.optionalText(4), $0.optionalText(5), $0.text(6),
                $0.text(7), $0.optionalText(8)
            )
        }
        // Values dropped by compaction are proved by its signed checkpoint (`CompactionCheckpoint`).
        let compacted = try CompactionCheckpoint.compacted(db, site: origin.site, seq: origin.seq)
        for (rank, row) in rows.enumerated() {
            let computed = TransactionDigest.change(
                table: row.1, id: row.2, op: row.3, scope: row.6, values: row.4, levels: row.5, bases: row.8)
            if computed != row.7, !compacted.contains(Int64(row.0)) {
                problems.append("\(name): change \(row.1) '\(row.2)' was edited after it was signed")
            }
            digests[isLocal ? rank : row.0 - 1] = row.7
        }
        for (n, digest) in try db.query(
            "SELECT n, digest FROM _liaison_withheld WHERE sidx = ? AND seq = ?", key,
            {
                ($0.int(0), $0.text(1))
            })
        {
            digests[n - 1] = digest
        }
        let ordered = (0..<tx.total).map { digests[$0] ?? "" }
        if digests.count != tx.total {
            problems.append("\(name): \(tx.total - digests.count) of its \(tx.total) changes were removed from the log")
        }
        let root = TransactionDigest.root(ordered)
        if root != tx.root { problems.append("\(name): its changes do not add up to the signed root") }
        let header = TransactionDigest.header(
            origin: tx.id, site: tx.code, seq: origin.seq, hlc: tx.hlc, author: tx.author, context: tx.context,
            resolves: ConflictStore.decodeIDs(tx.resolves), previous: tx.previous, root: tx.root, total: tx.total)
        if SiteKey.sha256Hex(header) != tx.digest {
            problems.append("\(name): its header was edited after it was signed")
        }
        let signer = try TrustStore(db: db).key(of: tx.id, at: origin.seq)
        if let revoked = signer?.revokedSince, HybridTimestamp(rawValue: tx.hlc).milliseconds >= revoked {
            problems.append(
                "\(name): signed with a key revoked since \(HybridTimestamp(milliseconds: revoked)); review it")
        }
        if let publicKey = signer?.key ?? tx.publicKey, let key = try? SiteKey.publicKey(publicKey) {
            if tx.signature.isEmpty {
                problems += try runProblems(
                    origin, name: name, header: header, siteID: tx.id, code: tx.code, publicKey: publicKey)
            } else if !TransactionDigest.isValid(signature: tx.signature, header: header, key: key) {
                problems.append("\(name): the signature does not match \(tx.code)'s key")
            }
        } else {
            problems.append("\(name): no public key is pinned for \(tx.code)")
        }
        if checkChain, case .some(let expected) = previous, expected != tx.previous {
            problems.append("\(name): the hash chain is broken before it (a transaction was removed or replaced)")
        }
        return problems
    }

    /// Problems proving an unsigned transaction by its signed run: the headers after it in the log
    /// (or its seal) up to one signed by the same key (`SignedRuns`).
    private func runProblems(
        _ origin: VersionStore.Origin, name: String, header: Data, siteID: String, code: String, publicKey: String
    ) throws -> [String] {
        guard let proof = try SignedRuns.proof(db, sidx: origin.site, seq: origin.seq),
            let head = SignedRuns.head(of: proof, after: header, seq: origin.seq, origin: siteID, site: code)
        else {
            return ["\(name): no signed transaction of \(code) covers it (the headers after it are missing or altered)"]
        }
        let signer = try TrustStore(db: db).key(of: siteID, at: head.seq)?.key ?? publicKey
        guard signer == publicKey, let key = try? SiteKey.publicKey(signer),
            TransactionDigest.isValid(signature: head.signature, header: head.bytes, key: key)
        else { return ["\(name): the signature of its run (\(code)#\(head.seq)) does not match \(code)'s key"] }
        return []
    }
}
