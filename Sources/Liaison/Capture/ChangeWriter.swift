import CSQLite
import Foundation

/// The per-row half of publishing: turns one row's journal entries into change-log rows and cell
/// versions. Its statements are prepared once per publish run, per-row state lives in reused
/// buffers, and each change's digest is kept in memory for its transaction's root, so a row costs
/// one read of its current values, one change insert and its version writes, and nothing more.
final class ChangeWriter {
    private let replica: Replica
    let db: Connection
    let sites: SiteDirectory
    private let versions: VersionStore
    private let insertChange: Statement
    private var rowStatements: [Int: Statement] = [:]
    /// Each transaction's change digests made in this run, with their positions (`n`).
    var digests = RunDigests()
    /// The sequence number that last wrote each column of the row being published (0: none).
    private var written: [Int64] = []

    /// One journal row of the row being published.
    struct Entry {
        var id: Int64
        var table: Int
        var pk: String
        var mask: Int64
        /// The scope of a deleted row.
        var scope: String?
        /// Whether the row had a copy of its earlier values, given to its live changes already
        /// (`ChangeValues.keepPrior`).
        var hasCopy = false
    }

    init(replica: Replica, db: Connection) throws {
        self.replica = replica
        self.db = db
        self.sites = try SiteDirectory(db: db)
        self.versions = VersionStore(db: db)
        self.insertChange = try db.prepare(
            "INSERT INTO _liaison_change(sidx, seq, n, tbl, pk, op, live, lvls, scope, digest, bases) "
                + "VALUES (\(SiteIndex.local), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    }

    /// The root of the change digests written for transaction `seq` in this run, in position order.
    func root(of seq: Int64) -> String {
        ChangeDigest.root(digests.ordered(seq))
    }

    private func rowStatement(_ table: TableInfo) throws -> Statement {
        if let statement = rowStatements[table.index] { return statement }
        let statement = try db.prepare(table.selectRowSQL)
        rowStatements[table.index] = statement
        return statement
    }

    /// Publishes the journal rows of one row, newest first. Writes of the row within one transaction
    /// become one change. `sequence` maps a journal id to its transaction; `counted` is told of
    /// each change made.
    func publish(_ entries: [Entry], table: TableInfo, sequence: (Int64) -> Int64, counted: (Int64) -> Void) throws {
        let columnCount = table.columns.count
        let allColumns: Int64 = (1 << Int64(columnCount)) - 2  // every column but id
        let scopeBit: Int64 = table.columnIndex["scope"].map { 1 << Int64($0) } ?? 0
        let pk = entries[0].pk
        // Changes published before that still read their values from the row take them now, from
        // the row as it was then (its prior copy): this run's writes overwrite it. A row whose
        // oldest entry here is its insert had none (it did not exist).
        // A row with a copy in the journal had them given already (`ChangeValues.keepPrior`).
        if entries[entries.count - 1].mask != -1 && !entries.contains(where: \.hasCopy) {
            try ChangeValues.keep(db, table: table.name, pk: pk)
        }
        var claimed: Int64 = 0
        var latestIsDelete = false
        var insertSeq: Int64?
        if written.count < columnCount { written = Array(repeating: 0, count: columnCount) }
        for index in 0..<columnCount { written[index] = 0 }
        // `columns` are the cells a change writes, `carried` those a move sends unchanged.
        var changes: [(seq: Int64, n: Int64, op: ChangeRecord.Operation, columns: Int64, carried: Int64)] = []
        var deletedScope: String?
        let createdInRun = Self.isCreatedInRun(entries)
        for (position, original) in entries.enumerated() {
            let entry = Self.publishedEntry(original, createdInRun: createdInRun, scopeBit: scopeBit)
            let seq = sequence(entry.id)
            if original.mask == 0 {
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
            for index in 1..<columnCount where columns & (1 << Int64(index)) != 0 { written[index] = seq }
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
        let row = try rowStatement(table)
        row.reset()
        defer { row.reset() }
        let hasRow =
            try changes.contains { $0.op != .delete }
            && {
                try row.bind(pk, at: 1)
                return try row.step()
            }()
        // An update of a row published before names the version each written cell replaced (its
        // base): what this replica had actually seen of that cell.
        let needsBases = hasRow && insertSeq == nil && changes.contains { $0.op == .update }
        let before = needsBases ? try versions.load(table: table.name, pk: pk) : nil
        // An insert names what it replaced here: a creation over a row this replica held only as a
        // digest is then concurrent with that row's creation wherever it is merged (issue 12).
        let replaced = hasRow && insertSeq != nil ? try versions.load(table: table.name, pk: pk) : nil
        // A deletion names the version of every cell it removed: a receiver lets it win only over
        // writes whose values its writer had held (issue 12), not over writes it had as digests.
        let deleted = changes.contains { $0.op == .delete } ? try versions.load(table: table.name, pk: pk) : nil
        // owner-wins: each written cell's level is the level it overwrote, plus one when this
        // replica owns the row.
        var levels: [Int: Int64] = [:]
        // A carried cell keeps its level, as it keeps its version.
        var carriedLevels: [Int: Int64] = [:]
        if table.definition.policy == .ownerWins, hasRow, let ownerPosition = table.columnIndex["owner"] {
            let known = try before ?? replaced ?? versions.load(table: table.name, pk: pk)
            let step: Int64 = row.text(Int32(ownerPosition)) == replica.siteCode.rawValue ? 1 : 0
            for index in 1..<columnCount where written[index] != 0 {
                levels[index] = known.level(of: table.columns[index].name) + step
            }
            for index in 1..<columnCount { carriedLevels[index] = known.level(of: table.columns[index].name) }
        }
        let carriedBases = try Publisher.carriedBases(
            of: changes.map { ($0.seq, $0.columns, $0.carried) }, table: table, pk: pk, sites: sites,
            before: { try before ?? versions.load(table: table.name, pk: pk) })
        let rowScope = hasRow ? row.text(1) : nil
        for change in changes {
            if change.op != .delete && !hasRow { continue }
            var changeLevels: [String: Int64] = [:]
            for (index, level) in levels where level != 0 && change.columns & (1 << Int64(index)) != 0 {
                changeLevels[table.columns[index].name] = level
            }
            for index in 1..<columnCount where change.carried & (1 << Int64(index)) != 0 {
                // The level a carried cell has, whichever change of this run wrote it before.
                let level = written[index] != 0 ? levels[index] ?? 0 : carriedLevels[index] ?? 0
                if level != 0 { changeLevels[table.columns[index].name] = level }
            }
            let scope = (change.op == .delete ? deletedScope : rowScope) ?? "public"
            let values =
                change.op == .delete ? nil : table.rowJSON.encode(row, mask: change.columns | change.carried)
            let levelsText: String? =
                changeLevels.isEmpty ? nil : CanonicalJSON.object(changeLevels.mapValues { .integer($0) })
            var bases: [String: String] = [:]
            // Each column is written by one change of this run, which replaced its version from
            // before the run. An update over an insert of this run names what it replaced, as the insert does.
            if change.op == .update, let source = before ?? replaced {
                for index in 1..<columnCount where change.columns & (1 << Int64(index)) != 0 {
                    let name = table.columns[index].name
                    if let origin = source.version(of: name) { bases[name] = CellBases.text(origin, sites) }
                }
                if before == nil { bases[CellBases.insertMark] = "" }
            }
            if change.op == .update { bases.merge(carriedBases[change.seq] ?? [:]) { written, _ in written } }
            if change.op == .insert, let replaced {
                let columns = (1..<columnCount).filter { change.columns & (1 << Int64($0)) != 0 }
                bases = CellBases.insertBases(
                    replacing: replaced, columns: columns.map { table.columns[$0].name }, sites)
            }
            if change.op == .delete, let deleted, deleted.deletion == nil {
                for column in table.columns.dropFirst() {
                    if let origin = deleted.version(of: column.name) {
                        bases[column.name] = CellBases.text(origin, sites)
                    }
                }
            }
            let basesText = CellBases.encode(bases.isEmpty ? nil : bases)
            let digest = ChangeDigest.hex(
                table: table.name, id: pk, op: change.op.rawValue, scope: scope, values: values, levels: levelsText,
                bases: basesText)
            let insert = insertChange
            insert.reset()
            try insert.bind(change.seq, at: 1)
            try insert.bind(change.n, at: 2)
            try insert.bind(table.name, at: 3)
            try insert.bind(pk, at: 4)
            try insert.bind(change.op.rawValue, at: 5)
            // Every cell this change writes is current: its values stay in the row (`ChangeValues`).
            if values != nil { try insert.bind(change.columns | change.carried, at: 6) }
            if let levelsText { try insert.bind(levelsText, at: 7) }
            try insert.bind(scope, at: 8)
            try insert.bind(utf8: digest, at: 9)
            if let basesText { try insert.bind(basesText, at: 10) }
            try insert.step()
            digests.append(seq: change.seq, n: change.n, hex: digest)
            counted(change.n)
        }
        if latestIsDelete {
            try versions.set(
                table: table.name, pk: pk, column: VersionStore.deletion, site: SiteIndex.local, seq: changes[0].seq)
            return
        }
        if let insertSeq {
            if replaced?.isKnown != false { try versions.removeAll(table: table.name, pk: pk) }
            try versions.set(
                table: table.name, pk: pk, column: VersionStore.rowInsert, site: SiteIndex.local, seq: insertSeq)
        } else if before?.deletion != nil || before == nil {
            // A row whose versions were read here without a deletion has none to remove.
            try versions.remove(table: table.name, pk: pk, column: VersionStore.deletion)
        }
        for index in 1..<columnCount where written[index] != 0 {
            let seq = written[index]
            guard seq != insertSeq || levels[index, default: 0] != 0 else { continue }
            try versions.set(
                table: table.name, pk: pk, column: table.columns[index].name, site: SiteIndex.local, seq: seq,
                level: levels[index] ?? 0)
        }
    }
}
