import Foundation

/// The schema a `Replica` uses now and its tables, swapped whole (under a lock) when a schema
/// change applies, so every reader sees one consistent version.
final class SchemaState: @unchecked Sendable {
    private let lock = NSLock()
    private var current: (schema: SchemaDefinition, tables: [String: TableInfo])
    /// SQLite's schema cookie when `current` was read: another process changed the schema when it differs.
    private var cookie: Int64

    init(schema: SchemaDefinition, cookie: Int64) {
        self.current = (schema, Self.tables(of: schema))
        self.cookie = cookie
    }

    var schema: SchemaDefinition { lock.withLock { current.schema } }
    var tables: [String: TableInfo] { lock.withLock { current.tables } }

    func replace(_ schema: SchemaDefinition, cookie: Int64) {
        let tables = Self.tables(of: schema)
        lock.withLock {
            current = (schema, tables)
            self.cookie = cookie
        }
    }

    func isCurrent(cookie: Int64) -> Bool { lock.withLock { self.cookie == cookie } }

    /// The dataset's tables and the schema's own change table.
    static func tables(of schema: SchemaDefinition) -> [String: TableInfo] {
        var tables = TableInfo.index(schema)
        tables[SchemaLog.table] = SchemaLog.info
        return tables
    }

    static func cookie(_ db: Connection) throws -> Int64 {
        try db.first("PRAGMA schema_version") { $0.int64(0) } ?? 0
    }
}

extension Replica {
    /// Reloads the schema when another connection changed it (a schema change applied by another
    /// process on the same file).
    func refreshSchemaIfChanged(_ db: Connection) throws {
        let cookie = try SchemaState.cookie(db)
        guard !schemaState.isCurrent(cookie: cookie) else { return }
        guard
            let text = try db.first("SELECT value FROM _liaison_meta WHERE key = 'schema'", [], { $0.text(0) }),
            let schema = try? JSONDecoder().decode(SchemaDefinition.self, from: Data(text.utf8))
        else { return }
        schemaState.replace(schema, cookie: cookie)
    }
}
