import Foundation
import Liaison
import LiaisonTesting
import Testing

/// A base chain that passes through a change held here only as a digest ends proven there for
/// every write that change's vector had seen. When the change itself arrives later, its bases can
/// show it had not seen such a write: the cells it wrote are judged again, so the replica records
/// the conflict a replica holding the change from the start recorded (the simulation's seed 117
/// with extra rounds: a conflict on one full replica only). Over real HTTP.
@Suite(.timeLimit(.minutes(2))) struct LateChainStepTests {
    /// NL edits a `gctf` topic's description. TR gets that edit through MA (public only) as a
    /// digest, edits the description itself (C, based on the first version), then edits it again
    /// and moves the row into `public` (V, based on C). NL gets C as a digest and V whole through
    /// MA: V's chain ends at the withheld C, which by vector had seen NL's edit, so V superseded it
    /// with no conflict. C then comes from TR; TR gets NL's edit late. Both hold the same conflict.
    @Test func aWithheldStepThatArrivesLateIsJudgedAgain() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-l", ["name": "Start", "description": "start", "scope": "gctf"])
            }
            try transfer(from: nl, to: tr)
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-l", ["description": "NL text"]) }
            try await withServer(nl) { nlURL in
                try await withServer(tr) { trURL in
                    // MA may read only `public` at NL and TR; NL lets it relay writes of any scope.
                    _ = try pair(ma, with: nl, url: nlURL)
                    try nl.grant(peer: "MA-DGST", read: ["public"], write: ["*"])
                    _ = try pair(ma, with: tr, url: trURL)
                    try tr.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                    try ma.pinKey(of: tr.identity)
                    try ma.pinKey(of: nl.identity)
                    try await ArrivalOrder.sync(ma, with: nl, url: nlURL)
                    try await withServer(ma) { maURL in
                        try await ArrivalOrder.sync(tr, with: ma, url: maURL)
                        #expect(try tr.row("topic", id: "topic-l")?["description"] == "start", "NL's edit as a digest")
                        try tr.write(author: "emre") {
                            try $0.set("topic", id: "topic-l", ["description": "TR text"])
                        }
                        _ = try tr.log()  // published alone (a later write of the cell in the same run would fold it)
                        try tr.write(author: "emre") {
                            try $0.set("topic", id: "topic-l", ["description": "TR later", "scope": "public"])
                        }
                        try await ArrivalOrder.sync(ma, with: tr, url: trURL)
                        try nl.pinKey(of: tr.identity)
                        try await ArrivalOrder.sync(nl, with: ma, url: maURL)
                    }
                    #expect(try nl.quarantined().isEmpty)
                    #expect(try nl.row("topic", id: "topic-l")?["description"] == "TR later")
                    #expect(try !nl.wantedTransactions().isEmpty, "NL holds TR's first edit as a digest")
                    // C reaches NL over HTTP, NL's edit reaches TR (asked for again): each late.
                    try await ArrivalOrder.sync(nl, with: tr, url: trURL)
                    try transfer(from: nl, to: tr, readable: nil, writable: nil)
                }
            }
            #expect(try nl.wantedTransactions().isEmpty && tr.wantedTransactions().isEmpty)
            let summary = try ArrivalOrder.summary(nl)
            #expect(summary.count == 1 && summary.first?.contains("topic-l.description loser NL-NCTV#2 open") == true)
            let atTR = try ArrivalOrder.summary(tr)
            #expect(atTR == summary, "TR \(atTR), NL \(summary)")
            #expect(try nl.dump() == tr.dump())
        }
    }
}
