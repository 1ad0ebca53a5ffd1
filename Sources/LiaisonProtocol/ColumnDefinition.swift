import Foundation

/// The type of a synced column, checked on every local write.
public enum ColumnType: Hashable, Sendable, Codable {
    /// Any text.
    case text
    /// A whole number.
    case integer
    /// A number.
    case real
    /// A calendar date written `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    case date
    /// One of a fixed list of words.
    case choice([String])
    /// The id of a row of another synced table (or of the same one).
    case reference(String)

    /// SQLite's declared type for the column.
    public var sqlType: String {
        switch self {
        case .integer: return "INTEGER"
        case .real: return "REAL"
        default: return "TEXT"
        }
    }
}

extension ColumnType {
    private enum CodingKeys: String, CodingKey { case type, values, table }

    /// `{"type": "text"}`, `{"type": "choice", "values": [...]}`, `{"type": "reference", "table": "..."}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "text": self = .text
        case "integer": self = .integer
        case "real": self = .real
        case "date": self = .date
        case "choice": self = .choice(try container.decode([String].self, forKey: .values))
        case "reference": self = .reference(try container.decode(String.self, forKey: .table))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown column type '\(other)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text: try container.encode("text", forKey: .type)
        case .integer: try container.encode("integer", forKey: .type)
        case .real: try container.encode("real", forKey: .type)
        case .date: try container.encode("date", forKey: .type)
        case .choice(let values):
            try container.encode("choice", forKey: .type)
            try container.encode(values, forKey: .values)
        case .reference(let table):
            try container.encode("reference", forKey: .type)
            try container.encode(table, forKey: .table)
        }
    }
}

/// One column of a synced table.
public struct ColumnDefinition: Hashable, Sendable, Codable {
    public var name: String
    public var type: ColumnType
    /// Whether NULL is refused.
    public var isRequired: Bool
    /// The value rows written before the column existed read (a column added by a schema change);
    /// SQLite gives it without writing those rows.
    public var defaultValue: CellValue?

    public init(_ name: String, _ type: ColumnType = .text, required: Bool = false, defaultValue: CellValue? = nil) {
        self.name = name
        self.type = type
        self.isRequired = required
        self.defaultValue = defaultValue
    }
}

/// How concurrent writes to the same column of a table are decided.
public enum ConflictPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// The later hybrid timestamp wins, then the higher site id.
    case lww
    /// The write of the site that owns the row (its `owner` column) wins; otherwise `lww`.
    case ownerWins = "owner-wins"
}

/// A synced table: a text `id` primary key, `scope`, `owner`, and its own columns.
public struct TableDefinition: Hashable, Sendable, Codable {
    public var name: String
    public var columns: [ColumnDefinition]
    public var policy: ConflictPolicy
    /// Columns whose values together name one real-world thing (for duplicate detection).
    public var naturalKey: [String]
    /// The column naming a new row's parent row, whose scope the row takes unless told otherwise
    /// (a table added by a schema change with `--parent`).
    public var parentColumn: String?

    public init(
        _ name: String, policy: ConflictPolicy = .lww, naturalKey: [String] = [], parentColumn: String? = nil,
        columns: [ColumnDefinition]
    ) {
        self.name = name
        self.columns = columns
        self.policy = policy
        self.naturalKey = naturalKey
        self.parentColumn = parentColumn
    }

    /// Every column in storage order: `id`, `scope`, `owner`, then the table's own.
    public var allColumns: [ColumnDefinition] {
        [
            ColumnDefinition("id", .text, required: true), ColumnDefinition("scope", .text, required: true),
            ColumnDefinition("owner", .text, required: true),
        ] + columns
    }
}

/// The synced tables of a replica and the version of their definition.
public struct SchemaDefinition: Hashable, Sendable, Codable {
    public var name: String
    public var version: Int
    public var tables: [TableDefinition]

    public init(name: String, version: Int, tables: [TableDefinition]) {
        self.name = name
        self.version = version
        self.tables = tables
    }
}
