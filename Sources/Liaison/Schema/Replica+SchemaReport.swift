import Foundation

/// The schema as `liaison schema DB` shows it: tables, version, and who changed what.
public struct SchemaReport: Sendable, Codable, Hashable {
    /// One schema change held here.
    public struct Change: Sendable, Codable, Hashable {
        public var id: String
        public var kind: String
        public var target: String
        public var site: String
        public var author: String
        public var time: String
        /// `nil` when applied here; else why it is not (yet).
        public var pending: String?
    }

    public var name: String
    /// The major version: replicas on different majors do not sync.
    public var major: Int
    /// A short hash of the tables as they are now (what pages and status carry).
    public var hash: String
    public var tables: [TableDefinition]
    public var changes: [Change]
    /// Site codes that may change the schema here (besides this site).
    public var granted: [String]
    /// Transactions kept while their table was unknown here that broke a rule when it became
    /// known (`Replica.reveal`): in the log and relayed, none of their values shown.
    public var notShown: [NotShown] = []

    /// A transaction kept but not shown, and the rule it breaks here.
    public struct NotShown: Sendable, Codable, Hashable {
        /// `SITE#SEQ`.
        public var transaction: String
        public var reason: String
    }
}

extension SchemaDefinition {
    /// The first 16 hex digits of the SHA-256 of the schema's canonical JSON (sorted keys, tables
    /// and columns in order): equal schemas, equal hashes.
    public var hash: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(canonicalForm)) ?? Data()
        return String(SiteKey.sha256Hex(data).prefix(16))
    }

    /// Tables sorted by name and each table's added columns in name order: the order a replica
    /// added them in is its own business.
    private var canonicalForm: SchemaDefinition {
        var copy = self
        copy.tables = tables.sorted { $0.name < $1.name }.map { table in
            var sorted = table
            sorted.columns = table.columns.sorted { $0.name < $1.name }
            return sorted
        }
        return copy
    }
}

extension Replica {
    /// Tables, columns, types, choices, policies, the version, and every schema change held here.
    public func schemaReport() throws -> SchemaReport {
        try withConnection { db in
            let entries = try SchemaLog.entries(db, local: siteCode)
            let base = try db.first("SELECT value FROM _liaison_meta WHERE key = 'schema_base'") { $0.text(0) }
            let outcome = base.flatMap { try? JSONDecoder().decode(SchemaDefinition.self, from: Data($0.utf8)) }.map {
                SchemaEvolution.fold(base: $0, previous: schema, entries: entries)
            }
            var changes: [SchemaReport.Change] = []
            for (id, kind, target, owner, author, hlc) in try db.query(
                """
                SELECT c.id, c.kind, c.target, c.owner, t.author, t.hlc FROM liaison_schema_change c
                LEFT JOIN _liaison_version v ON v.tbl = '\(SchemaLog.table)' AND v.pk = c.id AND v.col = ''
                LEFT JOIN _liaison_tx t ON t.sidx = v.sidx AND t.seq = v.seq ORDER BY t.hlc, c.id
                """, [], { ($0.text(0), $0.text(1), $0.text(2), $0.text(3), $0.optionalText(4), $0.int64(5)) })
            {
                changes.append(
                    .init(
                        id: id, kind: kind, target: target, site: owner, author: author ?? "",
                        time: HybridTimestamp(rawValue: hlc).description, pending: outcome?.pending[id]))
            }
            var notShown: [SchemaReport.NotShown] = []
            if try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_unshown'", [], { _ in true }) != nil {
                notShown = try db.query("SELECT site, seq, reason FROM _liaison_unshown ORDER BY site, seq") {
                    SchemaReport.NotShown(transaction: "\($0.text(0))#\($0.int64(1))", reason: $0.text(2))
                }
            }
            return SchemaReport(
                name: schema.name, major: schema.version, hash: schema.hash, tables: schema.tables, changes: changes,
                granted: try SchemaLog.rights(db).sorted(), notShown: notShown)
        }
    }
}

extension Replica {
    /// Overwrites one header value: for tests of files other builds wrote.
    package func setMetaForTesting(key: String, value: String) throws {
        try withConnection { db in
            try db.run("UPDATE _liaison_meta SET value = ? WHERE key = ?", [.text(value), .text(key)])
        }
    }
}
