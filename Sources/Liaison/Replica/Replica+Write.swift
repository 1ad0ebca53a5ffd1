import Foundation

extension Replica {
    /// Runs `body` as one local transaction stamped with the next sequence number, a hybrid
    /// timestamp and `author`. Commits when `body` returns, rolls back when it throws.
    ///
    /// Never touches the network. Writes that change nothing leave no transaction in the log.
    @discardableResult
    public func write<T>(author: String, _ body: (Editor) throws -> T) throws -> T {
        try withConnection { db in try localTransaction(db, author: author) { try body(Editor(replica: self, db: db)) }
        }
    }

    func localTransaction<T>(_ db: Connection, author: String, _ body: () throws -> T) throws -> T {
        // An edit is signed when published: a copy without its key file cannot make one. The file
        // is only looked for here; reading the key (a scalar multiplication, ~50 µs, most of a
        // one-row edit) waits for publishing.
        if keys.current() == nil { _ = try requireSigningKey() }
        return try transaction(db) {
            let tail = try Journal.tail(db, clock: clock)
            let result = try body()
            _ = try Journal.commit(db, after: tail, author: author, clock: clock)
            return result
        }
    }
}

/// The edits allowed inside `Replica.write`: checked against the schema, bound, never built from values.
public struct Editor {
    let replica: Replica
    let db: Connection
    /// Whether this editor may write the schema's own change table (only `Replica+SchemaChanges`).
    var writesSchema = false

    /// Inserts the row, or updates the given columns of an existing one.
    ///
    /// A new row gets its parent's scope (else `public`) and `owner` this replica's site code unless
    /// given; a re-created row keeps the owner it had (`ownerOfNewRow`). A scope must be built in or
    /// declared (`declareScope`); only a row's owner changes `owner`.
    public func set(_ tableName: String, id: String, _ values: [String: CellValue]) throws {
        let table = try replica.table(named: tableName)
        try SchemaLog.refuseDirectEdit(of: table, by: self)
        try RowID.check(id)
        var values = values
        if let given = values.removeValue(forKey: "id"), given != .text(id) {
            throw LiaisonError(.invalidInput, "the id of a row cannot change (row '\(id)' of '\(tableName)')")
        }
        for (name, value) in values {
            let column = try table.column(named: name)
            try Validation.check(value, for: column, in: table, db: db)
            values[name] = Validation.normalized(value, for: column)
        }
        let registry = ScopeRegistry(db: db, tables: replica.tables)
        // A declaration is shared in the scope it declares.
        if case .text(let scope)? = values["scope"], !(table.name == ScopeRegistry.table && scope == id) {
            try registry.check(scope)
        }
        let exists = try db.first("SELECT 1 FROM \(table.quotedName) WHERE id = ?", [.text(id)]) { _ in true } ?? false
        if exists {
            guard !values.isEmpty else { return }
            if let owner = values["owner"] {
                let current = try db.first("SELECT owner FROM \(table.quotedName) WHERE id = ?", [.text(id)]) {
                    $0.text(0)
                }
                if let current, !current.isEmpty, owner != .text(current), current != replica.siteCode.rawValue {
                    throw LiaisonError(
                        .invalidInput,
                        "row '\(id)' of '\(tableName)' is owned by \(current); only its owner can hand it over")
                }
            }
            let names = values.keys.sorted()
            let assignments = names.map { "\(CaptureTriggers.quoted($0)) = ?" }.joined(separator: ", ")
            try db.run(
                "UPDATE \(table.quotedName) SET \(assignments) WHERE id = ?", names.map { values[$0]! } + [.text(id)])
        } else {
            if values["scope"] == nil { values["scope"] = try parentScope(of: table, values) ?? "public" }
            values["owner"] = try ownerOfNewRow(table, id: id, given: values["owner"])
            let missing = table.definition.columns.filter { $0.isRequired && (values[$0.name] ?? .null) == .null }
            if !missing.isEmpty {
                throw LiaisonError(
                    .invalidInput,
                    "a new '\(tableName)' row needs \(missing.map(\.name).joined(separator: ", ")); no row '\(id)' exists yet"
                )
            }
            let names = ["id"] + values.keys.sorted()
            let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
            try db.run(
                "INSERT INTO \(table.quotedName)(\(names.map(CaptureTriggers.quoted).joined(separator: ", "))) VALUES (\(placeholders))",
                [.text(id)] + names.dropFirst().map { values[$0]! })
        }
    }

    /// The scope of a new row's parent (a membership's or agenda item's body, an action's
    /// agreement, a unit's host), which the row takes unless told otherwise.
    private func parentScope(of table: TableInfo, _ values: [String: CellValue]) throws -> CellValue? {
        guard let column = ScopeRegistry.parentColumn[table.name] ?? table.definition.parentColumn,
            case .reference(let target) = try table.column(named: column).type,
            case .text(let parent)? = values[column], let parentTable = replica.tables[target]
        else { return nil }
        return try db.first("SELECT scope FROM \(parentTable.quotedName) WHERE id = ?", [.text(parent)]) {
            .text($0.text(0))
        }
    }

    /// Deletes the row; `false` when there was none.
    @discardableResult
    public func delete(_ tableName: String, id: String) throws -> Bool {
        let table = try replica.table(named: tableName)
        try SchemaLog.refuseDirectEdit(of: table, by: self)
        try db.run("DELETE FROM \(table.quotedName) WHERE id = ?", [.text(id)])
        return db.changes > 0
    }

    /// Runs one SQL statement with bound arguments, as any SQLite client could; the capture triggers
    /// record what it changes. Statements are prepared once and cached, so a loop of inserts runs
    /// at SQLite's own speed. Values are not checked against the schema: prefer `set` for edits.
    public func execute(_ sql: String, _ arguments: [CellValue] = []) throws {
        try db.run(sql, arguments)
    }

    /// The current values of a row, or `nil`.
    public func row(_ tableName: String, id: String) throws -> [String: CellValue]? {
        try replica.readRow(db, table: try replica.table(named: tableName), id: id)
    }
}

/// Checks of row ids.
public enum RowID {
    /// An id is 1 to 128 printable characters without spaces.
    public static func check(_ id: String) throws {
        guard !id.isEmpty, id.count <= 128, id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f }) else {
            throw LiaisonError(.invalidInput, "invalid row id '\(id)': use 1 to 128 characters without spaces")
        }
    }
}
