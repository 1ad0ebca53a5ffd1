import Foundation
import Liaison
import LiaisonClient
import LiaisonServer
import LiaisonTesting
import Testing

/// An outsider, or a peer, trying to exhaust a server: each attempt is contained, and the
/// legitimate peer still gets through. Real server on 127.0.0.1, raw sockets as the attacker.
@Suite(.timeLimit(.minutes(2))) struct AvailabilityTests {
    /// A request signed with a key this server does not know, announcing a 16 MB body it never sends.
    private static func bogusHead(port: Int, path: String = "/v1/push", length: Int = 16_000_000) -> String {
        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
            + "Authorization: Liaison key=0123456789abcdef, ts=\(FaultHTTP.nowMilliseconds), nonce=00ff, "
            + "from=an-outsider, to=a-server, body=\(RequestSignature.emptyBodyHash), sig=AAAA\r\n"
            + "Content-Length: \(length)\r\n\r\n"
    }

    /// A request head naming a registered peer's key (the key id travels in the clear), whose
    /// signature can only be checked once its body has come.
    private static func knownKeyHead(port: Int, token: String, length: Int) -> String {
        let binding = ServedReplicas.binding(port: port, token: token)
        let signature = RequestSignature.sign(
            token: token, method: "POST", path: "/v1/pull", body: Data(), now: FaultHTTP.nowMilliseconds,
            from: binding.from, to: binding.to)
        return "POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
            + "Authorization: \(signature.headerValue)\r\nContent-Length: \(length)\r\n\r\n"
    }

    /// Holds `count` connections that sent `head` (made afresh for each: a signature is accepted
    /// once) and wait for their bodies, then sends `probe` until it is refused with 503. A held
    /// head that lost the race to a probe (and got the 503 itself) is sent again.
    private static func hold(
        _ count: Int, _ head: @autoclosure () -> String, port: Int, probe: () async throws -> FaultHTTPAnswer?
    ) async throws -> ([FaultConnection], FaultHTTPAnswer?) {
        var held: [FaultConnection] = []
        var answer: FaultHTTPAnswer?
        for _ in 0..<100 {
            held.removeAll { !$0.received.isEmpty }
            while held.count < count {
                let connection = try FaultConnection(port: port)
                connection.send(head())
                held.append(connection)
            }
            try await Task.sleep(for: .milliseconds(50))
            answer = try await probe()
            if answer?.status == 503 { break }
        }
        return (held, answer)
    }

    @Test func anUnknownKeyIsRefusedFromItsHeadersAndItsBodyIsNeverRead() async throws {
        try await withPair { pair in
            let connection = try FaultConnection(port: pair.port)
            connection.send(Self.bogusHead(port: pair.port))
            let answer = try #require(
                await connection.waitForAnswer(timeout: .seconds(20)), "no answer before the body")
            #expect(answer.status == 401, "\(answer)")
            #expect(answer.errorObject?.error == "unauthorized")
            #expect(answer.headers["connection"] == "close")
            // The server closes rather than drain 16 MB nobody will read.
            #expect(await connection.waitForClose(timeout: .seconds(10)))
            try await pair.expectSyncWorks()
        }
    }

    @Test func aPeerHoldingAllItsRequestSlotsGets503WithRetryAfter() async throws {
        let configuration = ServerConfiguration(maxRequestsPerPeer: 2)
        try await withPair(configuration: configuration) { pair in
            let (held, answer) = try await Self.hold(
                2, Self.knownKeyHead(port: pair.port, token: pair.token, length: 100), port: pair.port
            ) { try await FaultHTTP.get("/v1/status", port: pair.port, token: pair.token) }
            let refused = try #require(answer)
            #expect(
                refused.status == 503,
                "\(refused); held: \(held.map { String(decoding: $0.received, as: UTF8.self).prefix(200) })")
            #expect(refused.errorObject?.error == "busy")
            #expect(refused.headers["retry-after"].flatMap(Int.init) != nil, "\(refused.headers)")
            for connection in held { connection.hangUp() }
            // Slots come back once the held requests end.
            var status = 0
            for _ in 0..<100 where status != 200 {
                status = try await FaultHTTP.get("/v1/status", port: pair.port, token: pair.token)?.status ?? 0
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(status == 200)
        }
    }

    /// An outsider who saw a peer's key id (it travels in the clear) sends heads naming it with a
    /// made-up signature, and a genuine head it captured again, each announcing a body it never
    /// sends. None of them holds one of the peer's slots: each is refused from its headers at once,
    /// and every request of the peer itself gets through.
    @Test func anOutsiderWhoSawAPeersKeyIDCannotHoldItsSlots() async throws {
        let configuration = ServerConfiguration(maxRequestsPerPeer: 2)
        try await withPair(configuration: configuration) { pair in
            let keyID = RequestSignature.keyID(forToken: pair.token)
            func forged() -> String {
                "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1:\(pair.port)\r\nContent-Type: application/json\r\n"
                    + "Authorization: Liaison key=\(keyID), ts=\(FaultHTTP.nowMilliseconds), "
                    + "nonce=\(UUID().uuidString.prefix(8)), from=\(pair.client.siteID), to=\(pair.server.siteID), "
                    + "body=\(RequestSignature.emptyBodyHash), sig=\(Data(count: 32).base64EncodedString())\r\n"
                    + "Content-Length: 16000000\r\n\r\n"
            }
            // A genuine request seen on the wire, sent whole and answered; the outsider replays its head.
            let body = try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector()))
            let signature = RequestSignature.sign(
                token: pair.token, method: "POST", path: "/v1/pull", body: body, now: FaultHTTP.nowMilliseconds,
                from: pair.client.siteID, to: pair.server.siteID)
            let captured =
                "POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1:\(pair.port)\r\nContent-Type: application/json\r\n"
                + "Authorization: \(signature.headerValue)\r\nContent-Length: \(body.count)\r\n\r\n"
            let genuine = try FaultConnection(port: pair.port)
            genuine.send(Data(captured.utf8) + body)
            #expect(await genuine.waitForAnswer(timeout: .seconds(20))?.status == 200)
            genuine.hangUp()
            var held: [FaultConnection] = []
            for index in 0..<60 {
                let connection = try FaultConnection(port: pair.port)
                connection.send(index.isMultiple(of: 3) ? captured : forged())
                held.append(connection)
            }
            // The peer's own requests, while the outsider's heads wait for bodies that never come.
            var statuses: [Int: Int] = [:]
            var slowest = Duration.zero
            for _ in 0..<20 {
                let start = ContinuousClock.now
                let answer = try await FaultHTTP.get("/v1/status", port: pair.port, token: pair.token)
                slowest = max(slowest, ContinuousClock.now - start)
                statuses[answer?.status ?? 0, default: 0] += 1
            }
            #expect(statuses == [200: 20], "the peer's requests: \(statuses)")
            var refused = 0
            for connection in held {
                if let answer = await connection.waitForAnswer(timeout: .seconds(10)), answer.status == 401 {
                    refused += 1
                }
            }
            #expect(refused == held.count, "\(refused) of \(held.count) outsider heads refused from their headers")
            try await pair.expectSyncWorks()
            print(
                "outsider heads naming the peer's key: \(refused)/\(held.count) refused at once; the peer's 20 "
                    + "requests meanwhile: \(statuses), slowest \(slowest)")
            for connection in held { connection.hangUp() }
        }
    }

    @Test func bufferedBodyBytesHaveAServerWideCap() async throws {
        let configuration = ServerConfiguration(maxBodyBytes: 4_096, maxBufferedBytes: 8_192, maxRequestsPerPeer: 8)
        try await withPair(configuration: configuration) { pair in
            let body = try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector()))
            let (held, answer) = try await Self.hold(
                2, Self.knownKeyHead(port: pair.port, token: pair.token, length: 4_096), port: pair.port
            ) {
                try await FaultHTTP.exchange(
                    port: pair.port,
                    request: FaultHTTP.request("POST", "/v1/pull", port: pair.port, token: pair.token, body: body))
            }
            let refused = try #require(answer)
            #expect(refused.status == 503 && refused.headers["retry-after"] != nil, "\(refused)")
            for connection in held { connection.hangUp() }
        }
    }

    @Test func idleHalfSentAndSlowBodyConnectionsAreClosed() async throws {
        let configuration = ServerConfiguration(
            idleTimeout: .seconds(1), headerTimeout: .seconds(1), bodyTimeout: .seconds(1))
        try await withPair(configuration: configuration) { pair in
            let idle = try FaultConnection(port: pair.port)
            let halfHead = try FaultConnection(port: pair.port)
            halfHead.send("POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            let slowBody = try FaultConnection(port: pair.port)
            slowBody.send(Self.knownKeyHead(port: pair.port, token: pair.token, length: 1_000) + "{\"cursor\"")
            // Timed on threads of their own (`TestExecutor`): a cooperative pool busy with other
            // suites delays these polls' wake-ups, not the server's closes (21 s measured under load).
            let (closed, took) = await withTaskExecutorPreference(TestExecutor.shared) {
                let start = ContinuousClock.now
                var closed: [Bool] = []
                for connection in [idle, halfHead, slowBody] {
                    closed.append(await connection.waitForClose(timeout: .seconds(15)))
                }
                return (closed, ContinuousClock.now - start)
            }
            #expect(closed == [true, true, true], "idle, half-sent head, slow body: \(closed)")
            #expect(took < .seconds(15), "the three connections were closed after \(took)")
            try await pair.expectSyncWorks()
        }
    }

    @Test func aSyncGetsThroughWhileIdleConnectionsFillTheLimit() async throws {
        let configuration = ServerConfiguration(maxConnections: 16)
        try await withPair(configuration: configuration) { pair in
            var held: [FaultConnection] = []
            for index in 0..<48 {
                let connection = try FaultConnection(port: pair.port)
                if index.isMultiple(of: 2) { connection.send("GET /v1/status HTTP/1.1\r\n") }
                held.append(connection)
            }
            // The server accepts what the kernel queued; each one beyond the limit closes an older idle one.
            var closed = 0
            for _ in 0..<200 where closed < 48 - 16 {
                closed = 0
                for connection in held where await connection.waitForClose(timeout: .zero) { closed += 1 }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(closed >= 48 - 16, "only \(closed) of 48 idle connections were closed")
            try await pair.expectSyncWorks()
        }
    }
}

extension AvailabilityTests {
    @Test func aRequestAcceptedBeforeARestartIsRefusedAfterIt() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let signature = RequestSignature.sign(
                token: "token-MA-DGST-NL-NCTV", method: "GET", path: "/v1/status", body: Data(),
                now: FaultHTTP.nowMilliseconds, from: ma.siteID, to: nl.siteID)
            @Sendable func captured(_ port: Int) -> Data {
                Data(
                    ("GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
                        + "Authorization: \(signature.headerValue)\r\n\r\n").utf8)
            }
            try await withServer(nl) { url in
                _ = try pair(ma, with: nl, url: url)
                let port = URL(string: url)!.port!
                #expect(try await FaultHTTP.exchange(port: port, request: captured(port))?.status == 200)
                #expect(try await FaultHTTP.exchange(port: port, request: captured(port))?.status == 401)
            }
            // A new server process would open the file afresh: so does this one.
            let reopened = try Replica.open(at: factory.path("NL-NCTV"))
            try await withServer(reopened) { url in
                let port = URL(string: url)!.port!
                let answer = try #require(try await FaultHTTP.exchange(port: port, request: captured(port)))
                #expect(answer.status == 401 && answer.text.contains("replayed"), "\(answer)")
            }
        }
    }
}

extension AvailabilityTests {
    @Test func failedAuthenticationsAndRefusedPushesAreCountedInStatus() async throws {
        try await withPair { pair in
            let unknown = try FaultConnection(port: pair.port)
            unknown.send(Self.bogusHead(port: pair.port))
            #expect(await unknown.waitForAnswer(timeout: .seconds(20))?.status == 401)
            let badSignature = try await FaultHTTP.get("/v1/status", port: pair.port, token: "not-the-token-at-all")
            #expect(badSignature?.status == 401)
            // A push outside MA-DGST's write grant (it may write `public` only here).
            try pair.server.grant(peer: "MA-DGST", read: ["*"], write: ["public"])
            try pair.client.write(author: "karim") {
                try $0.set("topic", id: "topic-secret", ["name": "Secret", "scope": "eu"])
            }
            let page = try pair.client.changes(after: .start, excluding: try pair.server.versionVector())
            // Altered after it was signed: refused whole (a genuine one would be held in quarantine).
            var altered = page.transactions
            altered[0].changes[0].values?["name"] = "Altered"
            let body = try WireJSON.encode(PushRequest(transactions: altered, keys: page.keys))
            let refused = try await FaultHTTP.exchange(
                port: pair.port,
                request: FaultHTTP.request("POST", "/v1/push", port: pair.port, token: pair.token, body: body))
            #expect(refused?.status == 422, "\(String(describing: refused))")
            var counts: [String: Int] = [:]
            for _ in 0..<100 {
                counts = Dictionary(
                    uniqueKeysWithValues: try pair.server.status().securityEvents.map { ($0.event, $0.count) })
                if counts["authentication_failed", default: 0] >= 2 && counts["push_refused", default: 0] >= 1 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(counts["authentication_failed", default: 0] >= 2, "\(counts)")
            #expect(counts["push_refused", default: 0] >= 1, "\(counts)")
        }
    }
}

/// Two replicas, NL-NCTV serving and MA-DGST its registered peer.
struct ServedPair: Sendable {
    let server: Replica
    let client: Replica
    let peer: PeerRecord
    let port: Int
    var token: String { peer.token }

    /// A real sync round of MA-DGST with the server moves a fresh edit across.
    func expectSyncWorks(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let id = "topic-\(UUID().uuidString.prefix(8).lowercased())"
        try client.write(author: "karim") { try $0.set("topic", id: id, ["name": "Reached"]) }
        _ = try await SyncDriver(replica: client).sync(with: peer)
        #expect(try server.row("topic", id: id) != nil, "the sync did not get through", sourceLocation: sourceLocation)
    }
}

func withPair(
    configuration: ServerConfiguration = ServerConfiguration(), _ body: @Sendable (ServedPair) async throws -> Void
) async throws {
    try await withReplicas { factory in
        let server = try factory.make("NL-NCTV", sample: true)
        let client = try factory.make("MA-DGST")
        try await withServer(server, configuration: configuration) { url in
            let peer = try pair(client, with: server, url: url)
            try await body(ServedPair(server: server, client: client, peer: peer, port: URL(string: url)!.port!))
        }
    }
}
