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
