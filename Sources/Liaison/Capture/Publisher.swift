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

    private struct Entry {
        var id: Int64
        var table: Int
        var pk: String
        var mask: Int64
        /// The scope of a deleted row.
        var scope: String?
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
        let sites = try SiteDirectory(db: db)
        let entries = try db.prepare(
            "SELECT id, tbl, pk, mask, scope FROM _liaison_journal WHERE tbl > 0 ORDER BY tbl, pk, id DESC")
        var group: [Entry] = []
        func flush() throws {
            guard let first = group.first, let table = tablesByIndex[first.table] else { return }
            try publish(
                group, table: table, sites: sites, sequence: { markers[owner(of: $0)].seq },
                counted: { markers[owner(of: $0)].changes += 1 })
            group.removeAll(keepingCapacity: true)
        }
        while try entries.step() {
            let entry = Entry(
                id: entries.int64(0), table: entries.int(1), pk: entries.text(2), mask: entries.int64(3),
                scope: entries.optionalText(4))
            if let first = group.first, first.table != entry.table || first.pk != entry.pk { try flush() }
            group.append(entry)
        }
        try flush()

        let context = try replica.remoteContextJSON(db)
        var order = try db.first("SELECT next_ord FROM _liaison_state") { $0.int64(0) } ?? 1
        var previous = try db.first(
            "SELECT digest FROM _liaison_tx WHERE sidx = \(SiteIndex.local) ORDER BY seq DESC LIMIT 1"
        ) { $0.text(0) }
        // Headers first, each naming its predecessor's digest; then every signature of the run at
        // once, on every core (`HeaderSigner`).
        var headers: [(marker: Marker, previous: String?, root: String, header: Data, digest: String)] = []
        headers.reserveCapacity(markers.count)
        let changeDigests = try db.cached(
            "SELECT digest FROM _liaison_change WHERE sidx = \(SiteIndex.local) AND seq = ? ORDER BY n")
        for marker in markers {
            changeDigests.reset()
            try changeDigests.bind(marker.seq, at: 1)
            var digests: [String] = []
            while try changeDigests.step() { digests.append(changeDigests.text(0)) }
            let root = TransactionDigest.root(digests)
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
        try DuplicateCheck(replica: replica, db: db).refreshPublished(
            rows: try db.query(
                "SELECT DISTINCT tbl, pk FROM _liaison_journal WHERE tbl > 0", [], { ($0.int(0), $0.text(1)) }),
            order: order)
        let last = markers[markers.count - 1]
        try db.run("UPDATE _liaison_site SET seq = ? WHERE sidx = \(SiteIndex.local)", [.integer(last.seq)])
        try db.run(
            "UPDATE _liaison_state SET next_ord = ?, last_hlc = max(last_hlc, ?)",
            [.integer(order), .integer(last.hlc)])
        try db.run("DELETE FROM _liaison_journal")
        replica.logger.debug(
            "published",
            metadata: [
                "publish.transactions": "\(markers.count)", "publish.first": "\(markers[0].seq)",
                "publish.last": "\(last.seq)",
            ])
        return markers.count
    }

    /// Publishes the journal rows of one row, newest first. Writes of the row within one transaction
    /// become one change.
    private func publish(
        _ entries: [Entry], table: TableInfo, sites: SiteDirectory, sequence: (Int64) -> Int64,
        counted: (Int64) -> Void
    ) throws {
        let allColumns: Int64 = (1 << Int64(table.columns.count)) - 2  // every column but id
        let scopeBit: Int64 = table.columnIndex["scope"].map { 1 << Int64($0) } ?? 0
        let pk = entries[0].pk
        var claimed: Int64 = 0
        var latestIsDelete = false
        var insertSeq: Int64?
        var columnVersions: [Int: Int64] = [:]
        // `columns` are the cells a change writes, `carried` those a move sends unchanged.
        var changes: [(seq: Int64, n: Int64, op: ChangeRecord.Operation, columns: Int64, carried: Int64)] = []
        var deletedScope: String?
        for (position, entry) in entries.enumerated() {
            let seq = sequence(entry.id)
            if entry.mask == 0 {
                if position == 0 { latestIsDelete = true }
                deletedScope = entry.scope
                changes.append((seq, entry.id, .delete, 0, 0))
                break
            }
            let isInsert = entry.mask == -1
            // A move to another scope sends the whole row: a peer that may read only the new
            // scope receives the row as it is from then on, never the versions made before. It
            // writes only the cells it changed; the others are carried with their versions
            // (`CellBases.carriedMark`), unless a later change of this run wrote them.
            let isMove = entry.mask & scopeBit != 0
            let columns = (isInsert ? allColumns : entry.mask) & ~claimed
            let carried = isMove && !isInsert ? allColumns & ~entry.mask & ~claimed : 0
            claimed |= columns
            if isInsert && insertSeq == nil { insertSeq = seq }
            for index in 1..<table.columns.count where columns & (1 << Int64(index)) != 0 {
                columnVersions[index] = seq
            }
            if let last = changes.last, last.seq == seq, last.op != .delete {
                let written = last.columns | columns
                changes[changes.count - 1] = (
                    seq, entry.id, isInsert ? .insert : last.op, written, (last.carried | carried) & ~written
                )
            } else if columns | carried != 0 {
                changes.append((seq, entry.id, isInsert ? .insert : .update, columns, carried & ~columns))
            }
            if isInsert { break }
        }
        // The row as it is now: every non-delete change takes its values from it.
        let rowStatement = try db.cached(table.selectRowSQL)
        let hasRow =
            try changes.contains { $0.op != .delete }
            && {
                try rowStatement.bind(pk, at: 1)
                return try rowStatement.step()
            }()
        defer { rowStatement.reset() }
        let versions = VersionStore(db: db)
        // An update of a row published before names the version each written cell replaced (its
        // base): what this replica had actually seen of that cell.
        let needsBases = hasRow && insertSeq == nil && changes.contains { $0.op == .update }
        let before = needsBases ? try versions.load(table: table.name, pk: pk) : nil
        // A deletion names the version of every cell it removed: a receiver lets it win only over
        // writes whose values its writer had held (issue 12), not over writes it had as digests.
        let deleted = changes.contains { $0.op == .delete } ? try versions.load(table: table.name, pk: pk) : nil
        // owner-wins: each written cell's level is the level it overwrote, plus one when this
        // replica owns the row.
        var levels: [Int: Int64] = [:]
        // A carried cell keeps its level, as it keeps its version.
        var carriedLevels: [Int: Int64] = [:]
        if table.definition.policy == .ownerWins, hasRow, let ownerPosition = table.columnIndex["owner"] {
            let known = try before ?? versions.load(table: table.name, pk: pk)
            let step: Int64 = rowStatement.text(Int32(ownerPosition)) == replica.siteCode.rawValue ? 1 : 0
            for index in columnVersions.keys { levels[index] = known.level(of: table.columns[index].name) + step }
            for index in 1..<table.columns.count { carriedLevels[index] = known.level(of: table.columns[index].name) }
        }
        let carriedBases = try Self.carriedBases(
            of: changes.map { ($0.seq, $0.columns, $0.carried) }, table: table, pk: pk, sites: sites,
            before: { try before ?? versions.load(table: table.name, pk: pk) })
        let insert = try db.cached(
            "INSERT INTO _liaison_change(sidx, seq, n, tbl, pk, op, vals, lvls, scope, digest, bases) VALUES (\(SiteIndex.local), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        let rowScope = hasRow ? rowStatement.text(1) : nil
        for change in changes {
            if change.op != .delete && !hasRow { continue }
            var changeLevels: [String: Int64] = [:]
            for (index, level) in levels where level != 0 && change.columns & (1 << Int64(index)) != 0 {
                changeLevels[table.columns[index].name] = level
            }
            for index in 1..<table.columns.count where change.carried & (1 << Int64(index)) != 0 {
                // The level a carried cell has, whichever change of this run wrote it before.
                let level = columnVersions[index].map { _ in levels[index] ?? 0 } ?? carriedLevels[index] ?? 0
                if level != 0 { changeLevels[table.columns[index].name] = level }
            }
            let scope = (change.op == .delete ? deletedScope : rowScope) ?? "public"
            let values =
                change.op == .delete ? nil : table.rowJSON.encode(rowStatement, mask: change.columns | change.carried)
            let levelsText = ChangeCodec.encodeLevels(changeLevels)
            let levelsString: String? = if case .text(let text) = levelsText { text } else { nil }
            var bases: [String: String] = [:]
            if change.op == .update, let before {
                for index in 1..<table.columns.count where change.columns & (1 << Int64(index)) != 0 {
                    let name = table.columns[index].name
                    if let origin = before.version(of: name) { bases[name] = CellBases.text(origin, sites) }
                }
            }
            if change.op == .update { bases.merge(carriedBases[change.seq] ?? [:]) { written, _ in written } }
            if change.op == .delete, let deleted, deleted.deletion == nil {
                for column in table.columns.dropFirst() {
                    if let origin = deleted.version(of: column.name) { bases[column.name] = CellBases.text(origin, sites) }
                }
            }
            let basesText = CellBases.encode(bases.isEmpty ? nil : bases)
            let digest = TransactionDigest.change(
                table: table.name, id: pk, op: change.op.rawValue, scope: scope,
                values: values.map { String(decoding: $0, as: UTF8.self) }, levels: levelsString, bases: basesText)
            insert.reset()
            try insert.bind([
                .integer(change.seq), .integer(change.n), .text(table.name), .text(pk), .text(change.op.rawValue),
                .null,
                levelsText, .text(scope), .text(digest), basesText.map { .text($0) } ?? .null,
            ])
            if let values { try insert.bind(utf8: values, at: 6) }
            try insert.step()
            counted(change.n)
        }
        if latestIsDelete {
            try versions.set(
                table: table.name, pk: pk, column: VersionStore.deletion, site: SiteIndex.local, seq: changes[0].seq)
            return
        }
        if let insertSeq {
            try versions.removeAll(table: table.name, pk: pk)
            try versions.set(
                table: table.name, pk: pk, column: VersionStore.rowInsert, site: SiteIndex.local, seq: insertSeq)
        } else {
            try versions.remove(table: table.name, pk: pk, column: VersionStore.deletion)
        }
        for (index, seq) in columnVersions where seq != insertSeq || levels[index, default: 0] != 0 {
            try versions.set(
                table: table.name, pk: pk, column: table.columns[index].name, site: SiteIndex.local, seq: seq,
                level: levels[index] ?? 0)
        }
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
