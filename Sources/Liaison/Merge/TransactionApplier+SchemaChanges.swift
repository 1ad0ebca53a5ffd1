import Foundation

/// Schema changes where they land: each is a row its origin makes once, in its own name, and a
/// transaction that carries one changes this replica's tables once it is applied (when its origin
/// may change the schema here; otherwise it is kept and relayed, and applies when granted).
extension TransactionApplier {
    /// Refuses a change of the schema's change table that is not an insert of a new row, owned
    /// by the transaction's origin under an id ending with its site code.
    func checkSchemaChange(_ change: ChangeRecord, write: CellWrite, name: String) throws {
        guard change.table == SchemaLog.table else { return }
        let owner = change.values?["owner"]
        let exists =
            try db.first("SELECT 1 FROM \(SchemaLog.info.quotedName) WHERE id = ?", [.text(change.id)]) { _ in true }
            ?? false
        guard change.op == .insert, !exists, owner == .text(write.code), change.id.hasSuffix("@" + write.code),
            change.scope == SchemaLog.scope
        else {
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(name) edits the schema's change log; a schema change is made once, public, by its "
                    + "origin in its own name. Nothing of the batch was applied")
        }
    }

    /// Applies the schema changes the transaction brought (and any that waited for them).
    func evolveSchemaAfter(_ header: TransactionRecord) throws {
        let carries = try db.first(
            """
            SELECT 1 FROM _liaison_change c JOIN _liaison_site s ON s.sidx = c.sidx
            WHERE s.site_id = ? AND c.seq = ? AND c.tbl = ? LIMIT 1
            """, [.text(header.origin), .integer(header.seq), .text(SchemaLog.table)]
        ) { _ in true }
        guard carries == true else { return }
        try replica.evolveSchema(db)
    }
}
