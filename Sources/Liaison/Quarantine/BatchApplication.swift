import Foundation
import Logging

/// Applies one batch inside the caller's SQLite transaction, one transaction at a time, each in a
/// savepoint: a transaction that cannot be applied here now is rolled back alone and held in
/// quarantine with its reason, and everything that does not depend on it applies. Transactions
/// of the same origin after a held one, and those whose context includes it, are held behind it
/// (causal order holds). Held transactions are tried again at the end of every batch that applied
/// something, and whenever `Replica.retryQuarantine()` is called.
final class BatchApplication {
    let replica: Replica
    let db: Connection
    /// The peer the batch came from (`""` for a local apply).
    let source: String
    /// The sender's write grant here (`nil`: any).
    let writable: Set<String>?
    private(set) var applier: TransactionApplier
    private let store: QuarantineStore
    /// The lowest held, not yet applied, transaction of each origin (what others wait behind).
    private var lowest: [String: (seq: Int64, site: String)]
    /// How many transactions are held (those held for late changes of applied ones included).
    private(set) var heldCount: Int
    var result = ApplyResult(applied: 0, skipped: 0, staged: 0, vector: VersionVector())
    /// Set while a snapshot installs: its source vouches for writes behind the runs it removed.
    var admitsBehindCheckpoint = false {
        didSet { applier.admitsBehindCheckpoint = admitsBehindCheckpoint }
    }

    /// What happened to one transaction.
    enum Outcome { case applied, skipped, held }

    /// Keys the sender presented for origins without a trusted key here (shown to the operator,
    /// and used to check that a transaction held for want of a trusted key is what its origin signed).
    let presentedKeys: [String: SiteKeyRecord]

    init(
        replica: Replica, db: Connection, source: String, writable: Set<String>?,
        presentedKeys: [String: SiteKeyRecord] = [:]
    ) throws {
        self.replica = replica
        self.db = db
        self.source = source
        self.writable = writable
        self.presentedKeys = presentedKeys
        self.applier = try TransactionApplier(replica: replica, db: db)
        applier.presentedKeys = presentedKeys
        applier.source = source
        self.store = QuarantineStore(db: db)
        self.lowest = try store.lowestHeld()
        self.heldCount = try store.count()
        self.journalMark = try db.first("SELECT coalesce(max(id), 0) FROM _liaison_journal") { $0.int64(0) } ?? 0
    }

    /// The journal as it was before the batch: rows after it are traces of the apply, rows up to it
    /// are local edits not published yet (an invalid edit by another client), kept.
    private let journalMark: Int64

    /// Applies, stages or holds each record in order. `current` names the record being handled,
    /// so a caller can drop the staged pieces of one that was refused.
    ///
    /// Runs of whole transactions are tried as one group first, in one savepoint
    /// (`BatchApplication+Groups.swift`); a group where any transaction fails is rolled back and
    /// applied again one transaction at a time, each in its own savepoint, as below.
    func run(_ records: [TransactionRecord], current: inout TransactionRecord?, forms: BatchForms? = nil) throws {
        applier.writableScopes = writable
        applier.batchForms = forms
        try applier.verifyAhead(records)
        var index = 0
        while index < records.count {
            let group = groupRange(records, from: index)
            let done = group.count >= 2 ? try applyGroup(records, group, current: &current, forms: forms) : 0
            for position in group.lowerBound + done..<group.upperBound {
                try runOne(records[position], at: position, current: &current, forms: forms)
            }
            index = group.upperBound
        }
        try applier.finish(keepingJournalUpTo: journalMark)
        if result.applied > 0 { _ = try retryHeld() }
        try SignedRuns.sealTails(db, origins: Set(records.map(\.origin)), proofs: applier.tailProof)
    }

    /// Applies, stages or holds one record of the batch, at `index`, in its own savepoint.
    private func runOne(
        _ record: TransactionRecord, at index: Int, current: inout TransactionRecord?, forms: BatchForms?
    ) throws {
        current = record
        let outcome: Outcome
        if record.isComplete {
            outcome = try attempt(record, writable: writable, source: source) { applier in
                guard try applier.check(record) else { return try applier.applyLate(record) > 0 }
                // The forms computed for this very record (`nil` once the schema changed).
                applier.currentForms = forms?.forms(at: index)
                applier.currentIndex = forms == nil ? nil : index
                defer { (applier.currentForms, applier.currentIndex) = (nil, nil) }
                try applier.apply(record) { record.changes }
                return true
            } whole: {
                record
            }
        } else {
            outcome = try addPiece(record)
        }
        switch outcome {
        case .applied: result.applied += 1
        case .skipped: result.skipped += record.isComplete || record.isLastPiece ? 1 : 0
        case .held: result.held += 1
        }
    }

    /// Stages a piece; when it completes its transaction, applies (or holds) the whole.
    private func addPiece(_ record: TransactionRecord) throws -> Outcome {
        let staging = Staging(db: db, source: source)
        if try applier.hasApplied(origin: record.origin, seq: record.seq) { return .skipped }
        guard try staging.add(record, quota: replica.stagingQuota, writableScopes: writable) else {
            result.staged += 1
            return .skipped
        }
        var header = record
        header.offset = 0
        header.span = nil
        header.changes = []
        let outcome = try attempt(header, writable: writable, source: source) { applier in
            guard try applier.check(header) else { return false }
            try staging.apply(header, applier: applier)
            return true
        } whole: {
            try staging.assembled(header)
        }
        try staging.clear(header)
        return outcome
    }

    /// Applies one whole transaction in a savepoint (`body` returns whether it applied anything);
    /// holds it when it is refused for a reason that may go away, refuses the batch otherwise.
    private func attempt(
        _ header: TransactionRecord, writable: Set<String>?, source: String, retrying: Bool = false,
        _ body: (TransactionApplier) throws -> Bool, whole: () throws -> TransactionRecord
    ) throws -> Outcome {
        if let blocker = blocker(of: header) {
            let record = try whole()
            guard retrying || applier.isGenuine(record) else {
                throw LiaisonError(
                    .invalidTransaction,
                    "transaction \(header.site)#\(header.seq) is not signed by \(header.site)'s key: it was forged or altered",
                    cause: SecurityFinding.forgery)
            }
            try hold(
                record, source: source, writable: writable, code: Quarantine.heldBehind,
                reason: "waits behind \(blocker), which is held here", waitsFor: blocker)
            return .held
        }
        try db.execute("SAVEPOINT liaison_transaction")
        do {
            applier.writableScopes = writable
            let applied = try body(applier)
            // Outlines also ride on a transaction applied before, sent again when a later change
            // brings the row they concern (`PageBuilder.companions`); each is checked against the
            // signed digest kept for its withheld position.
            if let outlines = header.evictions, header.isLastPiece,
                try applied || applier.hasApplied(origin: header.origin, seq: header.seq)
            {
                try applier.evict(outlines, of: header)
                // Outlines write versions of rows no change brought here (`NewRows`).
                applier.newRows.forget()
            }
            try db.execute("RELEASE liaison_transaction")
            if heldCount > 0 { try release(header) }
            return applied ? .applied : .skipped
        } catch let error as LiaisonError where Quarantine.holds(error) || retrying {
            try db.execute("ROLLBACK TO liaison_transaction; RELEASE liaison_transaction")
            try rebuildApplier()
            let record = try whole()
            guard retrying || applier.isGenuine(record) else { throw error }
            // A key the operator has not trusted yet is shown to them (`liaison trust`, `status`).
            if let notice = error.cause as? TrustNotice { try TrustStore(db: db).record(notice) }
            // Refusal messages written for whole-batch refusals say so; here only this one is held.
            let reason = ["; the whole batch was refused", "; nothing of the batch was applied"].reduce(error.message) {
                $0.replacingOccurrences(of: $1, with: "")
            }
            try hold(
                record, source: source, writable: writable, code: error.code.description, reason: reason,
                waitsFor: nil)
            return .held
        } catch {
            try? db.execute("ROLLBACK TO liaison_transaction; RELEASE liaison_transaction")
            throw error
        }
    }

    /// The held transaction `header` must wait behind: an earlier one of its origin, or one its
    /// context includes.
    private func blocker(of header: TransactionRecord) -> String? {
        if let held = lowest[header.origin], held.seq < header.seq { return "\(held.site)#\(held.seq)" }
        for (site, seq) in header.context.entries.sorted(by: { $0.key < $1.key }) where site != header.origin {
            if let held = lowest[site], held.seq <= seq { return "\(held.site)#\(held.seq)" }
        }
        return nil
    }

    private func hold(
        _ record: TransactionRecord, source: String, writable: Set<String>?, code: String, reason: String,
        waitsFor: String?
    ) throws {
        // An unsigned record keeps the proof of its signed run, so it can be checked alone later.
        var record = record
        if record.signature == nil, record.proof == nil { record.proof = applier.proof(for: record) }
        // A sender's share of the quarantine is bounded (only new entries count: a retry updates).
        if !source.isEmpty, try !store.contains(origin: record.origin, seq: record.seq) {
            try replica.quarantineQuota.check(
                adding: try WireJSON.string(record).utf8.count, from: source, id: "\(record.site)#\(record.seq)",
                store: store)
        }
        try store.hold(record, source: source, writable: writable, code: code, reason: reason, waitsFor: waitsFor)
        lowest = try store.lowestHeld()
        heldCount = try store.count()
        replica.logger.debug(
            "transaction held",
            metadata: [
                "sync.peer": "\(source)", "tx.origin": "\(record.site)#\(record.seq)", "quarantine.code": "\(code)",
            ])
    }

    private func release(_ header: TransactionRecord) throws {
        try store.remove(origin: header.origin, seq: header.seq)
        lowest = try store.lowestHeld()
        heldCount = try store.count()
    }

    /// A fresh applier after a rollback (its caches may name rows the rollback removed); the
    /// signatures checked ahead stay checked.
    func rebuildApplier() throws {
        let verified = applier.verified
        let batchForms = applier.batchForms
        applier = try TransactionApplier(replica: replica, db: db)
        applier.verified = verified
        applier.batchForms = batchForms
        applier.writableScopes = writable
        applier.presentedKeys = presentedKeys
        applier.source = source
        applier.admitsBehindCheckpoint = admitsBehindCheckpoint
    }

    /// Tries every held transaction again, in arrival order, until a pass applies nothing.
    /// `only` limits the first pass to one transaction, `source` to what one peer sent; `override`
    /// applies with no write-grant limit (the operator's release). Returns how many were released
    /// (applied, or found applied already).
    func retryHeld(
        only: (origin: String, seq: Int64)? = nil, source: String? = nil, override: Bool = false
    ) throws -> Int {
        var released = 0
        var retried: Set<String> = []
        var isFirstPass = true
        while true {
            var progress = false
            for entry in try store.entries() {
                if isFirstPass, let only, entry.held.origin != only.origin || entry.held.seq != only.seq { continue }
                if isFirstPass, let source, entry.source != source { continue }
                guard blocker(of: entry.record) == nil else { continue }
                let record = entry.record
                let grant = override ? nil : try currentGrant(of: entry)
                applier.admitsBehindCheckpoint = override || admitsBehindCheckpoint
                defer { applier.admitsBehindCheckpoint = admitsBehindCheckpoint }
                let outcome = try attempt(record, writable: grant, source: entry.source, retrying: true) { applier in
                    guard try applier.check(record) else { return try applier.applyLate(record) > 0 }
                    try applier.apply(record) { record.changes }
                    return true
                } whole: {
                    record
                }
                if outcome != .held {
                    released += 1
                    progress = true
                    retried.insert(record.origin)
                }
            }
            if !progress || (isFirstPass && only != nil) { break }
            isFirstPass = false
        }
        try applier.finish(keepingJournalUpTo: journalMark)
        try SignedRuns.sealTails(db, origins: retried, proofs: applier.tailProof)
        return released
    }

    /// The write grant of the peer a held transaction came from, as it is now.
    private func currentGrant(of entry: QuarantineStore.Entry) throws -> Set<String>? {
        guard !entry.source.isEmpty,
            let text = try db.first(
                "SELECT write_scopes FROM _liaison_peer WHERE name = ?", [.text(entry.source)], { $0.text(0) })
        else { return entry.writable }
        return try Scope.parseGrant(text)
    }
}
