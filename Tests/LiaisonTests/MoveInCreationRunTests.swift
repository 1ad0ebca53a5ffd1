import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

/// A row created and moved before it is published goes out as one insert in its final scope: the
/// insert writes `scope`, and the move of the same publish run writes no scope (simulation seed
/// 691). Before, the move claimed `scope` and the insert did not write it, while the insert's
/// outline showed the scope: a replica that may not read it judged that outline as a scope write
/// and recorded a conflict the full replicas did not have. Over real HTTP.
@Suite(.timeLimit(.minutes(2))) struct MoveInCreationRunTests {
    /// TR creates `topic-m` in `public`; NL, not having seen it, creates `topic-m` and moves it into
    /// `gctf` before publishing. MA reads only `public`: it holds TR's creation and gets NL's
    /// insert as an outline. Every conflict MA records is one NL and TR record too, the same.
    @Test func aPartialReplicaJudgesAnInsertMovedBeforePublishingAsFullReplicasDo() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try tr.write(author: "emre") {
                try $0.set("topic", id: "topic-m", ["name": "TR name", "description": "TR text"])
            }
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-m", ["name": "NL name", "description": "NL text"])
            }
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-m", ["scope": "gctf"]) }
            let published = try nl.log().filter { $0.site == "NL-NCTV" }.flatMap(\.changes)
                .filter { $0.id == "topic-m" }
            #expect(published.map(\.op) == [.insert], "the move published with the creation is no change: \(published)")
            #expect(published.first?.values?["scope"] == "gctf" && published.first?.scope == "gctf")
            try await withServer(nl) { nlURL in
                let trAtNL = try pair(tr, with: nl, url: nlURL)
                try await SyncDriver(replica: tr).sync(with: trAtNL)
                try await SyncDriver(replica: tr).sync(with: trAtNL)
                let maAtNL = try pair(ma, with: nl, url: nlURL)
                try ma.pinKey(of: tr.identity)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                try await SyncDriver(replica: ma).sync(with: maAtNL)
                try await SyncDriver(replica: ma).sync(with: maAtNL)
            }
            for replica in [nl, ma, tr] {
                let held = try replica.quarantined().map(\.held.error)
                #expect(held.isEmpty, "\(held)")
            }
            #expect(try nl.dump() == tr.dump())
            let full = try nl.conflicts(includeResolved: true)
            #expect(try tr.conflicts(includeResolved: true).map(\.id) == full.map(\.id))
            // Concurrent creations: each cell both wrote, `scope` too, is a conflict on the full replicas.
            let columns = Set(full.filter { $0.rowID == "topic-m" && $0.kind == .value }.compactMap(\.column))
            #expect(columns.isSuperset(of: ["name", "description", "scope"]), "\(full)")
            let partial = try ma.conflicts(includeResolved: true)
            let fullByID = Dictionary(uniqueKeysWithValues: full.map { ($0.id, $0) })
            for conflict in partial {
                let same = fullByID[conflict.id]
                #expect(
                    same?.column == conflict.column && same?.loser.seq == conflict.loser.seq
                        && same?.loser.site == conflict.loser.site,
                    "MA records \(conflict), the full replicas do not")
            }
            // The row is where the `scope` conflict's winner put it: gone from MA when in `gctf`.
            let kept = try #require(try nl.row("topic", id: "topic-m"))
            let atMA = try ma.row("topic", id: "topic-m")
            #expect((atMA != nil) == (kept["scope"] == "public"), "\(String(describing: atMA)) \(partial)")
        }
    }
}
