import Liaison

/// One line per peer for `status`: what it acknowledged, when, how, and whether compaction waits for it.
enum AcknowledgementText {
    static func line(_ ack: PeerAcknowledgementState) -> String {
        let what =
            ack.acknowledged.map { "acknowledged \($0) at \(ack.acknowledgedAt ?? "?") by \(ack.via ?? "?")" }
            ?? "no acknowledgement yet"
        let hold =
            ack.staleSince.map { "stale since \($0), holds nothing back" }
            ?? (ack.holdsBackCompaction
                ? "holds compaction back (\(ack.unacknowledged) transactions unacknowledged)" : "holds nothing back")
        return "acknowledgement \(ack.peer): \(what); \(hold)"
    }
}

/// The compaction summary of `status` and `compact --plan`, one line each.
enum CompactionText {
    static func lines(_ summary: CompactionSummary) -> [String] {
        var lines: [String] = []
        if let id = summary.lastCheckpoint {
            lines.append(
                "compaction: last checkpoint \(id) at \(summary.lastAt ?? "?") under \(summary.lastFloor ?? "?") "
                    + "(\(summary.checkpoints) in all); removed \(summary.transactionsRemoved) transactions whole, "
                    + "dropped \(summary.valuesDropped) values (\(summary.valueBytesDropped) bytes), "
                    + "file \(summary.fileBytesReclaimed) bytes reclaimed")
        } else {
            lines.append("compaction: never run here")
        }
        if summary.transactionsRemovedBySnapshot > 0 {
            lines.append(
                "compaction: \(summary.transactionsRemovedBySnapshot) transactions removed by the source of the snapshot this replica was cloned from"
            )
        }
        lines.append(
            "compaction floor: \(summary.floor); "
                + (summary.floorHeldBackBy.isEmpty
                    ? "no peer holds it back"
                    : "held back by \(summary.floorHeldBackBy.joined(separator: ", ")) (not acknowledged what this replica holds)")
        )
        if !summary.aheadOfThisReplica.isEmpty {
            lines.append(
                "compaction: nothing removed whole until this replica holds what \(summary.aheadOfThisReplica.joined(separator: ", ")) acknowledged"
            )
        }
        return lines
    }
}
