import ArgumentParser
import Liaison

/// `liaison bundle import`: applies a bundle as a push from its sender.
struct BundleImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract:
            "Apply a bundle as a push from its sender would be (its write grant, quarantine); importing twice changes nothing."
    )

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The bundle file.") var file: String
    @Option(help: "Also write an acknowledgement bundle for the sender (the way back).") var ackOut: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let replica = try CLI.open(replica.database)
            let report = try replica.importBundle(try BundleFiles.read(file))
            try BundleFiles.show(report, json: json)
            if let ackOut, report.kind == .changes {
                let (data, summary) = try replica.makeAcknowledgementBundle(for: report.peer, answering: report.id)
                try BundleFiles.write(data, to: ackOut)
                if !json {
                    print("wrote acknowledgement \(ackOut) for \(report.peer)\(summary.sealed ? " (sealed)" : "")")
                }
            }
            if !report.missing.isEmpty { throw ExitCode(1) }
        }
    }
}
