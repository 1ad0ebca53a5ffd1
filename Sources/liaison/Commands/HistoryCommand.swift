import ArgumentParser
import Liaison

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Every version of a row: origin, author, time, scope and signature status.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Argument(help: "The row id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let versions = try CLI.open(replica.database).history(table, id: id)
            if json {
                try CLI.printJSON(versions)
                return
            }
            if versions.isEmpty { throw LiaisonError(.notFound, "no history for '\(id)' in '\(table)'") }
            for version in versions {
                let values = version.values.map(CanonicalJSON.object) ?? ""
                print(
                    "\(version.site)#\(version.seq) [\(version.fingerprint ?? "untrusted")]  \(version.time)  by \(TerminalText.field(version.author))  [\(version.signature)]"
                )
                print("  \(version.op.rawValue) in \(TerminalText.field(version.scope)) \(TerminalText.field(values))")
            }
        }
    }
}
