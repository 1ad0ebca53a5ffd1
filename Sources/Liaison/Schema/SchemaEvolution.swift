import Foundation

/// The pure rule that turns a base schema and a set of schema changes into the schema a replica
/// uses: every change that fits is folded in, in one deterministic order (tables, then columns,
/// then choices, then natural keys; within a kind by row id), so replicas holding the same
/// changes, granted the same sites, reach the same tables, columns and choices whatever the order
/// the changes arrived in. What does not fit (yet) stays pending with its reason.
///
/// Columns and tables keep the order in which this replica first added them (`previous`), so a
/// table's column positions, which the capture triggers use, never shift.
enum SchemaEvolution {
    /// A change as stored here: its row id and body, and whether its origin may change the schema here.
    struct Entry {
        var id: String
        var change: SchemaChange?
        /// Why the entry is not considered at all (`nil` when it is).
        var refusal: String?
    }

    struct Outcome {
        var schema: SchemaDefinition
        /// Row ids applied.
        var applied: [String]
        /// Row ids not applied, with why.
        var pending: [String: String]
    }

    static func fold(base: SchemaDefinition, previous: SchemaDefinition, entries: [Entry]) -> Outcome {
        var schema = base
        var applied: [String] = []
        var pending: [String: String] = [:]
        let sorted = entries.sorted {
            let a = $0.change?.kind.rank ?? 9
            let b = $1.change?.kind.rank ?? 9
            return a != b ? a < b : $0.id < $1.id
        }
        for entry in sorted {
            if let refusal = entry.refusal {
                // A replica cloned from a peer that had applied the change has it in its base.
                var copy = schema
                if let change = entry.change, (try? apply(change, to: &copy)) == false { continue }
                pending[entry.id] = refusal
                continue
            }
            guard let change = entry.change else {
                pending[entry.id] = "this liaison does not understand the change; upgrade liaison to apply it"
                continue
            }
            do {
                if try apply(change, to: &schema) { applied.append(entry.id) }
            } catch let error as LiaisonError {
                pending[entry.id] = error.message
            } catch {
                pending[entry.id] = "\(error)"
            }
        }
        return Outcome(schema: ordered(schema, like: previous), applied: applied, pending: pending)
    }

    /// Folds one change into `schema`; returns `false` when the schema had it already (same
    /// definition), throws when it does not fit.
    @discardableResult
    static func apply(_ change: SchemaChange, to schema: inout SchemaDefinition) throws -> Bool {
        guard change.major == schema.version else {
            throw LiaisonError(
                .schemaMismatch,
                "the change belongs to major version \(change.major) of the schema; this replica has major "
                    + "\(schema.version)")
        }
        if change.kind == .addTable {
            guard let definition = change.definition, definition.name == change.table else {
                throw LiaisonError(.invalidInput, "an add_table change without its table definition")
            }
            if let existing = schema.tables.first(where: { $0.name == change.table }) {
                if existing == definition { return false }
                throw LiaisonError(.schemaMismatch, "table '\(change.table)' exists with another definition")
            }
            try check(definition, in: schema)
            schema.tables.append(definition)
            return true
        }
        guard let position = schema.tables.firstIndex(where: { $0.name == change.table }) else {
            throw LiaisonError(
                .unknownTable, "no table '\(change.table)' here yet; the change waits for the table to be added")
        }
        var table = schema.tables[position]
        switch change.kind {
        case .addTable:
            return false
        case .addColumn:
            guard let column = change.column else {
                throw LiaisonError(.invalidInput, "an add_column change without its column")
            }
            if let existing = table.columns.first(where: { $0.name == column.name }) {
                if existing == column { return false }
                throw LiaisonError(
                    .schemaMismatch, "column '\(change.table).\(column.name)' exists with another definition")
            }
            try checkNew(column, in: table, schema: schema)
            table.columns.append(column)
        case .addChoice:
            guard let name = change.columnName, let value = change.value else {
                throw LiaisonError(.invalidInput, "an add_choice change without its column and value")
            }
            guard let index = table.columns.firstIndex(where: { $0.name == name }) else {
                throw LiaisonError(
                    .unknownColumn, "no column '\(change.table).\(name)' here yet; the change waits for it")
            }
            guard case .choice(let values) = table.columns[index].type else {
                throw LiaisonError(.schemaMismatch, "column '\(change.table).\(name)' is not a choice")
            }
            try SchemaNames.checkChoice(value)
            if values.contains(value) { return false }
            table.columns[index].type = .choice(values + [value])
        case .addNaturalKey:
            guard let key = change.naturalKey, !key.isEmpty else {
                throw LiaisonError(.invalidInput, "an add_natural_key change without columns")
            }
            for name in key where !table.allColumns.contains(where: { $0.name == name }) {
                throw LiaisonError(
                    .unknownColumn, "no column '\(change.table).\(name)' here yet; the change waits for it")
            }
            if table.naturalKey == key { return false }
            guard table.naturalKey.isEmpty else {
                throw LiaisonError(
                    .schemaMismatch,
                    "table '\(change.table)' has the natural key (\(table.naturalKey.joined(separator: ", "))) already")
            }
            table.naturalKey = key
        }
        schema.tables[position] = table
        return true
    }

    /// A new table: valid names, known reference targets, no required column without the row.
    static func check(_ table: TableDefinition, in schema: SchemaDefinition) throws {
        try SchemaNames.checkIdentifier(table.name, what: "table")
        guard !table.columns.isEmpty else {
            throw LiaisonError(.invalidInput, "table '\(table.name)' needs at least one column")
        }
        var seen: Set<String> = []
        var partial = table
        partial.columns = []
        for column in table.columns {
            guard seen.insert(column.name).inserted else {
                throw LiaisonError(.invalidInput, "table '\(table.name)' names column '\(column.name)' twice")
            }
            guard column.defaultValue == nil else {
                throw LiaisonError(
                    .invalidInput, "a new table's columns take no default; add such a column with 'schema add-column'")
            }
            try checkNew(column, in: partial, schema: schema, allowRequired: true, selfName: table.name)
            partial.columns.append(column)
        }
        for name in table.naturalKey where !table.allColumns.contains(where: { $0.name == name }) {
            throw LiaisonError(.unknownColumn, "the natural key of '\(table.name)' names no column '\(name)'")
        }
    }

    /// A new column of `table`: a valid, free name, a known reference target, a default of its type.
    static func checkNew(
        _ column: ColumnDefinition, in table: TableDefinition, schema: SchemaDefinition, allowRequired: Bool = false,
        selfName: String? = nil
    ) throws {
        try SchemaNames.checkIdentifier(column.name, what: "column")
        guard !SchemaNames.reserved.contains(column.name) else {
            throw LiaisonError(.invalidInput, "every table has a column '\(column.name)' already")
        }
        guard table.allColumns.count < SchemaNames.maxColumns else {
            throw LiaisonError(
                .invalidInput, "table '\(table.name)' has \(SchemaNames.maxColumns) columns, the most a table can have")
        }
        guard allowRequired || !column.isRequired else {
            throw LiaisonError(
                .invalidInput,
                "a column added to an existing table cannot be required (rows written before it have no value); "
                    + "give it a default instead")
        }
        switch column.type {
        case .reference(let target):
            guard target == selfName || schema.tables.contains(where: { $0.name == target }) else {
                throw LiaisonError(.unknownTable, "column '\(column.name)' refers to table '\(target)', unknown here")
            }
        case .choice(let values):
            guard !values.isEmpty else { throw LiaisonError(.invalidInput, "a choice needs at least one value") }
            for value in values { try SchemaNames.checkChoice(value) }
            guard Set(values).count == values.count else {
                throw LiaisonError(.invalidInput, "column '\(column.name)' lists a choice value twice")
            }
        default: break
        }
        if let value = column.defaultValue {
            guard value != .null, defaultFits(value, column.type) else {
                throw LiaisonError(
                    .typeMismatch, "the default \(value.displayText) of '\(column.name)' does not fit its type")
            }
            if case .reference = column.type {
                throw LiaisonError(.invalidInput, "a reference column takes no default")
            }
        }
    }

    static func defaultFits(_ value: CellValue, _ type: ColumnType) -> Bool {
        switch (type, value) {
        case (.text, .text), (.integer, .integer), (.real, .integer), (.real, .real): true
        case (.date, .text(let text)): Validation.isDate(text)
        case (.choice(let values), .text(let text)): values.contains(text)
        default: false
        }
    }

    /// `schema` with the tables and columns that `previous` has in `previous`'s order, new ones after.
    static func ordered(_ schema: SchemaDefinition, like previous: SchemaDefinition) -> SchemaDefinition {
        var result = schema
        let before = Dictionary(previous.tables.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        result.tables = schema.tables.enumerated().sorted {
            (before[$0.element.name] ?? Int.max, $0.offset) < (before[$1.element.name] ?? Int.max, $1.offset)
        }.map { entry in
            var table = entry.element
            if let old = previous.tables.first(where: { $0.name == table.name }) {
                let position = Dictionary(
                    old.columns.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
                table.columns = table.columns.enumerated().sorted {
                    (position[$0.element.name] ?? Int.max, $0.offset) < (
                        position[$1.element.name] ?? Int.max, $1.offset
                    )
                }.map(\.element)
            }
            return table
        }
        return result
    }
}
