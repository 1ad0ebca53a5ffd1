import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Hostile peers speaking the real HTTP protocol: each attempt is refused, nothing leaks, nothing
/// is written; honest peers still converge.
@Suite(.timeLimit(.minutes(2))) struct TrustTests {
    @Test func transactionForgedInAnotherAgencysNameIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let hostile = try factory.make("XX-HOSTILE")
            try transfer(from: nl, to: ma)
            try await withServer(ma) { url in
                _ = try pair(hostile, with: ma, url: url)
                try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-fake", ["name": "Planted"]) }
                var forged = try hostile.changes(after: .start, excluding: VersionVector()).transactions[0]
                let real = try nl.log().last!
                forged.origin = nl.siteID
                forged.site = "NL-NCTV"
                forged.seq = real.seq + 1
                let before = try ma.dump()
                let answer = try await SignedHTTP.push(url, token: "token-XX-HOSTILE-MA-DGST", [forged])
                #expect(answer.status == 422)
                #expect(answer.text.contains("not signed by NL-NCTV's key"))
                #expect(try ma.dump() == before)
                #expect(try ma.versionVector()[nl.siteID] == real.seq)
            }
        }
    }

    @Test func relayedTransactionAlteredOnTheWayIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let relay = try factory.make("XX-RELAY")
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: relay)
            try transfer(from: nl, to: ma)
            try nl.write(author: "anne") { try $0.set("action", id: "act-roadmap-early-detection", ["status": "done"]) }
            try transfer(from: nl, to: relay)
            try await withServer(ma) { url in
                _ = try pair(relay, with: ma, url: url)
                let page = try relay.changes(after: .start, excluding: try ma.versionVector())
                var altered = page.transactions
                #expect(altered.count == 1)
                altered[0].changes[0].values = ["status": "cancelled"]
                let before = try ma.dump()
                let answer = try await SignedHTTP.push(url, token: "token-XX-RELAY-MA-DGST", altered, keys: page.keys)
                #expect(answer.status == 422)
                #expect(answer.text.contains("altered"))
                #expect(try ma.dump() == before)
                // The genuine transaction, relayed unchanged, is accepted.
                let honest = try await SignedHTTP.push(
                    url, token: "token-XX-RELAY-MA-DGST", page.transactions, keys: page.keys)
                #expect(honest.status == 200)
                #expect(try ma.row("action", id: "act-roadmap-early-detection")?["status"] == "done")
            }
        }
    }

    /// Signatures of a larger batch are checked ahead, on every core: one altered transaction
    /// among valid ones still refuses the whole batch, and the genuine batch then applies.
    @Test func anAlteredTransactionInABatchCheckedAheadIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            for index in 0..<6 {
                try nl.write(author: "anne") {
                    try $0.set("topic", id: "topic-batch-\(index)", ["name": .text("T\(index)")])
                }
            }
            let page = try nl.changes(after: .start, excluding: try ma.versionVector())
            #expect(page.transactions.count == 6)
            var altered = page.transactions
            altered[3].changes[0].values?["name"] = "Forged"
            let before = try ma.dump()
            let error = try #require(throws: LiaisonError.self) { try ma.apply(altered, keys: page.keys) }
            #expect(error.code == .invalidTransaction && error.message.contains("altered"), "\(error)")
            #expect(try ma.dump() == before)
            // A sender's impossible size must not make the check ahead allocate for it.
            var oversized = page.transactions
            oversized[2].total = Int.max / 2
            oversized[2].span = Int.max / 2
            #expect(throws: LiaisonError.self) { try ma.apply(oversized, keys: page.keys) }
            #expect(try ma.dump() == before)
            let result = try ma.apply(page.transactions, keys: page.keys)
            #expect(result.applied == 6)
            #expect(try ma.row("topic", id: "topic-batch-3")?["name"] == "T3")
        }
    }

    @Test func aPeerReceivesOnlyTheScopesItIsGranted() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public", "gctf"], write: ["gctf"])
                try await SyncDriver(replica: ma).sync(with: peer)
                let scopes = Set(try ma.rows("organisation").compactMap { $0["scope"] }.map(\.displayText))
                #expect(scopes == ["public", "gctf"])
                #expect(try ma.row("organisation", id: "org-gctf") != nil)
                #expect(try ma.row("organisation", id: "org-europol") == nil)
                #expect(try ma.row("action", id: "act-roadmap-early-detection") == nil)
                // What was withheld is provable but unreadable: the log still verifies.
                let report = try ma.verify()
                #expect(report.isIntact, "\(report.problems)")
                #expect(report.withheld > 0)
            }
        }
    }

    @Test func aRelayLackingAScopeNeverHidesItFromADownstreamPeer() async throws {
        try await withReplicas { factory in
            let a = try factory.make("AA-SITE", sample: true)
            let b = try factory.make("BB-SITE")
            let c = try factory.make("CC-SITE")
            try await withServer(a) { urlA in
                try await withServer(b) { urlB in
                    let bToA = try pair(b, with: a, url: urlA)
                    try a.grant(peer: "BB-SITE", read: ["public"], write: ["public"])
                    let cToB = try pair(c, with: b, url: urlB)
                    let cToA = try pair(c, with: a, url: urlA)
                    try await SyncDriver(replica: b).sync(with: bToA)
                    try await SyncDriver(replica: c).sync(with: cToB)
                    #expect(try c.row("organisation", id: "org-eu") == nil)
                    #expect(try b.row("organisation", id: "org-eu") == nil)
                    try await SyncDriver(replica: c).sync(with: cToA)
                    #expect(try c.row("organisation", id: "org-eu")?["name"] == "European Union")
                    #expect(try c.dump() == a.dump())
                    #expect(try c.verify().isIntact)
                    #expect(try c.verify().withheld == 0)
                }
            }
        }
    }

    @Test func aPushOutsideTheWriteScopesIsHeldNotApplied() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["*"], write: ["gctf"])
                try ma.write(author: "karim") { try $0.set("organisation", id: "org-gctf", ["description": "ok"]) }
                try ma.write(author: "karim") {
                    try $0.set("action", id: "act-roadmap-early-detection", ["status": "done"])
                }
                let report = try await SyncDriver(replica: ma).sync(with: peer)
                #expect(report.heldThere.first?.error == "forbidden_scope")
                #expect(try nl.row("organisation", id: "org-gctf")?["description"] == "ok")
                #expect(try nl.row("action", id: "act-roadmap-early-detection")?["status"] != "done")
                #expect(try nl.versionVector()[ma.siteID] == 1)
            }
        }
    }

    @Test func aReplayedRequestChangesNothingAndIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                _ = try pair(ma, with: nl, url: url)
                try ma.write(author: "karim") { try $0.set("topic", id: "topic-ma", ["name": "Returnees"]) }
                let page = try ma.changes(after: .start, excluding: try nl.versionVector())
                let body = try WireJSON.encode(PushRequest(transactions: page.transactions, keys: page.keys))
                let captured = SignedHTTP.request(url, path: "/v1/push", token: "token-MA-DGST-NL-NCTV", body: body)
                let first = try await SignedHTTP.send(captured)
                #expect(first.status == 200)
                let after = try nl.dump()
                let replayed = try await SignedHTTP.send(captured)
                #expect(replayed.status == 401)
                #expect(replayed.text.contains("replayed"))
                #expect(try nl.dump() == after)
                let stale = SignedHTTP.request(
                    url, path: "/v1/push", token: "token-MA-DGST-NL-NCTV", body: body,
                    now: Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000)
                let late = try await SignedHTTP.send(stale)
                #expect(late.status == 401)
                #expect(late.text.contains("timestamp"))
                // A registered peer whose clock is off learns the server's time, to sign again in it.
                let answer = try JSONDecoder().decode(ErrorResponse.self, from: Data(late.text.utf8))
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                #expect(answer.error == "stale_signature")
                #expect(abs((answer.serverTime ?? 0) - now) < 60_000, "\(answer)")
                #expect(try nl.dump() == after)
                // A stranger with an old timestamp learns nothing about the server's clock.
                let stranger = SignedHTTP.request(
                    url, path: "/v1/push", token: "not-a-registered-token", body: body, now: now - 3_600_000)
                let refused = try await SignedHTTP.send(stranger)
                #expect(refused.status == 401)
                let strangerAnswer = try JSONDecoder().decode(ErrorResponse.self, from: Data(refused.text.utf8))
                #expect(strangerAnswer.error == "unauthorized" && strangerAnswer.serverTime == nil, "\(strangerAnswer)")
            }
        }
    }

    @Test func tamperingWithTheLogIsDetected() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            for index in 0..<3 {
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-\(index)", ["name": .text("T\(index)")]) }
            }
            #expect(try nl.verify().isIntact)
            let path = factory.path("NL-NCTV")
            try await runSQLite(path, "UPDATE _liaison_change SET vals = '{\"name\":\"Forged\"}' WHERE pk = 'topic-1';")
            let edited = try nl.verify()
            #expect(edited.problems.contains { $0.contains("edited after it was signed") })
            try await runSQLite(path, "DELETE FROM _liaison_tx WHERE sidx = 1 AND seq = 2;")
            let removed = try nl.verify()
            #expect(removed.problems.contains { $0.contains("lacks transactions 2") })
            #expect(removed.problems.contains { $0.contains("hash chain is broken") })
            #expect(try nl.history("topic", id: "topic-1").last?.signature == "invalid")
        }
    }
}

/// Raw signed HTTP for hostile-peer tests.
enum SignedHTTP {
    struct Answer {
        var status: Int
        var text: String
    }

    /// A POST signed with `token` as the peer holding it signs: bound to its site id as the server
    /// registered it and to the server's (`ServedReplicas`), unless `from`/`to` say otherwise.
    static func request(
        _ base: String, path: String, token: String, body: Data, now: Int64? = nil, from: String? = nil,
        to: String? = nil
    ) -> URLRequest {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let binding = ServedReplicas.binding(url: base, token: token)
        let signature = RequestSignature.sign(
            token: token, method: "POST", path: path, body: body,
            now: now ?? Int64(Date().timeIntervalSince1970 * 1000),
            from: from ?? binding.from, to: to ?? binding.to)
        request.setValue(signature.headerValue, forHTTPHeaderField: "Authorization")
        return request
    }

    static func send(_ request: URLRequest) async throws -> Answer {
        let (data, response) = try await URLSession.shared.data(for: request)
        return Answer(
            status: (response as? HTTPURLResponse)?.statusCode ?? 0, text: String(decoding: data, as: UTF8.self))
    }

    static func push(
        _ base: String, token: String, _ transactions: [TransactionRecord], keys: [String: SiteKeyRecord]? = nil
    )
        async throws -> Answer
    {
        let body = try WireJSON.encode(PushRequest(transactions: transactions, keys: keys))
        return try await send(request(base, path: "/v1/push", token: token, body: body))
    }
}

extension TrustTests {
    @Test func aRowMovedToAScopeThePeerMayNotReadLeavesThatPeer() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public", "gctf"], write: ["gctf"])
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("topic", id: "topic-ftf") != nil)
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-ftf", ["scope": "bilateral:NL-TR"]) }
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("topic", id: "topic-ftf") == nil)
                #expect(try nl.row("topic", id: "topic-ftf")?["scope"] == "bilateral:NL-TR")
                // The removal is local: nothing travels back to NL.
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try nl.row("topic", id: "topic-ftf") != nil)
                #expect(try nl.versionVector()[ma.siteID] == 0)
            }
        }
    }
}

extension TrustTests {
    @Test func aRowMovedIntoAReadableScopeArrivesWhole() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("organisation", id: "org-europol") == nil)
                try nl.write(author: "anne") { try $0.set("organisation", id: "org-europol", ["scope": "public"]) }
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("organisation", id: "org-europol") == nl.row("organisation", id: "org-europol"))
                #expect(try ma.verify().isIntact)
            }
        }
    }

    @Test func anEvictionThePeerMadeUpIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            try await withServer(ma) { url in
                _ = try pair(nl, with: ma, url: url)
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-new", ["name": "New"]) }
                let page = try nl.changes(after: .start, excluding: try ma.versionVector())
                var records = page.transactions
                records[0].evictions = [
                    ChangeOutline(index: 0, table: "organisation", id: "org-nl", op: .update, scope: "eu", body: "00")
                ]
                let before = try ma.dump()
                let answer = try await SignedHTTP.push(url, token: "token-NL-NCTV-MA-DGST", records, keys: page.keys)
                #expect(answer.status == 422)
                #expect(try ma.dump() == before)
                #expect(try ma.row("organisation", id: "org-nl") != nil)
            }
        }
    }
}
