import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// A page leaves out `previous` where the receiver computes it (the origin's whole transaction
/// before, in the same page); the signature still checks every restored link.
@Suite struct ChainLinkTests {
    @Test func aPageLeavesOutLinksTheReceiverComputesAndTheyTravelThroughARelay() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            for index in 0..<5 {
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-ftf", ["name": .text("Name \(index)")]) }
            }
            let page = try nl.changes(after: .start, excluding: VersionVector())
            #expect(page.transactions.count == 6)
            #expect(page.transactions[0].seq == 1 && page.transactions[0].previous == nil)
            #expect(page.transactions.dropFirst().allSatisfy { $0.previous == nil })
            // Asked from seq 3 on, the first record names its link, the rest leave it out.
            let later = try nl.changes(after: .start, excluding: VersionVector([nl.siteID: 2]))
            #expect(later.transactions.first?.seq == 3)
            #expect(later.transactions.first?.previous != nil)
            #expect(later.transactions.dropFirst().allSatisfy { $0.previous == nil })
            try trustKeys(of: nl, at: ma)
            #expect(try ma.apply(page.transactions, keys: page.keys).applied == 6)
            // MA relays NL's transactions to TR, leaving the links out again; TR verifies them.
            try trustKeys(of: nl, at: tr)
            #expect(try transfer(from: ma, to: tr) == 6)
            #expect(try tr.dump() == nl.dump())
            #expect(try tr.verify().isIntact)
        }
    }

    @Test func aLinkLeftOutIsFilledFromTheLogAndAWrongOneIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            for index in 0..<3 {
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-ftf", ["name": .text("Name \(index)")]) }
            }
            try trustKeys(of: nl, at: ma)
            try trustKeys(of: nl, at: tr)
            let page = try nl.changes(after: .start, excluding: VersionVector())
            // Part of a page carries the proofs of its signed runs (docs/PROTOCOL.md, "Signed runs").
            #expect(try ma.apply(try nl.withProofs(Array(page.transactions.prefix(2))), keys: page.keys).applied == 2)
            // NL#3 cut from its page: its link was left out for NL#2 before it.
            let cut = try nl.withProofs([page.transactions[2]])[0]
            #expect(cut.seq == 3 && cut.previous == nil)
            // A record put before it cannot stand in for NL#2: NL#2 altered fails its own signature.
            var altered = page.transactions[1]
            altered.author = "mallory"
            #expect(throws: LiaisonError.self) { try ma.apply([altered, cut], keys: page.keys) }
            // A link that is not NL#2's digest: the signature does not hold.
            var forged = cut
            forged.previous = String(repeating: "0", count: 64)
            #expect(throws: LiaisonError.self) { try ma.apply([forged], keys: page.keys) }
            // A replica that lacks NL#2 cannot take NL#3 at all.
            #expect(try tr.apply(try nl.withProofs([page.transactions[0]]), keys: page.keys).applied == 1)
            #expect(throws: LiaisonError.self) { try tr.apply([cut], keys: page.keys) }
            #expect(try ma.versionVector()[nl.siteID] == 2)
            // MA holds NL#2 in its change log: the link is filled from there, and the signature holds.
            #expect(try ma.apply([cut], keys: page.keys).applied == 1)
            // Asked again, the page names the first record's link (its predecessor is not in the page).
            let again = try nl.changes(after: .start, excluding: try ma.versionVector())
            #expect(again.transactions.first?.previous != nil)
            #expect(try ma.apply(again.transactions, keys: again.keys).applied == again.transactions.count)
            #expect(try ma.dump() == nl.dump())
        }
    }
}
