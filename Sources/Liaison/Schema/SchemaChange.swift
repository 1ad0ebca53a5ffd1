import Foundation

/// One additive change of the synced schema, as it travels: the body of a row of the synced
/// `liaison_schema_change` table, signed by the site that made it (docs/PROTOCOL.md, "Changing the
/// schema").
///
/// Within a major version a change only adds: a table, a nullable column (or one with a default,
/// which SQLite gives existing rows without writing them), a choice value, a natural key.
public struct SchemaChange: Hashable, Sendable, Codable {
    /// What a change adds.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case addTable = "add_table"
        case addColumn = "add_column"
        case addChoice = "add_choice"
        case addNaturalKey = "add_natural_key"

        /// The order changes are folded in: tables before their columns, columns before choices.
        var rank: Int {
            switch self {
            case .addTable: 0
            case .addColumn: 1
            case .addChoice: 2
            case .addNaturalKey: 3
            }
        }
    }

    public var kind: Kind
    /// The major schema version the change belongs to; other majors never apply it.
    public var major: Int
    public var table: String
    /// `add_column`: the new column (its type and default).
    public var column: ColumnDefinition?
    /// `add_choice`: the column that gets `value`.
    public var columnName: String?
    /// `add_choice`: the new value.
    public var value: String?
    /// `add_table`: the new table.
    public var definition: TableDefinition?
    /// `add_natural_key`: the columns that name one real-world thing.
    public var naturalKey: [String]?

    public init(
        kind: Kind, major: Int, table: String, column: ColumnDefinition? = nil, columnName: String? = nil,
        value: String? = nil, definition: TableDefinition? = nil, naturalKey: [String]? = nil
    ) {
        self.kind = kind
        self.major = major
        self.table = table
        self.column = column
        self.columnName = columnName
        self.value = value
        self.definition = definition
        self.naturalKey = naturalKey
    }

    /// What the change is about, for ids and messages: `agenda_item.meeting_date`, `action.status=in_review`.
    public var target: String {
        switch kind {
        case .addTable: table
        case .addColumn: "\(table).\(column?.name ?? "")"
        case .addChoice: "\(table).\(columnName ?? "")=\(value ?? "")"
        case .addNaturalKey: "\(table)(\((naturalKey ?? []).joined(separator: ",")))"
        }
    }

    /// The row id of the change made by `site`: one change of one target per site, made once.
    func rowID(by site: SiteCode) -> String { "\(kind.rawValue):\(target)@\(site.rawValue)" }

    /// The body as it is stored and signed: JSON with sorted keys.
    func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    static func decode(_ body: String) throws -> SchemaChange {
        try JSONDecoder().decode(SchemaChange.self, from: Data(body.utf8))
    }
}

/// Names the schema accepts for new tables and columns, and for new choice values.
enum SchemaNames {
    /// Columns every synced table has.
    static let reserved: Set<String> = ["id", "scope", "owner"]
    /// A replica keeps at most this many columns per table (the capture mask is 63 bits).
    static let maxColumns = 62

    /// Lower-case letters, digits and `_`, starting with a letter, at most 48 characters; not
    /// the schema's own change table, not starting with `sqlite_` (SQLite's). The engine's own
    /// tables start with `_`, which no name here can.
    static func checkIdentifier(_ name: String, what: String) throws {
        let scalars = Array(name.unicodeScalars)
        let valid =
            !scalars.isEmpty && scalars.count <= 48 && ("a"..."z").contains(Character(scalars[0]))
            && scalars.allSatisfy {
                ("a"..."z").contains(Character($0)) || ("0"..."9").contains(Character($0)) || $0 == "_"
            }
        guard valid, name != SchemaLog.table, !name.hasPrefix("sqlite_") else {
            throw LiaisonError(
                .invalidInput,
                "invalid \(what) name '\(name)': use lower-case letters, digits and _ (starting with a letter, at most "
                    + "48), not starting with sqlite_")
        }
    }

    /// Letters, digits, `_`, `-` and `.`, 1 to 64 characters.
    static func checkChoice(_ value: String) throws {
        let valid =
            !value.isEmpty && value.count <= 64
            && value.unicodeScalars.allSatisfy {
                ("a"..."z").contains(Character($0)) || ("A"..."Z").contains(Character($0))
                    || ("0"..."9").contains(Character($0)) || $0 == "_" || $0 == "-" || $0 == "."
            }
        guard valid else {
            throw LiaisonError(
                .invalidInput, "invalid choice value '\(value)': use 1 to 64 letters, digits, _, - or .")
        }
    }
}

extension ColumnType {
    /// The names `--type` takes.
    public static let typeNames = ["text", "integer", "real", "date", "choice", "reference"]

    /// Parses `text`, `integer`, `real`, `date`, `choice:A,B` or `reference:TABLE`.
    public static func parse(_ text: String) throws -> ColumnType {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        let argument = parts.count > 1 ? parts[1] : nil
        switch (name, argument) {
        case ("text", nil): return .text
        case ("integer", nil): return .integer
        case ("real", nil): return .real
        case ("date", nil): return .date
        case ("choice", let values?):
            let list = values.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            for value in list { try SchemaNames.checkChoice(value) }
            return .choice(list)
        case ("reference", let table?) where !table.isEmpty: return .reference(table)
        case ("choice", nil):
            throw LiaisonError(.invalidInput, "type 'choice' needs its values: choice:open,done")
        case ("reference", _):
            throw LiaisonError(.invalidInput, "type 'reference' needs its table: reference:organisation")
        default:
            let hint = Suggestion.nearest(to: name, in: typeNames).map { " (did you mean '\($0)'?)" } ?? ""
            throw LiaisonError(
                .invalidInput,
                "unknown type '\(text)'\(hint); use text, integer, real, date, choice:A,B or reference:TABLE")
        }
    }

    /// Parses a `--default` for a column of this type.
    public func parseDefault(_ text: String) throws -> CellValue {
        let value: CellValue? =
            switch self {
            case .integer: Int64(text).map(CellValue.integer)
            case .real: Double(text).map(CellValue.real)
            case .date: Validation.isDate(text) ? .text(text) : nil
            case .choice(let values): values.contains(text) ? .text(text) : nil
            case .text: .text(text)
            case .reference: nil
            }
        guard let value else {
            throw LiaisonError(.typeMismatch, "the default '\(text)' does not fit type \(label)")
        }
        return value
    }
}
