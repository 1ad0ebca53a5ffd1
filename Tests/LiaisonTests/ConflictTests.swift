import Foundation
import Liaison
import LiaisonTesting
import Testing

@Suite struct ConflictTests {
    @Test func concurrentEditsOfOneColumnAreRecordedOnBothSides() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            try ma.write(author: "karim") { try $0.set("action", id: "act-roadmap-early-detection", ["status": "in_progress", "due": "2018-01"]) }
            try nl.write(author: "anne") { try $0.set("action", id: "act-roadmap-early-detection", ["status": "done"]) }
            try transfer(from: nl, to: ma)
            try transfer(from: ma, to: nl)
            #expect(try nl.dump() == ma.dump())
            let row = try #require(try nl.row("action", id: "act-roadmap-early-detection"))
            #expect(row["due"] == "2018-01")
            let onNL = try nl.conflicts()
            let onMA = try ma.conflicts()
            #expect(onNL.count == 1)
            #expect(onNL.map(\.id) == onMA.map(\.id))
            let conflict = try #require(onNL.first)
            #expect(conflict.column == "status")
            #expect(Set([conflict.winner.value, conflict.loser.value]) == Set([.text("done"), .text("in_progress")]))
            #expect(row["status"] == conflict.winner.value)
        }
    }
}
