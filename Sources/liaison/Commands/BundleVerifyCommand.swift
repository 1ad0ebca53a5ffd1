import ArgumentParser
import Liaison

/// `liaison bundle verify`: checks a bundle without changing the replica.
struct BundleVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a bundle against a replica without changing it: signatures, prerequisites, a dry run.")

    @Argument(help: "The bundle file.") var file: String
    @Option(name: .customLong("db"), help: "The replica that would import it.") var database: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let report = try CLI.open(database).importBundle(try BundleFiles.read(file), dryRun: true)
            try BundleFiles.show(report, json: json)
            if !report.missing.isEmpty { throw ExitCode(1) }
        }
    }
}
