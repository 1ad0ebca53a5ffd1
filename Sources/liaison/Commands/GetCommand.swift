import ArgumentParser
import Liaison

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one row.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Argument(help: "The row id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            guard let row = try opened.row(table, id: id) else {
                throw LiaisonError(.notFound, "no row '\(id)' in '\(table)'")
            }
            if json {
                print(CanonicalJSON.object(row))
            } else {
                for column in try opened.columnNames(table) {
                    print("\(column): \(row[column].map { TerminalText.field($0.displayText) } ?? "NULL")")
                }
            }
        }
    }
}
