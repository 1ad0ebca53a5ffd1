import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Reads are judged per change, by the scope that change was made in; evictions happen only for a
/// real signed move; a row is never rebuilt with columns missing.
@Suite(.timeLimit(.minutes(2))) struct ScopeReadTests {
    /// The raw text of every page MA pulls from `url` over HTTP, from the start.
    static func pulledText(_ url: String, token: String) async throws -> String {
        let body = try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector()))
        let answer = try await SignedHTTP.send(SignedHTTP.request(url, path: "/v1/pull", token: token, body: body))
        #expect(answer.status == 200, "\(answer.text)")
        return answer.text
    }

    @Test func aRowMovedIntoAReadableScopeSendsNoEarlierVersion() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "anne") {
                try $0.set(
                    "topic", id: "topic-x", ["name": "Secret one", "description": "secret draft", "scope": "gctf"])
            }
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-x", ["name": "Secret two"]) }
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-x", ["scope": "public", "description": "now public"])
            }
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                let text = try await Self.pulledText(url, token: "token-MA-DGST-NL-NCTV")
                #expect(!text.contains("Secret one") && !text.contains("secret draft"), "\(text)")
                #expect(text.contains("Secret two"), "the move carries the row as it is")
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("topic", id: "topic-x") == nl.row("topic", id: "topic-x"))
                #expect(try !ma.log().flatMap(\.changes).contains { $0.values?["name"] == "Secret one" })
                #expect(try ma.verify().isIntact)
            }
        }
    }

    @Test func aReusedIdRevealsNothingOfTheDeletedRow() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "anne") {
                try $0.set(
                    "topic", id: "topic-bil",
                    ["name": "Bilateral topic", "description": "NL-TR only", "scope": "bilateral:NL-TR"])
            }
            try nl.write(author: "anne") { try $0.delete("topic", id: "topic-bil") }
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-bil", ["name": "Fresh"]) }
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                let text = try await Self.pulledText(url, token: "token-MA-DGST-NL-NCTV")
                #expect(!text.contains("Bilateral topic") && !text.contains("NL-TR only"), "\(text)")
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("topic", id: "topic-bil") == nl.row("topic", id: "topic-bil"))
                #expect(try nl.row("topic", id: "topic-bil")?["description"] == .null)
            }
        }
    }

    /// A hostile relay withholds an ordinary update and presents it as an eviction: the signed
    /// outline shows no move, so MA keeps the row, asks for the change again, and converges.
    @Test func aRelayCannotTurnAnUpdateIntoAnEviction() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            let relay = try factory.make("XX-RELAY")
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-open", ["name": "Open"]) }
            try transfer(from: nl, to: ma)
            try transfer(from: nl, to: relay)
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-open", ["description": "updated"]) }
            try transfer(from: nl, to: relay)
            try await withServer(ma) { maURL in
                try await withServer(nl) { nlURL in
                    _ = try pair(relay, with: ma, url: maURL)
                    let page = try relay.changes(after: .start, excluding: try ma.versionVector())
                    var record = try #require(page.transactions.first)
                    let change = try #require(record.changes.first)
                    let (digest, outline) = try relay.outline(of: change, at: 0)
                    record.changes = []
                    record.digests = [digest]
                    record.span = 1
                    record.evictions = [outline]
                    let answer = try await SignedHTTP.push(
                        maURL, token: "token-XX-RELAY-MA-DGST", [record], keys: page.keys)
                    #expect(answer.status == 200, "\(answer.text)")
                    #expect(try ma.row("topic", id: "topic-open")?["name"] == "Open")
                    #expect(try ma.wantedTransactions().count == 1)
                    let direct = try pair(ma, with: nl, url: nlURL)
                    try await SyncDriver(replica: ma).sync(with: direct)
                    #expect(try ma.row("topic", id: "topic-open")?["description"] == "updated")
                    #expect(try ma.dump() == nl.dump())
                    #expect(try ma.wantedTransactions().isEmpty)
                }
            }
        }
    }

    /// A real move evicts; a concurrent update made in the old scope then arrives, and the row is
    /// not rebuilt from it with its required columns missing; moved back, it arrives whole.
    @Test func anEvictedRowIsNeverRebuiltFromAPartialChange() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-x", ["name": "Shared"]) }
            try Self.send(from: nl, to: tr)
            try Self.send(from: nl, to: ma, readable: ["public"])
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-x", ["scope": "gctf"]) }
            try tr.write(author: "emre") { try $0.set("topic", id: "topic-x", ["description": "from TR"]) }
            try Self.send(from: nl, to: ma, readable: ["public"])
            #expect(try ma.row("topic", id: "topic-x") == nil)
            try Self.send(from: tr, to: ma, readable: ["public"])
            #expect(try ma.row("topic", id: "topic-x") == nil, "rebuilt from a partial change")
            try Self.send(from: tr, to: nl)
            try Self.send(from: nl, to: tr)
            #expect(try nl.row("topic", id: "topic-x") == tr.row("topic", id: "topic-x"))
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-x", ["scope": "public"]) }
            try Self.send(from: nl, to: ma, readable: ["public"])
            #expect(try ma.row("topic", id: "topic-x") == nl.row("topic", id: "topic-x"))
            // The move carried the description TR wrote (it only changed the scope): no conflict.
            #expect(try nl.row("topic", id: "topic-x")?["description"] == "from TR")
            #expect(try nl.conflicts().isEmpty)
        }
    }
}

extension ScopeReadTests {
    static func send(from source: Replica, to target: Replica, readable: Set<String>? = nil) throws {
        try transfer(from: source, to: target, readable: readable, writable: nil)
    }
}
