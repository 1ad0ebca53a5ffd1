import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Compaction after acknowledgement: superseded values every counted peer has signed that it
/// holds are dropped under a signed checkpoint; `verify` still proves every signature and chain;
/// a peer that had not acknowledged, and a new one, still sync and end with the same rows.
@Suite(.timeLimit(.minutes(3))) struct CompactionTests {
    static let rows = 15
    static let updates = 60

    /// A long history at NL: `rows` topics `topic-TAG-N`, each rewritten `rounds` times with a long
    /// text, published one by one as separate commands would (unpublished edits of one cell are
    /// published with the cell's value at publish time).
    static func writeLongHistory(
        _ nl: Replica, rounds: Int = updates, rows: Int = rows, tag: String = "long"
    ) throws {
        let padding = String(repeating: "counter-narrative working notes ", count: 12)
        for row in 0..<rows {
            try nl.write(author: "anna") {
                try $0.set("topic", id: "topic-\(tag)-\(row)", ["name": .text("Long \(row)")])
            }
        }
        for round in 0..<rounds {
            for row in 0..<rows {
                try nl.write(author: "anna") {
                    try $0.set("topic", id: "topic-\(tag)-\(row)", ["description": .text("\(round) \(padding)")])
                }
                _ = try nl.versionVector()
            }
        }
    }

    @Test func compactionReclaimsSpaceOnALongHistoryAndVerifyStillPasses() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try BundleTests.airGapped(factory)
            let ma = try factory.make("MA-DGST")
            try nl.addPeer(
                name: "MA-DGST", url: "http://air-gapped.invalid", token: "bundles-only-token", siteID: ma.siteID,
                read: ["*"], write: ["public"], publicKey: ma.publicKey)
            try ma.addPeer(
                name: "NL-NCTV", url: "http://air-gapped.invalid", token: "bundles-only-token", siteID: nl.siteID,
                read: ["public"], write: ["*"], publicKey: nl.publicKey)
            try Self.writeLongHistory(nl)
            // TR receives it all and acknowledges; MA receives nothing and says nothing.
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            _ = try nl.importBundle(try tr.makeAcknowledgementBundle(for: "NL-NCTV").data)

            let waiting = try nl.compactionPlan()
            #expect(waiting.changes == 0)
            let maHold = try #require(waiting.peers.first { $0.peer == "MA-DGST" })
            #expect(maHold.holdsBack >= Self.rows * (Self.updates - 1) && maHold.acknowledged == nil)
            #expect(waiting.peers.first { $0.peer == "TR-TNP" }?.holdsBack == 0)
            #expect(try nl.compact().checkpoint == nil)

            // The operator marks MA stale; now everything TR acknowledged can go.
            try nl.markStale(peer: "MA-DGST")
            let plan = try nl.compactionPlan()
            #expect(plan.changes == maHold.holdsBack && plan.bytes > plan.changes * 300)
            let dump = try nl.dump()
            let result = try nl.compact()
            #expect(result.changes == plan.changes && result.checkpoint != nil)
            #expect(result.fileBytesAfter < result.fileBytesBefore)
            print(
                "compaction: dropped \(result.changes) values (\(result.bytes) bytes of values); file "
                    + "\(result.fileBytesBefore) -> \(result.fileBytesAfter) bytes "
                    + "(\(100 * (result.fileBytesBefore - result.fileBytesAfter) / result.fileBytesBefore)% reclaimed)")
            #expect(try nl.dump() == dump)
            let report = try nl.verify()
            #expect(report.isIntact, "\(report.problems)")
            #expect(try nl.compactionPlan().changes == 0)
            #expect(try nl.history("topic", id: "topic-long-0").count == Self.updates + 1)

            // MA, which had not acknowledged, still gets every row by bundle, and its log verifies.
            let toMA = try ma.importBundle(try nl.makeBundle(for: "MA-DGST").data)
            #expect(toMA.held == 0 && toMA.missing.isEmpty)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().isIntact)
            // A new replica fed from the compacted log ends with the same rows.
            let fresh = try factory.make("BE-OCAM")
            try transfer(from: nl, to: fresh)
            #expect(try fresh.dump() == nl.dump())
            #expect(try fresh.verify().isIntact)
            // TR, which holds the old values, and NL keep converging.
            try nl.write(author: "anna") { try $0.set("topic", id: "topic-long-0", ["name": "After"]) }
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            #expect(try tr.row("topic", id: "topic-long-0")?["name"] == .text("After"))
            #expect(try tr.row("topic", id: "topic-long-3") == nl.row("topic", id: "topic-long-3"))

            // A checkpoint edited after the fact, or a value dropped outside one, is found.
            try nl.write(author: "mallory") { try $0.execute("UPDATE _liaison_checkpoint SET changes = changes - 1") }
            #expect(try nl.verify().problems.contains { $0.contains("compaction checkpoint") })
            try nl.write(author: "mallory") { try $0.execute("UPDATE _liaison_checkpoint SET changes = changes + 1") }
            #expect(try nl.verify().isIntact)
            // The checkpoint signs each origin's chain head and a digest over its headers: a head
            // moved, or a transaction removed below the checkpoint, is found and named.
            try nl.write(author: "mallory") {
                try $0.execute("UPDATE _liaison_checkpoint_head SET through = through - 1")
            }
            #expect(try nl.verify().problems.contains { $0.contains("is not signed by this replica's key") })
            try nl.write(author: "mallory") {
                try $0.execute("UPDATE _liaison_checkpoint_head SET through = through + 1")
            }
            #expect(try nl.verify().isIntact)
            try nl.write(author: "mallory") {
                try $0.execute(
                    "UPDATE _liaison_change SET vals = NULL WHERE tbl = 'topic' AND pk = 'topic-long-1' AND op = 'insert'"
                )
            }
            #expect(try nl.verify().problems.contains { $0.contains("edited after it was signed") })
            try nl.write(author: "mallory") {
                try $0.execute("DELETE FROM _liaison_change WHERE sidx = 1 AND seq = 20")
                try $0.execute("DELETE FROM _liaison_tx WHERE sidx = 1 AND seq = 20")
            }
            let cut = try nl.verify().problems
            #expect(cut.contains { $0.contains("signed another chain of \(nl.siteID) up to #") }, "\(cut)")
        }
    }

    @Test func acknowledgementsTravelOnSyncAndAPeerThatHadNotAcknowledgedStillSyncs() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let trPeer = try pair(tr, with: nl, url: url)
                let maPeer = try pair(ma, with: nl, url: url)
                try Self.writeLongHistory(nl)
                try await SyncDriver(replica: tr).sync(with: trPeer)
                // Each side holds the other's signed vector after the round.
                #expect(try nl.acknowledgements()["TR-TIB"]?.vector == tr.versionVector())
                #expect(try tr.acknowledgements()["NL-NCTV"]?.vector == nl.versionVector())
                // MA has not synced: it holds compaction back until an operator marks it stale.
                #expect(try nl.compactionPlan().changes == 0)
                let states = try nl.status().acknowledgements
                let trState = try #require(states.first { $0.peer == "TR-TIB" })
                #expect(trState.via == "sync" && !trState.holdsBackCompaction && trState.unacknowledged == 0)
                let maState = try #require(states.first { $0.peer == "MA-DGST" })
                #expect(maState.acknowledgedAt == nil && maState.holdsBackCompaction && maState.unacknowledged > 0)
                try nl.markStale(peer: "MA-DGST")
                let staleState = try #require(try nl.status().acknowledgements.first { $0.peer == "MA-DGST" })
                #expect(staleState.staleSince != nil && !staleState.holdsBackCompaction)
                let result = try nl.compact()
                #expect(result.changes >= Self.rows * (Self.updates - 1))
                // MA syncs over HTTP from nothing: every row, a log that verifies, and its acknowledgement.
                try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(try ma.dump() == nl.dump())
                #expect(try ma.verify().isIntact)
                #expect(try nl.acknowledgements()["MA-DGST"]?.vector == ma.versionVector())
                try nl.markStale(peer: "MA-DGST", false)
                #expect(try nl.stalePeers().isEmpty)
                // A second round asks once more for what it holds as digests, and changes nothing.
                let again = try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(again.error == nil && again.pulledChanges == 0)
                #expect(try nl.verify().isIntact)
            }
        }
    }

    /// An authenticated peer speaking the real protocol cannot pass off another site's
    /// acknowledgement as its own, forged or genuine (replayed), to make compaction drop values.
    @Test func aPeerCannotAcknowledgeForAnotherSite() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            let attacker = try factory.make("XX-HOSTILE")
            try await withServer(nl) { url in
                let trPeer = try pair(tr, with: nl, url: url)
                let attackerPeer = try pair(attacker, with: nl, url: url)
                try await SyncDriver(replica: tr).sync(with: trPeer)
                let genuine = try #require(try nl.acknowledgements()["TR-TIB"])
                let client = try PeerClient(
                    url: attackerPeer.url, token: attackerPeer.token, from: attacker.siteID, to: nl.siteID)
                // TR's acknowledgement, replayed by the attacker.
                await #expect(throws: LiaisonError.self) { _ = try await client.acknowledge(genuine) }
                // One the attacker signs itself under TR's name, with more than TR holds.
                var forged = try attacker.makeAcknowledgement(to: nl.siteID)
                forged.site = tr.siteID
                forged.siteCode = "TR-TIB"
                forged.vector[nl.siteID] = 1_000
                await #expect(throws: LiaisonError.self) { _ = try await client.acknowledge(forged) }
                #expect(try nl.acknowledgements()["TR-TIB"] == genuine)
                #expect(try nl.acknowledgements()["XX-HOSTILE"] == nil)
                // Its own, honestly signed, is recorded under its own name only.
                let own = try attacker.makeAcknowledgement(to: nl.siteID)
                #expect(try await client.acknowledge(own).site == nl.siteID)
                #expect(try nl.acknowledgements()["XX-HOSTILE"] == own)
            }
        }
    }
}
