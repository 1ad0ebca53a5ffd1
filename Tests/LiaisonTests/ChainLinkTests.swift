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

    @Test func aLinkLeftOutWithoutItsPredecessorOrWithAnotherOneIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            for index in 0..<3 {
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-ftf", ["name": .text("Name \(index)")]) }
            }
            try trustKeys(of: nl, at: ma)
            let page = try nl.changes(after: .start, excluding: VersionVector())
            #expect(try ma.apply(Array(page.transactions.prefix(2)), keys: page.keys).applied == 2)
            // NL#3 cut from its page: its link was left out for NL#2 before it, which this body
            // lacks, so nothing restores it and the signature does not hold.
            let cut = page.transactions[2]
            #expect(cut.seq == 3 && cut.previous == nil)
            #expect(throws: LiaisonError.self) { try ma.apply([cut], keys: page.keys) }
            // A record put before it cannot stand in for NL#2: NL#2 altered fails its own signature.
            var altered = page.transactions[1]
            altered.author = "mallory"
            #expect(throws: LiaisonError.self) { try ma.apply([altered, cut], keys: page.keys) }
            #expect(try ma.versionVector()[nl.siteID] == 2)
            // Asked again, the page names NL#3's link (its predecessor is not in the page).
            let again = try nl.changes(after: .start, excluding: try ma.versionVector())
            #expect(again.transactions.first?.previous != nil)
            #expect(try ma.apply(again.transactions, keys: again.keys).applied == 2)
            #expect(try ma.dump() == nl.dump())
        }
    }
}
