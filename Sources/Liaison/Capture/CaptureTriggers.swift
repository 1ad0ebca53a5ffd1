import Foundation

/// The SQL triggers that record every write to a synced table into `_liaison_journal`, inside the
/// writer's own SQLite transaction, whoever the writer is (the library, the CLI, the `sqlite3` shell).
///
/// The hot path writes one journal row per captured write: the row id, a bit mask of the changed
/// columns and, for an update or deletion, the row as it was (`JournalCopy`): published changes
/// whose cells were all still current keep no values of their own (`ChangeValues`), and the first
/// copy of a row since the last publish is where they are read from until publishing stores them.
/// The values the changes carry are read when the transaction is published.
enum CaptureTriggers {
    /// Statements creating the table and its triggers. `index` is the table's 1-based number. The
    /// journal must be wide enough for the table's columns (`JournalCopy.widen`) before a write fires them.
    static func createSQL(for table: TableDefinition, index: Int) -> String {
        let name = quoted(table.name)
        let columns = table.allColumns
        let definitions = columns.map { column -> String in
            switch column.name {
            case "id": return "id TEXT PRIMARY KEY NOT NULL"
            case "scope": return "scope TEXT NOT NULL DEFAULT 'public'"
            case "owner": return "owner TEXT NOT NULL DEFAULT ''"
            default: return "\(quoted(column.name)) \(column.type.sqlType)" + defaultClause(column)
            }
        }
        let prefix = "_liaison_\(table.name)"
        var indexes = table.columns.compactMap { column -> String? in
            guard case .reference = column.type else { return nil }
            return "CREATE INDEX \(quoted(prefix + "_" + column.name)) ON \(name)(\(quoted(column.name)));"
        }
        if !table.naturalKey.isEmpty {
            // Duplicate detection looks rows up by their natural key on every remote insert.
            indexes.append(
                "CREATE INDEX \(quoted(prefix + "_natural_key")) ON \(name)(\(table.naturalKey.map(quoted).joined(separator: ", ")));"
            )
        }
        return "CREATE TABLE \(name)(\(definitions.joined(separator: ", ")));\n" + triggerSQL(for: table, index: index)
            + indexes.joined(separator: "\n")
    }

    /// The capture triggers of one table (rebuilt when a schema change adds a column to it).
    static func triggerSQL(for table: TableDefinition, index: Int) -> String {
        let name = quoted(table.name)
        let columns = table.allColumns
        let tracked = columns.enumerated().filter { $0.element.name != "id" }
        let changed = tracked.map { "NEW.\(quoted($0.element.name)) IS NOT OLD.\(quoted($0.element.name))" }
        let mask = tracked.map {
            "((NEW.\(quoted($0.element.name)) IS NOT OLD.\(quoted($0.element.name))) << \($0.offset))"
        }
        let prefix = "_liaison_\(table.name)"
        // One journal row per write, holding the row as it was in the copy columns (`JournalCopy`).
        let copyTargets = JournalCopy.columns(count: columns.count - 1).joined(separator: ", ")
        let old = columns.dropFirst().map { "OLD." + quoted($0.name) }.joined(separator: ", ")
        // `INSERT OR REPLACE` over an existing row (another SQLite client's upsert) deletes it
        // without firing the delete trigger: before any insert, the row it would replace is kept,
        // as a copy-only journal row (`JournalCopy.replacedMask`).
        let keepReplaced =
            "INSERT INTO _liaison_journal(tbl, pk, mask, \(copyTargets)) SELECT \(index), id, \(JournalCopy.replacedMask), "
            + columns.dropFirst().map { quoted($0.name) }.joined(separator: ", ") + " FROM \(name) WHERE id = NEW.id;"
        return """
            CREATE TRIGGER \(quoted(prefix + "_replace")) BEFORE INSERT ON \(name) BEGIN
                \(keepReplaced)
            END;
            CREATE TRIGGER \(quoted(prefix + "_insert")) AFTER INSERT ON \(name) BEGIN
                INSERT INTO _liaison_journal(tbl, pk, mask) VALUES (\(index), NEW.id, -1);
            END;
            CREATE TRIGGER \(quoted(prefix + "_update")) AFTER UPDATE ON \(name)
            WHEN \(changed.joined(separator: " OR ")) BEGIN
                INSERT INTO _liaison_journal(tbl, pk, mask, \(copyTargets))
                VALUES (\(index), NEW.id, \(mask.joined(separator: " | ")), \(old));
            END;
            CREATE TRIGGER \(quoted(prefix + "_delete")) AFTER DELETE ON \(name) BEGIN
                INSERT INTO _liaison_journal(tbl, pk, mask, \(copyTargets)) VALUES (\(index), OLD.id, 0, \(old));
            END;
            CREATE TRIGGER \(quoted(prefix + "_immutable_id")) BEFORE UPDATE OF id ON \(name)
            WHEN NEW.id IS NOT OLD.id BEGIN
                SELECT RAISE(ABORT, 'liaison: the id of a synced row cannot change; insert a new row instead');
            END;

            """
    }

    /// Rebuilds the capture triggers of every synced table of a file (and widens the journal for
    /// them), from the schema the file records: formats 6 and 7's steps.
    static func rebuildAll(_ db: Connection) throws {
        for (table, index) in try recordedTables(db) {
            try JournalCopy.widen(db, for: table)
            try db.execute(dropTriggersSQL(for: table) + "\n" + triggerSQL(for: table, index: index))
        }
    }

    /// The synced tables the file's recorded schema names, with their journal numbers (the
    /// schema's own change table too, once the file has it).
    static func recordedTables(_ db: Connection) throws -> [(TableDefinition, Int)] {
        guard let text = try db.first("SELECT value FROM _liaison_meta WHERE key = 'schema'", [], { $0.text(0) }) else {
            return []
        }
        let schema = try JSONDecoder().decode(SchemaDefinition.self, from: Data(text.utf8))
        var tables = schema.tables.enumerated().map { ($0.element, $0.offset + 1) }
        if try db.first(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(SchemaLog.table)], { _ in true })
            != nil
        {
            tables.append((SchemaLog.definition, SchemaLog.journalIndex))
        }
        return tables
    }

    /// Drops the capture triggers of one table.
    static func dropTriggersSQL(for table: TableDefinition) -> String {
        ["replace", "insert", "update", "delete", "immutable_id"].map {
            "DROP TRIGGER IF EXISTS \(quoted("_liaison_\(table.name)_\($0)"));"
        }.joined(separator: "\n")
    }

    /// ` DEFAULT literal` for a column with a default, else nothing.
    static func defaultClause(_ column: ColumnDefinition) -> String {
        switch column.defaultValue {
        case .integer(let number)?: " DEFAULT \(number)"
        case .real(let number)?: " DEFAULT \(number)"
        case .text(let text)?: " DEFAULT '\(text.replacingOccurrences(of: "'", with: "''"))'"
        case .null?, nil: ""
        }
    }

    static func quoted(_ identifier: String) -> String {
        // Without Foundation's replacingOccurrences: this runs for every column of every applied row.
        guard identifier.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + identifier + "\"" }
        var result = "\""
        for character in identifier {
            if character == "\"" { result += "\"\"" } else { result.append(character) }
        }
        return result + "\""
    }
}
