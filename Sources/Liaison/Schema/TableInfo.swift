import Foundation

/// A synced table as the engine uses it: its definition, number and column positions.
struct TableInfo: Sendable {
    let definition: TableDefinition
    /// 1-based number used in the journal.
    let index: Int
    let columns: [ColumnDefinition]
    let columnIndex: [String: Int]
    /// The table's name, quoted for SQL.
    let quotedName: String
    /// Each column's name quoted for SQL, in `columns` order.
    let quotedColumns: [String]
    /// `SELECT every column FROM table WHERE id = ?`, built once.
    let selectRowSQL: String

    /// Whether this replica's schema has the table; `false` for a table only received so far,
    /// whose changes are kept in the log as opaque data (see `Replica.receivedTable(named:)`).
    let isKnown: Bool

    init(
        definition: TableDefinition, index: Int, columns: [ColumnDefinition], columnIndex: [String: Int],
        isKnown: Bool = true
    ) {
        self.isKnown = isKnown
        self.definition = definition
        self.index = index
        self.columns = columns
        self.columnIndex = columnIndex
        self.quotedName = CaptureTriggers.quoted(definition.name)
        self.quotedColumns = columns.map { CaptureTriggers.quoted($0.name) }
        let list = quotedColumns.joined(separator: ", ")
        self.selectRowSQL = "SELECT \(list) FROM \(quotedName) WHERE id = ?"
        self.selectAllSQL = "SELECT \(list) FROM \(quotedName) ORDER BY id"
        self.rowJSON = RowJSON(columns: columns)
    }

    /// Canonical JSON of this table's rows, straight from a statement.
    let rowJSON: RowJSON

    /// `SELECT every column FROM table ORDER BY id`.
    let selectAllSQL: String

    var name: String { definition.name }

    static func index(_ schema: SchemaDefinition) -> [String: TableInfo] {
        var result: [String: TableInfo] = [:]
        for (offset, table) in schema.tables.enumerated() {
            let columns = table.allColumns
            var positions: [String: Int] = [:]
            for (position, column) in columns.enumerated() { positions[column.name] = position }
            result[table.name] = TableInfo(
                definition: table, index: offset + 1, columns: columns, columnIndex: positions)
        }
        return result
    }

    /// A table this replica does not know (yet): only `id`, `scope` and `owner`, never stored.
    static func opaque(_ name: String) -> TableInfo {
        let definition = TableDefinition(name, columns: [])
        let columns = definition.allColumns
        return TableInfo(
            definition: definition, index: 0, columns: columns,
            columnIndex: Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) }), isKnown: false)
    }

    func column(named name: String) throws -> ColumnDefinition {
        if let position = columnIndex[name] { return columns[position] }
        let suggestion = Suggestion.nearest(to: name, in: columns.map(\.name))
        throw LiaisonError(
            .unknownColumn,
            "table '\(self.name)' has no column '\(name)'\(suggestion.map { " (did you mean '\($0)'?)" } ?? ""); columns: "
                + columns.map(\.name).joined(separator: ", "))
    }
}

/// The nearest candidate by edit distance, for "did you mean" hints.
enum Suggestion {
    static func nearest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(Array(word.lowercased()), Array($0.lowercased()))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
        return best.0
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
