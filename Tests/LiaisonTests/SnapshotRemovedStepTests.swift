import Foundation
import Liaison
import LiaisonClient
import LiaisonServer
import LiaisonTesting
import Testing

/// A snapshot carries the removed steps its reader may read (`SnapshotRemovedStep`), so a replica
/// cloned from a compacted source walks base chains through a removed run as the source does:
/// a later deletion is judged there as on a replica that kept the history, and the digests
/// compared on the next sync stay in step. Over real HTTP; hostile sources alter their own file
/// behind the engine's back and serve it with their real key.
@Suite(.timeLimit(.minutes(3))) struct SnapshotRemovedStepTests {
    static let row = "topic-chain"

    /// NL writes a row, rewrites its description twice (the first rewrite superseded), and a row
    /// of scope `eu` likewise; TR syncs and acknowledges; NL removes the superseded rewrites whole.
    static func compactedChain(_ nl: Replica, _ tr: Replica, url: String) async throws -> PeerRecord {
        let trPeer = try pair(tr, with: nl, url: url)
        for (id, scope) in [(row, "public"), ("topic-chain-eu", "eu")] {
            try nl.write(author: "anna") {
                try $0.set("topic", id: id, ["name": "Chain", "description": "first", "scope": .text(scope)])
            }
            _ = try nl.versionVector()
            for text in ["second", "third"] {
                try nl.write(author: "anna") { try $0.set("topic", id: id, ["description": .text(text)]) }
                _ = try nl.versionVector()
            }
        }
        try await SyncDriver(replica: tr).sync(with: trPeer)
        try await SyncDriver(replica: tr).sync(with: trPeer)
        let removal = try nl.compact(removingTransactions: true)
        #expect(removal.transactions >= 2 && removal.heldBackBy.isEmpty, "\(removal)")
        return trPeer
    }

    /// TR deletes the row (its bases name the last rewrite, whose chain passes through the removed
    /// one to the insert) and pushes the deletion to NL.
    static func deleteAtTR(_ tr: Replica, _ trPeer: PeerRecord) async throws {
        #expect(try tr.write(author: "mehmet") { try $0.delete("topic", id: row) } == true)
        let round = try await SyncDriver(replica: tr).sync(with: trPeer)
        #expect(round.error == nil && round.heldThere.isEmpty, "\(round)")
    }

    @Test func aCloneJudgesADeletionThroughARemovedRunAsTheFullReplicaDoes() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl, configuration: SnapshotCloneTests.smallPages) { url in
                let trPeer = try await Self.compactedChain(nl, tr, url: url)
                let (be, peer, client) = try SnapshotCloneTests.newcomer(factory, nl, tr, url: url)
                let installed = try await client.cloneSnapshot(into: be, from: peer.name)
                #expect(try installed.gaps >= 1 && be.dump() == nl.dump(), "\(installed)")
                try await Self.deleteAtTR(tr, trPeer)
                let round = try await SyncDriver(replica: be).sync(with: peer)
                #expect(round.error == nil && round.heldHere.isEmpty, "\(round)")
                // As on TR, which kept every step, and on NL, which compacted: the row is gone and
                // no deletion lost.
                for replica in [tr, nl, be] {
                    #expect(try replica.row("topic", id: Self.row) == nil, "\(replica.siteCode)")
                    #expect(try replica.conflicts(includeResolved: true).filter { $0.rowID == Self.row }.isEmpty)
                }
                #expect(try be.dump() == nl.dump())
                let comparison = try #require(try be.comparisons().first { $0.peer == "NL-NCTV" })
                #expect(comparison.result == "in_step", "\(comparison)")
                #expect(try be.verify().isIntact)
            }
        }
    }

    /// The pages a reader of `public` gets carry the removed step of the public row and nothing of
    /// the `eu` row's (not its step, not its existence); a reader of every scope gets both.
    @Test func aRemovedStepOfAScopeTheReaderMayNotReadDoesNotReachIt() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl, configuration: SnapshotCloneTests.smallPages) { url in
                _ = try await Self.compactedChain(nl, tr, url: url)
                let ma = try factory.make("MA-DGST")
                let token = "token-MA-DGST-NL-NCTV"
                try nl.addPeer(
                    name: "MA-DGST", url: "http://127.0.0.1:1", token: token, read: ["public"], write: ["public"])
                try nl.pinKey(of: ma.identity)
                let publicReader = try PeerClient(url: url, token: token, from: ma.siteID, to: nl.siteID)
                let (_, _, fullReader) = try SnapshotCloneTests.newcomer(factory, nl, tr, url: url)
                func steps(_ client: PeerClient) async throws -> (steps: [SnapshotRemovedStep], bodies: String) {
                    let manifest = try await client.snapshotManifest()
                    var request = SnapshotPageRequest(
                        snapshot: manifest.id, gaps: manifest.gapsDigest, after: "0", steps: true)
                    var (steps, bodies) = ([SnapshotRemovedStep](), "")
                    while true {
                        let page = try await client.snapshotPage(request)
                        let body = try WireJSON.decode(SnapshotPageBody.self, from: Data(page.body.utf8))
                        steps += body.removed ?? []
                        bodies += page.body
                        guard page.hasMore else { return (steps, bodies) }
                        request.after = page.cursor
                    }
                }
                let seen = try await steps(publicReader)
                #expect(seen.steps.contains { $0.id == Self.row }, "\(seen.steps)")
                #expect(seen.steps.allSatisfy { $0.scope == "public" }, "\(seen.steps)")
                #expect(!seen.bodies.contains("topic-chain-eu"))
                let all = try await steps(fullReader)
                #expect(all.steps.contains { $0.id == "topic-chain-eu" && $0.scope == "eu" }, "\(all.steps)")
                // The public reader clones, and holds nothing of scope `eu`.
                try ma.addPeer(
                    name: "NL-NCTV", url: url, token: token, siteID: nl.siteID, read: ["public"], write: ["*"],
                    publicKey: nl.publicKey)
                try ma.trust(site: tr.siteCode, siteID: tr.siteID, key: tr.publicKey)
                _ = try await publicReader.cloneSnapshot(into: ma, from: "NL-NCTV")
                #expect(try BundleTests.scopes(of: ma) == ["public"])
                #expect(try ma.row("topic", id: "topic-chain-eu") == nil && ma.row("topic", id: Self.row) != nil)
            }
        }
    }

    /// NL's operator alters the removed steps behind the engine's back and NL's server signs its
    /// pages all the same. A step outside every removed run, one claiming to have seen more than
    /// its origin's next signed transaction had, and one naming a base its own context had not
    /// seen are refused where they land, and nothing is installed. Steps left out cannot be told
    /// from none: the clone then judges the deletion otherwise, and the digests compared on its
    /// next sync with a replica that kept the judgement report the row (an alarm, not a repair).
    @Test func stepsAHostileSourcePlantsAreBoundedByTheSignedLog() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl, configuration: SnapshotCloneTests.smallPages) { url in
                let trPeer = try await Self.compactedChain(nl, tr, url: url)
                let (be, peer, client) = try SnapshotCloneTests.newcomer(factory, nl, tr, url: url)
                let restore = """
                    DELETE FROM _liaison_removed_step;
                    INSERT INTO _liaison_removed_step SELECT * FROM _liaison_test_saved
                    """
                try await DigestTests.alterBehindTheEnginesBack(
                    nl, "CREATE TABLE _liaison_test_saved AS SELECT * FROM _liaison_removed_step")
                // Steps name sites by NL's site index (`RemovedStepForm`).
                let trIndex = "(SELECT sidx FROM _liaison_site WHERE site_id = '\(tr.siteID)')"
                let attacks = [
                    (
                        "INSERT INTO _liaison_removed_step SELECT sidx, (SELECT max(seq) FROM _liaison_tx t WHERE t.sidx = s.sidx), "
                            + "tbl, pk, hlc, context, bases, lvls, scope, form FROM _liaison_removed_step s LIMIT 1",
                        "outside every run it says it removed"
                    ),
                    (
                        "UPDATE _liaison_removed_step SET context = '{\"' || \(trIndex) || '\":999}'",
                        "outside those of its origin's signed transactions"
                    ),
                    (
                        "UPDATE _liaison_removed_step SET bases = '{\"description\":\"' || \(trIndex) || ':999\"}'",
                        "names a base its own context had not seen"
                    ),
                ]
                for (sql, words) in attacks {
                    try await DigestTests.alterBehindTheEnginesBack(nl, sql)
                    await SnapshotPagingTests.expectRefused(be, words) {
                        _ = try await client.cloneSnapshot(into: be, from: peer.name)
                    }
                    try await DigestTests.alterBehindTheEnginesBack(nl, restore)
                }
                // Steps left out install: nothing signed names them.
                try await DigestTests.alterBehindTheEnginesBack(nl, "DELETE FROM _liaison_removed_step")
                _ = try await client.cloneSnapshot(into: be, from: peer.name)
                try await DigestTests.alterBehindTheEnginesBack(
                    nl, restore + "; DROP TABLE _liaison_test_saved")
                try await Self.deleteAtTR(tr, trPeer)
                #expect(try nl.row("topic", id: Self.row) == nil)
                let round = try await SyncDriver(replica: be).sync(with: peer)
                #expect(round.error == nil, "\(round)")
                // Without the steps, the walk stops in the removed run and the deletion loses.
                #expect(try be.row("topic", id: Self.row) != nil)
                let comparison = try #require(try be.comparisons().first { $0.peer == "NL-NCTV" })
                #expect(comparison.isAlarm && comparison.differingScopes.contains { $0.hasPrefix("topic/") })
            }
        }
    }
}
