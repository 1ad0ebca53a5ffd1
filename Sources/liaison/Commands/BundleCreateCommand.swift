import ArgumentParser
import Foundation
import Liaison

/// `liaison bundle create`: the transactions a peer lacks, as a signed file.
struct BundleCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract:
            "Write the transactions a peer lacks, filtered to its read grant, signed (and sealed when its key is known)."
    )

    @OptionGroup var replica: ReplicaArgument
    @Option(name: .customLong("for"), help: "The registered peer the bundle is for.") var peer: String
    @Option(help: "The bundle file to write.") var out: String
    @Option(help: "What the peer holds, CODE=SEQ,... or none (default: its last acknowledgement).") var since: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let replica = try CLI.open(replica.database)
            let since = try self.since.map { try replica.versionVector(parsing: $0) }
            let (data, summary) = try replica.makeBundle(for: peer, since: since)
            try BundleFiles.write(data, to: out)
            if json { return try CLI.printJSON(summary) }
            print(
                "wrote \(out) for \(peer): \(summary.transactions) transactions, \(summary.changes) changes, "
                    + "\(summary.bytes) bytes, \(summary.sealed ? "sealed to \(peer)'s key" : "signed, not sealed")")
            let base = try replica.describe(summary.since)
            print(
                summary.sinceAcknowledged
                    ? "since \(peer)'s acknowledgement (\(base))"
                    : since == nil
                        ? "since nothing: no acknowledgement from \(peer) yet (use --since to send less)"
                        : "since \(base)")
            if !summary.sealed {
                print(
                    "not sealed: \(peer)'s sealing key arrives with its acknowledgement bundle, or set it with 'liaison bundle key'"
                )
            }
        }
    }
}
