import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Compaction that removes wholly superseded, acknowledged transactions (headers and change
/// rows) in runs, under a checkpoint signing the chain head where each run ends.
@Suite(.timeLimit(.minutes(3))) struct TransactionRemovalTests {
    /// `LIAISON_REMOVAL_ROUNDS` rewrites of each long row (60 by default).
    static var rounds: Int { Int(ProcessInfo.processInfo.environment["LIAISON_REMOVAL_ROUNDS"] ?? "") ?? 60 }

    @Test func removingSupersededTransactionsReclaimsSpaceAndVerifyStillPasses() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try BundleTests.airGapped(factory)
            try CompactionTests.writeLongHistory(nl, rounds: Self.rounds)
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            _ = try nl.importBundle(try tr.makeAcknowledgementBundle(for: "NL-NCTV").data)
            let dump = try nl.dump()
            let transactionsBefore = try nl.verify().transactions

            let values = try nl.compact()
            #expect(values.checkpoint != nil && values.transactions == 0)
            let removal = try nl.compact(removingTransactions: true)
            #expect(removal.checkpoint != nil && removal.heldBackBy.isEmpty)
            // Every superseded rewrite went whole; the row's current versions and the sample stay.
            #expect(removal.transactions >= 15 * (Self.rounds - 2))
            print(
                "transaction removal: \(transactionsBefore) transactions; values dropped: file "
                    + "\(values.fileBytesBefore) -> \(values.fileBytesAfter) bytes; then \(removal.transactions) "
                    + "transactions removed whole: -> \(removal.fileBytesAfter) bytes "
                    + "(\(100 * (values.fileBytesBefore - removal.fileBytesAfter) / values.fileBytesBefore)% reclaimed "
                    + "in all, \(100 * (values.fileBytesBefore - values.fileBytesAfter) / values.fileBytesBefore)% by values alone)"
            )
            #expect(removal.fileBytesAfter < values.fileBytesAfter)
            #expect(try nl.dump() == dump)
            let report = try nl.verify()
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.transactions == transactionsBefore - removal.transactions)
            #expect(report.removed == removal.transactions)
            // Nothing more to remove; a second pass changes nothing.
            #expect(try nl.compact(removingTransactions: true).checkpoint == nil)

            // TR acknowledged the floor: it keeps syncing with the compacted log, both ways.
            try nl.write(author: "anna") { try $0.set("topic", id: "topic-long-0", ["name": "After"]) }
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            #expect(try tr.row("topic", id: "topic-long-0")?["name"] == .text("After"))
            try tr.write(author: "mehmet") { try $0.set("topic", id: "topic-long-1", ["name": "From TR"]) }
            let back = try nl.importBundle(try tr.makeBundle(for: "NL-NCTV").data)
            #expect(back.held == 0 && back.missing.isEmpty)
            #expect(try nl.row("topic", id: "topic-long-1")?["name"] == .text("From TR"))
            #expect(try nl.verify().isIntact)

            // History cut outside compaction, or a chain base moved, is found.
            try nl.write(author: "mallory") {
                try $0.execute("UPDATE _liaison_chain_gap SET head = upper(head)")
            }
            let moved = try nl.verify().problems
            #expect(moved.contains { $0.contains("which no signed checkpoint of this replica removed") }, "\(moved)")
            try nl.write(author: "mallory") {
                try $0.execute("UPDATE _liaison_chain_gap SET head = lower(head)")
            }
            #expect(try nl.verify().isIntact)
            try nl.write(author: "mallory") {
                try $0.execute(
                    "DELETE FROM _liaison_tx WHERE sidx = 1 AND seq = (SELECT max(through) + 1 FROM _liaison_chain_gap WHERE sidx = 1)"
                )
            }
            let cut = try nl.verify().problems
            #expect(cut.contains { $0.contains("the log lacks transactions") }, "\(cut)")
        }
    }

    /// After transactions were removed, a peer that had not acknowledged the newest ones syncs on
    /// over HTTP; a stale peer that lacks removed ones is told to clone from a snapshot; a write
    /// made without having seen them waits for an operator.
    @Test func peersAroundTheFloorOverHTTP() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let trPeer = try pair(tr, with: nl, url: url)
                let maPeer = try pair(ma, with: nl, url: url)
                try CompactionTests.writeLongHistory(nl, rounds: 20)
                try await SyncDriver(replica: tr).sync(with: trPeer)
                // Later rewrites TR receives by a bundle and never acknowledges.
                try CompactionTests.writeLongHistory(nl, rounds: 3, tag: "late")
                try transfer(from: nl, to: tr)
                #expect(try nl.acknowledgements()["TR-TIB"]?.vector != nl.versionVector())
                // MA wrote offline, without having seen anything of NL.
                try ma.write(author: "driss") { try $0.set("topic", id: "topic-ma", ["name": "From MA"]) }
                try nl.markStale(peer: "MA-DGST")

                let result = try nl.compact(removingTransactions: true)
                #expect(result.transactions >= 15 * 18)
                #expect(try nl.verify().isIntact)

                // TR syncs on: it pulls what is new and pushes its own.
                try nl.write(author: "anna") { try $0.set("topic", id: "topic-long-2", ["name": "New"]) }
                try tr.write(author: "mehmet") { try $0.set("topic", id: "topic-long-3", ["name": "TR"]) }
                let round = try await SyncDriver(replica: tr).sync(with: trPeer)
                #expect(round.error == nil, "\(round.error ?? "")")
                #expect(try tr.dump() == nl.dump())
                #expect(try tr.verify().isIntact && nl.verify().isIntact)

                // MA, stale and lacking removed transactions, is refused with what to do next.
                do {
                    _ = try await SyncDriver(replica: ma).sync(with: maPeer)
                    Issue.record("MA synced from a log that lacks what it needs")
                } catch let error as LiaisonError {
                    #expect(
                        error.code == .compactedHistory && error.message.contains("clone from a snapshot"), "\(error)")
                }
                #expect(try ma.row("topic", id: "topic-long-0") == nil)
                // A bundle for it is refused the same way (it is built by the same page builder).
                #expect {
                    _ = try nl.makeBundle(for: "MA-DGST")
                } throws: { error in
                    (error as? LiaisonError)?.code == .compactedHistory
                }

                // MA's offline write reaches NL (a page of MA's log applied as a pull would): it is
                // held, not applied.
                let page = try ma.changes(after: .start, excluding: try nl.versionVector())
                let applied = try nl.apply(page.transactions, keys: page.keys)
                #expect(applied.held == 1 && applied.applied == 0)
                let held = try #require(try nl.quarantined().first)
                #expect(held.held.error == "behind_checkpoint")
                #expect(try nl.row("topic", id: "topic-ma") == nil)
                // The operator releases it: applied.
                #expect(try nl.releaseQuarantined("\(held.held.site)#\(held.held.seq)") == nil)
                #expect(try nl.row("topic", id: "topic-ma")?["name"] == .text("From MA"))
                #expect(try nl.verify().isIntact)
            }
        }
    }
}
