import Foundation
import Liaison
import LiaisonTesting
import Testing

/// Eviction outlines after compaction. An outline carries the body of a change a peer holds only
/// as a digest, and the peer refuses one whose body does not match that digest. Outlines are
/// built from inserts as well as moves and deletions, so compaction keeps an insert's values like
/// a move's: dropping them made the source send a body without values, and a partial peer refused
/// the page (the compaction simulation's seed 18, values-only mode).
@Suite(.timeLimit(.minutes(3))) struct CompactedOutlineTests {
    /// NL creates a row in `eu`, which MA may not read (MA holds the insert as a digest), deletes
    /// it and creates it again in `public`, superseding every cell the first insert wrote. TR acknowledges everything, MA is
    /// marked stale, and NL compacts. MA's next bundle brings the row whole with the insert's
    /// outline; MA takes it, and ends with the row as NL shows it.
    @Test func anInsertSupersededWholeKeepsTheOutlineAPartialPeerChecks() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try BundleTests.airGapped(factory)
            let ma = try factory.make("MA-DGST")
            try nl.addPeer(
                name: "MA-DGST", url: "http://air-gapped.invalid", token: "bundles-only-token", siteID: ma.siteID,
                read: ["public"], write: ["public"], publicKey: ma.publicKey)
            try ma.addPeer(
                name: "NL-NCTV", url: "http://air-gapped.invalid", token: "bundles-only-token", siteID: nl.siteID,
                read: ["public"], write: ["*"], publicKey: nl.publicKey)
            let row = "topic-moved"
            try nl.write(author: "anna") {
                try $0.set("topic", id: row, ["name": "Sealed", "description": "eu only", "scope": "eu"])
            }
            let first = try ma.importBundle(try nl.makeBundle(for: "MA-DGST").data)
            #expect(first.held == 0)
            #expect(try ma.row("topic", id: row) == nil)

            // Deleted, then created again in `public`: the new insert supersedes every cell of the
            // first one, its owner too.
            #expect(try nl.write(author: "anna") { try $0.delete("topic", id: row) } == true)
            _ = try nl.versionVector()
            try nl.write(author: "anna") {
                try $0.set("topic", id: row, ["name": "Shared", "description": "for everyone", "scope": "public"])
            }
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            _ = try nl.importBundle(try tr.makeAcknowledgementBundle(for: "NL-NCTV").data)
            try nl.markStale(peer: "MA-DGST")
            let compacted = try nl.compact()
            #expect(try nl.verify().isIntact)
            // The insert keeps its values: each is superseded, but outlines are built from it.
            let insert = try #require(try nl.history("topic", id: row).first { $0.op == .insert })
            #expect(insert.values?["name"] == .text("Sealed"), "\(compacted)")

            let second = try ma.importBundle(try nl.makeBundle(for: "MA-DGST").data)
            #expect(second.held == 0 && second.missing.isEmpty)
            #expect(try ma.row("topic", id: row) == nl.row("topic", id: row))
            #expect(try ma.row("topic", id: row)?["name"] == .text("Shared"))
            #expect(try ma.verify().isIntact)
        }
    }
}
