import Foundation

extension Replica {
    /// Parses `COL=VALUE` text into values of the columns' types; an empty text is NULL.
    public func parse(table tableName: String, _ texts: [String: String]) throws -> [String: CellValue] {
        let table = try table(named: tableName)
        var values: [String: CellValue] = [:]
        for (name, text) in texts {
            values[name] = try Validation.parse(text, for: try table.column(named: name), in: table)
        }
        return values
    }

    /// The column names of a synced table in storage order.
    public func columnNames(_ tableName: String) throws -> [String] {
        try table(named: tableName).columns.map(\.name)
    }

    /// Parses a value given for the column of a conflict.
    public func parseConflictValue(_ conflictID: String, _ text: String) throws -> CellValue {
        guard let conflict = try conflicts(includeResolved: true).first(where: { $0.id == conflictID }) else {
            throw LiaisonError(.conflict, "no conflict '\(conflictID)'; list them with 'liaison conflicts DB'")
        }
        guard let column = conflict.column else {
            throw LiaisonError(
                .invalidInput, "a \(conflict.kind.rawValue) conflict takes --keep winner or --keep loser")
        }
        return try parse(table: conflict.table, [column: text])[column] ?? .null
    }
}
