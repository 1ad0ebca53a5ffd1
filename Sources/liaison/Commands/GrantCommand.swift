import ArgumentParser
import Liaison

struct GrantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant", abstract: "Set the sharing scopes a peer may read from and write into this replica.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The peer's name.") var peer: String
    @Option(help: "Scopes the peer may receive, comma-separated (e.g. public,gctf or *).") var read: String
    @Option(help: "Scopes the peer may write, comma-separated.") var write: String

    func validate() throws { try validateGrants(read, write) }

    func run() async throws {
        try await CLI.run {
            try CLI.open(replica.database).grant(
                peer: peer, read: try Scope.parseGrant(read), write: try Scope.parseGrant(write))
            print("peer \(peer) reads \(read), writes \(write)")
        }
    }
}
