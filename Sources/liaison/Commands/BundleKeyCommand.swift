import ArgumentParser
import Liaison

/// `liaison bundle key`: this replica's sealing key, or a peer's.
struct BundleKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Print this replica's sealing key, or record a peer's (read from its 'liaison bundle key').")

    @OptionGroup var replica: ReplicaArgument
    @Option(help: "The peer whose sealing key to record.") var peer: String?
    @Argument(help: "The peer's sealing key (base64), with --peer.") var key: String?

    func validate() throws {
        if (peer == nil) != (key == nil) { throw ValidationError("--peer and KEY go together") }
    }

    func run() async throws {
        try await CLI.run {
            let replica = try CLI.open(replica.database)
            if let peer, let key {
                try replica.setSealingKey(key, of: peer)
                print("bundles for \(peer) will be sealed to \(key)")
            } else {
                print(try replica.sealingKey())
            }
        }
    }
}
