import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// The quarantine is bounded per sender, over real HTTP with a hostile peer that signs its own
/// transactions: past its bound a push is refused whole with `quarantine_full`, what it has held
/// stays, and other peers' links are not affected.
@Suite(.timeLimit(.minutes(2))) struct QuarantineBoundTests {
    /// `count` transactions of `hostile`, each planting a `gctf` topic it may not write at NL.
    static func planted(_ count: Int, by hostile: Replica, description: String = "") throws {
        for index in 0..<count {
            try hostile.write(author: "mallory") {
                try $0.set(
                    "topic", id: "topic-planted-\(UUID().uuidString.prefix(8))-\(index)",
                    ["name": "Planted", "scope": "gctf", "description": .text(description)])
            }
        }
    }

    @Test func pastItsBoundAPushIsRefusedAndWhatIsHeldStays() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let hostile = try factory.make("XX-HOSTILE")
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: hostile)
            try transfer(from: nl, to: ma)
            nl.quarantineQuota.limits = QuarantineLimits(maxTransactions: 3, maxBytes: 1 << 20)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                let maPeer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                try nl.grant(peer: "MA-DGST", read: ["*"], write: ["public"])
                let token = "token-XX-HOSTILE-NL-NCTV"
                try Self.planted(5, by: hostile)
                let page = try hostile.changes(after: .start, excluding: try nl.versionVector())
                #expect(page.transactions.count == 5)
                let before = try nl.dump()
                let first = try await SignedHTTP.push(
                    url, token: token, try hostile.withProofs(Array(page.transactions.prefix(3))), keys: page.keys)
                #expect(first.status == 200, "\(first.text)")
                let held = ["XX-HOSTILE#1", "XX-HOSTILE#2", "XX-HOSTILE#3"]
                #expect(try nl.quarantined().map(\.held.id) == held)
                // The fourth would pass the bound: refused whole, with a reason naming the sender.
                let refused = try await SignedHTTP.push(
                    url, token: token, try hostile.withProofs(Array(page.transactions.suffix(2))), keys: page.keys)
                #expect(refused.status == 422, "\(refused.text)")
                let error = try WireJSON.decode(ErrorResponse.self, from: Data(refused.text.utf8))
                #expect(error.error == "quarantine_full")
                #expect(error.message.contains("peer XX-HOSTILE already has 3 transactions held here"))
                #expect(error.message.contains("what is held stays"))
                #expect(try nl.quarantined().map(\.held.id) == held)
                #expect(try nl.dump() == before)
                // Another peer's link keeps working.
                try ma.write(author: "karim") { try $0.set("topic", id: "topic-ma", ["name": "Returnees"]) }
                let report = try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(report.error == nil)
                #expect(try nl.row("topic", id: "topic-ma") != nil)
                // The operator vouches for what is held: it applies, and the bound frees for the rest.
                for id in held { #expect(try nl.releaseQuarantined(id) == nil) }
                #expect(try nl.quarantined().isEmpty)
                let rest = try await SignedHTTP.push(
                    url, token: token, try hostile.withProofs(Array(page.transactions.suffix(2))), keys: page.keys)
                #expect(rest.status == 200, "\(rest.text)")
                #expect(try nl.quarantined().map(\.held.id) == ["XX-HOSTILE#4", "XX-HOSTILE#5"])
                #expect(try nl.verify().isIntact)
            }
        }
    }

    @Test func aSenderPastItsBytesIsRefusedAndNothingIsHeld() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let hostile = try factory.make("XX-HOSTILE")
            try transfer(from: nl, to: hostile)
            nl.quarantineQuota.limits = QuarantineLimits(maxTransactions: 100, maxBytes: 6_000)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                let token = "token-XX-HOSTILE-NL-NCTV"
                try Self.planted(1, by: hostile, description: String(repeating: "x", count: 2_000))
                try Self.planted(1, by: hostile, description: String(repeating: "y", count: 8_000))
                let page = try hostile.changes(after: .start, excluding: try nl.versionVector())
                let small = try await SignedHTTP.push(
                    url, token: token, try hostile.withProofs([page.transactions[0]]), keys: page.keys)
                #expect(small.status == 200, "\(small.text)")
                let large = try await SignedHTTP.push(url, token: token, [page.transactions[1]], keys: page.keys)
                #expect(large.status == 422, "\(large.text)")
                let error = try WireJSON.decode(ErrorResponse.self, from: Data(large.text.utf8))
                #expect(error.error == "quarantine_full")
                #expect(error.message.contains("would pass the 6000 allowed"))
                #expect(try nl.quarantined().map(\.held.id) == ["XX-HOSTILE#1"])
            }
        }
    }
}
