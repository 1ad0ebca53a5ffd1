import ArgumentParser
import Foundation
import Liaison

struct SchemaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Show the synced schema, or change it: the change syncs, signed, to every peer.",
        subcommands: [Show.self, AddColumn.self, AddChoice.self, AddTable.self, AddNaturalKey.self],
        defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Tables, columns, types, choices, policies, version, who changed what.")
        @OptionGroup var replica: ReplicaArgument
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLI.run(json: json) {
                let report = try CLI.open(replica.database).schemaReport()
                if json { return try CLI.printJSON(report) }
                print("schema \(report.name) major \(report.major) (hash \(report.hash))")
                for table in report.tables {
                    var line = "\(table.name)  policy \(table.policy.rawValue)"
                    if !table.naturalKey.isEmpty {
                        line += "  natural key (\(table.naturalKey.joined(separator: ", ")))"
                    }
                    if let parent = table.parentColumn { line += "  parent \(parent)" }
                    print(TerminalText.field(line))
                    for column in table.allColumns {
                        var text = "  \(column.name)\t\(column.type.label)"
                        if column.isRequired { text += "\trequired" }
                        if let value = column.defaultValue { text += "\tdefault \(value.displayText)" }
                        print(TerminalText.lines(text))
                    }
                }
                if !report.granted.isEmpty {
                    print("may change the schema here: \(report.granted.joined(separator: ", "))")
                }
                for change in report.changes {
                    let state = change.pending.map { "pending: \($0)" } ?? "applied"
                    print(
                        TerminalText.field(
                            "\(change.time)  \(change.site)  \(change.author)  \(change.kind) \(change.target)  \(state)"
                        ))
                }
                for kept in report.notShown {
                    print(TerminalText.field("not shown (kept, relayed): \(kept.transaction): \(kept.reason)"))
                }
            }
        }
    }

    struct AddColumn: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-column",
            abstract: "Add a nullable column, or one with a default (no row is rewritten).")
        @OptionGroup var replica: ReplicaArgument
        @Argument(help: "The synced table.") var table: String
        @Argument(help: "The new column's name.") var column: String
        @Option(help: "text, integer, real, date or choice:A,B.") var type: String
        @Option(name: .customLong("default"), help: "The value rows written before the column read.")
        var defaultValue: String?
        @OptionGroup var author: AuthorOption

        func validate() throws { _ = try usage { try definition() } }

        /// The column, read by the words the console's form uses too (`SchemaChangeWords`).
        func definition() throws -> ColumnDefinition {
            try SchemaChangeWords.column(name: column, type: type, defaultValue: defaultValue)
        }

        func run() async throws {
            try await CLI.run {
                let definition = try definition()
                try CLI.open(replica.database).addColumn(definition, to: table, author: author.resolved)
                print("added column \(table).\(column) (\(definition.type.label))")
            }
        }
    }

    struct AddChoice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-choice", abstract: "Add a value to a choice column.")
        @OptionGroup var replica: ReplicaArgument
        @Argument(help: "The synced table.") var table: String
        @Argument(help: "The choice column.") var column: String
        @Argument(help: "The new value.") var value: String
        @OptionGroup var author: AuthorOption

        func run() async throws {
            try await CLI.run {
                try CLI.open(replica.database).addChoice(value, to: column, of: table, author: author.resolved)
                print("added choice \(value) to \(table).\(column)")
            }
        }
    }

    struct AddTable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-table", abstract: "Add a synced table (id, scope and owner come with every table).")
        @OptionGroup var replica: ReplicaArgument
        @Argument(help: "The new table's name.") var table: String
        @Option(name: .customLong("column"), help: "NAME:TYPE, repeated (TYPE as for add-column, or reference:TABLE).")
        var columns: [String] = []
        @Option(help: "lww or owner-wins.") var policy: String = "lww"
        @Option(help: "The parent table: adds a required PARENT_id column, whose row's scope new rows take.")
        var parent: String?
        @OptionGroup var author: AuthorOption

        func validate() throws { _ = try usage { try definition() } }

        /// The table, read by the words the console's form uses too (`SchemaChangeWords`).
        func definition() throws -> TableDefinition {
            try SchemaChangeWords.table(name: table, columns: columns, policy: policy, parent: parent)
        }

        func run() async throws {
            try await CLI.run {
                try CLI.open(replica.database).addTable(try definition(), author: author.resolved)
                print("added table \(table)")
            }
        }
    }
}

extension SchemaCommand {
    struct AddNaturalKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-natural-key",
            abstract: "Name the columns that identify one real-world thing (duplicates are then recorded; indexed).")
        @OptionGroup var replica: ReplicaArgument
        @Argument(help: "The synced table.") var table: String
        @Argument(help: "The key's columns, in order.") var columns: [String] = []
        @OptionGroup var author: AuthorOption

        func validate() throws {
            guard !columns.isEmpty else {
                throw ValidationError("name the key's columns: schema add-natural-key DB TABLE COLUMN…")
            }
        }

        func run() async throws {
            try await CLI.run {
                try CLI.open(replica.database).addNaturalKey(columns, to: table, author: author.resolved)
                print("added natural key \(table)(\(columns.joined(separator: ", ")))")
            }
        }
    }
}

/// Runs a library check inside `validate()`, so its message exits 64 as a usage error.
private func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as LiaisonError { throw ValidationError(error.message) }
}
