import Foundation
import Logging

/// Turns the capture journal into published transactions of the change log.
///
/// Runs inside a write transaction, before anything reads the log (a sync, `liaison log`) and before
/// a remote transaction is applied. Each journal row becomes a change carrying the row's current
/// values of the columns it wrote; a column written again by a later unpublished transaction travels
/// with the later one only, and a deletion supersedes the unpublished writes before it. Journal rows
/// are read grouped by row through SQLite's sorter, so memory stays bounded by the number of
/// transactions, not of changes.
struct Publisher {
    let replica: Replica
    let db: Connection

    private struct Marker {
        var id: Int64
        var seq: Int64
        var hlc: Int64
        var author: String
        var changes = 0
        var resolves: [String] = []
    }

    /// Publishes every captured local edit; returns the number of transactions published.
    @discardableResult
    func run() throws -> Int {
        _ = try Journal.tail(db, clock: replica.clock)
        var markers = try db.query(
            "SELECT id, seq, hlc, author FROM _liaison_journal WHERE seq IS NOT NULL ORDER BY id"
        ) { Marker(id: $0.int64(0), seq: $0.int64(1), hlc: $0.int64(2), author: $0.text(3)) }
        guard !markers.isEmpty else { return 0 }
        try checkEditsOfOtherClients(markers)
        let signingKey = try replica.requireSigningKey()
        func owner(of journalID: Int64) -> Int {
            var low = 0
            var high = markers.count - 1
            while low < high {
                let middle = (low + high) / 2
                if markers[middle].id < journalID { low = middle + 1 } else { high = middle }
            }
            return low
        }
        for (id, conflict) in try db.query(
            "SELECT id, pk FROM _liaison_journal WHERE tbl = 0 ORDER BY id", [],
            {
                ($0.int64(0), $0.text(1))
            })
        {
            markers[owner(of: id)].resolves.append(conflict)
        }

        let tablesByIndex = Dictionary(uniqueKeysWithValues: replica.tables.values.map { ($0.index, $0) })
        let writer = try ChangeWriter(replica: replica, db: db)
        // Rows whose only entry is their insert first, in bulk, while the rows' copies still tell
        // which were replaced (`ChangeWriter+PlainInserts`).
        var changedInBulk = 0
        let inBulk = try writer.publishPlainInserts(
            of: Array(tablesByIndex.values), markers: markers.map { ($0.id, $0.seq) },
            counted: {
                markers[owner(of: $0)].changes += 1
                changedInBulk += 1
            })
        // Rows whose only entry is one update, chosen while their copies are still there
        // (`ChangeWriter+PlainUpdates`).
        let updatesInBulk = try writer.choosePlainUpdates(of: Array(tablesByIndex.values))
        // Changes published before whose cells local writes overwrote since take their values
        // from the rows' copies first (`ChangeValues`).
        var copied: [Int: Set<String>] = [:]
        for table in tablesByIndex.values { copied[table.index] = try ChangeValues.keepPrior(db, table: table) }
        if updatesInBulk {
            try writer.publishPlainUpdates(
                of: Array(tablesByIndex.values), markers: markers.map { ($0.id, $0.seq) },
                counted: {
                    markers[owner(of: $0)].changes += 1
                    changedInBulk += 1
                })
        }
        let entries = try db.prepare(
            "SELECT id, tbl, pk, mask, scope FROM _liaison_journal j WHERE tbl > 0"
                + inBulk.map { " AND NOT (\(ChangeWriter.plainInsertSQL($0)))" }.joined()
                + (updatesInBulk ? " AND NOT (\(ChangeWriter.plainUpdateSQL()))" : "") + " ORDER BY tbl, pk, id DESC"
        )
        var group: [ChangeWriter.Entry] = []
        func flush() throws {
            guard let first = group.first, let table = tablesByIndex[first.table] else { return }
            try writer.publish(
                group, table: table, sequence: { markers[owner(of: $0)].seq },
                counted: { markers[owner(of: $0)].changes += 1 })
            group.removeAll(keepingCapacity: true)
        }
        // Each change made in bulk is one journal row: when they are all, there is nothing left.
        var rowByRow = true
        if !inBulk.isEmpty || updatesInBulk {
            let rows = try db.first("SELECT count(*) FROM _liaison_journal WHERE tbl > 0") { $0.int(0) } ?? 0
            rowByRow = rows > changedInBulk
        }
        while rowByRow, try entries.step() {
            let entry = ChangeWriter.Entry(
                id: entries.int64(0), table: entries.int(1), pk: entries.text(2), mask: entries.int64(3),
                scope: entries.optionalText(4), hasCopy: copied[entries.int(1)]?.contains(entries.text(2)) ?? false)
            if let first = group.first, first.table != entry.table || first.pk != entry.pk { try flush() }
            group.append(entry)
        }
        try flush()
        if !inBulk.isEmpty { try db.run("DELETE FROM \(ChangeWriter.slowRowsTable)") }
        if updatesInBulk { try db.run("DELETE FROM \(ChangeWriter.plainUpdatesTable)") }

        let context = try replica.remoteContextJSON(db)
        var order = try db.first("SELECT next_ord FROM _liaison_state") { $0.int64(0) } ?? 1
        var previous = try db.first(
            "SELECT digest FROM _liaison_tx WHERE sidx = \(SiteIndex.local) ORDER BY seq DESC LIMIT 1"
        ) { $0.text(0) }
        // Headers first, each naming its predecessor's digest; then every signature of the run at
        // once, on every core (`HeaderSigner`).
        var headers: [(marker: Marker, previous: String?, root: String, header: Data, digest: String)] = []
        headers.reserveCapacity(markers.count)
        for marker in markers {
            let root = writer.root(of: marker.seq)
            let header = TransactionDigest.header(
                origin: replica.siteID, site: replica.siteCode.rawValue, seq: marker.seq, hlc: marker.hlc,
                author: marker.author, context: context, resolves: marker.resolves, previous: previous, root: root,
                total: marker.changes)
            let digest = SiteKey.sha256Hex(header)
            headers.append((marker, previous, root, header, digest))
            previous = digest
        }
        let signatures = try HeaderSigner.signRun(headers.map { ($0.header, $0.marker.seq) }, with: signingKey)
        let insertTransaction = try db.cached(
            """
            INSERT INTO _liaison_tx(sidx, seq, hlc, author, context, resolves, ord, changes, previous, root, signature, digest)
            VALUES (\(SiteIndex.local), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (entry, signature) in zip(headers, signatures) {
            let marker = entry.marker
            insertTransaction.reset()
            try insertTransaction.bind([
                .integer(marker.seq), .integer(marker.hlc), .text(marker.author), .text(context),
                marker.resolves.isEmpty ? .null : .text(ConflictStore.encodeIDs(marker.resolves)), .integer(order),
                .integer(Int64(marker.changes)), entry.previous.map { .text($0) } ?? .null, .text(entry.root),
                .text(signature), .text(entry.digest),
            ])
            try insertTransaction.step()
            order += 1
        }
        // Duplicates of rows written here are recorded here too, as where the rows arrive (once
        // the run's transactions are logged: a conflict names both sides' transactions).
        if tablesByIndex.values.contains(where: { !$0.definition.naturalKey.isEmpty }) {
            try DuplicateCheck(replica: replica, db: db).refreshPublished(
                rows: try db.query(
                    "SELECT DISTINCT tbl, pk FROM _liaison_journal WHERE tbl > 0", [], { ($0.int(0), $0.text(1)) }),
                order: order)
        }
        // Orphan records of referrers deleted here go, as where the deletions arrive.
        try OrphanRecords(db: db).dropPublishedDeletions(tables: tablesByIndex, replica: replica) {
            markers[owner(of: $0)].resolves
        }
        let last = markers[markers.count - 1]
        try db.run("UPDATE _liaison_site SET seq = ? WHERE sidx = \(SiteIndex.local)", [.integer(last.seq)])
        try db.run(
            "UPDATE _liaison_state SET next_ord = ?, last_hlc = max(last_hlc, ?)",
            [.integer(order), .integer(last.hlc)])
        try db.run("DELETE FROM _liaison_journal")
        // The rows' earlier values were copied into the changes that needed them (`ChangeValues`).
        for table in tablesByIndex.values {
            try db.run("DELETE FROM \(CaptureTriggers.quoted(CaptureTriggers.priorTable(table.name)))")
        }
        replica.logger.debug(
            "published",
            metadata: [
                "publish.transactions": "\(markers.count)", "publish.first": "\(markers[0].seq)",
                "publish.last": "\(last.seq)",
            ])
        return markers.count
    }

}

extension Publisher {
    /// Rows that another SQLite client wrote must pass the checks `liaison set` makes before they
    /// are signed: a row that does not is reported and nothing is published until it is fixed
    /// or reverted (the journal keeps it).
    ///
    /// The journal rows of a transaction are those after the previous marker, up to its own: only
    /// the ranges of other clients' transactions are read (a correlated subquery per journal row
    /// made publishing 100,000 inserts quadratic, minutes instead of seconds).
    private func checkEditsOfOtherClients(_ markers: [Marker]) throws {
        var rows: [(Int, String)] = []
        var start: Int64 = 0
        for marker in markers {
            defer { start = marker.id }
            guard marker.author == Journal.externalAuthor else { continue }
            rows += try db.query(
                "SELECT DISTINCT tbl, pk FROM _liaison_journal WHERE id > ? AND id <= ? AND tbl > 0 AND mask <> 0",
                [.integer(start), .integer(marker.id)]
            ) { ($0.int(0), $0.text(1)) }
        }
        guard !rows.isEmpty else { return }
        let tablesByIndex = Dictionary(uniqueKeysWithValues: replica.tables.values.map { ($0.index, $0) })
        for (index, pk) in rows {
            guard let table = tablesByIndex[index], let row = try replica.readRow(db, table: table, id: pk) else {
                continue
            }
            do {
                try RowID.check(pk)
                for column in table.columns.dropFirst() {
                    try Validation.check(row[column.name] ?? .null, for: column, in: table, db: db)
                }
            } catch let error as LiaisonError {
                throw LiaisonError(
                    .invalidEdit,
                    "\(table.name) '\(pk)' was edited outside liaison and is not published: \(error.message); fix it "
                        + "(liaison set DB \(table.name) \(pk) COL=VALUE) or revert it")
            }
        }
    }
}

extension Replica {
    /// Publishes captured local edits in their own transaction.
    func publish(_ db: Connection) throws {
        _ = try transaction(db) { try Publisher(replica: self, db: db).run() }
    }

    /// Publishes what it can inside the caller's transaction: an edit of another SQLite client that
    /// breaks the rules stops publishing (it is returned, not thrown) but never stops a sync.
    func publishValid(_ db: Connection) throws -> LiaisonError? {
        do {
            try db.execute("SAVEPOINT liaison_publish")
            try Publisher(replica: self, db: db).run()
            try db.execute("RELEASE liaison_publish")
            return nil
        } catch let error as LiaisonError where error.code == .invalidEdit {
            try db.execute("ROLLBACK TO liaison_publish; RELEASE liaison_publish")
            logger.debug("edit not published", metadata: ["db.problem": "\(error.message)"])
            return error
        } catch {
            try? db.execute("ROLLBACK TO liaison_publish; RELEASE liaison_publish")
            throw error
        }
    }

    /// Why local edits cannot be published now (an invalid edit by another SQLite client), if so.
    public func unpublishedEdit() throws -> LiaisonError? {
        try withConnection { db in
            guard !db.isReadOnly,
                try db.first("SELECT 1 FROM _liaison_journal LIMIT 1", [], { _ in true }) ?? false
            else { return nil }
            return try transaction(db) { try publishValid(db) }
        }
    }

    /// The version vector of every site but this one, as canonical JSON.
    func remoteContextJSON(_ db: Connection) throws -> String {
        let entries = try db.query(
            "SELECT site_id, seq FROM _liaison_site WHERE sidx <> \(SiteIndex.local) AND seq > 0 ORDER BY site_id"
        ) {
            CanonicalJSON.string($0.text(0)) + ":" + String($0.int64(1))
        }
        return "{" + entries.joined(separator: ",") + "}"
    }

    /// The current values of a row, or `nil` when it does not exist.
    func readRow(_ db: Connection, table: TableInfo, id: String) throws -> [String: CellValue]? {
        try db.first(table.selectRowSQL, [.text(id)]) { statement in
            var row: [String: CellValue] = [:]
            for (index, column) in table.columns.enumerated() { row[column.name] = statement.value(Int32(index)) }
            return row
        }
    }
}
