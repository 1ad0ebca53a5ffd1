import Foundation

/// The row a change names and its cell versions, read once for the checks of the change
/// (ownership) and its merge, instead of once each; and whether this replica holds any withheld
/// change, read once per transaction.
///
/// Only `apply` arms the memo, for one change at a time (`RowMemo` names its row, empty), and the
/// merge of that change disarms it when it ends, so nothing kept outlives a write of the row.
/// Elsewhere (a late change, a revealed column) every read goes to the file, as before.
extension TransactionApplier {
    struct RowMemo {
        var table: String
        var pk: String
        var row: [String: CellValue]??
        var versions: VersionStore.RowVersions?
    }

    /// The row `pk` of `table` as held now (`nil`: not held).
    func heldRow(_ table: TableInfo, _ pk: String) throws -> [String: CellValue]? {
        guard let memo = rowMemo, memo.table == table.name, memo.pk == pk else {
            return try replica.readRow(db, table: table, id: pk)
        }
        if let row = memo.row { return row }
        let row = try replica.readRow(db, table: table, id: pk)
        rowMemo?.row = .some(row)
        return row
    }

    /// The cell versions of row `pk` of `table`.
    func rowVersions(_ table: TableInfo, _ pk: String) throws -> VersionStore.RowVersions {
        guard let memo = rowMemo, memo.table == table.name, memo.pk == pk else {
            return try versions.load(table: table.name, pk: pk)
        }
        if let known = memo.versions { return known }
        let known = try versions.load(table: table.name, pk: pk)
        rowMemo?.versions = known
        return known
    }

    /// Whether any change is held here only as a withheld digest. Inside `apply`'s changes it is
    /// read once per batch: only `recordWithheld` (after the changes; `apply` then forgets the
    /// answer) and `applyLate` (which forgets it too) change the table.
    func holdsWithheld() throws -> Bool {
        if cachesWithheld, let known = withheldAny { return known }
        let any = try db.first("SELECT 1 FROM _liaison_withheld LIMIT 1", [], { _ in true }) != nil
        if cachesWithheld { withheldAny = any }
        return any
    }
}

extension TransactionApplier {
    /// Arms the memo for the change of `pk` about to be checked and merged. A row new here (see
    /// `NewRows`) is known to be neither held nor versioned without reading the file: the clone
    /// case, where every row of a table arrives for the first time.
    func armRowMemo(table: TableInfo, pk: String) throws {
        var memo = RowMemo(table: table.name, pk: pk)
        if table.isKnown, try newRows.isNew(table, pk, db: db) {
            memo.row = .some(nil)
            memo.versions = VersionStore.RowVersions()
        }
        rowMemo = memo
    }
}

/// Rows no change has reached here yet, known without a read: a table this applier found with no
/// row, no cell version and no logged change (one read each, once per table) holds none of the
/// ids the applier has not merged since. Every write of a synced row during a batch goes through
/// `merge` (which notes its id) or through a step that forgets what this knows (eviction
/// outlines, a schema change's revealed values); a rollback rebuilds the applier. Ids are kept as
/// hashes, at most `limit` per table: a hash shared by two ids only sends the second down the
/// path that reads the file, and past the limit every row does.
struct NewRows {
    static let limit = 250_000
    /// Per table: `nil` when it was not empty, else the hashes of the ids merged since.
    private var tables: [String: Set<Int>?] = [:]

    mutating func isNew(_ table: TableInfo, _ pk: String, db: Connection) throws -> Bool {
        if tables[table.name] == nil {
            tables[table.name] = try Self.isEmpty(table, db: db) ? .some([]) : .some(nil)
        }
        guard case .some(.some(let merged)) = tables[table.name], merged.count < Self.limit else { return false }
        return !merged.contains(pk.hashValue)
    }

    /// Notes that a change of `pk` was merged (or is being merged).
    mutating func merged(_ table: String, _ pk: String) {
        guard case .some(.some) = tables[table] else { return }
        tables[table]??.insert(pk.hashValue)
    }

    /// Forgets every table: the next change reads the file again.
    mutating func forget() { tables.removeAll() }

    private static func isEmpty(_ table: TableInfo, db: Connection) throws -> Bool {
        try db.first("SELECT 1 FROM \(table.quotedName) LIMIT 1") { _ in true } == nil
            && db.first("SELECT 1 FROM _liaison_version WHERE tbl = ? LIMIT 1", [.text(table.name)]) { _ in true }
                == nil
            && db.first("SELECT 1 FROM _liaison_change WHERE tbl = ? LIMIT 1", [.text(table.name)]) { _ in true } == nil
    }
}
