import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// A second version of a transaction compaction removed is an equivocation, found against the
/// chain heads the checkpoint signed: TR signs two histories (two copies of its replica with one
/// key); NL holds one, removes its superseded runs, and a peer pushes the other version of a removed
/// transaction over real HTTP: at a run's last seq, its first, or inside it. The honest copy passes quietly.
@Suite(.timeLimit(.minutes(3))) struct RemovedEquivocationTests {
    /// NL with TR's history compacted away in runs, a fork of TR that signed other versions, and
    /// TR's removed run (the longest).
    static func forked(_ factory: ReplicaFactory) throws -> (nl: Replica, tr: Replica, fork: Replica, run: SnapshotGap)
    {
        let nl = try factory.make("NL-NCTV", sample: true)
        let tr = try factory.make("TR-TIB")
        for suffix in ["", "-wal", ".keys"] where FileManager.default.fileExists(atPath: tr.path + suffix) {
            try FileManager.default.copyItem(atPath: tr.path + suffix, toPath: factory.path("tr-fork") + suffix)
        }
        let fork = try Replica.open(at: factory.path("tr-fork"))
        try CompactionTests.writeLongHistory(tr, rounds: 4, rows: 3, tag: "tr")
        try CompactionTests.writeLongHistory(fork, rounds: 4, rows: 3, tag: "forged")
        _ = try transfer(from: tr, to: nl)
        // NL has no peer yet: every transaction it holds counts as acknowledged.
        let result = try nl.compact(removingTransactions: true)
        #expect(result.transactions > 6, "\(result)")
        let run = try #require(
            try nl.snapshotManifest().gaps.filter { $0.origin == tr.siteID }.max {
                $0.through - $0.first < $1.through - $1.first
            })
        #expect(run.first > 1 && run.through > run.first, "\(run)")
        return (nl, tr, fork, run)
    }

    /// The version `source` signed of TR's transaction `seq`, with its link.
    static func version(_ seq: Int64, of tr: String, at source: Replica) throws -> PullResponse {
        var page = try source.changes(after: .start, excluding: VersionVector([tr: seq - 1]))
        page.transactions = page.transactions.filter { $0.origin == tr && $0.seq == seq }
        #expect(page.transactions.count == 1 && page.transactions[0].previous != nil)
        return page
    }

    @Test func anotherVersionOfARemovedRunsLastTransactionRaisesTheAlarm() async throws {
        try await withReplicas { factory in
            let (nl, tr, fork, run) = try Self.forked(factory)
            try await withServer(nl) { url in
                let ma = try factory.make("MA-DGST")
                _ = try pair(ma, with: nl, url: url)
                let token = "token-MA-DGST-NL-NCTV"
                // The version NL removed, sent again: skipped quietly.
                let honest = try Self.version(run.through, of: tr.siteID, at: tr)
                let again = try await SignedHTTP.push(url, token: token, honest.transactions, keys: honest.keys)
                #expect(again.status == 200, "\(again)")
                #expect(try nl.alarms().isEmpty)
                // Another version of it, signed by TR's key: its digest is not the run's signed head.
                let other = try Self.version(run.through, of: tr.siteID, at: fork)
                let answer = try await SignedHTTP.push(url, token: token, other.transactions, keys: other.keys)
                #expect(answer.status == 409, "\(answer)")
                let refusal = try JSONDecoder().decode(ErrorResponse.self, from: Data(answer.text.utf8))
                #expect(
                    refusal.error == "equivocation" && refusal.message.contains("applied here \(run.head)"),
                    "\(refusal)")
                #expect(try nl.alarms().contains { $0.kind == .equivocation && $0.site == "TR-TIB" })
                #expect(try await Self.securityEvents(nl)["equivocation", default: 0] > 0)
                #expect(try nl.verify().problems.contains { $0.contains("TR-TIB equivocated") })
            }
        }
    }

    /// The first transaction of a removed run: another version of it is an equivocation too (found
    /// by the header digest NL kept; a replica cloned from a snapshot, which has none, finds it by
    /// its link, which differs from the digest of the transaction before it).
    @Test func anotherVersionOfARemovedRunsFirstTransactionRaisesTheAlarm() async throws {
        try await withReplicas { factory in
            let (nl, tr, fork, run) = try Self.forked(factory)
            try await withServer(nl) { url in
                let ma = try factory.make("MA-DGST")
                _ = try pair(ma, with: nl, url: url)
                let other = try Self.version(run.first, of: tr.siteID, at: fork)
                let answer = try await SignedHTTP.push(
                    url, token: "token-MA-DGST-NL-NCTV", other.transactions, keys: other.keys)
                #expect(answer.status == 409 && answer.text.contains("equivocation"), "\(answer)")
                #expect(try nl.alarms().contains { $0.kind == .equivocation && $0.site == "TR-TIB" })
            }
        }
    }

    /// Inside a run, NL kept each removed transaction's header digest: another version of one
    /// there is an equivocation too, and the honest copy passes quietly.
    @Test func anotherVersionInsideARemovedRunRaisesTheAlarm() async throws {
        try await withReplicas { factory in
            let (nl, tr, fork, run) = try Self.forked(factory)
            #expect(run.through - run.first >= 2, "\(run)")
            let inside = run.first + 1
            try await withServer(nl) { url in
                let ma = try factory.make("MA-DGST")
                _ = try pair(ma, with: nl, url: url)
                let token = "token-MA-DGST-NL-NCTV"
                let honest = try Self.version(inside, of: tr.siteID, at: tr)
                let again = try await SignedHTTP.push(url, token: token, honest.transactions, keys: honest.keys)
                #expect(again.status == 200, "\(again)")
                #expect(try nl.alarms().isEmpty)
                let other = try Self.version(inside, of: tr.siteID, at: fork)
                let answer = try await SignedHTTP.push(url, token: token, other.transactions, keys: other.keys)
                #expect(answer.status == 409 && answer.text.contains("equivocation"), "\(answer)")
                #expect(try nl.alarms().contains { $0.kind == .equivocation && $0.site == "TR-TIB" })
            }
        }
    }

    static func securityEvents(_ replica: Replica) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for _ in 0..<100 {
            counts = Dictionary(uniqueKeysWithValues: try replica.status().securityEvents.map { ($0.event, $0.count) })
            if counts["equivocation"] != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return counts
    }
}
