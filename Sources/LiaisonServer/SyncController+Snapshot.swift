import Foundation
import Hummingbird
import Liaison

extension SyncController {
    /// `POST /v1/snapshot`: this replica's log as it stands, the runs compaction removed from it,
    /// and the current rows, all under the peer's read grant and signed, for a new peer that
    /// cannot sync from a compacted log (`liaison clone` falls back to it on `compacted_history`).
    func snapshot(_ request: Request, _ context: PeerRequestContext, peer: PeerRecord) async throws -> Response {
        _ = try await decode(SnapshotRequest.self, from: request)
        let readable = peer.readScopes
        let answer = try await replica.perform { try $0.makeSnapshot(readable: readable) }
        return try json(answer, for: request, context)
    }
}
