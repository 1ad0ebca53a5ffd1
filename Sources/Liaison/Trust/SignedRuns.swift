import Crypto
import Foundation

/// Signed runs: one Ed25519 signature covers a run of an origin's chained transactions.
///
/// Each header names the digest of the one before (`previous`), so a signature over a header also
/// covers every header before it in the chain. An origin signs the last transaction of each
/// publish run and every `ChainProof.checkpointInterval`th of its sequence; a transaction left
/// unsigned is proved by the headers after it up to a signed one. Within a page or push those are
/// the records after it (`VerifiedHeaders.plan`); where they are not, the record carries them as
/// its `proof` (`ChainHeader`). A replica keeps what proves every unsigned transaction it logged:
/// the log itself, and for an origin's last logged transaction when it is unsigned, a seal
/// (`_liaison_seal`, the proof it arrived with). docs/DECISIONS.md, "Signed runs".
enum SignedRuns {
    /// Created when first written; readers treat a missing table as holding no seal.
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_seal(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, proof TEXT NOT NULL,
            PRIMARY KEY (sidx, seq)) WITHOUT ROWID;
        """

    /// The signed bytes of proof header `header` of `origin`, after the header whose digest is `previous`.
    static func bytes(of header: ChainHeader, origin: String, site: String, previous: String) -> Data {
        TransactionDigest.header(
            origin: origin, site: site, seq: header.seq, hlc: header.hlc.rawValue, author: header.author,
            context: ChangeCodec.encodeContext(header.context), resolves: header.resolves, previous: previous,
            root: header.root, total: header.total)
    }

    /// The signed head a proof leads to from the transaction whose signed bytes are `start` (at
    /// `seq`): consecutive seqs, a signature on the last header only, at most one interval long.
    /// `nil` for anything else. The caller checks the signature with the key valid at the head.
    static func head(of proof: [ChainHeader], after start: Data, seq: Int64, origin: String, site: String)
        -> (bytes: Data, seq: Int64, hlc: HybridTimestamp, signature: String)?
    {
        guard !proof.isEmpty, proof.count <= Int(ChainProof.checkpointInterval) else { return nil }
        var previous = SiteKey.sha256Hex(start)
        for (offset, header) in proof.enumerated() {
            let isLast = offset == proof.count - 1
            guard header.seq == seq + Int64(offset) + 1, header.total >= 0, (header.signature != nil) == isLast else {
                return nil
            }
            let bytes = bytes(of: header, origin: origin, site: site, previous: previous)
            if isLast, let signature = header.signature { return (bytes, header.seq, header.hlc, signature) }
            previous = SiteKey.sha256Hex(bytes)
        }
        return nil
    }

    /// The proof header of a whole record whose change root is `root`.
    static func header(of record: TransactionRecord, root: String) -> ChainHeader {
        ChainHeader(
            seq: record.seq, hlc: record.hlc, author: record.author, context: record.context,
            resolves: record.resolves, total: record.total, root: root, signature: record.signature)
    }

    /// The root of a complete record's change digests (listed, or computed from its changes).
    static func root(of record: TransactionRecord, tables: [String: TableInfo]) throws -> String {
        if let listed = record.digests { return TransactionDigest.root(listed) }
        guard record.total == record.changes.count else { throw LiaisonError(.invalidTransaction, "incomplete") }
        var byPosition = [String?](repeating: nil, count: record.total)
        for (count, change) in record.changes.enumerated() {
            let position = change.index ?? count
            guard position >= 0, position < record.total, byPosition[position] == nil, let scope = change.scope else {
                throw LiaisonError(.invalidTransaction, "malformed")
            }
            let table = tables[change.table] ?? .opaque(change.table)
            byPosition[position] = try TransactionApplier.signedForm(of: change, table: table, scope: scope).digest
        }
        return TransactionDigest.root(try byPosition.map { try $0.orThrow() })
    }

    // MARK: The log

    /// The proof of logged transaction `sidx#seq`, read from the log: the headers after it up to a
    /// signed one, or up to the last logged one and then its seal. `nil` when the log holds neither.
    static func proof(_ db: Connection, sidx: Int64, seq: Int64) throws -> [ChainHeader]? {
        let rows = try db.query(
            """
            SELECT seq, hlc, author, context, resolves, changes, root, signature FROM _liaison_tx
            WHERE sidx = ? AND seq > ? ORDER BY seq LIMIT ?
            """, [.integer(sidx), .integer(seq), .integer(ChainProof.checkpointInterval)]
        ) {
            ChainHeader(
                seq: $0.int64(0), hlc: HybridTimestamp(rawValue: $0.int64(1)), author: $0.text(2),
                context: try ChangeCodec.decodeContext($0.text(3)),
                resolves: ConflictStore.decodeIDs($0.optionalText(4)),
                total: $0.int(5), root: $0.text(6), signature: $0.text(7).isEmpty ? nil : $0.text(7))
        }
        var proof: [ChainHeader] = []
        var last = seq
        for row in rows {
            guard row.seq == last + 1 else { break }
            proof.append(row)
            if row.signature != nil { return proof }
            last = row.seq
        }
        guard let sealed = try seal(db, sidx: sidx, seq: last) else { return nil }
        let joined = proof + sealed
        return joined.count <= Int(ChainProof.checkpointInterval) ? joined : nil
    }

    /// The stored proof of `sidx#seq`, if any.
    static func seal(_ db: Connection, sidx: Int64, seq: Int64) throws -> [ChainHeader]? {
        guard try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_seal'", [], { _ in true }) ?? false
        else { return nil }
        guard
            let text = try db.first(
                "SELECT proof FROM _liaison_seal WHERE sidx = ? AND seq = ?", [.integer(sidx), .integer(seq)],
                { $0.text(0) })
        else { return nil }
        return try? WireJSON.decode([ChainHeader].self, from: Data(text.utf8))
    }

    /// Keeps the proof of each origin's last logged transaction when it is unsigned and its proof is
    /// not in the log (the records after it were held, or the page ended), from `proofs`; drops
    /// seals the log now makes redundant. Runs at the end of every batch and retry.
    static func sealTails(
        _ db: Connection, origins: Set<String>, proofs: (_ origin: String, _ seq: Int64) -> [ChainHeader]?
    ) throws {
        guard !origins.isEmpty else { return }
        let sites = try SiteDirectory(db: db)
        var created = false
        for origin in origins.sorted() {
            guard let sidx = sites.existingIndex(of: origin), sidx != SiteIndex.local,
                let (seq, signature) = try db.first(
                    "SELECT t.seq, t.signature FROM _liaison_tx t JOIN _liaison_site s ON s.sidx = t.sidx AND s.seq = t.seq WHERE s.sidx = ?",
                    [.integer(sidx)], { ($0.int64(0), $0.text(1)) })
            else { continue }
            let hasTable =
                try created
                || (db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_seal'") { _ in true } ?? false)
            if signature.isEmpty, try seal(db, sidx: sidx, seq: seq) == nil {
                guard let proof = proofs(origin, seq) else { continue }
                if !created {
                    try db.execute(createSQL)
                    created = true
                }
                try db.run(
                    "INSERT OR REPLACE INTO _liaison_seal(sidx, seq, proof) VALUES (?, ?, ?)",
                    [.integer(sidx), .integer(seq), .text(try WireJSON.string(proof))])
            }
            if hasTable || created {
                try db.run("DELETE FROM _liaison_seal WHERE sidx = ? AND seq < ?", [.integer(sidx), .integer(seq)])
            }
        }
    }
}

extension Optional {
    fileprivate func orThrow() throws -> Wrapped {
        guard let self else { throw LiaisonError(.invalidTransaction, "incomplete") }
        return self
    }
}

extension TransactionApplier {
    /// Whether `record`, whose signed bytes are `bytes`, is proved by the proof it carries: a run of
    /// headers up to one signed by `key`, the key valid at both ends (a run never spans a key change).
    func isProvenByItsProof(_ record: TransactionRecord, bytes: Data, key: Curve25519.Signing.PublicKey) -> Bool {
        guard let proof = record.proof,
            let head = SignedRuns.head(
                of: proof, after: bytes, seq: record.seq, origin: record.origin, site: record.site)
        else { return false }
        let headKey =
            (try? publicKey(of: record.origin, site: record.site, seq: head.seq, hlc: head.hlc))
            ?? presentedKeys[record.origin].flatMap { try? SiteKey.publicKey($0.key) }
        guard let headKey, headKey.rawRepresentation == key.rawRepresentation,
            TransactionDigest.isValid(signature: head.signature, header: head.bytes, key: key)
        else { return false }
        verified.noteProved(origin: record.origin, seq: record.seq, proof: proof)
        return true
    }

    /// Whether the origin signed `record` (signed bytes `bytes`): its own signature, a signed run
    /// of this batch, or the proof it carries.
    /// `digest`: the SHA-256 of `bytes` (hex) when the caller has it.
    func isAuthentic(
        _ record: TransactionRecord, bytes: Data, digest: String? = nil, key: Curve25519.Signing.PublicKey
    ) -> Bool {
        verified.contains(bytes, digest: digest ?? SiteKey.sha256Hex(bytes), key: key, origin: record.origin, seq: record.seq)
            || TransactionDigest.isValid(signature: record.signature, header: bytes, key: key)
            || isProvenByItsProof(record, bytes: bytes, key: key)
    }

    /// The proof of unsigned `record` for the quarantine or a seal: the one it carries, or the
    /// one this batch's signed runs give.
    func proof(for record: TransactionRecord) -> [ChainHeader]? {
        guard record.signature == nil else { return nil }
        return record.proof ?? verified.proof(origin: record.origin, seq: record.seq)
    }

    /// The proof to seal for `origin#seq` (see `SignedRuns.sealTails`).
    func tailProof(origin: String, seq: Int64) -> [ChainHeader]? {
        verified.proof(origin: origin, seq: seq)
    }
}

extension TransactionApplier {
    /// The checks of a batch's whole records (`VerifiedHeaders.plan`): each with its signed bytes,
    /// its root, the key valid at its seq (or the key the sender presented for an origin not
    /// trusted yet), and its left-out link restored as `admit` restores it.
    func planVerification(_ records: [TransactionRecord]) -> VerifiedHeaders {
        let complete = records.filter { $0.isComplete && $0.origin != replica.siteID }
        guard !complete.isEmpty else { return VerifiedHeaders() }
        var planned: [VerifiedHeaders.Planned] = []
        planned.reserveCapacity(complete.count)
        var digests: [String: [Int64: String]] = [:]
        for (index, var record) in records.enumerated() where record.isComplete && record.origin != replica.siteID {
            let key =
                (try? publicKey(of: record.origin, site: record.site, seq: record.seq, hlc: record.hlc))
                ?? presentedKeys[record.origin].flatMap { try? SiteKey.publicKey($0.key) }
            guard let key else { continue }
            if record.previous == nil, record.seq > 1 {
                record.previous =
                    digests[record.origin]?[record.seq - 1]
                    ?? ((try? knownDigest(origin: record.origin, seq: record.seq - 1)) ?? nil)
            }
            guard
                let root = try? batchForms.map({ try $0.root(at: index) })
                    ?? SignedRuns.root(of: record, tables: replica.tables)
            else { continue }
            let bytes =
                (try? batchForms.map { try $0.signedBytes(of: record, at: index) })
                ?? Self.signedBytes(of: record, context: ChangeCodec.encodeContext(record.context), root: root)
            let digest =
                (try? batchForms.map { try $0.headerDigest(of: record, at: index) }) ?? SiteKey.sha256Hex(bytes)
            digests[record.origin, default: [:]][record.seq] = digest
            planned.append(VerifiedHeaders.Planned(record: record, bytes: bytes, root: root, key: key, digest: digest))
        }
        return VerifiedHeaders.plan(planned, workers: ProcessInfo.processInfo.activeProcessorCount)
    }
}
