import ArgumentParser
import Liaison

struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "Transactions held aside because they cannot be applied here: list, show, release or drop them.",
        discussion: """
            list: every held transaction with its reason. show ID: one, with the rows it changes.
            release ID: apply it now, accepting it whatever the sender's write grant (every other check
            still applies). drop ID: forget it (it is taken again if a peer sends it again).
            IDs look like NL-NCTV#12.
            """)

    enum Action: String, ExpressibleByArgument, CaseIterable { case list, show, release, drop }

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "list, show, release or drop.") var action: Action = .list
    @Argument(help: "The held transaction (CODE#SEQ) for show, release and drop.") var id: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if action != .list, id == nil {
            throw ValidationError("'quarantine \(action.rawValue)' needs an ID such as NL-NCTV#12")
        }
        if action == .list, id != nil { throw ValidationError("'quarantine list' takes no ID") }
    }

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            switch action {
            case .list:
                let held = try opened.quarantined()
                if json { return try CLI.printJSON(held) }
                if held.isEmpty { print("nothing held") }
                for item in held {
                    let from = item.source.isEmpty ? "" : " from \(item.source)"
                    print(TerminalText.field("\(item.held.id)\(from): \(item.held.error): \(item.held.message)"))
                }
            case .show:
                let item = try opened.quarantined(id!)
                if json { return try CLI.printJSON(item) }
                print(
                    TerminalText.field(
                        "\(item.held.id) by \(item.author), held since \(item.heldAt) (\(item.attempts) attempts)"))
                print(TerminalText.field("from: \(item.source.isEmpty ? "a local apply" : item.source)"))
                print(TerminalText.field("reason: \(item.held.error): \(item.held.message)"))
                for change in item.changes {
                    print(TerminalText.field("  \(change.op) \(change.table) \(change.id) in \(change.scope ?? "?")"))
                }
            case .release:
                if let still = try opened.releaseQuarantined(id!) {
                    CLI.report(code: still.error, message: "still held: " + TerminalText.describe(still), json: json)
                    throw ExitCode(1)
                }
                print("\(TerminalText.field(id!)) applied")
            case .drop:
                try opened.dropQuarantined(id!)
                print("\(TerminalText.field(id!)) dropped")
            }
        }
    }
}
