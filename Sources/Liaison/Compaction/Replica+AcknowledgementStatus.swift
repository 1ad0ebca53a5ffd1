import Foundation

/// What one peer has acknowledged, as `status` shows it: which vector it signed, when, how it
/// arrived, and whether it holds compaction back.
public struct PeerAcknowledgementState: Sendable, Codable, Hashable {
    public var peer: String
    /// When its newest acknowledgement was made (ISO 8601), `nil` when it never sent one.
    public var acknowledgedAt: String?
    /// What it acknowledged, as `CODE=SEQ,...` (`none` when nothing).
    public var acknowledged: String?
    /// How that acknowledgement arrived: `sync` (`POST /v1/ack`) or `bundle`.
    public var via: String?
    /// When an operator marked it stale (it then holds nothing back).
    public var staleSince: String?
    /// Transactions this replica holds that the peer has not acknowledged.
    public var unacknowledged: Int64
    /// Whether compaction waits for this peer (not stale, and something unacknowledged).
    public var holdsBackCompaction: Bool
}

extension Replica {
    /// Every registered peer's acknowledgement state, by peer name order. Cheap: no candidate scan
    /// (`compactionPlan()` counts what each peer holds back in changes).
    public func acknowledgementStates() throws -> [PeerAcknowledgementState] {
        let acks = try acknowledgements()
        let stale = try stalePeers()
        let channels = try withConnection { db in try AcknowledgementStore(db: db).channels() }
        let vector = try versionVector()
        return try peers().sorted { $0.name < $1.name }.map { peer in
            let ack = acks[peer.name]
            let lacking = vector.entries.reduce(Int64(0)) { $0 + max(0, $1.value - (ack?.vector[$1.key] ?? 0)) }
            return PeerAcknowledgementState(
                peer: peer.name, acknowledgedAt: ack?.at, acknowledged: try ack.map { try describe($0.vector) },
                via: ack == nil ? nil : channels[peer.name], staleSince: stale[peer.name], unacknowledged: lacking,
                holdsBackCompaction: stale[peer.name] == nil && lacking > 0)
        }
    }
}
