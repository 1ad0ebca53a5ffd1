import ArgumentParser
import Liaison

struct PeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer", abstract: "Manage peer agencies.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Register a peer: its URL and the bearer token shared with it.")

        @OptionGroup var replica: ReplicaArgument
        @Argument(help: "A name for the peer, e.g. MA-DGST.") var name: String
        @Argument(help: "Where the peer serves, e.g. http://127.0.0.1:8081.") var url: String
        @Option(help: "The bearer token shared with the peer (at least 8 characters).") var token: String

        func run() async throws {
            try await CLI.run {
                try CLI.open(replica.database).addPeer(name: name, url: url, token: token)
                print("peer \(name) at \(url)")
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
