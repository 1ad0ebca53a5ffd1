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
