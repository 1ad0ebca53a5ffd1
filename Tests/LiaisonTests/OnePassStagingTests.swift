import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// A staged transaction too large to hold in memory (`Staging.inMemoryBytes`) is read from the
/// file once and merged as it is hashed (`TransactionApplier.applyInOnePass`). A change that breaks
/// a rule is told only once the signature holds: a forged copy is refused as forged whatever its
/// rows, a genuine one is held for the rule it breaks.
@Suite(.timeLimit(.minutes(3))) struct OnePassStagingTests {
    /// Pages of `origin`'s transactions after `vector`, cut so one transaction spans several pieces.
    static func pieces(of origin: Replica, excluding vector: VersionVector) throws -> (
        [[TransactionRecord]], [String: SiteKeyRecord]?
    ) {
        var pages: [[TransactionRecord]] = []
        var keys: [String: SiteKeyRecord]?
        var cursor = SyncCursor.start
        while true {
            let page = try origin.changes(
                after: cursor, excluding: vector, limits: PageLimits(maxChanges: 12, maxBytes: 1_500_000))
            pages.append(page.transactions)
            keys = keys ?? page.keys
            cursor = try SyncCursor(parsing: page.cursor)
            if !page.hasMore { break }
        }
        return (pages, keys)
    }

    @Test func aLargeStagedTransactionIsToldItsRuleOnlyOnceItsSignatureHolds() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let hostile = try factory.make("XX-HOSTILE")
            try transfer(from: nl, to: hostile)
            // One transaction of 90 rows of ~100 KB (past the 8 MB read into memory); row 41
            // writes a scope outside the grant.
            let text = String(repeating: "large staged value ", count: 5_300)
            try hostile.write(author: "mallory") { editor in
                for row in 0..<90 {
                    try editor.set(
                        "topic", id: "topic-large-\(row)",
                        [
                            "name": .text("Large \(row)"), "description": .text(text),
                            "scope": row == 41 ? "gctf" : "public",
                        ])
                }
            }
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                let token = "token-XX-HOSTILE-NL-NCTV"
                let (pages, keys) = try Self.pieces(of: hostile, excluding: try nl.versionVector())
                #expect(pages.count >= 7)
                #expect(pages.allSatisfy { $0.allSatisfy { !$0.isComplete } })
                let before = try nl.dump()

                // Forged: the header altered in every piece. The row breaking the write rule is
                // merged before the end of the transaction is hashed; what is told is the forgery.
                for (index, page) in pages.enumerated() {
                    var forged = page
                    for position in forged.indices { forged[position].author = "someone-else" }
                    let answer = try await SignedHTTP.push(url, token: token, forged, keys: keys)
                    if index < pages.count - 1 {
                        #expect(answer.status == 200, "\(answer.text)")
                    } else {
                        #expect(answer.status == 422, "\(answer.text)")
                        #expect(answer.text.contains("forged or altered"), "\(answer.text)")
                        #expect(!answer.text.contains("writes outside"), "\(answer.text)")
                    }
                }
                #expect(try nl.dump() == before)
                #expect(try nl.quarantined().isEmpty)

                // Genuine: held for the rule row 41 breaks; nothing of it is shown.
                var last = ""
                for page in pages {
                    let answer = try await SignedHTTP.push(url, token: token, page, keys: keys)
                    #expect(answer.status == 200, "\(answer.text)")
                    last = answer.text
                }
                let pushed = try WireJSON.decode(PushResponse.self, from: Data(last.utf8))
                #expect(pushed.held?.map(\.id) == ["XX-HOSTILE#1"])
                #expect(pushed.held?.first?.error == "forbidden_scope")
                #expect(try nl.dump() == before)

                // A wider grant releases it whole.
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["*"])
                #expect(try nl.quarantined().isEmpty)
                #expect(try nl.row("topic", id: "topic-large-41")?["scope"] == "gctf")
                #expect(try nl.row("topic", id: "topic-large-89")?["description"] == .text(text))
                #expect(try nl.versionVector()[hostile.siteID] == 1)
                #expect(try nl.verify().isIntact)
            }
        }
    }

    /// A clone of one large transaction into an empty replica, where every row is new (`NewRows`),
    /// followed in the same batch by a transaction that updates some of those rows: the same rows
    /// as the source.
    @Test func aLargeTransactionClonedInOnePassGivesTheSourcesRows() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try ma.pinKey(of: nl.identity)
            let text = String(repeating: "cloned value ", count: 7_800)
            try nl.write(author: "anne") { editor in
                for row in 0..<90 {
                    try editor.set(
                        "topic", id: "topic-clone-\(row)", ["name": .text("Clone \(row)"), "description": .text(text)])
                }
            }
            try nl.write(author: "anne") { editor in
                try editor.set("topic", id: "topic-clone-7", ["name": "Renamed after"])
                _ = try editor.delete("topic", id: "topic-clone-8")
                try editor.set("topic", id: "topic-clone-new", ["name": "New after"])
            }
            let (pages, keys) = try Self.pieces(of: nl, excluding: VersionVector())
            #expect(pages.count >= 7)
            #expect(pages.last?.contains { $0.isComplete && $0.seq == 2 } == true)
            for page in pages { _ = try ma.apply(page, keys: keys, from: "NL-NCTV") }
            #expect(try ma.row("topic", id: "topic-clone-7")?["name"] == "Renamed after")
            #expect(try ma.row("topic", id: "topic-clone-8") == nil)
            #expect(try ma.row("topic", id: "topic-clone-new")?["name"] == "New after")
            #expect(try ma.row("topic", id: "topic-clone-89")?["description"] == .text(text))
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().isIntact)
        }
    }
}
