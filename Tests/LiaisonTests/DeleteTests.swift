import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Deleting a row that others refer to: refused with the referrers unless `cascade` or `orphan`;
/// concurrent deletes and references give the same orphan conflict on every replica.
@Suite struct DeleteTests {
    @Test func deletingAReferencedRowIsRefusedNamingItsReferrers() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let before = try nl.dump()
            let referrers = try nl.write(author: "anne") { try $0.referrers(of: "organisation", id: "org-gctf") }
            #expect(!referrers.isEmpty)
            let error = try #require(throws: LiaisonError.self) {
                try nl.write(author: "anne") { try $0.delete("organisation", id: "org-gctf", referrers: .refuse) }
            }
            #expect(error.code == .invalidInput)
            #expect(error.message.contains(referrers[0].description) && error.message.contains("--cascade"))
            #expect(try nl.dump() == before)
        }
    }

    @Test func cascadeDeletesTheReferrersInTheSameTransaction() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            let referrers = try nl.write(author: "anne") { try $0.referrers(of: "organisation", id: "org-gctf") }
            try nl.write(author: "anne") { try $0.delete("organisation", id: "org-gctf", referrers: .cascade) }
            #expect(try nl.row("organisation", id: "org-gctf") == nil)
            for referrer in referrers { #expect(try nl.row(referrer.table, id: referrer.id) == nil, "\(referrer)") }
            let last = try #require(try nl.log().last)
            #expect(last.changes.count >= referrers.count + 1 && last.changes.allSatisfy { $0.op == .delete })
            try transfer(from: nl, to: ma)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.conflicts().isEmpty)
        }
    }

    @Test func orphanKeepsTheReferrers() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let referrers = try nl.write(author: "anne") { try $0.referrers(of: "organisation", id: "org-gctf") }
            try nl.write(author: "anne") { try $0.delete("organisation", id: "org-gctf", referrers: .orphan) }
            #expect(try nl.row("organisation", id: "org-gctf") == nil)
            for referrer in referrers { #expect(try nl.row(referrer.table, id: referrer.id) != nil) }
        }
    }

    /// NL deletes a body while MA adds a membership of it; TR and the two others get both writes in
    /// different orders. Every replica holding the membership records the same orphan conflict.
    @Test(arguments: [0, 1, 2, 3])
    func aConcurrentDeleteAndReferenceGiveTheSameOrphanEverywhere(order: Int) async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TIB")
            try transfer(from: nl, to: ma)
            try transfer(from: nl, to: tr)
            try nl.write(author: "anne") { try $0.delete("organisation", id: "org-gctf", referrers: .orphan) }
            try ma.write(author: "karim") {
                try $0.set(
                    "membership", id: "mem-ma-new-gctf",
                    ["organisation_id": "org-ma", "body_id": "org-gctf", "role": "member", "scope": "gctf"])
            }
            let steps: [(Replica, Replica)] =
                switch order {
                case 0: [(nl, tr), (ma, tr), (nl, ma), (ma, nl)]
                case 1: [(ma, tr), (nl, tr), (ma, nl), (nl, ma)]
                case 2: [(nl, ma), (ma, tr), (ma, nl), (nl, tr)]
                default: [(ma, nl), (nl, tr), (nl, ma), (ma, tr)]
                }
            for (source, target) in steps { try transfer(from: source, to: target) }
            let expected = try nl.conflicts().filter { $0.kind == .orphan }
            let all = try nl.conflicts()
            let held = try nl.quarantined()
            let kept = try nl.row("membership", id: "mem-ma-new-gctf")
            #expect(expected.map(\.rowID) == ["mem-ma-new-gctf"], "\(all) \(held) \(String(describing: kept))")
            for replica in [ma, tr] {
                #expect(try replica.conflicts().filter { $0.kind == .orphan } == expected, "\(replica.siteCode)")
            }
            #expect(try nl.dump() == ma.dump() && ma.dump() == tr.dump())
        }
    }
}
