import Crypto
import Foundation

/// Applies remote transactions to a replica: checks them, merges each cell with the merge rule,
/// records conflicts, and appends them to the change log in this replica's apply order.
///
/// Runs inside the caller's SQLite transaction; local edits must be published first, so every cell
/// version it compares against is a published transaction.
final class TransactionApplier {
    let replica: Replica
    let db: Connection
    let sites: SiteDirectory
    let versions: VersionStore
    let conflicts: ConflictStore
    /// Writes already looked up in this batch, by version.
    var writes: [VersionStore.Origin: CellWrite] = [:]
    /// `INSERT` statements built in this batch, by table and column set.
    var insertStatements: [InsertShape: String] = [:]
    /// Whether each table has a reference column, by name (`referencesOtherRows`).
    var referencingTables: [String: Bool] = [:]
    private(set) var nextOrder: Int64
    private var lastHLC: HybridTimestamp

    init(replica: Replica, db: Connection) throws {
        self.replica = replica
        self.db = db
        self.sites = try SiteDirectory(db: db)
        self.versions = VersionStore(db: db)
        self.conflicts = ConflictStore(db: db)
        (nextOrder, lastHLC) =
            try db.first("SELECT next_ord, last_hlc FROM _liaison_state") {
                ($0.int64(0), HybridTimestamp(rawValue: $0.int64(1)))
            } ?? (1, .zero)
    }

    /// Scopes this batch may write (the sender's write grant here); `nil` for any.
    var writableScopes: Set<String>?
    /// Set by an operator's release: a transaction behind a chain base is applied anyway.
    var admitsBehindCheckpoint = false
    /// Runs of origins' chains compaction removed here (`ChainBase`), read once per batch.
    var removedRuns: [Int64: [ChainBase]]?
    /// Keys the batch presented that are not trusted here (see `TransactionApplier+Identity.swift`).
    var presentedKeys: [String: SiteKeyRecord] = [:]
    /// The peer the batch came from, for alarms.
    var source = ""
    /// Origins held after an equivocation, loaded on first use.
    var heldOrigins: Set<String>?

    var writeRule: WriteRule { WriteRule(db: db, writable: writableScopes) }

    /// When columns added by schema changes were added here, loaded on first use (`cellVersion`).
    var columnBirths: [String: [String: Int64]]?

    /// The conflicts the transaction being applied resolves (its `resolves`).
    var resolving: Set<String> = []

    /// Headers whose signatures were checked ahead of the apply (`verifyAhead`).
    var verified = VerifiedHeaders()

    /// The signed forms of the batch's changes (`BatchForms`), and those of the record being applied.
    var batchForms: BatchForms?
    var currentForms: [BatchForms.Form]?
    /// The position in the batch (and in `batchForms`) of the record being applied, when it is one
    /// of the batch's whole records as given (`admit` then takes its root and signed bytes).
    var currentIndex: Int?

    /// Set while a group of transactions applies in one savepoint (`BatchApplication+Groups`):
    /// each origin's applied seq and the apply order are written once, by `flushCounters`, at the
    /// group's end. Nothing reads them from the file meanwhile: the applied seqs are answered
    /// from `admission`, the order from `nextOrder`.
    var defersCounters = false
    private var pendingSeqs: [Int64: Int64] = [:]

    /// The digest of the last transaction of each origin applied by this applier (the hash-chain
    /// link the next one must name). A rollback rebuilds the applier, so it never names one undone.
    var lastApplied: [Int64: (seq: Int64, digest: String)] = [:]

    /// Trust and site answers read once per batch (`AdmissionCache`).
    let admission = AdmissionCache()
    /// The row of the change being applied (`TransactionApplier+RowMemo.swift`).
    var rowMemo: RowMemo?
    /// Tables found empty by this applier, with the ids it merged since (`NewRows`).
    var newRows = NewRows()
    /// Whether a withheld change is held here, read once per batch (`holdsWithheld`).
    var withheldAny: Bool?
    var cachesWithheld = false

    /// Applies a transaction already checked with `check`; `changes` gives its changes in order
    /// (called twice: once to check the signature, then to apply).
    ///
    /// The signature is checked before any row is looked up (`admit`), so what a forged or altered
    /// transaction is told never depends on the rows this replica holds.
    func apply<Changes: Sequence<ChangeRecord>>(_ header: TransactionRecord, changes: () throws -> Changes) throws {
        let admitted = try admit(header, changes: changes)
        let (origin, write, name) = (admitted.origin, admitted.write, admitted.name)
        resolving = Set(header.resolves ?? [])
        cachesWithheld = true
        defer {
            resolving = []
            rowMemo = nil
            cachesWithheld = false
        }
        // Pass 2: each change is checked, logged and merged (`applyChange`).
        var count = 0
        var seen = AppliedChanges()
        for change in try changes() {
            let position = change.index ?? count
            count += 1
            let form =
                try admitted.forms[position]
                ?? admittedForm(of: change, name: name, digest: admitted.received[position])
            try applyChange(change, form, position: position, of: origin, write: write, name: name, into: &seen)
        }
        (cachesWithheld, rowMemo) = (false, nil)
        try finishApply(header, admitted, seen)
    }

    /// What `apply` does once a transaction's changes are merged: the scopes it writes must be
    /// declared, its withheld changes are kept as digests, and it is logged as applied.
    func finishApply(_ header: TransactionRecord, _ admitted: Admitted, _ seen: AppliedChanges) throws {
        let (index, origin, write, name) = (admitted.index, admitted.origin, admitted.write, admitted.name)
        try checkDeclared(seen.scopes, name: name)
        try recordWithheld(header, index: index, received: admitted.received)
        if header.digests != nil { withheldAny = nil }
        let digest = admitted.digest
        try db.run(
            """
            INSERT INTO _liaison_tx(sidx, seq, hlc, author, context, resolves, ord, changes, previous, root, signature, digest)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(index), .integer(header.seq), .integer(header.hlc.rawValue), .text(header.author),
                .text(admitted.context),
                header.resolves.map { .text(ConflictStore.encodeIDs($0)) } ?? .null, .integer(nextOrder),
                .integer(Int64(header.total)), admitted.previous.map { .text($0) } ?? .null, .text(admitted.root),
                .text(header.signature ?? ""), .text(digest),
            ])
        lastApplied[index] = (header.seq, digest)
        if let resolves = header.resolves { try honour(resolves, by: origin, write: write) }
        admission.rememberApplied(index, seq: header.seq)
        lastHLC = max(lastHLC, header.hlc)
        nextOrder += 1
        pendingSeqs[index] = header.seq
        if !defersCounters { try flushCounters() }
        if seen.carriesSchema { try evolveSchemaAfter(header) }
    }

    /// Writes the applied seq of each origin applied since the last call, and the apply order.
    func flushCounters() throws {
        guard !pendingSeqs.isEmpty else { return }
        for (index, seq) in pendingSeqs {
            try db.run("UPDATE _liaison_site SET seq = ? WHERE sidx = ?", [.integer(seq), .integer(index)])
        }
        pendingSeqs.removeAll(keepingCapacity: true)
        try db.run(
            "UPDATE _liaison_state SET next_ord = ?, last_hlc = ?", [.integer(nextOrder), .integer(lastHLC.rawValue)])
    }

    /// Appends one received change to the change log, with its canonical values.
    func log(_ change: ChangeRecord, _ form: SignedForm, of origin: VersionStore.Origin, position: Int) throws {
        try db.run(
            "INSERT INTO _liaison_change(sidx, seq, n, tbl, pk, op, vals, lvls, scope, digest, bases) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(origin.site), .integer(origin.seq), .integer(Int64(position + 1)), .text(change.table),
                .text(change.id), .text(change.op.rawValue),
                form.canonicalValues(of: change).map { .text($0) } ?? .null,
                form.levels.map { .text($0) } ?? .null, .text(form.scope), .text(form.digest),
                CellBases.encode(change.bases).map { .text($0) } ?? .null,
            ])
    }

    /// Discards what the capture triggers recorded while remote changes were written.
    func finish(keepingJournalUpTo mark: Int64 = 0) throws {
        try db.run("DELETE FROM _liaison_journal WHERE id > ?", [.integer(mark)])
    }

    /// Records a conflict, identified by its row, column and losing write.
    func record(_ conflict: ConflictStore.Record, loserWrite: CellWrite) throws {
        let id = ConflictStore.id(
            kind: conflict.kind, table: conflict.table, pk: conflict.pk, column: conflict.column,
            loserSite: loserWrite.site, loserSeq: loserWrite.seq)
        let isNew = try conflicts.record(conflict, id: id, order: nextOrder)
        if isNew { try honourEarlierClaims(on: id) }
    }

    /// The write behind a stored version, with its context (cached for the batch).
    func cellWrite(_ origin: VersionStore.Origin) throws -> CellWrite {
        if let cached = writes[origin] { return cached }
        guard
            let (hlc, context) = try db.first(
                "SELECT hlc, context FROM _liaison_tx WHERE sidx = ? AND seq = ?",
                [.integer(origin.site), .integer(origin.seq)],
                { (HybridTimestamp(rawValue: $0.int64(0)), $0.text(1)) })
        else {
            throw LiaisonError(
                .storage, "the change log lacks transaction \(origin.site)#\(origin.seq) named by a version")
        }
        let site = sites.site(origin.site)
        let write = CellWrite(
            site: site.id, code: site.code, seq: origin.seq, hlc: hlc, context: try ChangeCodec.decodeContext(context))
        writes[origin] = write
        return write
    }
}
