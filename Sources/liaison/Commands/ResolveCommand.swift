import ArgumentParser
import Liaison

struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve", abstract: "Settle a conflict with a new transaction that syncs like any edit.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The conflict id, or its first characters if no other id starts so (see 'liaison conflicts').")
    var conflict: String
    @Option(help: "Which side to keep: winner or loser.") var keep: String?
    @Option(help: "Write this value instead ('' for NULL).") var value: String?
    @Option(help: "Why: kept with the resolution and synced with it (up to 1000 characters).") var note: String?
    @OptionGroup var author: AuthorOption

    func validate() throws {
        switch (keep, value) {
        case (nil, nil), (.some, .some): throw ValidationError("give exactly one of --keep winner|loser and --value V")
        case (let keep?, nil) where keep != "winner" && keep != "loser":
            throw ValidationError("--keep takes winner or loser, not '\(keep)'")
        default: break
        }
    }

    func run() async throws {
        try await CLI.run {
            let opened = try CLI.open(replica.database)
            let id = try opened.conflictID(matching: conflict)
            let choice: ConflictChoice
            if let value {
                choice = .value(try opened.parseConflictValue(id, value))
            } else {
                choice = keep == "winner" ? .keepWinner : .keepLoser
            }
            try opened.resolve(id, choice, author: author.resolved, note: note)
            print("resolved \(id)")
        }
    }
}
