import Foundation
import Liaison

extension PeerClient {
    /// `POST /v1/snapshot`: the peer's signed snapshot under this replica's read grant there
    /// (`Replica.installSnapshot` checks it).
    public func snapshot() async throws -> SnapshotEnvelope {
        try await send("snapshot", body: SnapshotRequest())
    }
}
