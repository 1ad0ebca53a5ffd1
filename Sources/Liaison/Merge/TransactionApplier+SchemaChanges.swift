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
        // Forms computed with the tables before this change no longer hold (`BatchForms`).
        batchForms?.invalidate()
        // Revealed values may fill tables found empty (`NewRows`).
        newRows.forget()
        // A column added may reference rows (`referencesOtherRows`).
        referencingTables.removeAll()
        try replica.evolveSchema(db)
    }
}

extension TransactionApplier {
    /// The version of a row's cell: the column's own, else the row's insert, unless the column was
    /// added here after that insert was applied: the insert did not write it, so the cell has no
    /// version yet and the first write of it is taken without a conflict (as at a replica that
    /// knew the column when the insert arrived, where the insert set no version for it).
    func cellVersion(of column: String, in versions: VersionStore.RowVersions, table: String) throws
        -> VersionStore.Origin?
    {
        if let own = versions.columns[column] { return own }
        guard let insert = versions.insert else { return nil }
        if columnBirths == nil { columnBirths = try ColumnBirth.load(db) }
        guard let born = columnBirths?[table]?[column] else { return insert }
        let applied = try db.first(
            "SELECT ord FROM _liaison_tx WHERE sidx = ? AND seq = ?", [.integer(insert.site), .integer(insert.seq)]
        ) { $0.int64(0) }
        return (applied ?? 0) < born ? nil : insert
    }
}

/// When each column added by a schema change was added here, as the apply order it started at:
/// an insert applied before then did not write the column (`cellVersion`).
enum ColumnBirth {
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_column_birth(
            tbl TEXT NOT NULL, col TEXT NOT NULL, ord INTEGER NOT NULL, PRIMARY KEY (tbl, col)) WITHOUT ROWID
        """

    static func record(_ db: Connection, table: String, columns: [String]) throws {
        try db.execute(createSQL)
        for column in columns {
            try db.run(
                "INSERT OR IGNORE INTO _liaison_column_birth(tbl, col, ord) SELECT ?, ?, next_ord FROM _liaison_state",
                [.text(table), .text(column)])
        }
    }

    static func load(_ db: Connection) throws -> [String: [String: Int64]] {
        guard try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_column_birth'", [], { _ in true }) != nil
        else { return [:] }
        var births: [String: [String: Int64]] = [:]
        for (table, column, ord) in try db.query(
            "SELECT tbl, col, ord FROM _liaison_column_birth", [],
            {
                ($0.text(0), $0.text(1), $0.int64(2))
            })
        {
            births[table, default: [:]][column] = ord
        }
        return births
    }
}
