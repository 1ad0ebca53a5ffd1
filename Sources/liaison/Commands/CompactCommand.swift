import ArgumentParser
import Liaison

/// `liaison compact`: drop superseded values every peer has acknowledged, under a signed checkpoint.
struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract:
            "Show (--plan) or drop (--apply) superseded values every peer has acknowledged; verify still proves the log."
    )

    @OptionGroup var replica: ReplicaArgument
    @Flag(help: "Show what could be reclaimed and which peer holds the rest back.") var plan = false
    @Flag(help: "Drop it, record a signed checkpoint, and vacuum the file.") var apply = false
    @Flag(
        help:
            "With --apply, also remove wholly superseded transactions whole (headers and change rows); peers behind them then clone from a snapshot."
    )
    var removeTransactions = false
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if plan == apply { throw ValidationError("give one of --plan or --apply") }
        if removeTransactions && !apply { throw ValidationError("--remove-transactions goes with --apply") }
    }

    func run() async throws {
        try await CLI.run(json: json) {
            let replica = try CLI.open(replica.database)
            if apply {
                let result = try replica.compact(removingTransactions: removeTransactions)
                if json { return try CLI.printJSON(result) }
                if !result.heldBackBy.isEmpty {
                    print(
                        "no transaction removed whole: \(result.heldBackBy.joined(separator: ", ")) acknowledged "
                            + "transactions this replica lacks; sync with them first")
                }
                guard let checkpoint = result.checkpoint else {
                    print("nothing to compact: see 'liaison compact \(self.replica.database) --plan'")
                    return
                }
                print(
                    "dropped \(result.changes) superseded values (\(result.bytes) bytes)"
                        + (removeTransactions ? " and removed \(result.transactions) transactions whole" : "")
                        + " under checkpoint \(checkpoint); file \(result.fileBytesBefore) -> \(result.fileBytesAfter) bytes"
                )
                return
            }
            var plan = try replica.compactionPlan()
            plan.summary = try replica.compactionSummary()
            if json { return try CLI.printJSON(plan) }
            for line in plan.summary.map(CompactionText.lines) ?? [] { print(TerminalText.field(line)) }
            print("every counted peer has acknowledged \(plan.floor)")
            print("reclaimable now: \(plan.changes) superseded values, \(plan.bytes) bytes")
            if plan.transactionsHeldBackBy.isEmpty {
                print("removable whole (--remove-transactions): \(plan.transactions) transactions")
            } else {
                print(
                    "removable whole: none until this replica holds what \(plan.transactionsHeldBackBy.joined(separator: ", ")) "
                        + "acknowledged")
            }
            for peer in plan.peers {
                let acknowledged =
                    peer.acknowledged.map { "acknowledged \($0) at \(peer.acknowledgedAt ?? "?")" }
                    ?? "no acknowledgement yet"
                if let since = peer.staleSince {
                    print("\(peer.peer)\tstale since \(since) (holds nothing back); \(acknowledged)")
                } else {
                    print("\(peer.peer)\tholds back \(peer.holdsBack) values; \(acknowledged)")
                }
            }
        }
    }
}
