import ArgumentParser
import Liaison

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the rows of a table.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            let rows = try opened.rows(table)
            if json {
                print("[" + rows.map(CanonicalJSON.object).joined(separator: ",\n ") + "]")
                return
            }
            let columns = try opened.columnNames(table)
            print(columns.joined(separator: "\t"))
            for row in rows { print(columns.map { row[$0].map { TerminalText.field($0.displayText) } ?? "NULL" }.joined(separator: "\t")) }
        }
    }
}
