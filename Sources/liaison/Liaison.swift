import ArgumentParser
import Foundation

@main
struct LiaisonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaison",
        abstract: "An offline-first replica of the shared cooperation dataset, synced with peer agencies over HTTP.",
        subcommands: [
            InitCommand.self, CloneCommand.self, SetCommand.self, DeleteCommand.self, GetCommand.self, ListCommand.self,
            LogCommand.self, DumpCommand.self, ServeCommand.self, PeerCommand.self, SyncCommand.self,
            ConflictsCommand.self, ResolveCommand.self, StatusCommand.self, IdentityCommand.self, GrantCommand.self,
            HistoryCommand.self, VerifyCommand.self, ScopeCommand.self, WhoSeesCommand.self, TrustCommand.self,
            ExportKeyCommand.self, ImportKeyCommand.self, ConsoleCommand.self, RevertCommand.self, ExportCommand.self,
            ImportCommand.self, QuarantineCommand.self,
            CompareCommand.self, SchemaCommand.self, BundleCommand.self, CompactCommand.self,
        ])

    /// Parses and runs, printing every error as one line `liaison: …` on stderr and exiting with
    /// the contract's codes: 64 for bad usage or input, 1 for other failures. Help goes to stdout.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? ""
            if !message.isEmpty {
                let text = message.hasPrefix("Error: ") ? String(message.dropFirst("Error: ".count)) : message
                CLI.report(
                    code: "invalid_usage", message: "\(text) (see 'liaison --help')",
                    json: CommandLine.arguments.contains("--json"))
            }
            Foundation.exit(code == .validationFailure ? CLI.usageExit : code.rawValue)
        }
    }
}
