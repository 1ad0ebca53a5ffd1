import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// The authority checks of `AuthorityTests`, through a relay: a relay forwarding a hostile
/// agency's signed transactions lends them none of its own authority, and a relay altering what
/// it forwards (to borrow an authorised origin's name) is refused. Real HTTP on both hops.
@Suite(.timeLimit(.minutes(2))) struct AuthorityRelayTests {
    @Test func aRelayedResolutionIsJudgedByItsOriginNotByTheRelay() async throws {
        try await withReplicas { factory in
            let (nl, _, conflict) = try AuthorityTests.conflictAtNL(factory)
            let hostile = try factory.make("XX-HOSTILE")
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            try await withServer(nl) { nlURL in
                // MA may write everything at NL: only the claim's origin can make it fail.
                let maPeer = try pair(ma, with: nl, url: nlURL)
                try nl.pinKey(of: hostile.identity)
                try await withServer(ma) { maURL in
                    _ = try pair(hostile, with: ma, url: maURL)
                    try ma.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                    let blind = try AuthorityTests.claiming(conflict, by: hostile, excluding: try ma.versionVector())
                    let pushed = try await SignedHTTP.push(
                        maURL, token: "token-XX-HOSTILE-MA-DGST", blind.transactions, keys: blind.keys)
                    #expect(pushed.status == 200, "\(pushed.text)")
                }
                let report = try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(report.error == nil)
                // XX's change itself applies at NL; its claim closes nothing and is recorded.
                #expect(try nl.row("topic", id: "topic-XX-HOSTILE")?["name"] == "Mine")
                #expect(try nl.conflicts().contains { $0.id == conflict })
                #expect(
                    try nl.ignoredResolutions().contains {
                        $0.site == "XX-HOSTILE" && $0.reason == "had not seen both sides"
                    })
            }
        }
    }

    @Test func aRelayCannotLendAResolutionToAnOriginThatSawBothSides() async throws {
        try await withReplicas { factory in
            let (nl, tr, conflict) = try AuthorityTests.conflictAtNL(factory)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            // TR, which saw both sides and may write the row, makes an ordinary edit; MA relays it.
            try tr.write(author: "emre") { try $0.set("topic", id: "topic-tr", ["name": "Returnees"]) }
            try transfer(from: tr, to: ma)
            try await withServer(nl) { nlURL in
                _ = try pair(ma, with: nl, url: nlURL)
                let page = try ma.changes(after: .start, excluding: try nl.versionVector())
                let index = try #require(page.transactions.firstIndex { $0.site == "TR-TNP" })
                let before = try nl.dump()
                // The relay adds a resolution claim in TR's name, or rewrites TR's value.
                var claimed = page.transactions
                claimed[index].resolves = [conflict]
                var rewritten = page.transactions
                rewritten[index].changes[0].values?["name"] = "Rewritten"
                for altered in [claimed, rewritten] {
                    let answer = try await SignedHTTP.push(
                        nlURL, token: "token-MA-DGST-NL-NCTV", altered, keys: page.keys)
                    #expect(answer.status == 422, "\(answer.text)")
                    #expect(
                        try WireJSON.decode(ErrorResponse.self, from: Data(answer.text.utf8)).error
                            == "invalid_transaction")
                    #expect(try nl.dump() == before)
                    #expect(try nl.conflicts().contains { $0.id == conflict })
                    #expect(try nl.quarantined().isEmpty)
                }
                // Unaltered, TR's edit goes through the same relay.
                let honest = try await SignedHTTP.push(
                    nlURL, token: "token-MA-DGST-NL-NCTV", page.transactions, keys: page.keys)
                #expect(honest.status == 200, "\(honest.text)")
                #expect(try nl.row("topic", id: "topic-tr")?["name"] == "Returnees")
            }
        }
    }

    @Test func anOwnerTakeoverRelayedByAReplicaThatCannotCheckItIsHeldWhereTheHistoryIsWhole() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let hostile = try factory.make("XX-HOSTILE")
            try nl.write(author: "anne") {
                try $0.set("agreement", id: "agr-x", ["title": "Roadmap", "kind": "roadmap", "status": "draft"])
            }
            // MA may read only `public`: it holds NL's other changes as digests, so it cannot know
            // every owner write and leaves the owner check to replicas holding the whole history.
            try transfer(from: nl, to: ma, readable: ["public"], writable: nil)
            try transfer(from: ma, to: hostile)
            try await withServer(nl) { nlURL in
                let maPeer = try pair(ma, with: nl, url: nlURL)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                try nl.pinKey(of: hostile.identity)
                try hostile.write(author: "mallory") { try $0.set("agreement", id: "agr-x", ["status": "agreed"]) }
                try await withServer(ma) { maURL in
                    _ = try pair(hostile, with: ma, url: maURL)
                    try ma.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                    let page = try hostile.changes(after: .start, excluding: try ma.versionVector())
                    var takeOver = try #require(page.transactions.last)
                    takeOver.changes[0].values?["owner"] = "XX-HOSTILE"
                    // Claiming to have replaced the owner's own version, so it wins wherever it merges.
                    let ownersBase = takeOver.changes[0].bases?["status"]
                    takeOver.changes[0].bases?["owner"] = ownersBase
                    let pushed = try await SignedHTTP.push(
                        maURL, token: "token-XX-HOSTILE-MA-DGST", [try hostile.signedAsOrigin(takeOver)],
                        keys: page.keys)
                    #expect(pushed.status == 200, "\(pushed.text)")
                }
                let heldAtMA = try ma.quarantined().map { "\($0.held.id) \($0.held.error) \($0.held.message)" }
                #expect(try ma.row("agreement", id: "agr-x")?["owner"] == "XX-HOSTILE", "\(heldAtMA)")
                let before = try nl.dump()
                let report = try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(report.error == nil)
                // NL holds the whole history: the takeover is held, not applied, and MA is told.
                #expect(try nl.row("agreement", id: "agr-x")?["owner"] == "NL-NCTV")
                #expect(try nl.dump() == before)
                let held = try #require(report.heldThere.first)
                #expect(held.site == "XX-HOSTILE" && held.error == "forbidden_scope", "\(report.heldThere)")
                #expect(held.message.contains("owner"))
                #expect(try nl.quarantined().map(\.held.site) == ["XX-HOSTILE"])
            }
        }
    }
}
