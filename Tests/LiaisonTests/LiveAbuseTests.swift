import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonServer
import LiaisonTesting
import Testing

/// `POST /v1/live` against hostile peers: authenticated like a pull, one wait per peer, a bounded
/// number in all, a deadline, and a parked wait is the first connection closed at the limit.
@Suite(.timeLimit(.minutes(2))) struct LiveAbuseTests {
    /// A signed `POST /v1/live` sent over a raw socket as the holder of `token` would send it.
    static func wait(port: Int, token: String, milliseconds: Int?, cursor: String? = nil) throws -> FaultConnection {
        let body = try WireJSON.encode(
            LiveRequest(cursor: cursor, vector: VersionVector(), waitMilliseconds: milliseconds))
        let binding = ServedReplicas.binding(port: port, token: token)
        let signature = RequestSignature.sign(
            token: token, method: "POST", path: "/v1/live", body: body, now: Int64(Date().timeIntervalSince1970 * 1000),
            from: binding.from, to: binding.to)
        let connection = try FaultConnection(port: port)
        _ = connection.send(
            "POST /v1/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(signature.headerValue)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
        _ = connection.send(body)
        return connection
    }

    static func port(_ url: String) throws -> Int { try #require(URL(string: url)?.port) }

    @Test func aWaitIsAuthenticatedBoundedAndEndsAtItsDeadline() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                _ = try pair(ma, with: nl, url: url)
                let port = try Self.port(url)
                // No signature, or a token the server does not know: 401, and nothing waits.
                let unsigned = try FaultConnection(port: port)
                _ = unsigned.send("POST /v1/live HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
                #expect(await unsigned.waitForAnswer(timeout: .seconds(10))?.status == 401)
                let stranger = try Self.wait(port: port, token: "not-a-token", milliseconds: 10_000)
                #expect(await stranger.waitForAnswer(timeout: .seconds(10))?.status == 401)
                // Malformed: a negative wait or a cursor that is not one.
                let negative = try Self.wait(port: port, token: "token-MA-DGST-NL-NCTV", milliseconds: -1)
                #expect(await negative.waitForAnswer(timeout: .seconds(10))?.status == 400)
                let badCursor = try Self.wait(
                    port: port, token: "token-MA-DGST-NL-NCTV", milliseconds: 100, cursor: "x")
                #expect(await badCursor.waitForAnswer(timeout: .seconds(10))?.status == 400)
                // A valid wait with nothing new ends at its deadline with `news: false`, signed.
                let started = ContinuousClock.now
                let quiet = try Self.wait(port: port, token: "token-MA-DGST-NL-NCTV", milliseconds: 400)
                let answer = try #require(await quiet.waitForAnswer(timeout: .seconds(10)))
                #expect(answer.status == 200 && answer.text.contains("\"news\":false"), "\(answer)")
                #expect(answer.headers[AnswerSignature.header.lowercased()] != nil)
                #expect(ContinuousClock.now - started >= .milliseconds(380))
                // The requester holds nothing: a pull would bring NL's sample, so a wait from the
                // start is answered at once.
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-x", ["name": "X"]) }
                let fresh = try Self.wait(port: port, token: "token-MA-DGST-NL-NCTV", milliseconds: 20_000)
                let woken = try #require(await fresh.waitForAnswer(timeout: .seconds(5)))
                #expect(woken.status == 200 && woken.text.contains("\"news\":true"), "\(woken)")
                for connection in [unsigned, stranger, negative, badCursor, quiet, fresh] { connection.hangUp() }
            }
        }
    }

    /// A token holder that opens waits again and again holds one: each new one ends the last.
    @Test func aPeerHoldsOneWaitAtATime() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            var configuration = ServerConfiguration()
            configuration.maxRequestsPerPeer = 64
            try await withServer(nl, configuration: configuration) { url in
                _ = try pair(ma, with: nl, url: url)
                let port = try Self.port(url)
                var waits: [FaultConnection] = []
                for index in 0..<20 {
                    waits.append(
                        try Self.wait(
                            port: port, token: "token-MA-DGST-NL-NCTV", milliseconds: index == 19 ? 1_000 : 20_000))
                    try await Task.sleep(for: .milliseconds(50))
                }
                // Every wait but the last is answered `news: false` long before its 20 s.
                for connection in waits.dropLast() {
                    let answer = try #require(await connection.waitForAnswer(timeout: .seconds(10)))
                    #expect(answer.status == 200 && answer.text.contains("\"news\":false"), "\(answer)")
                }
                for connection in waits { connection.hangUp() }
            }
        }
    }

    /// `maxLiveWaits` parked in all: one more (another peer's) is answered 503 `busy`.
    @Test func theServerParksABoundedNumberOfWaits() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-EGM")
            var configuration = ServerConfiguration()
            configuration.maxLiveWaits = 1
            try await withServer(nl, configuration: configuration) { url in
                _ = try pair(ma, with: nl, url: url)
                _ = try pair(tr, with: nl, url: url)
                let port = try Self.port(url)
                let first = try Self.wait(port: port, token: "token-MA-DGST-NL-NCTV", milliseconds: 20_000)
                try await Task.sleep(for: .milliseconds(300))
                let second = try Self.wait(port: port, token: "token-TR-EGM-NL-NCTV", milliseconds: 20_000)
                let refused = try #require(await second.waitForAnswer(timeout: .seconds(10)))
                #expect(refused.status == 503 && refused.errorObject?.error == "busy", "\(refused)")
                #expect(refused.headers["retry-after"] != nil)
                // Its client hanging up ends the first wait, which frees its place.
                first.hangUp()
                try await Task.sleep(for: .milliseconds(300))
                let third = try Self.wait(port: port, token: "token-TR-EGM-NL-NCTV", milliseconds: 300)
                let answer = try #require(await third.waitForAnswer(timeout: .seconds(10)))
                #expect(answer.status == 200, "\(answer)")
                for connection in [second, third] { connection.hangUp() }
            }
        }
    }

    /// At the connection limit a parked wait counts as idle: a legitimate peer's round closes it
    /// and goes through, however many waits a hostile token holder parks.
    @Test func aParkedWaitIsClosedToMakeRoomAtTheConnectionLimit() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            let hostile = try factory.make("XX-EVIL")
            var configuration = ServerConfiguration()
            configuration.maxConnections = 1
            try await withServer(nl, configuration: configuration) { url in
                let peer = try pair(ma, with: nl, url: url)
                _ = try pair(hostile, with: nl, url: url)
                let port = try Self.port(url)
                let parked = try Self.wait(port: port, token: "token-XX-EVIL-NL-NCTV", milliseconds: 20_000)
                try await Task.sleep(for: .milliseconds(300))
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-y", ["name": "Y"]) }
                let report = try await SyncDriver(replica: ma).sync(with: peer)
                #expect(report.pulledChanges >= 1)
                #expect(try ma.row("topic", id: "topic-y") != nil)
                #expect(await parked.waitForClose(timeout: .seconds(5)), "the parked wait kept its connection")
                parked.hangUp()
            }
        }
    }
}
