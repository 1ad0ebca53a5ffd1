import ArgumentParser
import Liaison

struct SetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Insert or update one row offline: COL=VALUE..., 'COL=' sets NULL.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Argument(help: "The row id.") var id: String
    @Argument(help: "Assignments COL=VALUE.") var assignments: [String] = []
    @OptionGroup var author: AuthorOption

    func validate() throws {
        guard !assignments.isEmpty else { throw ValidationError("give at least one COL=VALUE") }
        for assignment in assignments where !assignment.contains("=") || assignment.hasPrefix("=") {
            throw ValidationError("'\(assignment)' is not COL=VALUE")
        }
    }

    func run() async throws {
        try await CLI.run {
            let opened = try CLI.open(replica.database)
            var texts: [String: String] = [:]
            for assignment in assignments {
                let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                texts[String(parts[0])] = String(parts[1])
            }
            let values = try opened.parse(table: table, texts)
            try opened.write(author: author.resolved) { try $0.set(table, id: id, values) }
            print("set \(table) \(id)")
        }
    }
}
