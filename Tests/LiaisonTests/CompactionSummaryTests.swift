import Foundation
import Liaison
import LiaisonTesting
import Testing

/// `status` and `compact --plan` say what compaction did and which peer holds the floor back
/// (`Replica.compactionSummary`).
@Suite(.timeLimit(.minutes(2))) struct CompactionSummaryTests {
    @Test func theSummaryNamesThePeerThatHoldsTheFloorBackAndWhatWasReclaimed() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try BundleTests.airGapped(factory)
            let ma = try factory.make("MA-DGST")
            try nl.addPeer(
                name: "MA-DGST", url: "http://air-gapped.invalid", token: "bundles-only-token", siteID: ma.siteID,
                read: ["*"], write: ["public"], publicKey: ma.publicKey)
            try CompactionTests.writeLongHistory(nl, rounds: 4, rows: 3)
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            _ = try nl.importBundle(try tr.makeAcknowledgementBundle(for: "NL-NCTV").data)

            let waiting = try #require(try nl.status().compaction)
            #expect(waiting.lastCheckpoint == nil && waiting.checkpoints == 0 && waiting.transactionsRemoved == 0)
            #expect(waiting.floorHeldBackBy == ["MA-DGST"], "\(waiting)")
            #expect(waiting.aheadOfThisReplica.isEmpty)

            try nl.markStale(peer: "MA-DGST")
            #expect(try nl.compactionSummary().floorHeldBackBy.isEmpty)
            let result = try nl.compact(removingTransactions: true)
            #expect(result.transactions > 0 && result.changes > 0)
            let done = try nl.compactionSummary()
            #expect(done.checkpoints == 1 && done.lastCheckpoint == result.checkpoint && done.lastAt != nil)
            #expect(done.lastFloor == done.floor, "\(done)")
            #expect(done.transactionsRemoved == Int64(result.transactions), "\(done)")
            #expect(done.valuesDropped > 0 && done.valueBytesDropped > 0)
            #expect(done.fileBytesReclaimed > 0, "\(done)")
            #expect(done.transactionsRemovedBySnapshot == 0)
            // A new write that TR has not acknowledged: TR holds the floor back now.
            try nl.write(author: "anna") { try $0.set("topic", id: "topic-long-0", ["name": "Later"]) }
            #expect(try nl.compactionSummary().floorHeldBackBy == ["TR-TNP"])
            let plan = try nl.compactionPlan()
            #expect(plan.summary == nil)
        }
    }
}
