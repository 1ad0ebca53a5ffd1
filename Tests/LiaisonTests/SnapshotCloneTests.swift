import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonServer
import LiaisonTesting
import Testing

/// A new peer clones from a signed snapshot of a compacted log, page by page, then syncs on
/// (hostile sources: `SnapshotPagingTests`).
@Suite(.timeLimit(.minutes(3))) struct SnapshotCloneTests {
    /// A long history at NL that TR acknowledged (with one write of TR's), compacted with its
    /// superseded transactions removed.
    static func compact(_ nl: Replica, acknowledgedBy tr: Replica, url: String) async throws {
        let trPeer = try pair(tr, with: nl, url: url)
        try CompactionTests.writeLongHistory(nl, rounds: 8)
        try tr.write(author: "mehmet") { try $0.set("topic", id: "topic-tr", ["name": "From TR"]) }
        try await SyncDriver(replica: tr).sync(with: trPeer)
        try await SyncDriver(replica: tr).sync(with: trPeer)
        let result = try nl.compact(removingTransactions: true)
        #expect(result.transactions >= 15 * 6, "\(result)")
    }

    /// Small pages, so every snapshot in these tests travels in many.
    static let smallPages = ServerConfiguration(pageLimits: PageLimits(maxChanges: 16))

    /// A new peer paired with `nl`, and a client speaking for it.
    static func newcomer(_ factory: ReplicaFactory, _ nl: Replica, _ tr: Replica, url: String) throws -> (
        be: Replica, peer: PeerRecord, client: PeerClient
    ) {
        let be = try factory.make("BE-OCAM")
        // Registered as `liaison clone` does: NL's site id and key bound from the start.
        let token = "token-BE-OCAM-NL-NCTV"
        try nl.addPeer(name: "BE-OCAM", url: "http://127.0.0.1:1", token: token, read: ["*"], write: ["*"])
        try nl.pinKey(of: be.identity)
        try be.addPeer(
            name: "NL-NCTV", url: url, token: token, siteID: nl.siteID, read: ["*"], write: ["*"],
            publicKey: nl.publicKey)
        let peer = try #require(try be.peers().first { $0.name == "NL-NCTV" })
        // BE's operator trusts TR's key too (as `clone --introducer` would, on NL's word).
        try be.trust(site: tr.siteCode, siteID: tr.siteID, key: tr.publicKey)
        return (be, peer, try PeerClient(url: peer.url, token: peer.token, from: be.siteID, to: nl.siteID))
    }

    @Test func aNewPeerClonesFromASnapshotAndSyncsOn() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl, configuration: Self.smallPages) { url in
                try await Self.compact(nl, acknowledgedBy: tr, url: url)
                let (be, peer, client) = try Self.newcomer(factory, nl, tr, url: url)
                // The compacted log cannot be synced from nothing...
                await #expect(throws: LiaisonError.self) { try await SyncDriver(replica: be).sync(with: peer) }
                // ...so BE starts from the snapshot: every row checked against the signed log.
                let manifest = try await client.snapshotManifest()
                #expect(!manifest.gaps.isEmpty)
                let installed = try await client.cloneSnapshot(into: be, from: peer.name)
                #expect(
                    installed.gaps == manifest.gaps.count && installed.rows > 15 && installed.pages > 2, "\(installed)")
                #expect(try be.dump() == nl.dump())
                #expect(
                    try be.compactionSummary().transactionsRemovedBySnapshot
                        == manifest.gaps.reduce(0) { $0 + $1.through - $1.first + 1 })
                let report = try be.verify()
                #expect(report.isIntact, "\(report.problems)")
                // Then it syncs normally, both ways.
                try nl.write(author: "anna") { try $0.set("topic", id: "topic-long-0", ["name": "After"]) }
                try be.write(author: "bert") { try $0.set("topic", id: "topic-be", ["name": "From BE"]) }
                let round = try await SyncDriver(replica: be).sync(with: peer)
                #expect(round.error == nil && round.heldHere.isEmpty && round.heldThere.isEmpty, "\(round)")
                #expect(try be.dump() == nl.dump())
                #expect(try nl.row("topic", id: "topic-be")?["name"] == .text("From BE"))
                #expect(try be.verify().isIntact && nl.verify().isIntact)
                // A newcomer that does not trust TR's key would hold TR's writes: refused whole.
                let lone = try factory.make("LU-CTIE")
                try nl.addPeer(name: "LU-CTIE", url: "http://127.0.0.1:1", token: "token-LU", read: ["*"], write: ["*"])
                try lone.addPeer(
                    name: "NL-NCTV", url: url, token: "token-LU", siteID: nl.siteID, read: ["*"], write: ["*"],
                    publicKey: nl.publicKey)
                let loneClient = try PeerClient(url: url, token: "token-LU", from: lone.siteID, to: nl.siteID)
                do {
                    _ = try await loneClient.cloneSnapshot(into: lone, from: "NL-NCTV")
                    Issue.record("a snapshot with writes of an untrusted agency was installed")
                } catch {
                    #expect(
                        "\(error)".contains("would be held here (") && "\(error)".contains("untrusted_key"), "\(error)")
                }
                #expect(try lone.versionVector().entries.isEmpty)
                // A snapshot starts only a new replica.
                await #expect(throws: LiaisonError.self) { try await client.cloneSnapshot(into: be, from: peer.name) }
                #expect(try be.verify().isIntact && be.dump() == nl.dump())
            }
        }
    }

    /// A reader granted only `public` gets a snapshot of what it may read: its rows are NL's public
    /// rows, each proved by the log as it was sent to it (other scopes' changes as digests).
    @Test func aSnapshotHoldsOnlyWhatTheReaderMayRead() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl) { url in
                try await Self.compact(nl, acknowledgedBy: tr, url: url)
                let ma = try factory.make("MA-DGST")
                let token = "token-MA-DGST-NL-NCTV"
                try nl.addPeer(
                    name: "MA-DGST", url: "http://127.0.0.1:1", token: token, read: ["public"], write: ["public"])
                try nl.pinKey(of: ma.identity)
                try ma.addPeer(
                    name: "NL-NCTV", url: url, token: token, siteID: nl.siteID, read: ["public"], write: ["*"],
                    publicKey: nl.publicKey)
                try ma.trust(site: tr.siteCode, siteID: tr.siteID, key: tr.publicKey)
                let peer = try #require(try ma.peers().first { $0.name == "NL-NCTV" })
                let client = try PeerClient(url: peer.url, token: peer.token, from: ma.siteID, to: nl.siteID)
                _ = try await client.cloneSnapshot(into: ma, from: peer.name)
                #expect(try BundleTests.scopes(of: ma) == ["public"])
                let publicAtNL = try nl.rows("topic").filter { $0["scope"] == .text("public") }
                #expect(try ma.rows("topic") == publicAtNL)
                #expect(try ma.verify().isIntact)
                let round = try await SyncDriver(replica: ma).sync(with: peer)
                #expect(round.error == nil && round.heldHere.isEmpty, "\(round)")
            }
        }
    }

    /// What a source can claim on its word alone: a run it did not remove, hiding a transaction.
    /// The clone's rows then differ from a peer's that kept the history, and the digests compared
    /// at the end of the clone's first sync with that peer say so.
    @Test func aRunClaimedFalselyIsFoundByTheDigestsOfTheNextSync() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl) { url in
                try await Self.compact(nl, acknowledgedBy: tr, url: url)
                try nl.write(author: "anna") { try $0.set("topic", id: "topic-long-4", ["name": "Renamed"]) }
                try nl.write(author: "anna") { try $0.set("topic", id: "topic-long-5", ["name": "Later"]) }
                let trPeer = try #require(try tr.peers().first { $0.name == "NL-NCTV" })
                try await SyncDriver(replica: tr).sync(with: trPeer)
                // NL's operator hides the rename: claims its transaction as a removed run and puts
                // the old name back, behind the engine's back. NL signs its snapshot all the same.
                try await DigestTests.alterBehindTheEnginesBack(
                    nl,
                    """
                    CREATE TEMP TABLE hidden AS SELECT max(seq) AS seq FROM _liaison_change
                        WHERE sidx = 1 AND tbl = 'topic' AND pk = 'topic-long-4';
                    INSERT INTO _liaison_chain_gap(sidx, first, through, head, checkpoint)
                        SELECT 1, seq, seq, (SELECT digest FROM _liaison_tx WHERE sidx = 1 AND seq = hidden.seq), 1 FROM hidden;
                    DELETE FROM _liaison_change WHERE sidx = 1 AND seq IN (SELECT seq FROM hidden);
                    DELETE FROM _liaison_tx WHERE sidx = 1 AND seq IN (SELECT seq FROM hidden);
                    UPDATE topic SET name = 'Long 4' WHERE id = 'topic-long-4'
                    """)
                let (be, peer, client) = try Self.newcomer(factory, nl, tr, url: url)
                _ = try await client.cloneSnapshot(into: be, from: peer.name)
                #expect(try be.row("topic", id: "topic-long-4")?["name"] == .text("Long 4"))
                try await withServer(tr) { trURL in
                    let toTR = try pair(be, with: tr, url: trURL)
                    let round = try await SyncDriver(replica: be).sync(with: toTR)
                    #expect(round.error == nil, "\(round)")
                    let comparison = try #require(try be.comparisons().first { $0.peer == "TR-TIB" })
                    #expect(
                        comparison.result == "differ" && comparison.differingScopes.contains { $0.hasPrefix("topic/") })
                }
            }
        }
    }
}
