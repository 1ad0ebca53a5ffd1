import Foundation

/// A filtered, sorted window of a synced table, done in SQL (`WHERE`, `ORDER BY`, `LIMIT`/`OFFSET`),
/// so a page of a large table costs a page, not the table.
public struct RowQuery: Sendable, Hashable {
    /// Text any column contains, ignoring case, accents and width in any script (`SearchFolding`).
    public var search: String
    /// Columns that must equal a value, compared as the text the console and CLI show.
    public var filters: [String: String]
    /// The column to sort by (ties by id).
    public var sort: String
    public var descending: Bool
    /// How many rows at most (`nil`: all).
    public var limit: Int?
    public var offset: Int

    public init(
        search: String = "", filters: [String: String] = [:], sort: String = "id", descending: Bool = false,
        limit: Int? = nil, offset: Int = 0
    ) {
        self.search = search
        self.filters = filters
        self.sort = sort
        self.descending = descending
        self.limit = limit
        self.offset = offset
    }
}

/// The rows of one `RowQuery` window and how many rows match in all.
public struct RowPage: Sendable, Hashable {
    public var rows: [[String: CellValue]]
    public var total: Int
}

extension Replica {
    /// The rows of `tableName` that match `query`, in its order and window, with the number that match.
    ///
    /// - Throws: `LiaisonError` `.unknownTable`, or `.unknownColumn` (with "did you mean") for a sort or
    ///   filter column the table does not have.
    public func rows(_ tableName: String, matching query: RowQuery) throws -> RowPage {
        let table = try table(named: tableName)
        let (condition, arguments) = try Self.condition(of: query, table: table)
        let sortColumn = try table.column(named: query.sort.isEmpty ? "id" : query.sort)
        let direction = query.descending ? "DESC" : "ASC"
        var order = CaptureTriggers.quoted(sortColumn.name)
        if sortColumn.type.sqlType == "TEXT" || sortColumn.name == "id" { order += " COLLATE NOCASE" }
        order += " \(direction)"
        if sortColumn.name != "id" { order += ", id \(direction)" }
        let list = table.quotedColumns.joined(separator: ", ")
        let window = query.limit.map { "LIMIT \(max(0, $0)) OFFSET \(max(0, query.offset))" } ?? ""
        // A search is one scan: its count comes with the page (`count(*) OVER ()`), so each row is
        // folded once; without one, a plain count(*) is cheap.
        let counted = !query.search.isEmpty && query.limit != nil
        let countColumn = Int32(table.columns.count)
        return try withConnection { db in
            var total: Int?
            let rows = try db.query(
                "SELECT \(list)\(counted ? ", count(*) OVER ()" : "") FROM \(table.quotedName) WHERE \(condition) "
                    + "ORDER BY \(order) \(window)", arguments
            ) { statement in
                var row: [String: CellValue] = [:]
                for (index, column) in table.columns.enumerated() { row[column.name] = statement.value(Int32(index)) }
                if counted, total == nil { total = statement.int(countColumn) }
                return row
            }
            // Without a window every match is here (a CSV download): no second scan to count them.
            if query.limit == nil { total = rows.count }
            if total == nil, !(counted && query.offset == 0) {
                total =
                    try db.first("SELECT count(*) FROM \(table.quotedName) WHERE \(condition)", arguments) { $0.int(0) }
            }
            return RowPage(rows: rows, total: total ?? 0)
        }
    }

    /// The `WHERE` clause of `query` with its bound arguments; column names only from the schema.
    private static func condition(of query: RowQuery, table: TableInfo) throws -> (String, [CellValue]) {
        var clauses: [String] = []
        var arguments: [CellValue] = []
        for name in query.filters.keys.sorted() {
            let column = try table.column(named: name)
            clauses.append("CAST(\(CaptureTriggers.quoted(column.name)) AS TEXT) = ?")
            arguments.append(.text(query.filters[name]!))
        }
        if !query.search.isEmpty {
            // One call per row: every column folded (case, accents, width) as the needle is.
            clauses.append("liaison_contains(?, " + table.quotedColumns.joined(separator: ", ") + ")")
            arguments.append(.text(SearchFolding.fold(query.search)))
        }
        return (clauses.isEmpty ? "1" : clauses.joined(separator: " AND "), arguments)
    }
}
