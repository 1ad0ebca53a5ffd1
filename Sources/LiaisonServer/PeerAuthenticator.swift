import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import Liaison
import Logging
import NIOCore

/// Accepts only requests signed with the token of a registered peer, bound to sender and
/// recipient, fresh and seen once (`RequestSignature`; seen signatures are kept in the replica, so
/// a restart forgets none of them: `Replica.admitRequest`); anything else gets 401 and nothing else.
///
/// Everything is decided from the headers before a byte of the body is read: the header carries
/// the body's hash, so its HMAC is checked first. A request that is unbound, names no registered
/// key or does not verify costs the server its headers only, and its connection is closed (its
/// body is never read); in particular an outsider who saw a peer's key id cannot hold that peer's
/// request slots. A verified request then reserves its body's bytes in the server-wide budget and
/// a slot among its peer's concurrent requests (503 with `Retry-After` when either is full), and
/// only then is its body read and checked against the signed hash.
struct PeerAuthenticator: RouterMiddleware {
    let replica: Replica
    let maxBodyBytes: Int
    let budget: RequestBudget
    let securityLog: SecurityLog
    let wallTime: @Sendable () -> Int64

    private static let badSignature = "unknown key or bad signature: this server has no peer with that token"

    func handle(
        _ request: Request, context: PeerRequestContext, next: (Request, PeerRequestContext) async throws -> Response
    )
        async throws -> Response
    {
        let path = request.uri.path
        let method = request.method.rawValue
        guard let header = request.headers[.authorization], let signature = RequestSignature(header: header) else {
            securityLog.record(.authenticationFailed, ["security.reason": "no signature", "http.path": "\(path)"])
            return Self.refusal(
                .unauthorized, code: "unauthorized",
                "missing or malformed request signature: send 'Authorization: Liaison key=…, ts=…, nonce=…, from=…, "
                    + "to=…, body=…, sig=…' made with the token of a registered peer")
        }
        if let unbound = signature.unboundReason(method: method, path: path) {
            securityLog.record(.authenticationFailed, ["security.reason": "unbound", "http.path": "\(path)"])
            return Self.refusal(.unauthorized, code: "unbound_request", unbound)
        }
        let keyID = signature.keyID
        guard let peer = try await replica.perform({ try $0.peer(forKeyID: keyID) }) else {
            securityLog.record(
                .authenticationFailed,
                ["security.reason": "unknown key", "security.key": "\(keyID)", "http.path": "\(path)"])
            return Self.refusal(.unauthorized, code: "unauthorized", Self.badSignature)
        }
        guard signature.isValid(token: peer.token, method: method, path: path) else {
            SyncMetrics.authFailures.increment()
            securityLog.record(
                .authenticationFailed,
                ["security.reason": "bad signature", "security.peer": "\(peer.name)", "http.path": "\(path)"])
            return Self.refusal(.unauthorized, code: "unauthorized", Self.badSignature)
        }
        do {
            try replica.checkDirection(of: signature, from: peer, method: method, path: path)
        } catch let error as LiaisonError {
            securityLog.record(
                .authenticationFailed, ["security.reason": "misdirected", "security.peer": "\(peer.name)"])
            return Self.refusal(.unauthorized, code: "unauthorized", error.message)
        }
        let now = wallTime()
        if let stale = ReplayGuard.staleness(of: signature, now: now) {
            SyncMetrics.authFailures.increment()
            securityLog.record(.authenticationFailed, ["security.reason": "stale", "security.peer": "\(peer.name)"])
            // The peer is who it says; only its clock differs. Tell it this server's time so that it
            // can sign again (only a registered peer learns it).
            return AnswerSigner.signed(
                status: .unauthorized, answer: ErrorResponse(error: "stale_signature", message: stale, serverTime: now),
                peer: peer, signature: signature)
        }
        do {
            try await replica.perform { try $0.admitRequest(signature, now: now) }
        } catch {
            SyncMetrics.authFailures.increment()
            securityLog.record(.replayedRequest, ["security.peer": "\(peer.name)", "http.path": "\(path)"])
            return Self.refusal(.unauthorized, code: "unauthorized", (error as? LiaisonError)?.message ?? "\(error)")
        }
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > maxBodyBytes {
            return Self.refusal(
                .contentTooLarge, code: "payload_too_large",
                "the request body is larger than this server accepts (\(maxBodyBytes) bytes); send smaller batches")
        }
        let grant: RequestBudget.Grant
        switch budget.reserve(peer: peer.name, bytes: declared ?? maxBodyBytes) {
        case .success(let granted): grant = granted
        case .failure(.peerBusy(let limit)):
            securityLog.record(.requestShed, ["security.peer": "\(peer.name)", "security.reason": "peer busy"])
            return Self.refusal(
                .serviceUnavailable, code: "busy",
                "this peer already has \(limit) requests under way here; retry after the Retry-After seconds",
                retryAfter: 1)
        case .failure(.serverFull):
            securityLog.record(.requestShed, ["security.peer": "\(peer.name)", "security.reason": "buffer full"])
            return Self.refusal(
                .serviceUnavailable, code: "busy",
                "the server is buffering as many request bytes as it accepts; retry after the Retry-After seconds",
                retryAfter: 2)
        }
        defer { budget.release(grant) }

        var request = request
        let buffer = try await request.collectBody(upTo: maxBodyBytes)
        guard signature.matches(body: Data(buffer.readableBytesView)) else {
            SyncMetrics.authFailures.increment()
            securityLog.record(
                .authenticationFailed,
                ["security.reason": "body altered", "security.peer": "\(peer.name)", "http.path": "\(path)"])
            return Self.refusal(
                .unauthorized, code: "unauthorized",
                "the body is not the one this request was signed over (altered on the way, or cut); nothing was done")
        }

        var context = context
        context.peer = peer
        context.signature = signature
        context.logger[metadataKey: "sync.peer"] = "\(peer.name)"
        // What the endpoint refuses is raised into the security log by `AnswerSigner`, which signs it.
        return try await next(request, context)
    }

    /// An error answer that closes the connection, so a body nobody will read is not drained.
    static func refusal(
        _ status: HTTPResponse.Status, code: String, _ message: String, retryAfter seconds: Int? = nil
    ) -> Response {
        var response = ErrorMiddleware<PeerRequestContext>.response(status: status, code: code, message: message)
        response.headers[.connection] = "close"
        if let seconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }
}
