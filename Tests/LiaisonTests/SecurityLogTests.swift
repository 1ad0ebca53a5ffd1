import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonServer
import LiaisonTesting
import Testing

/// The server raises what attackers try into its security log (issue 13, point 8): an identity
/// conflict, an equivocation, a forged transaction, a replayed request and a peer past its request
/// slots each count under their own name, and `liaison status` shows the counts. Real server on
/// 127.0.0.1; the attacker holds a registered token and signs its own transactions.
@Suite(.timeLimit(.minutes(2))) struct SecurityLogTests {
    @Test func alarmsForgeriesReplaysAndSheddingAreCountedInStatus() async throws {
        let binary = FaultTools.liaison
        try await withPair(configuration: ServerConfiguration(maxRequestsPerPeer: 1)) { pair in
            try pair.client.write(author: "karim") { try $0.set("topic", id: "topic-first", ["name": "First"]) }
            try await SyncDriver(replica: pair.client).sync(with: pair.peer)
            // Identity conflict: a replica of its own claims MA-DGST's code.
            let fake = try Replica.create(at: pair.server.path + "-fake", site: SiteCode("MA-DGST")!)
            try fake.write(author: "karim") { try $0.set("topic", id: "topic-fake", ["name": "Planted"]) }
            let planted = try fake.changes(after: .start, excluding: VersionVector())
            let url = "http://127.0.0.1:\(pair.port)"
            let conflict = try await SignedHTTP.push(url, token: pair.token, planted.transactions, keys: planted.keys)
            #expect(conflict.status == 409, "\(conflict)")
            // Forgery: MA's genuine transaction altered after it was signed.
            try pair.client.write(author: "karim") { try $0.set("topic", id: "topic-ma", ["name": "Genuine"]) }
            let page = try pair.client.changes(after: .start, excluding: try pair.server.versionVector())
            var altered = page.transactions
            altered[0].changes[0].values?["name"] = "Altered"
            let forged = try await SignedHTTP.push(url, token: pair.token, altered, keys: page.keys)
            #expect(forged.status == 422, "\(forged)")
            // Equivocation: the client's head of MA differs from what the server applied.
            let body = try WireJSON.encode(
                PullRequest(
                    cursor: nil, vector: try pair.client.versionVector(),
                    heads: [pair.client.siteID: SiteHead(seq: 1, digest: String(repeating: "0", count: 64))]))
            let forked = try await SignedHTTP.send(
                SignedHTTP.request(url, path: "/v1/pull", token: pair.token, body: body))
            #expect(forked.status == 409 && forked.text.contains("equivocation"), "\(forked)")
            // Replay: a captured request sent again.
            let pull = try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector()))
            let captured = SignedHTTP.request(url, path: "/v1/pull", token: pair.token, body: pull)
            #expect(try await SignedHTTP.send(captured).status == 200)
            #expect(try await SignedHTTP.send(captured).status == 401)
            // Shedding: the peer's one slot held by a request waiting for its body.
            let held = try FaultConnection(port: pair.port)
            let signature = RequestSignature.sign(
                token: pair.token, method: "POST", path: "/v1/pull", body: pull, now: FaultHTTP.nowMilliseconds,
                from: pair.client.siteID, to: pair.server.siteID)
            held.send(
                "POST /v1/pull HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: "
                    + "\(signature.headerValue)\r\nContent-Length: \(pull.count)\r\n\r\n")
            var shed: Int?
            for _ in 0..<50 where shed != 503 {
                try await Task.sleep(for: .milliseconds(50))
                shed = try await FaultHTTP.get("/v1/status", port: pair.port, token: pair.token)?.status
            }
            #expect(shed == 503)
            held.hangUp()

            let expected = [
                "identity_conflict", "forged_transaction", "equivocation", "replayed_request", "request_shed",
                "push_refused",
            ]
            var counts: [String: Int] = [:]
            for _ in 0..<100 {
                counts = Dictionary(
                    uniqueKeysWithValues: try pair.server.status().securityEvents.map { ($0.event, $0.count) })
                if expected.allSatisfy({ counts[$0, default: 0] > 0 }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            for event in expected { #expect(counts[event, default: 0] > 0, "\(event) not counted: \(counts)") }
            #expect(counts["push_refused"] == 2, "\(counts)")
            // The operator sees them with the alarms in `liaison status`.
            if let binary {
                let cli = FaultCLI(
                    binary: binary, directory: URL(fileURLWithPath: pair.server.path).deletingLastPathComponent())
                let status = try await cli.output(["status", pair.server.path])
                for event in expected { #expect(status.contains(event), "\(event) missing from: \(status)") }
                #expect(status.contains("ALARM impersonation") && status.contains("ALARM equivocation"), "\(status)")
            }
        }
    }
}
