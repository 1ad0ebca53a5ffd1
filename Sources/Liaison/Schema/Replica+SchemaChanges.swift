import Foundation
import Logging

extension Replica {
    /// Adds a nullable column (or one with a default, which existing rows read without being
    /// written) to a synced table, as a signed schema change that travels to every peer.
    public func addColumn(_ column: ColumnDefinition, to table: String, author: String) throws {
        try makeSchemaChange(
            SchemaChange(kind: .addColumn, major: schema.version, table: table, column: column), author: author)
    }

    /// Adds `value` to the choices of `column` of `table`.
    public func addChoice(_ value: String, to column: String, of table: String, author: String) throws {
        try makeSchemaChange(
            SchemaChange(kind: .addChoice, major: schema.version, table: table, columnName: column, value: value),
            author: author)
    }

    /// Adds a synced table.
    public func addTable(_ definition: TableDefinition, author: String) throws {
        try makeSchemaChange(
            SchemaChange(kind: .addTable, major: schema.version, table: definition.name, definition: definition),
            author: author)
    }

    /// Names the columns of `table` that identify one real-world thing: a row arriving with the
    /// same values as a row held here is recorded as a duplicate, and the columns are indexed.
    /// A table's natural key is set once.
    public func addNaturalKey(_ columns: [String], to table: String, author: String) throws {
        try makeSchemaChange(
            SchemaChange(kind: .addNaturalKey, major: schema.version, table: table, naturalKey: columns),
            author: author)
    }

    /// Makes the change here (checked against this replica's schema first, with what to fix),
    /// signs it as a local transaction, and applies it.
    func makeSchemaChange(_ change: SchemaChange, author: String) throws {
        var trial = schema
        try checkTarget(of: change, in: trial)
        guard try SchemaEvolution.apply(change, to: &trial) else {
            throw LiaisonError(.invalidInput, "the schema has \(change.target) already; nothing to change")
        }
        let body = try change.encoded()
        let id = change.rowID(by: siteCode)
        try withConnection { db in
            // Unpublished edits are published under the triggers they were captured with.
            try publish(db)
            try localTransaction(db, author: author) {
                var editor = Editor(replica: self, db: db)
                editor.writesSchema = true
                try editor.set(
                    SchemaLog.table, id: id,
                    [
                        "kind": .text(change.kind.rawValue), "major": .integer(Int64(change.major)),
                        "target": .text(change.target), "body": .text(body), "scope": .text(SchemaLog.scope),
                    ])
            }
            try publish(db)
            try evolveSchemaInTransaction(db)
        }
        try retryQuarantine()
    }

    /// Unknown tables and columns named by a change, reported with the nearest names.
    private func checkTarget(of change: SchemaChange, in schema: SchemaDefinition) throws {
        guard change.kind != .addTable else {
            if schema.tables.contains(where: { $0.name == change.table }) {
                throw LiaisonError(.invalidInput, "table '\(change.table)' exists already; see 'liaison schema DB'")
            }
            return
        }
        let info = try table(named: change.table)
        if change.kind == .addChoice, let name = change.columnName {
            let column = try info.column(named: name)
            guard case .choice(let values) = column.type else {
                throw LiaisonError(
                    .invalidInput,
                    "column '\(change.table).\(name)' is \(column.type.label), not a choice; only choices take new values"
                )
            }
            if let value = change.value, values.contains(value) {
                throw LiaisonError(
                    .invalidInput,
                    "'\(value)' is a choice of '\(change.table).\(name)' already: \(values.joined(separator: ", "))")
            }
        }
        if change.kind == .addNaturalKey {
            for name in change.naturalKey ?? [] { _ = try info.column(named: name) }
            guard info.definition.naturalKey.isEmpty else {
                throw LiaisonError(
                    .invalidInput,
                    "table '\(change.table)' has the natural key (\(info.definition.naturalKey.joined(separator: ", "))) "
                        + "already; a table's natural key is set once")
            }
            guard Set(change.naturalKey ?? []).count == (change.naturalKey ?? []).count else {
                throw LiaisonError(.invalidInput, "the natural key names a column twice")
            }
        }
        if change.kind == .addColumn, let name = change.column?.name, info.columnIndex[name] != nil {
            throw LiaisonError(.invalidInput, "table '\(change.table)' has a column '\(name)' already")
        }
    }

    /// Lets `peer` (a registered peer, or a site code) change the schema here: its schema changes
    /// apply from now on, those already received included.
    public func grantSchemaChanges(to peer: String) throws {
        let code: String = try withConnection { db in
            // A peer that synced names its site; else the name must be a site code.
            if let siteID = try db.first(
                "SELECT site_id FROM _liaison_peer WHERE name = ?", [.text(peer)], { $0.optionalText(0) }) ?? nil,
                let code = try db.first(
                    "SELECT code FROM _liaison_site WHERE site_id = ?", [.text(siteID)], { $0.text(0) })
            {
                return code
            }
            guard let code = SiteCode(peer) else {
                let names = try db.query("SELECT name FROM _liaison_peer") { $0.text(0) }
                let hint = Suggestion.nearest(to: peer, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw LiaisonError(
                    .invalidInput,
                    "no peer '\(peer)' that has synced\(hint), and not a site code; sync with the peer first or "
                        + "name its site code (liaison grant DB NL-NCTV --schema)")
            }
            return code.rawValue
        }
        try withConnection { db in
            try transaction(db) {
                try db.run(
                    "INSERT OR IGNORE INTO _liaison_schema_right(site, granted) VALUES (?, ?)",
                    [.text(code), .text(Date().formatted(.iso8601))])
                _ = try publishValid(db)
                try evolveSchema(db)
            }
        }
        try retryQuarantine()
    }

    /// `evolveSchema` in its own transaction.
    func evolveSchemaInTransaction(_ db: Connection) throws {
        try transaction(db) { try evolveSchema(db) }
    }

    /// On open: applies schema changes that can apply now (a build that understands more), taking
    /// the write lock only then, so opening to read never waits for a writer. When another process
    /// holds the lock, the next open does it.
    func evolveSchemaIfNeeded(_ db: Connection) throws {
        guard let outcome = try schemaOutcome(db), outcome.schema != schema else { return }
        do {
            try evolveSchemaInTransaction(db)
        } catch let error as LiaisonError where error.code == .busy {
            logger.debug("schema change left for later", metadata: ["db.problem": "\(error.message)"])
        }
    }

    /// The schema the changes held here make, `nil` when there are none.
    func schemaOutcome(_ db: Connection) throws -> SchemaEvolution.Outcome? {
        guard
            let baseText = try db.first(
                "SELECT value FROM _liaison_meta WHERE key = 'schema_base'", [], { $0.text(0) }),
            let base = try? JSONDecoder().decode(SchemaDefinition.self, from: Data(baseText.utf8))
        else { return nil }
        let entries = try SchemaLog.entries(db, local: siteCode)
        guard !entries.isEmpty else { return nil }
        return SchemaEvolution.fold(base: base, previous: schema, entries: entries)
    }

    /// Brings the tables in line with the schema changes held here that may apply: creates new
    /// tables, adds columns (no row is written: a default is SQLite's), rebuilds the capture
    /// triggers of changed tables, records the schema, and shows the values that were kept as
    /// opaque data until now. Runs inside the caller's transaction, the journal published.
    func evolveSchema(_ db: Connection) throws {
        let previous = schema
        guard let outcome = try schemaOutcome(db), outcome.schema != previous else { return }
        let before = Dictionary(uniqueKeysWithValues: previous.tables.map { ($0.name, $0) })
        var newTables: [String] = []
        var newColumns: [String: [String]] = [:]
        for (offset, table) in outcome.schema.tables.enumerated() {
            // The journal keeps copies of every column (`JournalCopy`).
            try JournalCopy.widen(db, for: table)
            guard let old = before[table.name] else {
                try db.execute(CaptureTriggers.createSQL(for: table, index: offset + 1))
                newTables.append(table.name)
                continue
            }
            let added = table.columns.filter { column in !old.columns.contains { $0.name == column.name } }
            for column in added {
                try db.execute(
                    "ALTER TABLE \(CaptureTriggers.quoted(table.name)) ADD COLUMN \(CaptureTriggers.quoted(column.name)) "
                        + column.type.sqlType + CaptureTriggers.defaultClause(column))
            }
            if !added.isEmpty {
                newColumns[table.name] = added.map(\.name)
                try ColumnBirth.record(db, table: table.name, columns: added.map(\.name))
            }
            if old.allColumns.map(\.name) != table.allColumns.map(\.name)
                || previous.tables.firstIndex(of: old) != offset
            {
                try db.execute(CaptureTriggers.dropTriggersSQL(for: old))
                try db.execute(CaptureTriggers.triggerSQL(for: table, index: offset + 1))
            }
            if old.naturalKey.isEmpty, !table.naturalKey.isEmpty {
                try db.execute(
                    "CREATE INDEX IF NOT EXISTS \(CaptureTriggers.quoted("_liaison_\(table.name)_natural_key")) ON "
                        + "\(CaptureTriggers.quoted(table.name))(\(table.naturalKey.map(CaptureTriggers.quoted).joined(separator: ", ")))"
                )
            }
        }
        // Row digests (divergence checks) cover every column: tables that gained one are hashed
        // again on their next use.
        if try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_digest_table'", [], { _ in true }) != nil {
            for name in newColumns.keys.sorted() {
                try db.run("DELETE FROM _liaison_digest_table WHERE tbl = ?", [.text(name)])
            }
        }
        let text = String(decoding: try JSONEncoder().encode(outcome.schema), as: UTF8.self)
        try db.run("UPDATE _liaison_meta SET value = ? WHERE key = 'schema'", [.text(text)])
        schemaState.replace(outcome.schema, cookie: try SchemaState.cookie(db))
        logger.debug(
            "schema changed",
            metadata: [
                "db.tables": "\(newTables)", "db.columns": "\(newColumns)", "db.applied": "\(outcome.applied.count)",
            ])
        try reveal(db, tables: newTables, columns: newColumns)
    }
}

extension ColumnType {
    /// How `liaison schema` names the type: `text`, `choice:a,b`, `reference:organisation`.
    public var label: String {
        switch self {
        case .text: "text"
        case .integer: "integer"
        case .real: "real"
        case .date: "date"
        case .choice(let values): "choice:" + values.joined(separator: ",")
        case .reference(let table): "reference:" + table
        }
    }
}
