import ArgumentParser
import Foundation
import Liaison
import LiaisonClient

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Check that this replica and a peer hold the same rows in the scopes both may read.",
        discussion: """
            Compares the digests of each table and scope (every row's cells and versions), then splits
            differing ranges until the differing rows are named, in a few round trips. Prints 'in step', or
            the rows that differ and exits 1. Nothing is repaired: a difference is an alarm for the operators
            of both replicas. --rehash first hashes every row here again from the file (for a file edited by
            other means than SQLite).
            """)

    @OptionGroup var replica: ReplicaArgument
    @Option(help: "The peer to compare with.") var peer: String
    @Flag(help: "Compare only the fingerprints of each table and scope (one round trip).") var summary = false
    @Flag(help: "Hash every row here again first.") var rehash = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            guard let record = try opened.peers().first(where: { $0.name == peer }) else {
                let names = try opened.peers().map(\.name)
                throw LiaisonError(
                    .notFound,
                    "no peer '\(peer)'; peers: \(names.isEmpty ? "none" : names.joined(separator: ", "))")
            }
            guard let siteID = record.siteID else {
                throw LiaisonError(
                    .invalidInput,
                    "'\(peer)' has not answered yet: run 'liaison sync \(replica.database) --peer \(peer)' first")
            }
            if rehash { try opened.rehashDigests() }
            let client = try PeerClient(url: record.url, token: record.token, from: opened.siteID, to: siteID)
            let result = try await DigestComparer(replica: opened).compare(with: record, client: client, full: !summary)
            if json {
                try CLI.printJSON(result)
            } else {
                print(TerminalText.field(ComparisonText.line(result)))
                for difference in result.differences {
                    print(
                        TerminalText.field(
                            "  \(difference.kind.replacingOccurrences(of: "_", with: " ")): \(difference.table) \(difference.id) (scope \(difference.scope))"
                        ))
                }
            }
            if result.result != "in_step" { throw ExitCode(1) }
        }
    }
}

/// One line about a comparison, for `compare` and `status`.
enum ComparisonText {
    static func line(_ comparison: PeerComparison) -> String {
        let cost =
            "\(comparison.roundTrips) round trip\(comparison.roundTrips == 1 ? "" : "s"), "
            + "\(comparison.bytesSent) bytes sent, \(comparison.bytesReceived) received"
        switch comparison.result {
        case "in_step":
            return
                "compared with \(comparison.peer) at \(comparison.at): in step (\(comparison.scopes) tables and scopes, \(comparison.rows) rows; \(cost))"
        case "differ":
            return
                "ALARM compared with \(comparison.peer) at \(comparison.at): NOT in step: \(comparison.message) (\(cost))"
        default:
            return "compared with \(comparison.peer) at \(comparison.at): not comparable: \(comparison.message)"
        }
    }
}
