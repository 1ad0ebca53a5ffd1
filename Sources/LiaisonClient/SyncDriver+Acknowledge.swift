import Foundation
import Liaison
import Logging

extension PeerClient {
    /// Sends this replica's signed acknowledgement; the answer is the peer's.
    public func acknowledge(_ ack: Acknowledgement) async throws -> Acknowledgement {
        try await send("ack", body: ack)
    }
}

extension SyncDriver {
    /// After a round, each side tells the other what it has applied, signed (for compaction).
    /// A peer that does not know `/v1/ack` yet, or answers badly, costs only this step: the round
    /// has succeeded already.
    func exchangeAcknowledgements(with client: PeerClient, peer: PeerRecord) async {
        do {
            let ours = try await replica.perform { try $0.makeAcknowledgement(to: client.to.isEmpty ? nil : client.to) }
            let theirs = try await client.acknowledge(ours)
            try await replica.perform { try $0.recordAcknowledgement(theirs, from: peer, via: "sync") }
        } catch {
            logger.debug("acknowledgement not exchanged", metadata: ["sync.peer": "\(peer.name)", "error": "\(error)"])
        }
    }
}
