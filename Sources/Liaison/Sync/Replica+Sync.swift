import Foundation
import Logging

/// Limits on one page of transactions, so memory stays bounded whatever the backlog.
public struct PageLimits: Sendable {
    public var maxChanges: Int
    public var maxBytes: Int

    public init(maxChanges: Int = 5_000, maxBytes: Int = 2_000_000) {
        self.maxChanges = max(1, maxChanges)
        self.maxBytes = max(1_024, maxBytes)
    }
}

/// What applying a batch did.
public struct ApplyResult: Sendable {
    public var applied: Int
    public var skipped: Int
    public var staged: Int
    public var vector: VersionVector
    /// Transactions of this batch held in quarantine.
    public var held = 0
    /// Everything held here that the batch's sender sent (this batch's and earlier), with reasons.
    public var heldFromSource: [HeldTransaction] = []

    public init(applied: Int, skipped: Int, staged: Int, vector: VersionVector) {
        self.applied = applied
        self.skipped = skipped
        self.staged = staged
        self.vector = vector
    }
}

extension Replica {
    /// The version vector: the highest applied sequence number of each site.
    public func versionVector() throws -> VersionVector {
        try withConnection { db in
            try publishIfNeeded(db)
            return try SiteDirectory(db: db).versionVector()
        }
    }

    /// Publishes captured local edits, if any; an invalid edit by another SQLite client is left
    /// unpublished (reported by `unpublishedEdit()`), so reads and syncs go on.
    func publishIfNeeded(_ db: Connection) throws {
        if try db.first("SELECT 1 FROM _liaison_journal LIMIT 1", [], { _ in true }) ?? false {
            _ = try transaction(db) { try publishValid(db) }
        }
    }

    /// A page of transactions after `cursor` in this replica's apply order, skipping those the
    /// requester has (`vector`). Publishes captured local edits first.
    public func changes(
        after cursor: SyncCursor, excluding vector: VersionVector, limits: PageLimits = PageLimits(),
        readable: Set<String>? = nil, wanted: [WantedTransaction] = []
    ) throws -> PullResponse {
        try withConnection { db in
            try publishIfNeeded(db)
            return try transactionOfReads(db) {
                let builder = PageBuilder(db: db, limits: limits, readable: readable)
                var page = try builder.page(after: cursor, excluding: vector, wanted: wanted)
                page.keys = try introduce(page.keys)
                logger.debug(
                    "page built",
                    metadata: [
                        "page.transactions": "\(page.transactions.count)", "page.cursor": "\(page.cursor)",
                        "page.hasMore": "\(page.hasMore)",
                    ])
                return page
            }
        }
    }

    /// Applies a batch of transactions (or pieces of them) in one SQLite transaction. Transactions
    /// applied before are skipped (or complete what a peer had withheld); pieces of an unfinished
    /// transaction are staged until its last piece arrives. A genuine transaction that cannot be
    /// applied here now (a scope the sender may not write, a value this replica's rules reject) is
    /// held in quarantine with its reason, and so are those that depend on it; the rest applies. A
    /// forged, altered or malformed transaction refuses the whole batch.
    ///
    /// - Parameters:
    ///   - keys: public keys sent with the batch. Only keys trusted here, or introduced by a site
    ///     marked introducer, are used; a transaction from an origin without a trusted key is held
    ///     (`.untrustedKey`) until the operator trusts one, and a key or site id contradicting a
    ///     binding refuses the batch with an alarm (`.identityConflict`).
    ///   - writableScopes: the scopes the sender may write here (`nil` for any); a transaction
    ///     writing outside them is held.
    ///   - peerCursor: a pull cursor stored in the same transaction.
    public func apply(
        _ records: [TransactionRecord], keys: [String: SiteKeyRecord]? = nil, writableScopes: Set<String>? = nil,
        from source: String = "", savingPullCursor peerCursor: (peer: String, cursor: String)? = nil
    ) throws -> ApplyResult {
        try withConnection { db in
            try publishIfNeeded(db)
            var current: TransactionRecord?
            do {
                return try applyBatch(
                    db, records, keys: keys, writableScopes: writableScopes, source: source, current: &current,
                    peerCursor: peerCursor)
            } catch let error as LiaisonError {
                recordNotice(of: error, db)
                // Pieces of a transaction that failed its checks are dropped, so a bad sender cannot
                // block the genuine transaction for good.
                if error.code == .invalidTransaction, let failed = current, !failed.isComplete {
                    try transaction(db) {
                        try db.run(
                            "DELETE FROM _liaison_staging WHERE source = ? AND origin = ? AND seq = ?",
                            [.text(source), .text(failed.origin), .integer(failed.seq)])
                    }
                }
                throw error
            }
        }
    }

    private func applyBatch(
        _ db: Connection, _ records: [TransactionRecord], keys: [String: SiteKeyRecord]?, writableScopes: Set<String>?,
        source: String, current: inout TransactionRecord?, peerCursor: (peer: String, cursor: String)?
    ) throws -> ApplyResult {
        return try transaction(db) {
            // Publish under the same write lock: an edit another SQLite client commits before
            // this lock is taken is published here, never mistaken for a trace of the apply.
            _ = try publishValid(db)
            let untrusted = try admitKeys(keys ?? [:], db, via: source)
            // Each change's signed form, computed once for the three steps that need it.
            let forms = BatchForms(records, tables: tables)
            let records = ChainLinks.restore(records, tables: tables, forms: forms) { origin, seq in
                try db.first(
                    "SELECT t.digest FROM _liaison_tx t JOIN _liaison_site s ON s.sidx = t.sidx WHERE s.site_id = ? AND t.seq = ?",
                    [.text(origin), .integer(seq)]
                ) { $0.text(0) }
            }
            let batch = try BatchApplication(
                replica: self, db: db, source: source, writable: writableScopes, presentedKeys: untrusted)
            // Merged remote writes are not captured (Capture/CaptureGuard.swift).
            defer { batch.applier.verified.cancel() }
            try db.withCaptureOff { try batch.run(records, current: &current, forms: forms) }
            // With triggers off, the digests' triggers did not see the merge either: mark its rows.
            try DigestStore.markWritten(records, db)
            if let peerCursor {
                try db.run(
                    "UPDATE _liaison_peer SET pull_cursor = ? WHERE name = ?",
                    [.text(peerCursor.cursor), .text(peerCursor.peer)])
            }
            var result = batch.result
            logger.debug(
                "batch applied",
                metadata: [
                    "sync.peer": "\(source)", "apply.received": "\(records.count)",
                    "apply.applied": "\(result.applied)", "apply.skipped": "\(result.skipped)",
                    "apply.held": "\(result.held)", "apply.staged": "\(result.staged)",
                ])
            result.vector = try batch.applier.sites.versionVector()
            result.heldFromSource = try QuarantineStore(db: db).held(from: source)
            return result
        }
    }

    /// Transactions this replica holds with changes a peer withheld (at most `limit`), least asked
    /// for first, so changes this replica may never read do not block later ones (`WantedRotation`).
    public func wantedTransactions(limit: Int = 200) throws -> [WantedTransaction] {
        try withConnection { db in
            guard try db.first("SELECT 1 FROM _liaison_withheld LIMIT 1", [], { _ in true }) != nil else { return [] }
            return try transaction(db) { try WantedRotation.next(db, limit: limit) }
        }
    }

    /// Runs reads in one snapshot.
    func transactionOfReads<T>(_ db: Connection, _ body: () throws -> T) throws -> T {
        try db.execute("BEGIN")
        defer { try? db.execute("COMMIT") }
        return try body()
    }
}

/// Pieces of large transactions held until the last piece arrives.
struct Staging {
    let db: Connection
    /// Who sent the pieces: each sender's pieces are held apart.
    let source: String

    private func key(_ record: TransactionRecord) -> [CellValue] {
        [.text(source), .text(record.origin), .integer(record.seq)]
    }

    /// Stores a piece within the sender's staging quota; returns `true` when it was the last one
    /// (the whole transaction is staged).
    func add(_ record: TransactionRecord, quota: StagingQuota, writableScopes: Set<String>?) throws -> Bool {
        guard record.isWellFormed else {
            throw LiaisonError(
                .invalidTransaction,
                "a piece of \(record.site)#\(record.seq) covers \(record.covered) positions from \(record.offset) "
                    + "of a transaction of \(record.total), which is impossible")
        }
        try quota.admit(record, source: source, writableScopes: writableScopes, db: db)
        let key = key(record)
        let progress =
            try db.first(
                "SELECT progress FROM _liaison_staging WHERE source = ? AND origin = ? AND seq = ? AND n = 0", key
            ) {
                $0.int(0)
            } ?? 0
        guard record.offset <= progress else {
            throw LiaisonError(
                .invalidTransaction,
                "a piece of \(record.site)#\(record.seq) starts at change \(record.offset) but only \(progress) are held; resend from \(progress)"
            )
        }
        var header = record
        header.changes = []
        try db.run(
            """
            INSERT INTO _liaison_staging(source, origin, seq, n, header, progress) VALUES (?, ?, ?, 0, ?, ?)
            ON CONFLICT(source, origin, seq, n) DO UPDATE SET progress = max(progress, excluded.progress),
                header = CASE WHEN excluded.progress > progress THEN excluded.header ELSE header END
            """, key + [.text(try WireJSON.string(header)), .integer(Int64(record.offset + record.covered))])
        for (position, change) in record.changes.enumerated() {
            let n = Int64((change.index ?? (record.offset + position)) + 1)
            try db.run(
                "INSERT OR IGNORE INTO _liaison_staging(source, origin, seq, n, change) VALUES (?, ?, ?, ?, ?)",
                key + [.integer(n), .text(try WireJSON.string(change))])
        }
        try quota.check(source: source, db: db)
        return record.isLastPiece
    }

    /// The staged changes of a transaction, read one at a time (bounded memory).
    private func changes(of header: TransactionRecord) throws -> StatementSequence<ChangeRecord> {
        let statement = try db.prepare(
            "SELECT n, change FROM _liaison_staging WHERE source = ? AND origin = ? AND seq = ? AND n > 0 ORDER BY n")
        try statement.bind(key(header))
        return StatementSequence(statement: statement) { row -> ChangeRecord in
            var change = try WireJSON.decode(ChangeRecord.self, from: row.text(1))
            change.index = row.int(0) - 1
            return change
        }
    }

    /// Staged transactions up to this many bytes of changes are read once into memory and applied
    /// as a received one is (each change decoded and its signed form computed once); larger ones
    /// are read one row at a time, once (`applyInOnePass`), so memory stays bounded whatever their size.
    /// 2 MB, not 8: a transaction of 10,000 rows (~4 MB staged) held whole with its signed forms was
    /// the cloning client's peak (W5), and the one pass costs it no more CPU.
    static let inMemoryBytes = 2 << 20

    /// Applies a whole staged transaction, already checked with `check`: from memory when its
    /// changes fit `inMemoryBytes`, else one row at a time, in one pass.
    func apply(_ header: TransactionRecord, applier: TransactionApplier) throws {
        let size =
            try db.first(
                "SELECT coalesce(sum(length(change)), 0) FROM _liaison_staging WHERE source = ? AND origin = ? AND seq = ? AND n > 0",
                key(header)
            ) { $0.int(0) } ?? 0
        if size <= Self.inMemoryBytes {
            let read = try changes(of: header)
            let changes = Array(read)
            try read.rethrow()
            try applier.apply(header) { changes }
            return
        }
        let changes = try changes(of: header)
        try applier.applyInOnePass(header, changes: changes)
        try changes.rethrow()
    }

    /// The whole staged transaction as one record (to be held in quarantine).
    func assembled(_ header: TransactionRecord) throws -> TransactionRecord {
        var record = header
        let changes = try changes(of: header)
        record.changes = Array(changes)
        try changes.rethrow()
        record.span = record.changes.count == record.total ? nil : record.total
        return record
    }

    /// Forgets the staged pieces of a transaction (from every sender).
    func clear(_ header: TransactionRecord) throws {
        try db.run(
            "DELETE FROM _liaison_staging WHERE origin = ? AND seq = ?", [.text(header.origin), .integer(header.seq)])
    }
}

/// Rows of a statement as a sequence, read one at a time (bounded memory).
final class StatementSequence<Element>: Sequence, IteratorProtocol {
    let statement: Statement
    let read: (Statement) throws -> Element
    private var failure: (any Error)?

    init(statement: Statement, read: @escaping (Statement) throws -> Element) {
        self.statement = statement
        self.read = read
    }

    func next() -> Element? {
        guard failure == nil else { return nil }
        do {
            return try statement.step() ? read(statement) : nil
        } catch {
            failure = error
            return nil
        }
    }

    func rethrow() throws { if let failure { throw failure } }
}
