import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// A move writes only the cells it changed (issue 10): it sends the whole row, so a peer of the
/// new scope gets it whole, but carries the other cells with their versions, so a concurrent edit
/// of another column survives it without a conflict. Over real HTTP, with a hostile mover.
@Suite(.timeLimit(.minutes(2))) struct MoveCarryTests {
    @Test func aMoveConcurrentWithAnEditOfAnotherColumnKeepsBothWithoutAConflict() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-m", ["name": "Working", "description": "first text", "scope": "gctf"])
            }
            try await withServer(nl) { url in
                let peer = try pair(tr, with: nl, url: url)
                try await SyncDriver(replica: tr).sync(with: peer)
                // Concurrently: NL moves the row into public, TR edits its description in gctf.
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-m", ["scope": "public"]) }
                try tr.write(author: "emre") { try $0.set("topic", id: "topic-m", ["description": "TR text"]) }
                try await SyncDriver(replica: tr).sync(with: peer)
                try await SyncDriver(replica: tr).sync(with: peer)
                for replica in [nl, tr] {
                    let row = try #require(try replica.row("topic", id: "topic-m"))
                    #expect(row["scope"] == "public" && row["description"] == "TR text" && row["name"] == "Working")
                    #expect(try replica.conflicts(includeResolved: true).isEmpty)
                }
                #expect(try nl.dump() == tr.dump())
                // The move's change sends every column, the carried ones marked in its signed bases.
                let move = try #require(
                    try nl.log().flatMap(\.changes).last { $0.id == "topic-m" && $0.values?["scope"] == "public" })
                #expect(move.values?["name"] == "Working" && move.bases?["name"]?.hasPrefix("=") == true)
                #expect(move.bases?["scope"]?.hasPrefix("=") == false)
                // A peer that may read only public gets the row whole from the move, and nothing
                // of TR's edit, made in gctf.
                let maPeer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                try await SyncDriver(replica: ma).sync(with: maPeer)
                let row = try #require(try ma.row("topic", id: "topic-m"))
                #expect(row["name"] == "Working" && row["description"] == "first text")
                #expect(try ma.verify().isIntact)
            }
        }
    }

    @Test func aHostileMoverCannotRewriteACarriedCell() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let hostile = try factory.make("XX-HOSTILE")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-h", ["name": "Real name", "description": "Real text", "scope": "gctf"])
            }
            try transfer(from: nl, to: hostile)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["*"], write: ["public", "gctf"])
                try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-h", ["scope": "public"]) }
                var page = try hostile.changes(after: .start, excluding: try nl.versionVector())
                var record = try #require(page.transactions.last)
                let position = try #require(record.changes.firstIndex { $0.id == "topic-h" })
                #expect(record.changes[position].bases?["description"]?.hasPrefix("=") == true)
                // The carried description is rewritten and the transaction signed again by its origin.
                record.changes[position].values?["description"] = "Forged text"
                page.transactions[page.transactions.count - 1] = try hostile.signedAsOrigin(record)
                let before = try nl.dump()
                let answer = try await SignedHTTP.push(
                    url, token: "token-XX-HOSTILE-NL-NCTV", page.transactions, keys: page.keys)
                #expect(answer.status == 422, "\(answer.text)")
                #expect(answer.text.contains("invalid_transaction"), "\(answer.text)")
                #expect(try nl.dump() == before)
                // The honest move, sent as signed, applies.
                let honest = try hostile.changes(after: .start, excluding: try nl.versionVector())
                let again = try await SignedHTTP.push(
                    url, token: "token-XX-HOSTILE-NL-NCTV", honest.transactions, keys: honest.keys)
                #expect(again.status == 200, "\(again.text)")
                #expect(try nl.row("topic", id: "topic-h")?["description"] == "Real text")
                #expect(try nl.row("topic", id: "topic-h")?["scope"] == "public")
            }
        }
    }
}
