import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// The packed page form (docs/PROTOCOL.md, "The packed page"): it gives back exactly the records
/// of the plain form, refuses what does not follow its layout, is sent only to a requester that
/// asks for it, and syncs over real HTTP.
@Suite(.timeLimit(.minutes(2))) struct PackedPageTests {
    static func packed(_ page: PullResponse) throws -> Data { try WireJSON.encode(PackedPullResponse(page)) }

    @Test(arguments: 0..<8)
    func aPackedPageGivesBackExactlyTheRecordsOfThePlainOne(seed: UInt64) throws {
        var samples = WireSamples(seed: seed)
        for _ in 0..<40 {
            var page = samples.pullResponse()
            for record in page.transactions.indices {
                for change in page.transactions[record].changes.indices where samples.chance(60) {
                    var bases: [String: String] = [:]
                    for _ in 0..<samples.int(0...3) {
                        bases[samples.key()] = samples.pick([
                            "bc4aa678-98a4-4703-9497-29b1befc1d0e:7", "=bc4aa678-98a4-4703-9497-29b1befc1d0e:1", "=",
                            ":3", "=:0", "a:b:9223372036854775807", "a:01", "a:-1", "a:+1", "a:", samples.text(),
                        ])
                    }
                    page.transactions[record].changes[change].bases = bases
                }
                if samples.chance(30) {
                    page.transactions[record].proof = [
                        ChainHeader(
                            seq: 5, hlc: HybridTimestamp(rawValue: 9), author: samples.text(),
                            context: samples.vector(),
                            total: 1, root: samples.text(), signature: samples.maybe { $0.text() })
                    ]
                }
            }
            let packed = try Self.packed(page)
            let text = String(decoding: packed, as: UTF8.self)
            #expect(text.contains("\"packed\":{\"shapes\":") && !text.contains("\"transactions\":[{"))
            // What the plain form gives back (a whole real reads back as an integer in both forms).
            let plain = try WireJSON.decode(PullResponse.self, from: try WireJSON.encode(page))
            #expect(try WireJSON.decode(PullResponse.self, from: packed) == plain, "\(text)")
        }
    }

    /// A one-row update of the W2b workload, as a page of 64 of them (one signature per run).
    static func updatePage() -> PullResponse {
        let origin = "bc4aa678-98a4-4703-9497-29b1befc1d0e"
        let records = (1...64).map { seq in
            TransactionRecord(
                origin: origin, site: "BENCH-A", seq: Int64(seq) + 1,
                hlc: HybridTimestamp(rawValue: 117_700_423_078_313_984 + Int64(seq) * 65_536), author: "bench",
                context: VersionVector(), total: 1,
                changes: [
                    ChangeRecord(
                        table: "organisation", id: UUID().uuidString.lowercased(), op: .update,
                        values: ["name": .text("Renamed \(seq)"), "updated_at": "2026-11-29T12:00:00Z"],
                        scope: "public", bases: ["name": "\(origin):1", "updated_at": "\(origin):1"])
                ],
                signature: seq == 64 ? String(repeating: "A", count: 86) + "==" : nil)
        }
        return PullResponse(transactions: records, cursor: "65:0:0", hasMore: false)
    }

    @Test func aOneRowUpdateTakesAboutAThirdOfItsPlainBytes() throws {
        let page = Self.updatePage()
        let plain = try WireJSON.encode(page).count
        let packed = try Self.packed(page).count
        #expect(packed * 2 < plain, "plain \(plain / 64), packed \(packed / 64) bytes per update")
        #expect(packed / 64 <= 150, "packed \(packed / 64) bytes per update")
    }

    @Test(arguments: [
        // Each is a page whose packed part breaks its layout.
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":[],"transactions":[[0,0,1,1,0,[],0,0,[]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":["a"],"transactions":[[0,0,1,1,0,[],0,0]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":["a"],"transactions":[[0,0,1,1,0,[0],0,0,[]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[[0,0]],"strings":["a"],"transactions":[]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[[1]],"strings":["a"],"transactions":[]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[[0]],"strings":["a"],"transactions":[[0,0,1,1,0,[],1,0,[[0,"r",1,0,[0]]]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[[0]],"strings":["a"],"transactions":[[0,0,1,1,0,[],1,0,[[0,"r",1,0,[0,1,2]]]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[[0]],"strings":["a"],"transactions":[[0,0,1,1,0,[],1,0,[[0,"r",1,0,[1,1]]]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":["a"],"transactions":[[0,0,1,1,0,[],1,0,[[0,"r",3,0]]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":["a"],"transactions":[[0,0,1,1,0,[],1,0,[[0,"r",1]]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":["a"],"transactions":[[0,0,1,1,0,[],1,0,[[0,"r",1,0,null,[0,[0,-1]]]]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":["a"],"transactions":[[0,0,1,1,0,[],1,0,[[0,"r",1,0,null,[0,[0,1,2]]]]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":["a"],"transactions":[[0,0,1,1,0,[],1,0,[[0,"r",1,0,null,[0]]]]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":["a"],"transactions":[[0,0,1,1,0,[],1,0,[],{},5]]},"protocolVersion":1}"#,
        #"{"cursor":"1","hasMore":false,"packed":{"shapes":[],"strings":["a"]},"protocolVersion":1}"#,
    ])
    func aPackedPageThatBreaksItsLayoutIsRefused(json: String) {
        #expect(throws: (any Error).self) { try WireJSON.decode(PullResponse.self, from: Data(json.utf8)) }
    }

    @Test func theKeysOfAPackedObjectMayComeInAnyOrder() throws {
        let json =
            #"{"protocolVersion":1,"packed":{"transactions":[[1,0,3,10,2,[1,4],1,0,[[3,"r",0,4,[0,"x"]]],{"signature":"s"}]],"#
            + #""strings":["BENCH-A","o","bench","t","public"],"shapes":[[1]]},"hasMore":true,"cursor":"c"}"#
        let page = try WireJSON.decode(PullResponse.self, from: Data(json.utf8))
        #expect(
            page.transactions == [
                TransactionRecord(
                    origin: "o", site: "BENCH-A", seq: 3, hlc: HybridTimestamp(rawValue: 10), author: "bench",
                    context: VersionVector(["o": 4]), total: 1,
                    changes: [ChangeRecord(table: "t", id: "r", op: .insert, values: ["o": "x"], scope: "public")],
                    signature: "s")
            ])
    }

    /// Over real HTTP: a requester that asks gets the packed form, one that does not (every
    /// earlier release) gets the plain form, and both apply the same records.
    @Test func theServerPacksOnlyForARequesterThatAsksAndBothFormsSync() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            for index in 0..<20 {
                try nl.write(author: "anne") {
                    try $0.set("topic", id: "topic-\(index)", ["name": .text("Topic \(index)")])
                }
            }
            let plainPeer = try factory.make("MA-DGST")
            let packedPeer = try factory.make("TR-TNP")
            try await withServer(nl) { url in
                let toPlain = try pair(plainPeer, with: nl, url: url)
                let toPacked = try pair(packedPeer, with: nl, url: url)
                let bodies = Bodies()
                var client = try PeerClient(url: url, token: toPlain.token, from: plainPeer.siteID, to: nl.siteID)
                client.onExchange = { bodies.add($0.received) }
                let plain = try await client.pull(PullRequest(cursor: nil, vector: VersionVector()))
                let packed = try await client.pull(PullRequest(cursor: nil, vector: VersionVector(), form: "packed"))
                let other = try await client.pull(PullRequest(cursor: nil, vector: VersionVector(), form: "columns"))
                #expect(plain == packed && plain == other && !plain.transactions.isEmpty)
                let texts = bodies.all.map { String(decoding: $0, as: UTF8.self) }
                #expect(texts.count == 3)
                #expect(texts[0].contains("\"transactions\":[") && !texts[0].contains("\"packed\":"))
                #expect(texts[1].contains("\"packed\":{") && !texts[1].contains("\"transactions\":[{"))
                #expect(texts[2] == texts[0], "a form the server does not know is answered plain")
                #expect(bodies.all[1].count < bodies.all[0].count * 3 / 4, "\(bodies.all.map(\.count))")

                var plainDriver = SyncDriver(replica: plainPeer)
                plainDriver.asksForPackedPages = false
                try await plainDriver.sync(with: toPlain)
                try await SyncDriver(replica: packedPeer).sync(with: toPacked)
                #expect(try plainPeer.dump() == nl.dump())
                #expect(try packedPeer.dump() == nl.dump())
            }
        }
    }
}

/// Answer bodies a client received, in order.
private final class Bodies: @unchecked Sendable {
    private let lock = NSLock()
    private var bodies: [Data] = []
    func add(_ body: Data) { lock.withLock { bodies.append(body) } }
    var all: [Data] { lock.withLock { bodies } }
}

/// The packed example of docs/PROTOCOL.md is the plain example's page, packed by the code.
@Suite struct PackedPageDocumentationTests {
    @Test func thePackedExampleIsThePlainExamplePackedByTheCode() throws {
        let pages = DocumentationExampleTests.jsonBlocks.compactMap { block -> (String, PullResponse)? in
            guard block.contains("\"transactions\"") || block.contains("\"packed\"") else { return nil }
            return (try? WireJSON.decode(PullResponse.self, from: Data(block.utf8))).map { (block, $0) }
        }
        let packed = try #require(pages.first { $0.0.contains("\"packed\"") }, "no packed example")
        let plain = try #require(
            pages.first { !$0.0.contains("\"packed\"") && $0.1.transactions == packed.1.transactions },
            "no plain example with the packed example's records")
        #expect(packed.1.transactions.count == 3)
        let written = try PackedPageTests.packed(plain.1)
        // The same JSON document (the example is spread over lines for reading).
        let documented = try JSONSerialization.jsonObject(with: Data(packed.0.utf8)) as? NSDictionary
        let computed = try JSONSerialization.jsonObject(with: written) as? NSDictionary
        #expect(
            documented != nil && documented == computed,
            "PROTOCOL.md's packed example should read:\n\(String(decoding: written, as: UTF8.self))")
    }
}
