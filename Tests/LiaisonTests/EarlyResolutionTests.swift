import Foundation
import Liaison
import LiaisonTesting
import Testing

/// A resolution can reach a replica before the conflict it closes: the conflict's sides came
/// through a relay lacking their scope, as digests, and are recorded only when a peer that may
/// sends them. The claim was ignored then (an unknown id), and the conflict stayed open there
/// while it was resolved where it was recorded first (the simulation's seed 78 with extra
/// rounds). Now the claim is kept and honoured once the conflict is recorded. Over real HTTP.
@Suite(.timeLimit(.minutes(2))) struct EarlyResolutionTests {
    @Test func aResolutionThatArrivesBeforeItsConflictClosesItWhenItIsRecorded() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            let be = try factory.make("BE-OCAM")
            let fr = try factory.make("FR-SGAE")
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-r", ["name": "Start", "scope": "gctf"]) }
            for other in [tr, be, fr] { try transfer(from: nl, to: other) }
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-r", ["name": "NL name"]) }
            try tr.write(author: "emre") { try $0.set("topic", id: "topic-r", ["name": "TR name"]) }
            try transfer(from: tr, to: nl)
            let conflict = try #require(try nl.conflicts().first { $0.rowID == "topic-r" })
            try nl.resolve(conflict.id, .keepWinner, author: "anne")
            try await withServer(nl) { nlURL in
                // BE: both sides, then the resolution, from NL.
                try be.pinKey(of: tr.identity)
                try await ArrivalOrder.sync(be, with: nl, url: nlURL)
                // FR: through MA, which may read only public: every change withheld, the
                // resolution's claim with its header; then the changes from NL.
                _ = try pair(ma, with: nl, url: nlURL)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                try ma.pinKey(of: tr.identity)
                try await ArrivalOrder.sync(ma, with: nl, url: nlURL)
                try await withServer(ma) { maURL in
                    try fr.pinKey(of: nl.identity)
                    try fr.pinKey(of: tr.identity)
                    try await ArrivalOrder.sync(fr, with: ma, url: maURL)
                }
                #expect(try fr.conflicts(includeResolved: true).isEmpty, "FR held both sides as digests only")
                #expect(try fr.row("topic", id: "topic-r")?["name"] == "Start")
                try await ArrivalOrder.sync(fr, with: nl, url: nlURL)
            }
            #expect(try fr.wantedTransactions().isEmpty)
            let resolved = "\(conflict.id) value topic-r.name loser \(conflict.loser.site)#\(conflict.loser.seq) resolved"
            let (atBE, atFR) = (try ArrivalOrder.summary(be), try ArrivalOrder.summary(fr))
            #expect(atBE == [resolved])
            #expect(atFR == atBE, "FR \(atFR), BE \(atBE)")
            #expect(try fr.resolution(of: conflict.id)?.site == "NL-NCTV")
            #expect(try fr.dump() == be.dump() && be.dump() == nl.dump())
        }
    }
}
