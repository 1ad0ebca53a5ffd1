import Foundation
import Hummingbird
import Liaison

extension SyncController {
    /// `POST /v1/ack`: the peer's signed statement of what it has applied, answered with this
    /// replica's. Acknowledgements let each side know what the other holds for compaction.
    func acknowledge(_ request: Request, _ context: PeerRequestContext, peer: PeerRecord) async throws -> Response {
        let ack = try await decode(Acknowledgement.self, from: request)
        try await replica.perform { try $0.recordAcknowledgement(ack, from: peer, via: "sync") }
        let answer = try await replica.perform { try $0.makeAcknowledgement(to: peer.siteID ?? ack.site) }
        return try json(answer, for: request, context)
    }
}
