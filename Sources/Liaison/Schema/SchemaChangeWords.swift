import Foundation

/// A schema change read from a person's words, as `liaison schema add-column` and `add-table`
/// take them and the console's forms submit them: one reading, one set of messages.
public enum SchemaChangeWords {
    /// A new column: `type` as `ColumnType.parse` reads it (not a reference: a reference comes
    /// with its table), and an optional default that fits the type.
    public static func column(name: String, type: String, defaultValue: String?) throws -> ColumnDefinition {
        let parsed = try ColumnType.parse(type.trimmingCharacters(in: .whitespaces))
        if case .reference = parsed {
            throw LiaisonError(
                .invalidInput, "add a reference column with its table (add-table with a parent), not to an existing one")
        }
        var value: CellValue?
        if let defaultValue, !defaultValue.isEmpty { value = try parsed.parseDefault(defaultValue) }
        return ColumnDefinition(name, parsed, defaultValue: value)
    }

    /// A new table: columns as `NAME:TYPE` (TYPE as for a column, or `reference:TABLE`), a policy
    /// (`lww` or `owner-wins`) and an optional parent table, which adds a required `PARENT_id`
    /// column whose row's scope new rows take.
    public static func table(name: String, columns specs: [String], policy: String, parent: String?) throws
        -> TableDefinition
    {
        guard let conflictPolicy = ConflictPolicy(rawValue: policy) else {
            let names = ConflictPolicy.allCases.map(\.rawValue)
            let hint = Suggestion.nearest(to: policy, in: names).map { " (did you mean '\($0)'?)" } ?? ""
            throw LiaisonError(.invalidInput, "unknown policy '\(policy)'\(hint); use lww or owner-wins")
        }
        let parent = parent.flatMap { $0.isEmpty ? nil : $0 }
        let specs = specs.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !specs.isEmpty || parent != nil else {
            throw LiaisonError(.invalidInput, "give the table's columns as NAME:TYPE, e.g. name:text")
        }
        var columns: [ColumnDefinition] = []
        var parentColumn: String?
        if let parent {
            parentColumn = "\(parent)_id"
            columns.append(ColumnDefinition("\(parent)_id", .reference(parent), required: true))
        }
        for spec in specs {
            let parts = spec.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw LiaisonError(.invalidInput, "a column is NAME:TYPE, e.g. name:text; got '\(spec)'")
            }
            columns.append(ColumnDefinition(parts[0], try ColumnType.parse(parts[1])))
        }
        return TableDefinition(name, policy: conflictPolicy, parentColumn: parentColumn, columns: columns)
    }
}
