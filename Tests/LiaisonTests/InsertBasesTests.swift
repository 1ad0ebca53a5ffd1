import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// An insert names the versions it replaced (`bases`, with `#` for the deletion it replaced), so a
/// creation over a row its writer held only as a digest is a concurrent creation everywhere
/// (issue 12, schema soak seeds 93 and 645). Over real HTTP, with the relay that lacks the scope.
@Suite(.timeLimit(.minutes(2))) struct InsertBasesTests {
    /// NL creates `topic-c` in `gctf`; TR receives it through MA, which may read only `public`, so
    /// as a digest, and its user then creates `topic-c` in `public`. TR's vector covers NL's
    /// creation, but TR held none of its cells. Before, NL (holding every change) held TR's insert
    /// for good as an owner take-over, while other replicas let it supersede NL's row silently.
    @Test func aCreationOverARowHeldOnlyAsADigestIsAConcurrentCreationEverywhere() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-c", ["name": "NL name", "description": "NL text", "scope": "gctf"])
            }
            try await withServer(nl) { nlURL in
                let maAtNL = try pair(ma, with: nl, url: nlURL)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                try await SyncDriver(replica: ma).sync(with: maAtNL)
                try await withServer(ma) { maURL in
                    let trAtMA = try pair(tr, with: ma, url: maURL)
                    try tr.pinKey(of: nl.identity)
                    try await SyncDriver(replica: tr).sync(with: trAtMA)
                }
                #expect(try tr.row("topic", id: "topic-c") == nil, "TR got NL's creation as a digest only")
                #expect(try tr.log().contains { $0.site == "NL-NCTV" }, "TR's vector covers NL's creation")
                #expect(try tr.quarantined().isEmpty)
                try tr.write(author: "emre") { try $0.set("topic", id: "topic-c", ["name": "TR name"]) }
                let insert = try #require(try tr.log().last?.changes.first { $0.id == "topic-c" })
                #expect(insert.op == .insert && insert.bases == ["#": ""], "a first creation here names no base")
                let trAtNL = try pair(tr, with: nl, url: nlURL)
                try await SyncDriver(replica: tr).sync(with: trAtNL)
                try await SyncDriver(replica: tr).sync(with: trAtNL)
                let heldAtNL = try nl.quarantined().map(\.held.error)
                #expect(heldAtNL.isEmpty, "\(heldAtNL)")
                #expect(try tr.quarantined().isEmpty && tr.wantedTransactions().isEmpty)
                #expect(try nl.dump() == tr.dump())
                let conflicts = try nl.conflicts(includeResolved: true)
                #expect(try tr.conflicts(includeResolved: true).map(\.id) == conflicts.map(\.id))
                // Every cell both creations wrote is a concurrent write: the policy's winner, the other a conflict.
                let columns = Set(conflicts.filter { $0.rowID == "topic-c" && $0.kind == .value }.compactMap(\.column))
                #expect(columns.isSuperset(of: ["name", "owner", "scope"]), "\(conflicts)")
            }
        }
    }

    /// An insert signed before inserts named bases (none) still verifies and is judged by its
    /// vector, as before: a writer whose vector covers NL's creation and names another owner is
    /// held as an owner take-over. Pushed over HTTP by a peer that signs its own transaction.
    @Test func anInsertWithoutBasesIsJudgedByItsVectorAsBefore() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let old = try factory.make("XX-OLDPEER")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-o", ["name": "NL name", "scope": "gctf"])
            }
            try transfer(from: nl, to: old, readable: ["public"], writable: nil)
            #expect(try old.row("topic", id: "topic-o") == nil)
            try await withServer(nl) { url in
                _ = try pair(old, with: nl, url: url)
                try old.write(author: "olga") { try $0.set("topic", id: "topic-o", ["name": "Old name"]) }
                var page = try old.changes(after: .start, excluding: try nl.versionVector())
                var record = try #require(page.transactions.last)
                let position = try #require(record.changes.firstIndex { $0.id == "topic-o" && $0.op == .insert })
                #expect(record.changes[position].bases == ["#": ""])
                record.changes[position].bases = nil
                page.transactions[page.transactions.count - 1] = try old.signedAsOrigin(record)
                let answer = try await SignedHTTP.push(
                    url, token: "token-XX-OLDPEER-NL-NCTV", page.transactions, keys: page.keys)
                #expect(answer.status == 200, "\(answer.text)")
                let held = try WireJSON.decode(PushResponse.self, from: Data(answer.text.utf8)).held
                #expect(held?.map(\.error) == ["forbidden_scope"], "\(answer.text)")
                #expect(try nl.row("topic", id: "topic-o")?["name"] == "NL name")
            }
        }
    }

    /// The packed page carries an insert's bases: a real page packed and read back is the same,
    /// and a replica applies it (the signed digests still match).
    @Test func aPackedPageCarriesAnInsertsBases() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let be = try factory.make("BE-OCAM")
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-p", ["name": "Packed"]) }
            let page = try nl.changes(after: .start, excluding: try be.versionVector())
            let read = try WireJSON.decode(PullResponse.self, from: try WireJSON.encode(PackedPullResponse(page)))
            #expect(read == page)
            #expect(read.transactions.flatMap(\.changes).first { $0.id == "topic-p" }?.bases == ["#": ""])
            try trustKeys(of: nl, at: be)
            #expect(try be.apply(read.transactions, keys: read.keys, writableScopes: nil).applied == 1)
            #expect(try be.dump() == nl.dump())
        }
    }
}
