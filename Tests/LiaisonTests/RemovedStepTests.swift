import Foundation
import Liaison
import LiaisonTesting
import Testing

/// A base chain that passes through a transaction compaction removed whole: the walk goes on from
/// what compaction kept of the removed step (`RemovedStep`), so the replica that compacted judges
/// a deletion as a replica that kept the history does (the compaction simulation's seed 20, where
/// the walk stopped at the removed step and the deletion lost there only).
@Suite(.timeLimit(.minutes(3))) struct RemovedStepTests {
    /// NL creates a row with a name and a description, then rewrites the description twice; the
    /// first rewrite is superseded and goes whole once TR acknowledged it. The insert stays (its
    /// name is current), and TR's deletion names the last rewrite as the description's base: to
    /// know that TR had seen the insert's description, NL walks rewrite 2, removed rewrite 1, insert.
    @Test func aDeletionWhoseBasesPassThroughARemovedRewriteWinsWhereItWasRemoved() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try BundleTests.airGapped(factory)
            let row = "topic-chain"
            try nl.write(author: "anna") {
                try $0.set("topic", id: row, ["name": "Chain", "description": "first"])
            }
            _ = try nl.versionVector()
            for text in ["second", "third"] {
                try nl.write(author: "anna") { try $0.set("topic", id: row, ["description": .text(text)]) }
                _ = try nl.versionVector()
            }
            let history = try nl.history("topic", id: row).count
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            _ = try nl.importBundle(try tr.makeAcknowledgementBundle(for: "NL-NCTV").data)

            let removal = try nl.compact(removingTransactions: true)
            #expect(removal.transactions >= 1 && removal.heldBackBy.isEmpty)
            // The first rewrite went whole; the insert and the current rewrite stay.
            #expect(try nl.history("topic", id: row).count == history - 1)
            #expect(try nl.verify().isIntact)

            #expect(try tr.write(author: "mehmet") { try $0.delete("topic", id: row) } == true)
            let back = try nl.importBundle(try tr.makeBundle(for: "NL-NCTV").data)
            #expect(back.held == 0 && back.missing.isEmpty)
            // As on TR, which kept every step: the row is gone and no deletion lost.
            #expect(try tr.row("topic", id: row) == nil)
            #expect(try nl.row("topic", id: row) == nil)
            #expect(try nl.conflicts(includeResolved: true).filter { $0.rowID == row }.isEmpty)
            #expect(try nl.verify().isIntact)
        }
    }
}
