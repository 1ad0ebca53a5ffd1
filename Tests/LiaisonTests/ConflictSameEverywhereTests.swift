import Foundation
import Liaison
import LiaisonTesting
import Testing

/// Conflict records are the same on every replica that holds the row, whatever path and order
/// the changes took (issue 12): regressions for the general causes the 1,000-seed soak found.
@Suite(.timeLimit(.minutes(2))) struct ConflictSameEverywhereTests {
    /// NL and TR edit a `gctf` topic's name concurrently; both then hold the conflict.
    static func conflict(_ nl: Replica, _ tr: Replica, id row: String) throws -> Conflict {
        try nl.write(author: "anne") { try $0.set("topic", id: row, ["name": "Start", "scope": "gctf"]) }
        try transfer(from: nl, to: tr)
        try nl.write(author: "anne") { try $0.set("topic", id: row, ["name": "NL name"]) }
        try tr.write(author: "emre") { try $0.set("topic", id: row, ["name": "TR name"]) }
        try transfer(from: tr, to: nl)
        try transfer(from: nl, to: tr)
        let conflict = try #require(try nl.conflicts().first { $0.rowID == row })
        #expect(try tr.conflicts().map(\.id) == [conflict.id])
        return conflict
    }

    /// Seed 220: a resolution relayed by a replica that may not write the row was ignored for good
    /// there and honoured where it came direct. Now it is held until a peer that may sends it.
    @Test func aRelayedResolutionOutsideTheRelaysGrantIsHeldUntilAPeerThatMaySendsIt() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            let conflict = try Self.conflict(nl, tr, id: "topic-s")
            try nl.resolve(conflict.id, .keepWinner, author: "anne")
            // MA may read and write only public: it relays NL's resolution with its change withheld.
            try transfer(from: nl, to: ma, readable: ["public"], writable: nil)
            try transfer(from: ma, to: tr, readable: nil, writable: ["public"])
            #expect(try tr.conflicts().map(\.id) == [conflict.id], "closed on a relay's word")
            #expect(try tr.ignoredResolutions().isEmpty, "ignored for good")
            let held = try tr.quarantined()
            #expect(held.map(\.held.site) == ["NL-NCTV"] && held.map(\.held.error) == ["forbidden_scope"])
            // NL sends it itself: it applies, the held copy is released, and the conflict closes.
            try transfer(from: nl, to: tr)
            #expect(try tr.quarantined().isEmpty)
            #expect(try tr.conflicts().isEmpty && nl.conflicts().isEmpty)
            #expect(try tr.resolution(of: conflict.id)?.site == "NL-NCTV")
            #expect(try tr.dump() == nl.dump())
        }
    }

    /// Seed 380: a deletion by a replica that held both sides of a value conflict removed the row
    /// there, while receivers counted the losing write as unseen (the deletion's base for the
    /// cell is the winner) and kept the row with a `delete` conflict.
    @Test func aDeletionThatHeldAConflictsLoserRemovesTheRowEverywhere() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            _ = try Self.conflict(nl, tr, id: "topic-d")
            try nl.write(author: "anne") { try $0.delete("topic", id: "topic-d") }
            try transfer(from: nl, to: tr)
            #expect(try tr.row("topic", id: "topic-d") == nil)
            #expect(try !tr.conflicts().contains { $0.kind == .delete })
            #expect(try tr.dump() == nl.dump())
        }
    }

    /// Duplicates were recorded only where the second row arrived, never where it was made, and
    /// stayed open after one of the rows was deleted on replicas that saw both live.
    @Test func aDuplicateIsRecordedWhereItIsMadeAndForgottenOnceARowGoes() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            try nl.write(author: "anne") {
                try $0.set("organisation", id: "org-a", ["name": "Same body", "kind": "forum"])
            }
            try transfer(from: nl, to: tr)
            try tr.write(author: "emre") {
                try $0.set("organisation", id: "org-b", ["name": "Same body", "kind": "forum"])
            }
            let made = try tr.conflicts().filter { $0.kind == .duplicate }
            #expect(made.count == 1, "the replica that made the duplicate records it")
            try transfer(from: tr, to: nl)
            #expect(try nl.conflicts().filter { $0.kind == .duplicate }.map(\.id) == made.map(\.id))
            try tr.write(author: "emre") { try $0.delete("organisation", id: "org-b") }
            #expect(try tr.conflicts().isEmpty)
            try transfer(from: tr, to: nl)
            #expect(try nl.conflicts().isEmpty)
            #expect(try tr.dump() == nl.dump())
        }
    }
}
