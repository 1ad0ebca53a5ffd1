import Foundation
import Liaison
import LiaisonClient
import LiaisonServer
import LiaisonTesting
import Testing

/// Every request is bound to its sender, its recipient and its body (issue 11, point 5): a request
/// of the old, unbound form is refused whatever its HMAC, with a 4xx JSON error saying what to do,
/// and nothing of it is done. Real server on 127.0.0.1; the attacker holds a registered token and
/// writes its headers by hand.
@Suite(.timeLimit(.minutes(2))) struct BindingTests {
    /// The header of `signature` without the fields that bind it (`from`, `to`, `body`): the form
    /// clients sent before every request was bound.
    private static func unbound(_ signature: RequestSignature) -> String {
        "Liaison key=\(signature.keyID), ts=\(signature.timestamp), nonce=\(signature.nonce), sig=\(signature.signature)"
    }

    private static func raw(
        _ method: String, _ path: String, port: Int, authorization: String, body: Data = Data()
    ) -> Data {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        head += "Authorization: \(authorization)\r\nContent-Length: \(body.count)\r\n"
        if !body.isEmpty { head += "Content-Type: application/json\r\n" }
        return Data((head + "\r\n").utf8) + body
    }

    /// Sends `method path` with `body` to the pair's server by hand, signed over `signedBody`
    /// (the body itself unless told) as the client, to `to` (the server unless told), the header
    /// written by `header`; the answer is required.
    private static func send(
        _ pair: ServedPair, _ method: String, _ path: String, body: Data, signedBody: Data? = nil, to: String? = nil,
        header: (RequestSignature) -> String = \.headerValue
    ) async throws -> FaultHTTPAnswer {
        let signature = RequestSignature.sign(
            token: pair.token, method: method, path: path, body: signedBody ?? body, now: FaultHTTP.nowMilliseconds,
            from: pair.client.siteID, to: to ?? pair.server.siteID)
        return try #require(
            try await FaultHTTP.exchange(
                port: pair.port,
                request: raw(method, path, port: pair.port, authorization: header(signature), body: body)))
    }

    @Test func anUnboundRequestIsRefusedWithAJSONErrorAndChangesNothing() async throws {
        try await withPair { pair in
            try pair.client.write(author: "karim") { try $0.set("topic", id: "topic-unbound", ["name": "Unbound"]) }
            let page = try pair.client.changes(after: .start, excluding: try pair.server.versionVector())
            let body = try WireJSON.encode(PushRequest(transactions: page.transactions, keys: page.keys))
            let before = try pair.server.dump()
            let answer = try await Self.send(pair, "POST", "/v1/push", body: body, header: Self.unbound)
            #expect(answer.status == 401, "\(answer)")
            #expect(answer.errorObject?.error == "unbound_request", "\(answer)")
            #expect(answer.errorObject?.message.contains("names no sender") == true, "\(answer)")
            #expect(try pair.server.dump() == before)
            #expect(try pair.server.row("topic", id: "topic-unbound") == nil)
            // Bound to no recipient: only a first GET /v1/status may be.
            let refused = try await Self.send(pair, "POST", "/v1/push", body: body, to: "")
            #expect(refused.status == 401 && refused.errorObject?.error == "unbound_request", "\(refused)")
            #expect(refused.errorObject?.message.contains("names no recipient") == true, "\(refused)")
            #expect(try pair.server.dump() == before)
            let firstContact = try await FaultHTTP.get(
                "/v1/status", port: pair.port, token: pair.token, from: pair.client.siteID, to: "")
            #expect(firstContact?.status == 200, "\(String(describing: firstContact))")
            // The same push, bound, goes through.
            let bound = try await FaultHTTP.exchange(
                port: pair.port,
                request: FaultHTTP.request("POST", "/v1/push", port: pair.port, token: pair.token, body: body))
            #expect(bound?.status == 200, "\(String(describing: bound))")
            #expect(try pair.server.row("topic", id: "topic-unbound")?["name"] == "Unbound")
        }
    }

    /// The body is bound too: a signed header whose body was swapped on the way is refused once
    /// the body has come, before anything reads it.
    @Test func aBodySwappedUnderASignedHeaderIsRefused() async throws {
        try await withPair { pair in
            let genuine = try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector()))
            let swapped = try WireJSON.encode(PullRequest(cursor: nil, vector: try pair.server.versionVector()))
            let answer = try await Self.send(pair, "POST", "/v1/pull", body: swapped, signedBody: genuine)
            #expect(
                answer.status == 401 && answer.text.contains("not the one this request was signed over"), "\(answer)")
        }
    }

    @Test func aPeerClientWithoutASenderOrRecipientSendsNothing() async throws {
        #expect(throws: LiaisonError.self) { try PeerClient(url: "http://127.0.0.1:1", token: "a-token-123", from: "") }
        let client = try PeerClient(url: "http://127.0.0.1:1", token: "a-token-123", from: "a-site")
        let error = try await #require(throws: LiaisonError.self) {
            try await client.pull(PullRequest(cursor: nil, vector: VersionVector()))
        }
        #expect(error.code == .invalidInput && error.message.contains("ask its status first"), "\(error)")
    }
}
