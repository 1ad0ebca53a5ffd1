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
    private var writes: [VersionStore.Origin: CellWrite] = [:]
    private var insertStatements: [InsertShape: String] = [:]
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

    /// Whether this replica has applied the transaction already.
    func hasApplied(origin: String, seq: Int64) throws -> Bool {
        guard let index = sites.existingIndex(of: origin) else { return false }
        return try appliedSeq(index) >= seq
    }

    private func appliedSeq(_ index: Int64) throws -> Int64 {
        try db.first("SELECT seq FROM _liaison_site WHERE sidx = ?", [.integer(index)]) { $0.int64(0) } ?? 0
    }

    /// Checks that `header` may be applied now: new, next in its origin's sequence, its causal
    /// predecessors present, its clock within bounds. Returns `false` when it was applied before.
    func check(_ header: TransactionRecord) throws -> Bool {
        if header.origin == replica.siteID {
            let own = try appliedSeq(1)
            if header.seq <= own { return false }
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(header.site)#\(header.seq) claims to come from this replica, which has only \(own)")
        }
        guard SiteCode(header.site) != nil, TrustStore.isValidSiteID(header.origin), header.seq > 0 else {
            throw LiaisonError(
                .invalidTransaction, "transaction with origin '\(header.origin.prefix(64))' has an invalid header")
        }
        try checkIdentity(header)
        let index = sites.existingIndex(of: header.origin)
        let applied = try index.map(appliedSeq) ?? 0
        if let index, header.seq <= applied {
            try compareWithApplied(header, index: index)
            return false
        }
        if header.seq != applied + 1 {
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(header.site)#\(header.seq) arrived before \(header.site)#\(applied + 1); "
                    + "sync with a peer that has the missing transactions")
        }
        let vector = try sites.versionVector()
        for (site, seq) in header.context.entries where site != header.origin && vector[site] < seq {
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(header.site)#\(header.seq) depends on \(seq) transactions of site \(site), "
                    + "this replica has \(vector[site])")
        }
        try replica.clock.check(remote: header.hlc, from: header.site)
        return true
    }

    /// Applies a transaction already checked with `check`; `changes` gives its changes in order
    /// (called twice: once to check the signature, then to apply).
    ///
    /// The signature is checked before any row is looked up, so what a forged or altered
    /// transaction is told never depends on the rows this replica holds.
    func apply<Changes: Sequence<ChangeRecord>>(_ header: TransactionRecord, changes: () throws -> Changes) throws {
        let key = try publicKey(of: header.origin, site: header.site, seq: header.seq, hlc: header.hlc)
        let index = try sites.index(of: header.origin, code: header.site)
        let origin = VersionStore.Origin(site: index, seq: header.seq)
        let write = CellWrite(
            site: header.origin, code: header.site, seq: header.seq, hlc: header.hlc, context: header.context)
        writes[origin] = write
        let name = "\(header.site)#\(header.seq)"
        guard header.total >= 0, header.digests.map({ $0.count == header.total }) ?? true else {
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(name) lists \(header.digests?.count ?? 0) digests for \(header.total) changes")
        }
        // Pass 1: each change's signed form and digest; nothing but the schema is read.
        var received: [Int: String] = [:]
        var forms: [Int: SignedForm] = [:]
        let keepsForms = Changes.self == [ChangeRecord].self
        var count = 0
        for change in try changes() {
            let position = change.index ?? count
            count += 1
            guard position >= 0, position < header.total, received[position] == nil else {
                throw LiaisonError(
                    .invalidTransaction, "transaction \(name) has a change at an invalid position \(position)")
            }
            let form = try signedForm(of: change, name: name)
            if let expected = header.digests?[position], expected != form.digest {
                throw LiaisonError(
                    .invalidTransaction,
                    "change \(position) of transaction \(name) does not match its signed digest: it was altered")
            }
            received[position] = form.digest
            if keepsForms { forms[position] = form }
        }
        let digests: [String]
        if let listed = header.digests {
            digests = listed
        } else {
            guard received.count == header.total else {
                throw LiaisonError(
                    .invalidTransaction,
                    "transaction \(name) announced \(header.total) changes but held \(received.count)")
            }
            digests = (0..<header.total).map { received[$0]! }
        }
        let root = TransactionDigest.root(digests)
        let context = ChangeCodec.encodeContext(header.context)
        let bytes = Self.signedBytes(of: header, context: context, root: root)
        guard
            verified.contains(bytes, key: key)
                || TransactionDigest.isValid(signature: header.signature, header: bytes, key: key)
        else {
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(name) is not signed by \(header.site)'s key: it was forged or altered; nothing of this batch was applied"
            )
        }
        if header.seq > 1 {
            let expected = try db.first(
                "SELECT digest FROM _liaison_tx WHERE sidx = ? AND seq = ?",
                [.integer(index), .integer(header.seq - 1)]
            ) { $0.text(0) }
            guard let expected, expected == header.previous else {
                throw LiaisonError(
                    .invalidTransaction,
                    "transaction \(name) does not follow \(header.site)#\(header.seq - 1) in its hash chain")
            }
        }
        // Pass 2: the write rule, then each change is logged and merged.
        count = 0
        var scopes: Set<String> = []
        for change in try changes() {
            let position = change.index ?? count
            count += 1
            let form = try forms[position] ?? signedForm(of: change, name: name)
            scopes.insert(form.scope)
            try writeRule.check(change, table: form.table, declared: form.scope, name: name)
            try checkOwnership(change, table: form.table, write: write, name: name)
            try checkSchemaChange(change, write: write, name: name)
            try log(change, form, of: origin, position: position)
            try merge(change, from: origin, write: write)
        }
        try checkDeclared(scopes, name: name)
        if let listed = header.digests {
            for position in 0..<header.total where received[position] == nil {
                try db.run(
                    "INSERT INTO _liaison_withheld(sidx, seq, n, digest) VALUES (?, ?, ?, ?)",
                    [.integer(index), .integer(header.seq), .integer(Int64(position + 1)), .text(listed[position])])
            }
        }
        try db.run(
            """
            INSERT INTO _liaison_tx(sidx, seq, hlc, author, context, resolves, ord, changes, previous, root, signature, digest)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(index), .integer(header.seq), .integer(header.hlc.rawValue), .text(header.author),
                .text(context),
                header.resolves.map { .text(ConflictStore.encodeIDs($0)) } ?? .null, .integer(nextOrder),
                .integer(Int64(header.total)), header.previous.map { .text($0) } ?? .null, .text(root),
                .text(header.signature ?? ""), .text(SiteKey.sha256Hex(bytes)),
            ])
        if let resolves = header.resolves { try honour(resolves, by: origin, write: write) }
        try db.run("UPDATE _liaison_site SET seq = ? WHERE sidx = ?", [.integer(header.seq), .integer(index)])
        lastHLC = max(lastHLC, header.hlc)
        nextOrder += 1
        try db.run(
            "UPDATE _liaison_state SET next_ord = ?, last_hlc = ?", [.integer(nextOrder), .integer(lastHLC.rawValue)])
        if scopes.contains(SchemaLog.scope) { try evolveSchemaAfter(header) }
    }

    /// Applies changes of a transaction applied before, which a peer had withheld then: each must
    /// match the signed digest kept for its position. Returns how many were new.
    func applyLate(_ header: TransactionRecord) throws -> Int {
        guard let index = sites.existingIndex(of: header.origin) else { return 0 }
        let origin = VersionStore.Origin(site: index, seq: header.seq)
        let write = try cellWrite(origin)
        let name = "\(header.site)#\(header.seq)"
        var added = 0
        for change in header.changes {
            guard let position = change.index else { continue }
            let n = Int64(position + 1)
            guard
                let expected = try db.first(
                    "SELECT digest FROM _liaison_withheld WHERE sidx = ? AND seq = ? AND n = ?",
                    [.integer(index), .integer(header.seq), .integer(n)], { $0.text(0) })
            else { continue }
            let form = try signedForm(of: change, name: name)
            guard form.digest == expected else {
                throw LiaisonError(
                    .invalidTransaction,
                    "change \(position) of transaction \(name) does not match its signed digest: it was altered")
            }
            try writeRule.check(change, table: form.table, declared: form.scope, name: name)
            try checkOwnership(change, table: form.table, write: write, name: name)
            try log(change, form, of: origin, position: position)
            try db.run(
                "DELETE FROM _liaison_withheld WHERE sidx = ? AND seq = ? AND n = ?",
                [.integer(index), .integer(header.seq), .integer(n)])
            try merge(change, from: origin, write: write)
            added += 1
        }
        return added
    }

    /// Scopes this batch may write (the sender's write grant here); `nil` for any.
    var writableScopes: Set<String>?
    /// Keys the batch presented that are not trusted here (see `TransactionApplier+Identity.swift`).
    var presentedKeys: [String: SiteKeyRecord] = [:]
    /// The peer the batch came from, for alarms.
    var source = ""
    /// Origins held after an equivocation, loaded on first use.
    var heldOrigins: Set<String>?

    var writeRule: WriteRule { WriteRule(db: db, writable: writableScopes) }

    /// A received change in the form its origin signed: table, declared scope, canonical values and
    /// levels, digest.
    struct SignedForm {
        var table: TableInfo
        var scope: String
        var values: String?
        var levels: String?
        var digest: String
    }

    private func signedForm(of change: ChangeRecord, name: String) throws -> SignedForm {
        guard let scope = change.scope, Scope.isValid(scope) else {
            throw LiaisonError(.invalidTransaction, "a change of transaction \(name) has no valid scope")
        }
        let table = try replica.table(named: change.table)
        let (values, levels, digest) = try Self.signedForm(of: change, table: table, scope: scope)
        return SignedForm(table: table, scope: scope, values: values, levels: levels, digest: digest)
    }

    /// Appends one received change to the change log.
    private func log(_ change: ChangeRecord, _ form: SignedForm, of origin: VersionStore.Origin, position: Int) throws {
        try db.run(
            "INSERT INTO _liaison_change(sidx, seq, n, tbl, pk, op, vals, lvls, scope, digest, bases) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(origin.site), .integer(origin.seq), .integer(Int64(position + 1)), .text(change.table),
                .text(change.id), .text(change.op.rawValue), form.values.map { .text($0) } ?? .null,
                form.levels.map { .text($0) } ?? .null, .text(form.scope), .text(form.digest),
                CellBases.encode(change.bases).map { .text($0) } ?? .null,
            ])
    }

    /// A change's canonical values and levels, and its digest, as its origin signed them.
    static func signedForm(of change: ChangeRecord, table: TableInfo, scope: String) throws
        -> (values: String?, levels: String?, digest: String)
    {
        let values = try change.values.map { received in
            var normalized: [String: CellValue] = [:]
            for (name, value) in received {
                normalized[name] = Validation.normalized(value, for: try table.column(named: name))
            }
            return CanonicalJSON.object(normalized)
        }
        let levels: String? = if case .text(let text) = ChangeCodec.encodeLevels(change.levels) { text } else { nil }
        let digest = TransactionDigest.change(
            table: change.table, id: change.id, op: change.op.rawValue, scope: scope, values: values, levels: levels,
            bases: CellBases.encode(change.bases))
        return (values, levels, digest)
    }

    /// The bytes a transaction's signature covers.
    static func signedBytes(of header: TransactionRecord, context: String, root: String) -> Data {
        TransactionDigest.header(
            origin: header.origin, site: header.site, seq: header.seq, hlc: header.hlc.rawValue, author: header.author,
            context: context, resolves: header.resolves, previous: header.previous, root: root, total: header.total)
    }

    /// Headers whose signatures were checked ahead of the apply (`verifyAhead`).
    var verified = VerifiedHeaders()

    /// Checks the signatures of a batch's complete transactions on every core, before they are
    /// applied one by one: `apply` then skips the check for exactly these bytes under these keys.
    /// Anything that fails here is left to `apply`, which checks it again and says what is wrong.
    func verifyAhead(_ records: [TransactionRecord]) throws {
        // Small batches are checked one by one in `apply`: no key lookups here for them.
        let complete = records.filter { $0.isComplete && $0.origin != replica.siteID }
        guard complete.count >= 4 else { return }
        var work: [(record: TransactionRecord, key: Curve25519.Signing.PublicKey)] = []
        for record in complete {
            guard let key = try? publicKey(of: record.origin, site: record.site, seq: record.seq, hlc: record.hlc)
            else { continue }
            work.append((record, key))
        }
        guard work.count >= 4 else { return }
        let tables = replica.tables
        let jobs = work
        let results = VerifiedHeaders.Collector(count: work.count)
        DispatchQueue.concurrentPerform(iterations: work.count) { index in
            let (record, key) = jobs[index]
            guard let bytes = try? Self.expectedSignedBytes(of: record, tables: tables),
                TransactionDigest.isValid(signature: record.signature, header: bytes, key: key)
            else { return }
            results.set(index, bytes + key.rawRepresentation)
        }
        verified = results.headers
    }

    /// The signed bytes of a complete transaction as its changes imply them; throws on anything malformed.
    static func expectedSignedBytes(of record: TransactionRecord, tables: [String: TableInfo]) throws -> Data {
        let digests: [String]
        if let listed = record.digests {
            digests = listed
        } else {
            // `total` comes from the sender: allocate only for changes actually present.
            guard record.total == record.changes.count else { throw LiaisonError(.invalidTransaction, "incomplete") }
            var byPosition = [String?](repeating: nil, count: record.total)
            for (count, change) in record.changes.enumerated() {
                let position = change.index ?? count
                guard position >= 0, position < record.total, byPosition[position] == nil, let scope = change.scope,
                    let table = tables[change.table]
                else { throw LiaisonError(.invalidTransaction, "malformed") }
                byPosition[position] = try signedForm(of: change, table: table, scope: scope).digest
            }
            guard !byPosition.contains(nil) else { throw LiaisonError(.invalidTransaction, "incomplete") }
            digests = byPosition.map { $0! }
        }
        return signedBytes(
            of: record, context: ChangeCodec.encodeContext(record.context), root: TransactionDigest.root(digests))
    }

    /// Discards what the capture triggers recorded while remote changes were written.
    func finish(keepingJournalUpTo mark: Int64 = 0) throws {
        try db.run("DELETE FROM _liaison_journal WHERE id > ?", [.integer(mark)])
    }

    // MARK: - Merging one change

    func merge(_ change: ChangeRecord, from origin: VersionStore.Origin, write: CellWrite) throws {
        let table = try replica.table(named: change.table)
        do {
            try RowID.check(change.id)
        } catch let error as LiaisonError {
            throw LiaisonError(.invalidTransaction, error.message)
        }
        let known = try versions.load(table: table.name, pk: change.id)
        let current = try replica.readRow(db, table: table, id: change.id)
        if change.op == .delete {
            try mergeDeletion(table: table, pk: change.id, known: known, row: current, origin: origin, write: write)
            return
        }
        guard let received = change.values else {
            throw LiaisonError(
                .invalidTransaction, "a \(change.op.rawValue) of '\(change.table)' '\(change.id)' has no values")
        }
        var values: [String: CellValue] = [:]
        for (name, value) in received {
            let column = try table.column(named: name)
            guard name != "id" else { throw LiaisonError(.invalidTransaction, "a change may not write the id column") }
            try Validation.check(value, for: column, in: table, db: nil)
            values[name] = Validation.normalized(value, for: column)
        }
        var row = current
        var rowVersions = known
        if row == nil, let deletion = known.deletion {
            let deleter = try cellWrite(deletion)
            if deleter.hasSeen(write) { return }
            if !write.hasSeen(deleter) {
                let kept = try writesUnseen(by: deleter, table: table, pk: change.id)
                    .max { MergeRule.wins($1.1, over: $0.1, policy: .lww) }
                try record(
                    .init(
                        kind: .delete, table: table.name, pk: change.id, column: nil, policy: table.definition.policy,
                        winner: kept?.0 ?? origin, winnerValue: nil, loser: deletion, loserValue: nil),
                    loserWrite: deleter)
            }
            row = try restoredRow(table: table, pk: change.id, versions: known)
            rowVersions.deletion = nil
        } else if row == nil, known.isKnown {
            // Known here but not held (moved out of reach, or never whole): merged against its versions.
            row = try restoredRow(table: table, pk: change.id, versions: known)
        }
        var taken: [String: CellValue] = [:]
        for (name, value) in values {
            guard let localOrigin = rowVersions.version(of: name), row != nil else {
                taken[name] = value
                continue
            }
            let local = try cellWrite(localOrigin).at(level: rowVersions.level(of: name))
            let remote = write.at(level: change.levels?[name] ?? 0)
            let seen = try knowledge(
                table: table.name, pk: change.id, column: name, local: localOrigin, localWrite: local, remote: origin,
                remoteWrite: remote, remoteBases: change.bases)
            let decision = MergeRule.resolve(
                local: local, remote: remote, policy: table.definition.policy, remoteHasSeenLocal: seen.remoteSawLocal,
                localHasSeenRemote: seen.localSawRemote)
            let localValue = row?[name] ?? .null
            if decision.isConflict {
                let (winner, loser) = decision.takesRemote ? (origin, localOrigin) : (localOrigin, origin)
                let (winnerValue, loserValue) = decision.takesRemote ? (value, localValue) : (localValue, value)
                try record(
                    .init(
                        kind: .value, table: table.name, pk: change.id, column: name, policy: table.definition.policy,
                        winner: winner, winnerValue: winnerValue, loser: loser, loserValue: loserValue),
                    loserWrite: decision.takesRemote ? local : remote)
            }
            if decision.takesRemote { taken[name] = value }
        }
        try store(table: table, pk: change.id, existing: current, restored: row, taken: taken)
        let wroteWholeRow = change.op == .insert && taken.count == table.columns.count - 1 && change.levels == nil
        if wroteWholeRow {
            try versions.removeAll(table: table.name, pk: change.id)
            try versions.set(
                table: table.name, pk: change.id, column: VersionStore.rowInsert, site: origin.site, seq: origin.seq)
        } else {
            if known.deletion != nil {
                try versions.remove(table: table.name, pk: change.id, column: VersionStore.deletion)
            }
            for name in taken.keys {
                try versions.set(
                    table: table.name, pk: change.id, column: name, site: origin.site, seq: origin.seq,
                    level: change.levels?[name] ?? 0)
            }
        }
        try checkReferences(table: table, pk: change.id, taken: taken, origin: origin, write: write)
        if current == nil { try checkDuplicates(table: table, pk: change.id) }
    }

    private func mergeDeletion(
        table: TableInfo, pk: String, known: VersionStore.RowVersions, row: [String: CellValue]?,
        origin: VersionStore.Origin, write: CellWrite
    ) throws {
        guard row != nil else {
            if known.deletion == nil {
                try versions.set(
                    table: table.name, pk: pk, column: VersionStore.deletion, site: origin.site, seq: origin.seq)
            }
            return
        }
        let unseen = try writesUnseen(by: write, table: table, pk: pk)
        if unseen.isEmpty {
            try db.run("DELETE FROM \(table.quotedName) WHERE id = ?", [.text(pk)])
            try versions.set(
                table: table.name, pk: pk, column: VersionStore.deletion, site: origin.site, seq: origin.seq)
            try checkReferrers(of: table, pk: pk, deletion: origin, write: write)
            return
        }
        let kept = unseen.max { MergeRule.wins($1.1, over: $0.1, policy: .lww) }!
        try record(
            .init(
                kind: .delete, table: table.name, pk: pk, column: nil, policy: table.definition.policy, winner: kept.0,
                winnerValue: nil, loser: origin, loserValue: nil),
            loserWrite: write)
    }

    /// Every logged write of the row that `deleter` had not seen. A deletion removes the row only
    /// when this is empty: judging by every write, not only the ones still visible, gives the same
    /// outcome in any delivery order.
    func writesUnseen(by deleter: CellWrite, table: TableInfo, pk: String) throws
        -> [(VersionStore.Origin, CellWrite)]
    {
        let origins = try db.query(
            "SELECT DISTINCT sidx, seq FROM _liaison_change WHERE tbl = ? AND pk = ? AND op <> 'delete'",
            [.text(table.name), .text(pk)]
        ) { VersionStore.Origin(site: $0.int64(0), seq: $0.int64(1)) }
        return try origins.compactMap { origin in
            let other = try cellWrite(origin)
            return deleter.hasSeen(other) || (other.site == deleter.site && other.seq == deleter.seq)
                ? nil : (origin, other)
        }
    }

    /// Writes the merged values: inserts the row when it is new or restored, else updates it.
    private func store(
        table: TableInfo, pk: String, existing: [String: CellValue]?, restored: [String: CellValue]?,
        taken: [String: CellValue]
    ) throws {
        if existing == nil {
            var values = restored ?? [:]
            for (name, value) in taken { values[name] = value }
            values["id"] = .text(pk)
            // Never rebuilt from a partial set of changes: a row whose scope or required columns are
            // unknown here stays unheld (its versions are kept) until a change brings it whole.
            guard case .text = values["scope"],
                table.definition.columns.allSatisfy({ !$0.isRequired || (values[$0.name] ?? .null) != .null })
            else { return }
            var written: [Int] = []
            var arguments: [CellValue] = []
            for (position, column) in table.columns.enumerated() {
                guard let value = values[column.name] else { continue }
                written.append(position)
                arguments.append(value)
            }
            try db.run(insertSQL(table, columns: written), arguments)
        } else if !taken.isEmpty {
            let names = taken.keys.sorted()
            let assignments = names.map { "\(CaptureTriggers.quoted($0)) = ?" }.joined(separator: ", ")
            try db.run(
                "UPDATE \(table.quotedName) SET \(assignments) WHERE id = ?", names.map { taken[$0]! } + [.text(pk)])
        }
    }

    /// `INSERT INTO table(columns) VALUES (?, …)` for the columns at `positions`, built once per batch.
    private func insertSQL(_ table: TableInfo, columns positions: [Int]) -> String {
        let key = InsertShape(table: table.index, columns: positions)
        if let sql = insertStatements[key] { return sql }
        let names = positions.map { table.quotedColumns[$0] }.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: positions.count).joined(separator: ", ")
        let sql = "INSERT INTO \(table.quotedName)(\(names)) VALUES (\(placeholders))"
        insertStatements[key] = sql
        return sql
    }

    private struct InsertShape: Hashable {
        var table: Int
        var columns: [Int]
    }

    /// The values a deleted row had, rebuilt from the change log by each cell's version.
    private func restoredRow(table: TableInfo, pk: String, versions known: VersionStore.RowVersions) throws
        -> [String: CellValue]
    {
        var logged: [VersionStore.Origin: [String: CellValue]] = [:]
        for (site, seq, vals) in try db.query(
            "SELECT sidx, seq, vals FROM _liaison_change WHERE tbl = ? AND pk = ? AND vals IS NOT NULL",
            [.text(table.name), .text(pk)], { ($0.int64(0), $0.int64(1), $0.text(2)) })
        {
            let values = try ChangeCodec.decodeValues(vals) ?? [:]
            logged[VersionStore.Origin(site: site, seq: seq), default: [:]].merge(values) { _, new in new }
        }
        var row: [String: CellValue] = ["id": .text(pk)]
        for column in table.columns.dropFirst() {
            if let origin = known.version(of: column.name), let value = logged[origin]?[column.name] {
                row[column.name] = value
            }
        }
        return row
    }

    func record(_ conflict: ConflictStore.Record, loserWrite: CellWrite) throws {
        let id = ConflictStore.id(
            kind: conflict.kind, table: conflict.table, pk: conflict.pk, column: conflict.column,
            loserSite: loserWrite.site, loserSeq: loserWrite.seq)
        try conflicts.record(conflict, id: id, order: nextOrder)
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
