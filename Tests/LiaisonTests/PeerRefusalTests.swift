import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import Liaison
import LiaisonClient
import LiaisonConsole
import LiaisonProtocol
import LiaisonServer
import LiaisonTesting
import Prometheus
import Testing

/// Refused requests are counted per peer (issue 14, point 3), in one vocabulary for the console,
/// `status --json` and `/metrics`: a peer holding a registered token sends a forged push, replays
/// a captured request and sends a body other than the one it signed, over real HTTP.
@Suite(.timeLimit(.minutes(2))) struct PeerRefusalTests {
    @Test func aHostilePeersRefusedRequestsAreCountedUnderItsName() async throws {
        try await withPair { pair in
            let url = "http://127.0.0.1:\(pair.port)"
            try await SyncDriver(replica: pair.client).sync(with: pair.peer)
            // A forged push: MA's genuine transaction altered after it was signed.
            try pair.client.write(author: "karim") { try $0.set("topic", id: "topic-ma", ["name": "Genuine"]) }
            let page = try pair.client.changes(after: .start, excluding: try pair.server.versionVector())
            var altered = page.transactions
            altered[0].changes[0].values?["name"] = "Altered"
            #expect(try await SignedHTTP.push(url, token: pair.token, altered, keys: page.keys).status == 422)
            // A replayed pull.
            let pull = try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector()))
            let captured = SignedHTTP.request(url, path: "/v1/pull", token: pair.token, body: pull)
            #expect(try await SignedHTTP.send(captured).status == 200)
            #expect(try await SignedHTTP.send(captured).status == 401)
            // A body other than the one signed.
            var swapped = SignedHTTP.request(url, path: "/v1/pull", token: pair.token, body: pull)
            swapped.httpBody = try WireJSON.encode(PullRequest(cursor: nil, vector: try pair.client.versionVector()))
            #expect(try await SignedHTTP.send(swapped).status == 401)

            var health: PeerHealth?
            for _ in 0..<100 {
                health = try pair.server.peerHealth().first { $0.peer == "MA-DGST" }
                if (health?.refused["authentication_failed"] ?? 0) > 0 && (health?.refused["push_refused"] ?? 0) > 0 {
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let refused = try #require(health?.refused)
            #expect(refused["push_refused"] == 1 && refused["forged_transaction"] == 1, "\(refused)")
            #expect(refused["replayed_request"] == 1 && refused["authentication_failed"] == 1, "\(refused)")
            #expect(health?.authFailures == 2)
            #expect(Set(refused.keys).isSubset(of: Set(PeerRefusalKind.all)))

            // The same words in /metrics, labelled by peer and reason only.
            let text = try await ConsoleMetrics(replica: pair.server, registry: PrometheusCollectorRegistry()).render()
            let samples = try PrometheusText.parse(text)
            #expect(samples["liaison_peer_refused_requests", ["peer": "MA-DGST", "reason": "push_refused"]] == 1)
            #expect(samples["liaison_peer_refused_requests", ["peer": "MA-DGST", "reason": "replayed_request"]] == 1)
            #expect(samples["liaison_peer_auth_failures", ["peer": "MA-DGST"]] == 2)
            #expect(!text.contains("topic-ma") && !text.contains("karim"), "no row ids or authors in metrics")
            // A renamed peer keeps its counts; a removed one takes them with it.
            try pair.server.renamePeer("MA-DGST", to: "MA-renamed")
            #expect(try pair.server.peerRefusals()["MA-renamed"]?["push_refused"] == 1)
            try pair.server.renamePeer("MA-renamed", to: "MA-DGST")
            // And in `liaison status --json` and `liaison status`, when the binary is built.
            if let binary = FaultTools.liaison {
                let cli = FaultCLI(
                    binary: binary, directory: URL(fileURLWithPath: pair.server.path).deletingLastPathComponent())
                let json = try await cli.output(["status", pair.server.path, "--json"])
                #expect(json.contains("\"refused\"") && json.contains("\"push_refused\"") && json.contains("\"replayed_request\""))
                let text = try await cli.output(["status", pair.server.path])
                #expect(text.contains("refused here: authentication_failed 1 replayed_request 1 push_refused 1"), "\(text)")
            }
            try pair.server.removePeer("MA-DGST")
            #expect(try pair.server.peerRefusals()["MA-DGST"] == nil)
        }
    }
}
