import ArgumentParser
import Liaison

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "The change log: origin, seq, time, author and changes of each transaction.")

    @OptionGroup var replica: ReplicaArgument
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Show only the newest N transactions.") var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try await CLI.run(json: json) {
            let entries = try CLI.open(replica.database).log(limit: limit)
            if json {
                try CLI.printJSON(entries)
                return
            }
            for entry in entries {
                print("\(entry.site)#\(entry.seq)  \(entry.time)  by \(TerminalText.field(entry.author))  (\(entry.changes.count) changes)")
                for change in entry.changes.prefix(20) {
                    let values = change.values.map { CanonicalJSON.object($0) } ?? ""
                    print(
                        "  \(change.op.rawValue) \(TerminalText.field(change.table)) \(TerminalText.field(change.id)) "
                            + TerminalText.field(values))
                }
                if entry.changes.count > 20 { print("  … \(entry.changes.count - 20) more") }
                if let resolves = entry.resolves { print("  resolves \(TerminalText.field(resolves.joined(separator: ", ")))") }
            }
        }
    }
}
