import ArgumentParser
import Liaison

/// `liaison peer stale`: an operator marks a long-silent peer stale for compaction.
struct PeerStale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stale",
        abstract: "Mark a long-silent peer stale so compaction stops waiting for it (--clear to undo); it still syncs.")
    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The peer's name (see 'liaison peer list').") var name: String
    @Flag(help: "The peer counts again.") var clear = false

    func run() async throws {
        try await CLI.run {
            try CLI.open(replica.database).markStale(peer: name, !clear)
            print(
                clear
                    ? "peer \(name) counts for compaction again"
                    : "peer \(name) marked stale: compaction no longer waits for it")
        }
    }
}
