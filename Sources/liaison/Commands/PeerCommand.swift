import ArgumentParser
import Liaison

struct PeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer", abstract: "Manage peer agencies.",
        subcommands: [Add.self, List.self, PeerRemove.self, PeerRename.self, PeerStale.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Register a peer: its URL, the secret token shared with it, and what it may read and write.")

        @OptionGroup var replica: ReplicaArgument
        @Argument(help: "A name for the peer, e.g. MA-DGST.") var name: String
        @Argument(help: "Where the peer serves, e.g. http://127.0.0.1:8081.") var url: String
        /// The secret shared with the peer (at least 8 characters); it signs every request and never travels.
        @OptionGroup var token: TokenOption
        @Option(
            help:
                "The peer's public key from its 'liaison identity' (else its transactions wait for 'liaison trust')."
        ) var key: String?
        @Option(help: "The peer's site id from 'liaison identity' (required with --key).") var siteId: String?
        @Option(help: "Scopes the peer may receive from this replica (default public).") var read = "public"
        @Option(help: "Scopes the peer may write into this replica (default public).") var write = "public"

        func validate() throws {
            if (key == nil) != (siteId == nil) {
                throw ValidationError("--key and --site-id go together: both from the peer's 'liaison identity'")
            }
            try validateGrants(read, write)
        }

        func run() async throws {
            try await CLI.run {
                try CLI.open(replica.database).addPeer(
                    name: name, url: url, token: try token.resolved(), siteID: siteId, read: try Scope.parseGrant(read),
                    write: try Scope.parseGrant(write), publicKey: key)
                print("peer \(name) at \(url) (reads \(read); writes \(write))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered peers.")
        @OptionGroup var replica: ReplicaArgument

        func run() async throws {
            try await CLI.run {
                for peer in try CLI.open(replica.database).peers() {
                    print("\(peer.name)\t\(peer.url)\t\(peer.siteID ?? "-")")
                }
            }
        }
    }
}
