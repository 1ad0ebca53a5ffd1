import ArgumentParser
import Liaison

struct ScopeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scope", abstract: "Declare and list sharing scopes.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Declare a sharing scope; the declaration syncs to the peers that may read the scope.")

        @OptionGroup var replica: ReplicaArgument
        @Argument(help: "The scope's name, e.g. ops-nl-ma or bilateral:NL-MA.") var name: String
        @Option(help: "What the scope is for and who shares in it.") var description: String
        @OptionGroup var author: AuthorOption

        func validate() throws {
            guard Scope.isValid(name) else {
                throw ValidationError("invalid scope '\(name)': use lower-case words such as ops-nl-ma")
            }
            guard !description.isEmpty else { throw ValidationError("give --description: what the scope is for") }
        }

        func run() async throws {
            try await CLI.run {
                try CLI.open(replica.database).declareScope(name, description: description, author: author.resolved)
                print("scope \(name) declared")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the built-in and declared scopes.")
        @OptionGroup var replica: ReplicaArgument

        func run() async throws {
            try await CLI.run {
                for scope in try CLI.open(replica.database).knownScopes() {
                    print("\(scope.name)\t\(scope.description.map(TerminalText.field) ?? "(built in)")")
                }
                print("bilateral:AA-BB\t(built in, for any two parties)")
            }
        }
    }
}

struct WhoSeesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "who-sees",
        abstract: "List who may read a row from this replica: this site and the peers granted its scope.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Argument(help: "The row id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let readers = try CLI.open(replica.database).whoSees(table, id: id)
            if json {
                print(String(decoding: try WireJSON.encode(readers), as: UTF8.self))
                return
            }
            print("scope \(readers.scope)")
            print("\(readers.site)\t(this replica)")
            for (name, grant) in readers.peers.sorted(by: { $0.key < $1.key }) {
                print("\(name)\treads \(grant.joined(separator: ","))")
            }
            print("(as far as this replica knows: peers of its peers are granted by them)")
        }
    }
}
