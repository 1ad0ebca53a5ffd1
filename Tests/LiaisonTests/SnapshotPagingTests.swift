import Foundation
import Liaison
import LiaisonClient
import LiaisonServer
import LiaisonTesting
import Testing

/// A snapshot travels in pages, each checked where it lands, the whole verified before anything is
/// committed. Hostile sources speak the real HTTP protocol with NL's key and the newcomer's token:
/// a manifest altered or forged, a row or a removed run's head altered, pages of another snapshot,
/// out of order, or spliced from a copy of the source that was altered: each is refused and leaves
/// the newcomer empty.
@Suite(.timeLimit(.minutes(3))) struct SnapshotPagingTests {
    /// Refused with `words`, and nothing installed.
    static func expectRefused(
        _ be: Replica, _ words: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("a snapshot that should be refused (\(words)) was installed", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(words), "\(error)", sourceLocation: sourceLocation)
        }
        #expect((try? be.versionVector().entries.isEmpty) == true, sourceLocation: sourceLocation)
        #expect((try? be.rows("topic").isEmpty) == true, sourceLocation: sourceLocation)
    }

    @Test func aHostileSnapshotSourceIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl, configuration: SnapshotCloneTests.smallPages) { url in
                try await SnapshotCloneTests.compact(nl, acknowledgedBy: tr, url: url)
                let (be, peer, client) = try SnapshotCloneTests.newcomer(factory, nl, tr, url: url)
                let honest = try await client.snapshotManifest()
                // A removed run claimed longer under the source's signature.
                var moved = honest
                moved.gaps[0].through += 1
                await Self.expectRefused(be, "is not signed by NL-NCTV's trusted key") {
                    _ = try SnapshotInstallation(replica: be, manifest: moved, from: peer.name)
                }
                // An attacker's own manifest passed off as NL's.
                let attacker = try factory.make("XX-HOSTILE")
                var forged = try attacker.snapshotManifest()
                forged.signer = nl.siteID
                await Self.expectRefused(be, "is not signed by NL-NCTV's trusted key") {
                    _ = try SnapshotInstallation(replica: be, manifest: forged, from: peer.name)
                }
                // NL's operator alters a row behind the engine's back; NL signs its pages anyway.
                try await DigestTests.alterBehindTheEnginesBack(
                    nl, "UPDATE topic SET name = 'Forged' WHERE id = 'topic-long-3'")
                await Self.expectRefused(be, "differ from the rows it signed") {
                    _ = try await client.cloneSnapshot(into: be, from: peer.name)
                }
                try await DigestTests.alterBehindTheEnginesBack(
                    nl, "UPDATE topic SET name = 'Long 3' WHERE id = 'topic-long-3'")
                // ...or the head a removed run ends at.
                try await DigestTests.alterBehindTheEnginesBack(
                    nl, "UPDATE _liaison_chain_gap SET head = '\(String(repeating: "0", count: 64))'")
                await Self.expectRefused(be, "in its hash chain") {
                    _ = try await client.cloneSnapshot(into: be, from: peer.name)
                }
                try await DigestTests.alterBehindTheEnginesBack(
                    nl,
                    honest.gaps.map {
                        "UPDATE _liaison_chain_gap SET head = '\($0.head)' WHERE first = \($0.first) AND through = \($0.through)"
                    }.joined(separator: "; "))
                #expect(try nl.verify().isIntact)
                // The honest snapshot installs.
                let installed = try await client.cloneSnapshot(into: be, from: peer.name)
                #expect(installed.pages > 2 && installed.rows > 15, "\(installed)")
                #expect(try be.verify().isIntact && be.dump() == nl.dump())
            }
        }
    }

    @Test func pagesOfAnotherSnapshotOrOutOfOrderAreRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl, configuration: SnapshotCloneTests.smallPages) { url in
                try await SnapshotCloneTests.compact(nl, acknowledgedBy: tr, url: url)
                let (be, peer, client) = try SnapshotCloneTests.newcomer(factory, nl, tr, url: url)
                // A page of a second snapshot, where the first's second page belongs.
                let first = try SnapshotInstallation(
                    replica: be, manifest: try await client.snapshotManifest(), from: peer.name)
                try first.apply(try await client.snapshotPage(first.next))
                try await Task.sleep(for: .milliseconds(5))
                let other = try await client.snapshotManifest()
                #expect(other.id != first.manifest.id)
                var request = first.next
                request.snapshot = other.id
                let foreign = try await client.snapshotPage(request)
                await Self.expectRefused(be, "a page belongs to another snapshot") { try first.apply(foreign) }
                // A page skipped: the third where the second belongs.
                let second = try SnapshotInstallation(replica: be, manifest: other, from: peer.name)
                let one = try await client.snapshotPage(second.next)
                try second.apply(one)
                let two = try await client.snapshotPage(second.next)
                #expect(two.hasMore)
                let three = try await client.snapshotPage(
                    SnapshotPageRequest(snapshot: other.id, gaps: other.gapsDigest, after: two.cursor))
                await Self.expectRefused(be, "does not follow the one before it") { try second.apply(three) }
                // A page whose body was altered on the way keeps no valid signature.
                let third = try SnapshotInstallation(replica: be, manifest: other, from: peer.name)
                var altered = one
                altered.body += " "
                await Self.expectRefused(be, "a page is not signed by NL-NCTV's trusted key") {
                    try third.apply(altered)
                }
                // The source compacted again since the manifest (a run removed behind the engine's
                // back stands for it): the next page is refused with compacted_history, and a clone
                // asks for a new snapshot.
                let fourth = try SnapshotInstallation(replica: be, manifest: other, from: peer.name)
                try fourth.apply(try await client.snapshotPage(fourth.next))
                try await DigestTests.alterBehindTheEnginesBack(
                    nl,
                    "INSERT INTO _liaison_chain_gap(sidx, first, through, head, checkpoint) SELECT sidx, 999999, 999999, '\(String(repeating: "1", count: 64))', 1 FROM _liaison_site WHERE code = 'TR-TIB'"
                )
                do {
                    _ = try await client.snapshotPage(fourth.next)
                    Issue.record("a page of a snapshot whose removed runs changed was served")
                } catch let error as LiaisonError {
                    #expect(error.code == .compactedHistory, "\(error)")
                }
                fourth.cancel()
                try await DigestTests.alterBehindTheEnginesBack(
                    nl, "DELETE FROM _liaison_chain_gap WHERE through = 999999")
                // After all that, the honest snapshot installs.
                _ = try await client.cloneSnapshot(into: be, from: peer.name)
                #expect(try be.verify().isIntact && be.dump() == nl.dump())
            }
        }
    }

    /// A hostile source splices its pages from two snapshots: every page but the last from NL, the
    /// last from a copy of NL (same key, same tokens) whose operator altered a row. Each page is
    /// signed as NL and names the snapshot asked for; the rows the last page signs are not those
    /// the log gives, so the whole is refused.
    @Test func pagesSplicedFromTwoSnapshotsAreRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl, configuration: SnapshotCloneTests.smallPages) { url in
                try await SnapshotCloneTests.compact(nl, acknowledgedBy: tr, url: url)
                let (be, peer, client) = try SnapshotCloneTests.newcomer(factory, nl, tr, url: url)
                let copyPath = nl.path + "-copy"
                let folder = URL(fileURLWithPath: nl.path).deletingLastPathComponent()
                let outcome = try await FaultTools.run(
                    FaultTools.sqlite3, [nl.path, "VACUUM INTO '\(copyPath)'"], in: folder)
                #expect(outcome.status == 0, "\(outcome)")
                try FileManager.default.copyItem(atPath: nl.path + ".keys", toPath: copyPath + ".keys")
                let copy = try Replica.open(at: copyPath)
                try await DigestTests.alterBehindTheEnginesBack(
                    copy, "UPDATE topic SET name = 'Spliced' WHERE id = 'topic-long-2'")
                try await withServer(copy, configuration: SnapshotCloneTests.smallPages) { copyURL in
                    let other = try PeerClient(
                        url: copyURL, token: "token-BE-OCAM-NL-NCTV", from: be.siteID, to: nl.siteID)
                    let installation = try SnapshotInstallation(
                        replica: be, manifest: try await client.snapshotManifest(), from: peer.name)
                    await Self.expectRefused(be, "differ from the rows it signed") {
                        while !installation.isComplete {
                            var page = try await client.snapshotPage(installation.next)
                            if !page.hasMore { page = try await other.snapshotPage(installation.next) }
                            try installation.apply(page)
                        }
                        _ = try installation.finish()
                    }
                }
            }
        }
    }
}
