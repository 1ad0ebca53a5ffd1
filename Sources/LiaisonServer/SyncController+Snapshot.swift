import Foundation
import Hummingbird
import Liaison

extension SyncController {
    /// `POST /v1/snapshot`: the manifest of a snapshot of this replica (the runs compaction removed
    /// from its log, signed), for a new peer that cannot sync from a compacted log (`liaison clone`
    /// falls back to it on `compacted_history`). The pages follow (`snapshotPage`).
    func snapshot(_ request: Request, _ context: PeerRequestContext, peer: PeerRecord) async throws -> Response {
        _ = try await decode(SnapshotRequest.self, from: request)
        let answer = try await replica.perform { try $0.snapshotManifest() }
        return try json(answer, for: request, context)
    }

    /// `POST /v1/snapshot-page`: one page of that snapshot, under the peer's read grant and within
    /// the server's page limits, signed; the last one signs the digest of the rows the peer may read.
    func snapshotPage(_ request: Request, _ context: PeerRequestContext, peer: PeerRecord) async throws -> Response {
        let body = try await decode(SnapshotPageRequest.self, from: request)
        let readable = peer.readScopes
        let limits = configuration.pageLimits
        let answer = try await replica.perform { try $0.snapshotPage(body, readable: readable, limits: limits) }
        return try json(answer, for: request, context)
    }
}
