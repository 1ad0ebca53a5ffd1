import ArgumentParser
import Liaison

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete one row offline.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Argument(help: "The row id.") var id: String
    @OptionGroup var author: AuthorOption

    func run() async throws {
        try await CLI.run {
            let opened = try CLI.open(replica.database)
            let deleted = try opened.write(author: author.resolved) { try $0.delete(table, id: id) }
            guard deleted else { throw LiaisonError(.notFound, "no row '\(id)' in '\(table)'") }
            print("deleted \(table) \(id)")
        }
    }
}
