import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

@Suite(.timeLimit(.minutes(2))) struct SyncHTTPTests {
    /// AsyncHTTPClient would retry a refused connection until its 10 s connect timeout; the client
    /// turns that off, so a peer that is down fails at once. The quickest of three attempts is
    /// judged, so a busy machine does not fail the test.
    @Test func aPeerThatIsDownIsRefusedAtOnce() async throws {
        let client = try PeerClient(url: "http://127.0.0.1:1", token: "any-token", from: "a-site")
        var quickest = Duration.seconds(60)
        for _ in 0..<3 {
            let started = ContinuousClock.now
            let error = await #expect(throws: LiaisonError.self) { try await client.status() }
            quickest = min(quickest, ContinuousClock.now - started)
            #expect(
                error?.code == .peer && error?.message.contains("connection refused") == true,
                "\(String(describing: error))")
        }
        #expect(quickest < .seconds(5), "a refused connection took \(quickest)")
    }

    @Test func threeReplicasConvergeOverTwoHops() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try await withServer(nl) { nlURL in
                try await withServer(ma) { maURL in
                    let maToNL = try pair(ma, with: nl, url: nlURL)
                    let trToMA = try pair(tr, with: ma, url: maURL)
                    // NL and TR never meet: each trusts the keys MA vouches for.
                    try nl.setIntroducer(site: ma.siteCode, true)
                    try tr.setIntroducer(site: ma.siteCode, true)
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    try await SyncDriver(replica: tr).sync(with: trToMA)
                    try nl.write(author: "anne") {
                        try $0.set("topic", id: "topic-nl", ["name": "Prison radicalisation"])
                    }
                    try tr.write(author: "mehmet") { try $0.set("topic", id: "topic-tr", ["name": "Border security"]) }
                    try ma.write(author: "karim") { try $0.set("topic", id: "topic-ma", ["name": "Returnees"]) }
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    try await SyncDriver(replica: tr).sync(with: trToMA)
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    #expect(try nl.dump() == ma.dump())
                    #expect(try ma.dump() == tr.dump())
                    #expect(try tr.row("topic", id: "topic-nl")?["name"] == "Prison radicalisation")
                    #expect(try nl.row("topic", id: "topic-tr")?["name"] == "Border security")
                    // No echo: another round moves nothing.
                    let again = try await SyncDriver(replica: ma).sync(with: maToNL)
                    #expect(again.pulledChanges == 0 && again.pushedChanges == 0)
                }
            }
        }
    }

    @Test func interruptedPullResumesWithoutFetchingAgainWhatWasApplied() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            for index in 0..<100 {
                try nl.write(author: "anne") {
                    try $0.set("topic", id: "topic-\(index)", ["name": .text("Topic \(index)")])
                }
            }
            let total = try nl.log().reduce(0) { $0 + $1.changes.count }
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                // A pull cut after three pages, each applied with its cursor as the driver does.
                let client = try PeerClient(url: url, token: peer.token, from: ma.siteID, to: nl.siteID)
                var cursor = "0"
                var fetched = 0
                for _ in 0..<3 {
                    let page = try await client.pull(
                        PullRequest(cursor: cursor, vector: try ma.versionVector(), limit: 20))
                    _ = try ma.apply(
                        page.transactions, keys: page.keys, writableScopes: peer.writeScopes, from: peer.name,
                        savingPullCursor: (peer.name, page.cursor))
                    fetched += page.transactions.reduce(0) { $0 + $1.changes.count }
                    cursor = page.cursor
                }
                #expect(fetched == 60)
                // The sample transaction (64 changes) is still in pieces: nothing of it is applied yet.
                #expect(try ma.rows("topic").isEmpty)
                // Run again from the stored cursor: only the rest travels.
                let report = try await SyncDriver(replica: ma, pageLimits: PageLimits(maxChanges: 20))
                    .sync(with: try ma.peers()[0])
                #expect(report.pulledChanges == total - fetched)
                #expect(try ma.dump() == nl.dump())
            }
        }
    }

    @Test func aBatchReceivedTwiceChangesNothing() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try ma.pinKey(of: nl.identity)
            let page = try nl.changes(after: .start, excluding: VersionVector())
            let first = try ma.apply(page.transactions, keys: page.keys)
            let dump = try ma.dump()
            let log = try ma.log()
            let second = try ma.apply(page.transactions, keys: page.keys)
            #expect(first.applied == 1 && second.applied == 0 && second.skipped == 1)
            #expect(try ma.dump() == dump)
            #expect(try ma.log() == log)
        }
    }
}
