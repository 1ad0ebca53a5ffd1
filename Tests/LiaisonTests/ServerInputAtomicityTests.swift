import Foundation
import Liaison
import LiaisonServer
import LiaisonTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerInputTests {
    // MARK: Atomicity and idempotency

    @Test(arguments: ["unknown table", "type mismatch", "gap"])
    func batchWhoseSecondTransactionIsBadAppliesNeither(defect: String) async throws {
        try await withServerInputHarness { harness in
            var transactions = try harness.clientTransactions(2)
            #expect(transactions.map(\.seq) == [1, 2])
            switch defect {
            case "unknown table": transactions[1].changes[0].table = "nope"
            case "type mismatch": transactions[1].changes[0].values?["name"] = .integer(1)
            default: transactions[1].seq = 3
            }
            try await harness.expectRefused(422, nil) { try await harness.push(transactions) }
            #expect(try harness.server.row("topic", id: "topic-ma-1") == nil)
            #expect(try harness.server.versionVector()[harness.client.siteID] == 0)
            // The first one alone is fine.
            // Sent alone, it carries the proof of its signed run (`Replica.withProofs`).
            let answer = try await harness.push(try harness.client.withProofs([transactions[0]]))
            #expect(answer.status == 200, "\(answer.text)")
            #expect(try harness.server.row("topic", id: "topic-ma-1")?["name"] == "Returnees 1")
        }
    }

    @Test func pushAppliedTwiceChangesNothingTheSecondTime() async throws {
        try await withServerInputHarness { harness in
            let transactions = try harness.clientTransactions(2)
            let first = try await harness.push(transactions)
            #expect(first.status == 200, "\(first.text)")
            let applied = try WireJSON.decode(PushResponse.self, from: first.body)
            #expect(applied.applied == 2 && applied.skipped == 0)
            #expect(applied.vector[harness.client.siteID] == 2)
            #expect(applied.vector == (try harness.server.versionVector()))
            let before = try harness.snapshot()

            let second = try await harness.push(transactions)
            #expect(second.status == 200, "\(second.text)")
            let skipped = try WireJSON.decode(PushResponse.self, from: second.body)
            #expect(skipped.applied == 0 && skipped.skipped == 2)
            #expect(skipped.vector == applied.vector)
            #expect(try harness.snapshot() == before)
        }
    }

    @Test func pullSkipsWhatTheRequesterHas() async throws {
        try await withServerInputHarness { harness in
            let everything = try await harness.pull(vector: VersionVector())
            #expect(!everything.transactions.isEmpty && !everything.hasMore)
            let serverVector = try harness.server.versionVector()
            let nothing = try await harness.pull(vector: serverVector)
            #expect(nothing.transactions.isEmpty && !nothing.hasMore)
            #expect(nothing.cursor == everything.cursor)
        }
    }

    // MARK: gzip

    @Test func largeResponsesAreGzippedWhenTheClientAcceptsIt() async throws {
        try await withServerInputHarness { harness in
            let body = try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector()))
            let plain = try await RawHTTP.exchange(harness.url, "POST", "/v1/pull", token: harness.token, body: body)
            #expect(plain.status == 200)
            #expect(plain.headers["content-encoding"] == nil)
            let page = try WireJSON.decode(PullResponse.self, from: plain.body)
            #expect(plain.body.count > 1_024)

            let zipped = try await RawHTTP.exchange(
                harness.url, "POST", "/v1/pull", token: harness.token, body: body,
                headers: ["Accept-Encoding": "gzip, deflate"])
            #expect(zipped.status == 200)
            #expect(zipped.headers["content-encoding"] == "gzip")
            #expect(zipped.headers["content-type"] == "application/json")
            #expect(zipped.body.prefix(2) == Data([0x1f, 0x8b]), "not a gzip stream")
            #expect(
                zipped.body.count < plain.body.count / 2, "gzip: \(zipped.body.count) bytes, plain: \(plain.body.count)"
            )

            // URLSession (libcurl) inflates it transparently: the same page arrives.
            let inflated = try await harness.send(
                "POST", "/v1/pull", body: body, headers: ["Accept-Encoding": "gzip"])
            #expect(inflated.status == 200)
            #expect(try WireJSON.decode(PullResponse.self, from: inflated.body) == page)
        }
    }

    @Test func smallResponsesAreNotGzipped() async throws {
        try await withServerInputHarness { harness in
            let status = try await RawHTTP.exchange(
                harness.url, "GET", "/v1/status", token: harness.token, headers: ["Accept-Encoding": "gzip"])
            #expect(status.status == 200)
            #expect(status.headers["content-encoding"] == nil)
            #expect(status.body.count <= 1_024)
            _ = try WireJSON.decode(StatusResponse.self, from: status.body)
        }
    }
}
