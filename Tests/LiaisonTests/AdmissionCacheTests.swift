import Foundation
import Liaison
import LiaisonTesting
import Testing

/// What admission reads once per batch (`AdmissionCache`) never outlives the batch: an operator's
/// decision between two batches is what the next batch is judged by.
@Suite(.timeLimit(.minutes(2))) struct AdmissionCacheTests {
    @Test func aKeyRevokedBetweenTwoBatchesHoldsTheNextBatchAndTheFirstStaysApplied() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-before", ["name": "Before"]) }
            #expect(try transfer(from: nl, to: ma) > 0)
            #expect(try ma.row("topic", id: "topic-before")?["name"] == "Before")
            // MA's operator revokes NL's key from now on; NL (unaware) writes again.
            try await Task.sleep(for: .milliseconds(5))
            try ma.revokeKey(of: nl.siteCode, since: Int64(Date().timeIntervalSince1970 * 1000))
            try await Task.sleep(for: .milliseconds(5))
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-after", ["name": "After"]) }
            #expect(try transfer(from: nl, to: ma) == 0)
            #expect(try ma.row("topic", id: "topic-after") == nil)
            #expect(try ma.held(from: "").contains { $0.error == "untrusted_key" })
            #expect(try ma.row("topic", id: "topic-before")?["name"] == "Before")
        }
    }
}
