import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// A row's owner is fixed when it is first created (issue 12, simulation seeds 376, 562, 746 and
/// the schema soak's 93): a re-creation of a deleted or evicted id keeps it, so where the row
/// survived elsewhere the re-creation is not held for good, and deleting and re-creating a row
/// never takes it over. Over real HTTP, with a hostile peer that signs its own transactions.
@Suite(.timeLimit(.minutes(2))) struct OwnerRecreationTests {
    /// Seed 746: TR deletes NL's row and creates it again while NL edits it; NL's edit beats the
    /// deletion there, so the row survived, and TR's re-creation (owner TR) was held for good.
    @Test func aReCreatedRowKeepsItsOwnerWhereTheRowSurvived() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-r", ["name": "First", "description": "NL text"])
            }
            try await withServer(nl) { url in
                let peer = try pair(tr, with: nl, url: url)
                try await SyncDriver(replica: tr).sync(with: peer)
                try tr.write(author: "emre") { try $0.delete("topic", id: "topic-r") }
                try tr.write(author: "emre") { try $0.set("topic", id: "topic-r", ["name": "Again"]) }
                #expect(try tr.row("topic", id: "topic-r")?["owner"] == "NL-NCTV", "the re-creation keeps the owner")
                // Locally, a re-creation cannot name another owner either.
                try tr.write(author: "emre") { try $0.delete("topic", id: "topic-r") }
                #expect(throws: LiaisonError.self) {
                    try tr.write(author: "emre") {
                        try $0.set("topic", id: "topic-r", ["name": "Mine", "owner": "TR-TNP"])
                    }
                }
                try tr.write(author: "emre") { try $0.set("topic", id: "topic-r", ["name": "Again"]) }
                // Concurrently, NL edits the row: its edit beats TR's deletion, so the row survives at NL.
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-r", ["description": "NL edit"]) }
                try await SyncDriver(replica: tr).sync(with: peer)
                try await SyncDriver(replica: tr).sync(with: peer)
                let heldAtNL = try nl.quarantined().map(\.held.error)
                #expect(heldAtNL.isEmpty, "\(heldAtNL)")
                #expect(try tr.quarantined().isEmpty)
                for replica in [nl, tr] {
                    let row = try #require(try replica.row("topic", id: "topic-r"))
                    #expect(row["owner"] == "NL-NCTV" && row["name"] == "Again")
                }
                #expect(try nl.dump() == tr.dump())
                #expect(
                    try nl.conflicts(includeResolved: true).map(\.id) == tr.conflicts(includeResolved: true).map(\.id))
            }
        }
    }

    /// A peer with the write grant deletes NL's row and re-creates it naming itself the owner,
    /// signed: where the row is deleted too, the re-creation is held, not applied.
    @Test func aHostileReCreationUnderAnotherOwnerIsHeld() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let hostile = try factory.make("XX-HOSTILE")
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-h", ["name": "NL row"]) }
            try transfer(from: nl, to: hostile)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                // The deletion, within the grant, applies.
                try hostile.write(author: "mallory") { try $0.delete("topic", id: "topic-h") }
                let deletion = try hostile.changes(after: .start, excluding: try nl.versionVector())
                let deleted = try await SignedHTTP.push(
                    url, token: "token-XX-HOSTILE-NL-NCTV", deletion.transactions, keys: deletion.keys)
                #expect(deleted.status == 200, "\(deleted.text)")
                #expect(try nl.row("topic", id: "topic-h") == nil)
                try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-h", ["name": "Taken"]) }
                var page = try hostile.changes(after: .start, excluding: try nl.versionVector())
                var record = try #require(page.transactions.last)
                let position = try #require(record.changes.firstIndex { $0.id == "topic-h" && $0.op == .insert })
                #expect(record.changes[position].values?["owner"] == "NL-NCTV")
                record.changes[position].values?["owner"] = "XX-HOSTILE"
                page.transactions[page.transactions.count - 1] = try hostile.signedAsOrigin(record)
                let answer = try await SignedHTTP.push(
                    url, token: "token-XX-HOSTILE-NL-NCTV", page.transactions, keys: page.keys)
                #expect(answer.status == 200, "\(answer.text)")
                let held = try WireJSON.decode(PushResponse.self, from: Data(answer.text.utf8)).held
                #expect(held?.map(\.error) == ["forbidden_scope"], "\(answer.text)")
                // The take-over is not applied.
                #expect(try nl.row("topic", id: "topic-h") == nil)
                #expect(try nl.quarantined().map(\.held.error) == ["forbidden_scope"])
            }
        }
    }

    /// Seeds 376, 562: a relay that may read only `public` forwarded the outline of NL's move into
    /// `eu` to TR, which may read `eu`; TR dropped the row, and its next edit of it was a
    /// re-creation. Now the outline goes only to peers that may not read the change: TR keeps the
    /// row until the move itself arrives, and a public-only replica behind TR still drops it.
    @Test func aFullReplicaKeepsARowWhoseMoveARelayLackingTheScopeForwards() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            let be = try factory.make("BE-OCAM")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-e", ["name": "Moving", "description": "old"])
            }
            try await withServer(nl) { nlURL in
                let maAtNL = try pair(ma, with: nl, url: nlURL)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                let trAtNL = try pair(tr, with: nl, url: nlURL)
                try await SyncDriver(replica: ma).sync(with: maAtNL)
                try await SyncDriver(replica: tr).sync(with: trAtNL)
                try transfer(from: tr, to: be, readable: ["public"], writable: ["public"])
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-e", ["scope": "eu"]) }
                try await SyncDriver(replica: ma).sync(with: maAtNL)
                #expect(try ma.row("topic", id: "topic-e") == nil, "MA may not read eu: it drops the row")
                try await withServer(ma) { maURL in
                    let trAtMA = try pair(tr, with: ma, url: maURL)
                    try await SyncDriver(replica: tr).sync(with: trAtMA)
                }
                #expect(
                    try tr.row("topic", id: "topic-e")?["scope"] == "public", "TR may read eu: it waits for the move")
                #expect(try !tr.wantedTransactions().isEmpty)
                try tr.write(author: "emre") { try $0.set("topic", id: "topic-e", ["description": "TR text"]) }
                // BE, public only, gets TR's edit; then the move reaches TR, and BE with its answer.
                try transfer(from: tr, to: be, readable: ["public"], writable: ["public"])
                try await SyncDriver(replica: tr).sync(with: trAtNL)
                try await SyncDriver(replica: tr).sync(with: trAtNL)
                for replica in [nl, tr] {
                    let row = try #require(try replica.row("topic", id: "topic-e"))
                    #expect(row["scope"] == "eu" && row["description"] == "TR text" && row["owner"] == "NL-NCTV")
                }
                #expect(try nl.dump() == tr.dump())
                #expect(try nl.quarantined().isEmpty && tr.quarantined().isEmpty)
                try transfer(from: tr, to: be, readable: ["public"], writable: ["public"])
                #expect(try be.row("topic", id: "topic-e") == nil, "BE may not read eu: it drops the row")
            }
        }
    }
}
