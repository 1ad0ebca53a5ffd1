import Foundation

/// Where schema changes live: the synced table `liaison_schema_change`, one row per change, made
/// once by its origin (insert only; its row id ends with the origin's site code) and shared in
/// `public`, so it travels, is signed and causally ordered like any edit. Which origins may change
/// the schema here is this replica's operator's decision (`_liaison_schema_right`,
/// `liaison grant … --schema`); a change of any other origin is kept and relayed but not applied.
enum SchemaLog {
    static let table = "liaison_schema_change"
    /// The table's number in the capture journal (the dataset's tables count from 1).
    static let journalIndex = 1000
    /// The scope every schema change is shared in.
    static let scope = "public"

    static let definition = TableDefinition(
        table,
        columns: [
            ColumnDefinition("kind", required: true),
            ColumnDefinition("major", .integer, required: true),
            ColumnDefinition("target", required: true),
            ColumnDefinition("body", required: true),
        ])

    static var info: TableInfo {
        let columns = definition.allColumns
        return TableInfo(
            definition: definition, index: journalIndex, columns: columns,
            columnIndex: Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) }))
    }

    /// The synced table with its capture triggers, and triggers that keep its rows as made.
    static var createSQL: String {
        CaptureTriggers.createSQL(for: definition, index: journalIndex) + "\n" + """
            CREATE TRIGGER _liaison_schema_change_frozen BEFORE UPDATE ON liaison_schema_change BEGIN
                SELECT RAISE(ABORT, 'liaison: a schema change is made once and never edited; make a new one');
            END;
            CREATE TRIGGER _liaison_schema_change_kept BEFORE DELETE ON liaison_schema_change BEGIN
                SELECT RAISE(ABORT, 'liaison: a schema change is never deleted');
            END;
            CREATE TABLE IF NOT EXISTS _liaison_schema_right(
                site TEXT PRIMARY KEY NOT NULL, granted TEXT NOT NULL) WITHOUT ROWID;
            """
    }

    /// Refuses `liaison set` and `delete` on the change table: changes go through `liaison schema`.
    static func refuseDirectEdit(of table: TableInfo, by editor: Editor) throws {
        guard table.name == Self.table, !editor.writesSchema else { return }
        throw LiaisonError(
            .invalidInput,
            "'\(Self.table)' holds schema changes, made only with 'liaison schema add-column|add-choice|add-table'")
    }

    /// Every stored change with whether it counts here: its origin may change the schema here
    /// (this site, or one granted the right), and it was inserted whole by that origin.
    static func entries(_ db: Connection, local: SiteCode) throws -> [SchemaEvolution.Entry] {
        let rights = try self.rights(db).union([local.rawValue])
        return try db.query(
            """
            SELECT c.id, c.owner, c.body, s.code, (SELECT count(*) FROM _liaison_version w
                WHERE w.tbl = '\(table)' AND w.pk = c.id AND w.col <> '')
            FROM liaison_schema_change c
            LEFT JOIN _liaison_version v ON v.tbl = '\(table)' AND v.pk = c.id AND v.col = ''
            LEFT JOIN _liaison_site s ON s.sidx = v.sidx
            """
        ) { row in
            let id = row.text(0)
            let owner = row.text(1)
            let origin = row.optionalText(3)
            var entry = SchemaEvolution.Entry(id: id, change: try? SchemaChange.decode(row.text(2)))
            if origin != owner || !id.hasSuffix("@" + owner) || row.int64(4) != 0 {
                entry.refusal = "not made whole by its origin \(owner); ignored"
            } else if !rights.contains(owner) {
                entry.refusal =
                    "\(owner) may not change the schema here; grant it with 'liaison grant DB PEER --schema'"
            }
            return entry
        }
    }

    /// Site codes granted the right to change the schema here.
    static func rights(_ db: Connection) throws -> Set<String> {
        Set(try db.query("SELECT site FROM _liaison_schema_right") { $0.text(0) })
    }
}
