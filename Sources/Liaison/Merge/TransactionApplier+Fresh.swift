import Foundation

/// Rows new here: the clone case, where every change of a large transaction creates a row this
/// replica never saw. Such a change is merged before it is logged, and when the row then holds
/// exactly its values the log keeps only the bit mask of those columns (`live`), as publishing
/// does for local changes (`ChangeValues`): the values are read from the row while they are
/// current and copied into the log before anything overwrites them (`ChangeValues.keep`, which
/// every later merge, eviction and local write runs first).
///
/// The merge of a row with no versions, no row and no carried cells never reads the change log
/// for that row, so logging after it changes nothing it decides.
extension TransactionApplier {
    /// The mask of the columns `change` writes, when it may be logged live after its merge: an
    /// insert of a row neither held nor known here, into a known table, of known columns only,
    /// with nothing carried. `nil` otherwise (logged with its values, before the merge).
    func freshInsertMask(_ change: ChangeRecord, table: TableInfo) throws -> Int64? {
        guard change.op == .insert, table.isKnown, table.columns.count < 63, let values = change.values,
            !values.isEmpty, CellBases.carriedColumns(change.bases).isEmpty
        else { return nil }
        var mask: Int64 = 0
        for name in values.keys {
            guard name != "id", let position = table.columnIndex[name] else { return nil }
            mask |= 1 << Int64(position)
        }
        guard try heldRow(table, change.id) == nil, try !rowVersions(table, change.id).isKnown else { return nil }
        return mask
    }
}
