import ArgumentParser
import Liaison

struct RevertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revert",
        abstract: "Write the inverse of a transaction as a new one (see 'liaison log' for ORIGIN#SEQ).")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The transaction, as the log names it: SITE#SEQ, e.g. MA-DGST#4.") var transaction: String
    @OptionGroup var author: AuthorOption

    func validate() throws {
        _ = try parsed()
    }

    func parsed() throws -> (site: String, seq: Int64) {
        let parts = transaction.split(separator: "#", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let seq = Int64(parts[1]), seq > 0 else {
            throw ValidationError("name the transaction as SITE#SEQ, e.g. MA-DGST#4 (see 'liaison log')")
        }
        return (String(parts[0]), seq)
    }

    func run() async throws {
        try await CLI.run {
            let (site, seq) = try parsed()
            let edits = try CLI.open(replica.database).revert(site: site, seq: seq, author: author.resolved)
            print("reverted \(site)#\(seq) (\(edits) row edits)")
        }
    }
}
