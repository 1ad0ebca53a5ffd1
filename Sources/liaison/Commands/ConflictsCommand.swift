import ArgumentParser
import Liaison

struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Conflicts kept for a person to look at (open ones unless --all).")

    @OptionGroup var replica: ReplicaArgument
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Include resolved conflicts.") var all = false

    func run() async throws {
        try await CLI.run(json: json) {
            let conflicts = try CLI.open(replica.database).conflicts(includeResolved: all)
            if json {
                try CLI.printJSON(conflicts)
                return
            }
            if conflicts.isEmpty { print("no \(all ? "" : "open ")conflicts") }
            for conflict in conflicts {
                let target = TerminalText.field(
                    "\(conflict.table) \(conflict.rowID)\(conflict.column.map { ".\($0)" } ?? "")")
                print(
                    "\(conflict.id) [\(conflict.state)] \(conflict.kind.rawValue) on \(target), policy \(conflict.policy.rawValue)"
                )
                for (label, side) in [("winner", conflict.winner), ("loser ", conflict.loser)] {
                    let value =
                        conflict.kind == .value
                        ? (side.value.map { TerminalText.field($0.displayText) } ?? "NULL")
                        : (label == "winner" ? "(row kept)" : "(deleted)")
                    print(
                        "  \(label) \(value)  by \(TerminalText.field(side.author)) at \(side.site)#\(side.seq) [\(side.fingerprint ?? "untrusted")], \(side.hlc)"
                    )
                }
            }
        }
    }
}
