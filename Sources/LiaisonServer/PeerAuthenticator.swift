import Hummingbird
import Logging
import NIOCore
import Liaison

/// Accepts only requests carrying the bearer token of a registered peer; anything else gets 401.
struct PeerAuthenticator: RouterMiddleware {
    let replica: Replica

    func handle(_ request: Request, context: PeerRequestContext, next: (Request, PeerRequestContext) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw LiaisonError(.unauthorized, "missing bearer token: send 'Authorization: Bearer TOKEN' of a registered peer")
        }
        let token = String(header.dropFirst("Bearer ".count))
        guard let peer = try await replica.perform({ try $0.peer(forToken: token) }) else {
            throw LiaisonError(.unauthorized, "unknown token: this server has no peer with it ('liaison peer add' registers one)")
        }
        var context = context
        context.peer = peer.name
        context.logger[metadataKey: "sync.peer"] = "\(peer.name)"
        return try await next(request, context)
    }
}
