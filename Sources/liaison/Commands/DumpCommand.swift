import ArgumentParser
import Liaison

struct DumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Canonical JSON of all synced rows: converged replicas print the same bytes.")

    @OptionGroup var replica: ReplicaArgument

    func run() async throws {
        try await CLI.run { print(try CLI.open(replica.database).dump(), terminator: "") }
    }
}
