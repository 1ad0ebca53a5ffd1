import ArgumentParser
import Liaison

struct GrantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract:
            "Set the sharing scopes a peer may read from and write into this replica, or let it change the schema.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The peer's name (with --schema also a site code).") var peer: String
    @Option(help: "Scopes the peer may receive, comma-separated (e.g. public,gctf or *).") var read: String?
    @Option(help: "Scopes the peer may write, comma-separated.") var write: String?
    @Flag(help: "Let the peer's site change the schema here (its schema changes apply from now on).")
    var schema = false

    func validate() throws {
        guard (read == nil) == (write == nil) else { throw ValidationError("give both --read and --write") }
        guard read != nil || schema else { throw ValidationError("give --read and --write, or --schema") }
        if let read, let write { try validateGrants(read, write) }
    }

    func run() async throws {
        try await CLI.run {
            let replica = try CLI.open(replica.database)
            if let read, let write {
                try replica.grant(peer: peer, read: try Scope.parseGrant(read), write: try Scope.parseGrant(write))
                print("peer \(peer) reads \(read), writes \(write)")
            }
            if schema {
                try replica.grantSchemaChanges(to: peer)
                print("\(peer) may change the schema here")
            }
        }
    }
}
