import Foundation

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
}

extension Replica {
    /// The version vector: the highest applied sequence number of each site.
    public func versionVector() throws -> VersionVector {
        try withConnection { db in
            try publishIfNeeded(db)
            return try SiteDirectory(db: db).versionVector()
        }
    }

    func publishIfNeeded(_ db: Connection) throws {
        if try db.first("SELECT 1 FROM _liaison_journal LIMIT 1", [], { _ in true }) ?? false { try publish(db) }
    }

    /// A page of transactions after `cursor` in this replica's apply order, skipping those the
    /// requester has (`vector`). Publishes captured local edits first.
    public func changes(after cursor: SyncCursor, excluding vector: VersionVector, limits: PageLimits = PageLimits()) throws
        -> PullResponse
    {
        try withConnection { db in
            try publishIfNeeded(db)
            return try transactionOfReads(db) { try PageBuilder(db: db, limits: limits).page(after: cursor, excluding: vector) }
        }
    }

    /// Applies a batch of transactions (or pieces of them) in one SQLite transaction: all of it or
    /// nothing. Transactions applied before are skipped; pieces of an unfinished transaction are staged
    /// until its last piece arrives. `peerCursor` is stored in the same transaction.
    public func apply(_ records: [TransactionRecord], savingPullCursor peerCursor: (peer: String, cursor: String)? = nil) throws
        -> ApplyResult
    {
        try withConnection { db in
            try publishIfNeeded(db)
            return try transaction(db) {
                let applier = try TransactionApplier(replica: self, db: db)
                var result = ApplyResult(applied: 0, skipped: 0, staged: 0, vector: VersionVector())
                for record in records {
                    if record.isComplete {
                        if try applier.check(record) {
                            try applier.apply(record, changes: record.changes)
                            result.applied += 1
                        } else {
                            result.skipped += 1
                        }
                    } else if try Staging(db: db).add(record, applier: applier) {
                        result.applied += 1
                    } else {
                        result.staged += 1
                    }
                }
                try applier.finish()
                if let peerCursor {
                    try db.run(
                        "UPDATE _liaison_peer SET pull_cursor = ? WHERE name = ?", [.text(peerCursor.cursor), .text(peerCursor.peer)])
                }
                result.vector = try applier.sites.versionVector()
                return result
            }
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

    /// Stores a piece; when it completes its transaction, applies the whole and returns `true`.
    func add(_ record: TransactionRecord, applier: TransactionApplier) throws -> Bool {
        guard record.total >= 0, record.offset >= 0, record.offset + record.changes.count <= record.total else {
            throw LiaisonError(
                .invalidTransaction,
                "a piece of \(record.site)#\(record.seq) holds changes \(record.offset)..<\(record.offset + record.changes.count) "
                    + "of a transaction of \(record.total)")
        }
        if try applier.hasApplied(origin: record.origin, seq: record.seq) { return false }
        let held = try db.first(
            "SELECT count(*) FROM _liaison_staging WHERE origin = ? AND seq = ? AND n > 0",
            [.text(record.origin), .integer(record.seq)]) { $0.int(0) } ?? 0
        guard record.offset <= held else {
            throw LiaisonError(
                .invalidTransaction,
                "a piece of \(record.site)#\(record.seq) starts at change \(record.offset) but only \(held) are held; resend from \(held)")
        }
        if record.offset == 0 {
            var header = record
            header.changes = []
            try db.run(
                "INSERT OR IGNORE INTO _liaison_staging(origin, seq, n, header) VALUES (?, ?, 0, ?)",
                [.text(record.origin), .integer(record.seq), .text(try WireJSON.string(header))])
        }
        for (position, change) in record.changes.enumerated() {
            try db.run(
                "INSERT OR IGNORE INTO _liaison_staging(origin, seq, n, change) VALUES (?, ?, ?, ?)",
                [.text(record.origin), .integer(record.seq), .integer(Int64(record.offset + position + 1)), .text(try WireJSON.string(change))])
        }
        guard record.isLastPiece else { return false }
        guard try applier.check(record) else { return false }
        var header = record
        header.offset = 0
        header.changes = []
        let statement = try db.prepare(
            "SELECT change FROM _liaison_staging WHERE origin = ? AND seq = ? AND n > 0 ORDER BY n")
        try statement.bind([.text(record.origin), .integer(record.seq)])
        let changes = StatementSequence(statement: statement) { try WireJSON.decode(ChangeRecord.self, from: $0.text(0)) }
        try applier.apply(header, changes: changes)
        try changes.rethrow()
        try db.run("DELETE FROM _liaison_staging WHERE origin = ? AND seq = ?", [.text(record.origin), .integer(record.seq)])
        return true
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
