import Foundation
import Liaison
import LiaisonTesting
import Testing

/// A deletion that a concurrent write undoes leaves the same conflict records on every replica,
/// whichever arrived first (issue 12, schema soak seeds 571 and 737).
@Suite(.timeLimit(.minutes(2))) struct UndoneDeletionTests {
    /// Seed 571: TR deleted a body without having seen NL's edit of it, then met MA's new
    /// membership of it (an `orphan`), and resolved that by deleting the membership. NL's edit
    /// then undid the deletion at TR; the resolved orphan stayed there, while NL, which had the
    /// edit before the deletion, never held one. Now it goes with the deletion; the resolution's
    /// own deletion of the membership stays everywhere.
    @Test func aResolvedOrphanGoesWhenItsDeletionLoses() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "anne") { try $0.set("organisation", id: "org-x", ["name": "Body", "kind": "forum"]) }
            try transfer(from: nl, to: tr)
            try transfer(from: nl, to: ma)
            try nl.write(author: "anne") { try $0.set("organisation", id: "org-x", ["country": "NL"]) }
            try tr.write(author: "emre") { try $0.delete("organisation", id: "org-x") }
            try ma.write(author: "karim") {
                try $0.set(
                    "membership", id: "mem-x", ["organisation_id": "org-x", "body_id": "org-x", "role": "member"])
            }
            try transfer(from: ma, to: tr)
            let orphan = try #require(try tr.conflicts().first { $0.kind == .orphan && $0.rowID == "mem-x" })
            try tr.resolve(orphan.id, .keepLoser, author: "emre")
            #expect(try tr.row("membership", id: "mem-x") == nil, "keeping the deletion deletes the membership")
            try transfer(from: nl, to: tr)
            #expect(try tr.row("organisation", id: "org-x")?["country"] == "NL", "NL's edit undid the deletion")
            #expect(try !tr.conflicts(includeResolved: true).contains { $0.kind == .orphan })
            for (source, target) in [(ma, nl), (tr, nl), (nl, ma), (tr, ma)] { try transfer(from: source, to: target) }
            let expected = try nl.conflicts(includeResolved: true).map(\.id)
            #expect(try expected == tr.conflicts(includeResolved: true).map(\.id))
            #expect(try expected == ma.conflicts(includeResolved: true).map(\.id))
            #expect(try nl.conflicts().map(\.kind) == [.delete])
            #expect(try nl.dump() == tr.dump() && tr.dump() == ma.dump())
            #expect(try nl.row("membership", id: "mem-x") == nil)
        }
    }

    /// Seed 737: NL moved a public topic into `gctf` and deleted it there, without having seen
    /// TR's concurrent edit of it. MA, which may read only `public`, gets the move and the
    /// deletion as outlines. Where the edit arrived after the deletion's outline, MA recorded the
    /// `delete` conflict the full replicas hold; where it arrived before, it recorded none.
    @Test(arguments: [false, true])
    func aDeletionOutlineThatLosesRecordsTheDeleteConflict(editFirst: Bool) async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-x", ["name": "Topic"]) }
            try transfer(from: nl, to: tr)
            try transfer(from: nl, to: ma, readable: ["public"], writable: nil)
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-x", ["scope": "gctf"]) }
            _ = try nl.log()  // published: the move and the deletion are changes of their own
            try tr.write(author: "emre") { try $0.set("topic", id: "topic-x", ["description": "TR text"]) }
            try nl.write(author: "anne") { try $0.delete("topic", id: "topic-x") }
            let steps = editFirst ? [tr, nl] : [nl, tr]
            for source in steps { try transfer(from: source, to: ma, readable: ["public"], writable: nil) }
            #expect(try ma.row("topic", id: "topic-x") == nil, "the row is in gctf now")
            try transfer(from: nl, to: tr)
            try transfer(from: tr, to: nl)
            let full = try nl.conflicts().filter { $0.kind == .delete && $0.rowID == "topic-x" }
            #expect(full.count == 1)
            #expect(try tr.conflicts().filter { $0.kind == .delete }.map(\.id) == full.map(\.id))
            #expect(try ma.conflicts().filter { $0.kind == .delete }.map(\.id) == full.map(\.id))
            #expect(try nl.dump() == tr.dump())
        }
    }
}
