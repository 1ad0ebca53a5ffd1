import ArgumentParser
import Foundation
import Liaison

/// `liaison export-key DB --to FILE`: the replica's key file, to move its identity deliberately.
struct ExportKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-key",
        abstract:
            "Write this replica's signing key and peer tokens to a file (0600), to move its identity deliberately.")

    @OptionGroup var replica: ReplicaArgument
    @Option(help: "The file to write (must not exist).") var to: String

    func run() async throws {
        try await CLI.run {
            if FileManager.default.fileExists(atPath: to) {
                throw LiaisonError(.invalidInput, "'\(to)' exists already; export into a new file")
            }
            let data = try CLI.open(replica.database).exportKeys()
            guard FileManager.default.createFile(atPath: to, contents: data, attributes: [.posixPermissions: 0o600])
            else { throw LiaisonError(.storage, "cannot write '\(to)'") }
            print("wrote the keys of \(replica.database) to \(to); keep it as secret as the agency's identity")
        }
    }
}

/// `liaison import-key DB FILE`: installs a key file exported from the same replica.
struct ImportKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-key",
        abstract: "Install the signing key and peer tokens exported from this replica ('liaison export-key').")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The file written by 'liaison export-key'.") var file: String

    func run() async throws {
        try await CLI.run {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw LiaisonError(.invalidInput, "cannot read '\(file)'; check its path and permissions")
            }
            try Replica.importKeys(data, forReplicaAt: replica.database)
            print("installed the keys of \(replica.database) from \(file)")
        }
    }
}
