import Foundation
import Hummingbird
import Liaison
import Logging
import NIOCore

/// Accepts only requests signed with the token of a registered peer, fresh and seen once
/// (`RequestSignature`); anything else gets 401 and nothing else.
struct PeerAuthenticator: RouterMiddleware {
    let replica: Replica
    let replays: ReplayGuard
    let maxBodyBytes: Int
    let wallTime: @Sendable () -> Int64

    func handle(
        _ request: Request, context: PeerRequestContext, next: (Request, PeerRequestContext) async throws -> Response
    )
        async throws -> Response
    {
        guard let header = request.headers[.authorization], let signature = RequestSignature(header: header) else {
            throw LiaisonError(
                .unauthorized,
                "missing or malformed request signature: send 'Authorization: Liaison key=…, ts=…, nonce=…, sig=…' "
                    + "made with the token of a registered peer")
        }
        var request = request
        let buffer = try await request.collectBody(upTo: maxBodyBytes)
        let body = Data(buffer.readableBytesView)
        let method = request.method.rawValue
        let path = request.uri.path
        guard
            let peer = try await replica.perform({ try $0.peer(for: signature, method: method, path: path, body: body) }
            )
        else {
            throw LiaisonError(.unauthorized, "unknown key or bad signature: this server has no peer with that token")
        }
        let now = wallTime()
        if let stale = ReplayGuard.staleness(of: signature, now: now) {
            // The peer is who it says; only its clock differs. Tell it this server's time so that it
            // can sign again (only a registered peer learns it).
            return AnswerSigner.signed(
                status: .unauthorized, answer: ErrorResponse(error: "stale_signature", message: stale, serverTime: now),
                peer: peer, signature: signature)
        }
        try replays.admit(signature, now: now)
        var context = context
        context.peer = peer
        context.signature = signature
        context.logger[metadataKey: "sync.peer"] = "\(peer.name)"
        return try await next(request, context)
    }
}
