import Foundation
import Hummingbird
import Liaison
import NIOCore
import ServiceLifecycle

/// `POST /v1/live`: a long-poll that answers when the replica holds something new the asking peer
/// may read (`Replica.liveNews`), or `news: false` at its deadline.
///
/// It sits behind the same authenticator as pull (signed, fresh, seen once, a slot among the peer's
/// requests). A parked wait also counts as an idle connection, so at the connection limit it is
/// closed first to make room; one wait per peer (`LiveHub`), `LiveHub.maxWait` at most.
struct LiveController {
    let replica: Replica
    let hub: LiveHub
    let connections: ConnectionRegistry
    let sync: SyncController

    func register(on group: RouterGroup<PeerRequestContext>) {
        group.post("live") { request, context in
            try await live(request, context, peer: try sync.authenticated(context))
        }
    }

    func live(_ request: Request, _ context: PeerRequestContext, peer: PeerRecord) async throws -> Response {
        try sync.checkSchema(of: request, peer: peer)
        let body = try await sync.decode(LiveRequest.self, from: request)
        let cursor = try SyncCursor(parsing: body.cursor)
        if let wait = body.waitMilliseconds, wait < 0 {
            throw LiaisonError(.malformedRequest, "waitMilliseconds must be 0 or more")
        }
        let wait = min(.milliseconds(body.waitMilliseconds ?? Int.max / 2), LiveHub.maxWait)
        guard let signature = context.signature else {
            throw LiaisonError(.unauthorized, "the request is not authenticated")
        }
        guard let ticket = hub.park(peer: peer.name) else {
            var refusal = AnswerSigner.signed(
                status: .serviceUnavailable,
                answer: ErrorResponse(
                    error: "busy",
                    message: "this server holds as many live waits as it allows (\(hub.maxWatches)); "
                        + "sync periodically, or retry after the Retry-After seconds"),
                peer: peer, signature: signature)
            refusal.headers[.retryAfter] = "30"
            return refusal
        }
        defer { hub.leave(ticket) }
        let deadline = Task { [hub] in
            try? await Task.sleep(for: wait)
            hub.end(ticket)
        }
        defer { deadline.cancel() }
        // A parked wait is idle for the connection limit: closing it frees the peer to ask again.
        // It ends when its client hangs up or the connection closes.
        let channel = context.channel
        if let channel {
            connections.onHangUp(channel) { [hub] in hub.end(ticket) }
            connections.setBusy(channel, false)
        }
        defer {
            if let channel {
                connections.clearHangUp(channel)
                connections.setBusy(channel, true)
            }
        }
        let readable = peer.readScopes
        // A server shutting down answers its waits at once rather than at their deadlines.
        return try await withGracefulShutdownHandler {
            var checkedUpTo: Int64?
            while true {
                let generation = hub.generation
                let news = try await replica.perform { [checkedUpTo] in
                    try $0.liveNews(after: cursor, excluding: body.vector, readable: readable, checkedUpTo: checkedUpTo)
                }
                if news.found || hub.isEnded(ticket) {
                    return try sync.json(LiveResponse(news: news.found), for: request, context)
                }
                checkedUpTo = news.checkedUpTo
                await hub.wait(ticket, after: generation)
            }
        } onGracefulShutdown: { [hub] in
            hub.end(ticket)
        }
    }
}

extension LiveRequest: ProtocolVersioned {}
