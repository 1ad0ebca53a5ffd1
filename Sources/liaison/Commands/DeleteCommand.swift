import ArgumentParser
import Liaison

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete one row offline.",
        discussion:
            "A row other rows refer to is not deleted unless --cascade (delete them too) or --orphan (keep them).")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Argument(help: "The row id.") var id: String
    @Flag(help: "Also delete the rows that refer to it (and theirs), in the same transaction.") var cascade = false
    @Flag(help: "Delete it and keep the rows that refer to it.") var orphan = false
    @OptionGroup var author: AuthorOption

    func validate() throws {
        if cascade && orphan { throw ValidationError("choose one of --cascade and --orphan") }
    }

    func run() async throws {
        try await CLI.run {
            let opened = try CLI.open(replica.database)
            let policy: ReferrerPolicy = cascade ? .cascade : orphan ? .orphan : .refuse
            let deleted = try opened.write(author: author.resolved) { try $0.delete(table, id: id, referrers: policy) }
            guard deleted else { throw LiaisonError(.notFound, "no row '\(id)' in '\(table)'") }
            print("deleted \(table) \(id)")
        }
    }
}
