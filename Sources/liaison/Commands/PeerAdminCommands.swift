import ArgumentParser
import Liaison

struct PeerRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Forget a peer: its URL, token, grants and cursors (its transactions stay).")
    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The peer's name (see 'liaison peer list').") var name: String

    func run() async throws {
        try await CLI.run {
            try CLI.open(replica.database).removePeer(name)
            print("removed peer \(name)")
        }
    }
}

struct PeerRename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rename", abstract: "Rename a peer, keeping its token, grants and cursors.")
    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The peer's current name.") var name: String
    @Argument(help: "Its new name.") var newName: String

    func run() async throws {
        try await CLI.run {
            try CLI.open(replica.database).renamePeer(name, to: newName)
            print("renamed peer \(name) to \(newName)")
        }
    }
}
