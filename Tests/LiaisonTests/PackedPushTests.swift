import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Pushes in the packed form (docs/PROTOCOL.md, "The packed page"): sent only to a server whose
/// status lists the form, read back into exactly the records of the plain form, and checked where
/// they land exactly as plain pushes are: an altered transaction, a write outside the sender's
/// grant and a body that breaks the layout are refused over real HTTP, and nothing is written.
@Suite(.timeLimit(.minutes(2))) struct PackedPushTests {
    static func packed(_ request: PushRequest) throws -> Data { try WireJSON.encode(PackedPushRequest(request)) }

    @Test(arguments: 0..<4)
    func aPackedPushGivesBackExactlyTheRecordsOfThePlainOne(seed: UInt64) throws {
        var samples = WireSamples(seed: seed)
        for _ in 0..<40 {
            let page = samples.pullResponse()
            let request = PushRequest(transactions: page.transactions, keys: page.keys)
            let body = try Self.packed(request)
            let text = String(decoding: body, as: UTF8.self)
            #expect(text.contains("\"packed\":{\"shapes\":") && !text.contains("\"transactions\":[{"))
            // What the plain form gives back (a whole real reads back as an integer in both forms).
            let plain = try WireJSON.decode(PushRequest.self, from: try WireJSON.encode(request))
            #expect(try WireJSON.decode(PushRequest.self, from: body) == plain, "\(text)")
        }
    }

    /// The server says it reads the form; the driver then pushes packed (fewer bytes), a driver
    /// told not to pushes plain, and both land the same rows.
    @Test func theDriverPushesPackedToAServerThatReadsItAndBothFormsLand() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let packedPeer = try factory.make("MA-DGST")
            let plainPeer = try factory.make("TR-TNP")
            for (peer, prefix) in [(packedPeer, "ma"), (plainPeer, "tr")] {
                for index in 0..<20 {
                    try peer.write(author: "karim") {
                        try $0.set("topic", id: "topic-\(prefix)-\(index)", ["name": .text("Topic \(prefix) \(index)")])
                    }
                }
            }
            try await withServer(nl) { url in
                let toPacked = try pair(packedPeer, with: nl, url: url)
                let toPlain = try pair(plainPeer, with: nl, url: url)
                let status = try await PeerClient(url: url, token: toPacked.token, from: packedPeer.siteID).status()
                #expect(status.forms == ["packed"])
                let sentPacked = Sent()
                var packedDriver = SyncDriver(replica: packedPeer)
                packedDriver.onExchange = { sentPacked.add($0.sent) }
                let packedReport = try await packedDriver.sync(with: toPacked)
                let sentPlain = Sent()
                var plainDriver = SyncDriver(replica: plainPeer)
                plainDriver.sendsPackedPushes = false
                plainDriver.onExchange = { sentPlain.add($0.sent) }
                let plainReport = try await plainDriver.sync(with: toPlain)
                #expect(packedReport.pushedTransactions == 20 && plainReport.pushedTransactions == 20)
                // The largest request of each round is its push.
                #expect(sentPacked.largest < sentPlain.largest * 3 / 4, "\(sentPacked.largest) / \(sentPlain.largest)")
                for index in 0..<20 {
                    #expect(try nl.row("topic", id: "topic-ma-\(index)")?["name"] == .text("Topic ma \(index)"))
                    #expect(try nl.row("topic", id: "topic-tr-\(index)")?["name"] == .text("Topic tr \(index)"))
                }
                // Each trusts the other's key (else what the other wrote is held, for want of one).
                try packedPeer.pinKey(of: plainPeer.identity)
                try plainPeer.pinKey(of: packedPeer.identity)
                try await SyncDriver(replica: packedPeer).sync(with: toPacked)
                try await SyncDriver(replica: plainPeer).sync(with: toPlain)
                #expect(try packedPeer.dump() == nl.dump())
                #expect(try plainPeer.dump() == nl.dump())
            }
        }
    }

    /// An attacker that signs its own transactions and packs them: a write outside its grant is
    /// held with the same answer as a plain push gets, a change altered after signing refuses the
    /// push, and a body that breaks the packed layout is a 400; nothing is written.
    @Test func aPackedPushIsCheckedWhereItLandsAsAPlainOneIs() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let hostile = try factory.make("XX-HOSTILE")
            try ScopeAttackTests.seed(nl)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-mine", ["name": "Mine"]) }
                let token = "token-XX-HOSTILE-NL-NCTV"
                let before = try nl.dump()
                let outside = try ScopeAttackTests.forged(
                    hostile, [ScopeAttackTests.change("topic-new", declares: "gctf", ["name": "New", "scope": "gctf"])])
                let plainAnswer = try await SignedHTTP.push(url, token: token, [outside])
                let packedAnswer = try await Self.push(url, token: token, [outside])
                #expect(packedAnswer.status == 200, "\(packedAnswer.text)")
                #expect(try ScopeAttackTests.held(packedAnswer)?.error == "forbidden_scope", "\(packedAnswer.text)")
                #expect(try ScopeAttackTests.held(packedAnswer) == ScopeAttackTests.held(plainAnswer))
                #expect(try nl.dump() == before)

                let honest = try hostile.changes(after: .start, excluding: try nl.versionVector())
                var altered = honest.transactions
                altered[0].changes[0].values?["name"] = "Mine, altered after signing"
                let refused = try await Self.push(url, token: token, altered, keys: honest.keys)
                #expect(refused.status == 422 && refused.text.contains("invalid_transaction"), "\(refused.text)")
                #expect(try nl.dump() == before)

                let broken = try await SignedHTTP.send(
                    SignedHTTP.request(
                        url, path: "/v1/push", token: token,
                        body: Data(
                            #"{"packed":{"shapes":[[7]],"strings":["a"],"transactions":[]},"protocolVersion":1}"#.utf8)))
                #expect(broken.status == 400 && broken.text.contains("malformed_request"), "\(broken.text)")
                #expect(try nl.dump() == before)

                let answer = try await Self.push(url, token: token, honest.transactions, keys: honest.keys)
                #expect(answer.status == 200, "\(answer.text)")
                #expect(try nl.row("topic", id: "topic-mine")?["name"] == "Mine")
            }
        }
    }

    static func push(
        _ url: String, token: String, _ transactions: [TransactionRecord], keys: [String: SiteKeyRecord]? = nil
    ) async throws -> SignedHTTP.Answer {
        let body = try packed(PushRequest(transactions: transactions, keys: keys))
        return try await SignedHTTP.send(SignedHTTP.request(url, path: "/v1/push", token: token, body: body))
    }
}

/// Request body sizes a client sent.
private final class Sent: @unchecked Sendable {
    private let lock = NSLock()
    private var sizes: [Int] = []
    func add(_ size: Int) { lock.withLock { sizes.append(size) } }
    var largest: Int { lock.withLock { sizes.max() ?? 0 } }
}

/// The packed push example of docs/PROTOCOL.md is the plain push example, packed by the code.
@Suite struct PackedPushDocumentationTests {
    @Test func thePackedPushExampleIsThePlainExamplePackedByTheCode() throws {
        let pushes = DocumentationExampleTests.jsonBlocks.compactMap { block -> (String, PushRequest)? in
            guard block.contains("\"protocolVersion\""), !block.contains("\"cursor\"") else { return nil }
            return (try? WireJSON.decode(PushRequest.self, from: Data(block.utf8))).map { (block, $0) }
        }
        let packed = try #require(pushes.first { $0.0.contains("\"packed\"") }, "no packed push example")
        let plain = try #require(
            pushes.first { !$0.0.contains("\"packed\"") && !$0.1.transactions.isEmpty }, "no plain push example")
        #expect(packed.1 == plain.1, "the packed push example holds other records than the plain one")
        let written = try PackedPushTests.packed(plain.1)
        let documented = try JSONSerialization.jsonObject(with: Data(packed.0.utf8)) as? NSDictionary
        let computed = try JSONSerialization.jsonObject(with: written) as? NSDictionary
        #expect(
            documented != nil && documented == computed,
            "PROTOCOL.md's packed push example should read:\n\(String(decoding: written, as: UTF8.self))")
    }
}
