import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonServer
import LiaisonTesting
import Testing

/// `serve --live`: a long-poll to each peer brings an edit to a connected partner in well under a
/// second, across hops, never for an edit the partner may not read, and a peer that is down only
/// costs a backed-off retry.
@Suite(.timeLimit(.minutes(2))) struct LiveTests {
    /// Runs `live` while `body` runs.
    static func running<T: Sendable>(_ live: LiveSync, _ body: () async throws -> T) async throws -> T {
        let task = Task { try await live.run() }
        do {
            let result = try await body()
            task.cancel()
            _ = await task.result
            return result
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
    }

    /// Polls `condition` every 2 ms until it holds (the time it took) or `limit` passes (`nil`).
    static func time(within limit: Duration, _ condition: () throws -> Bool) async throws -> Duration? {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < limit {
            if try condition() { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }

    /// A live follower of `peers` whose full rounds are a minute apart: anything sooner is the long-poll.
    static func follower(_ replica: Replica, peers: [String]) -> LiveSync {
        LiveSync(driver: SyncDriver(replica: replica), peerNames: peers, interval: .seconds(60))
    }

    /// Waits until `replica` has made its first round with `peer` (its site id is known).
    static func firstRound(_ replica: Replica, _ peer: String) async throws {
        let done = try await time(within: .seconds(30)) { try replica.peers().first { $0.name == peer }?.siteID != nil }
        try #require(done != nil, "no first round with \(peer)")
    }

    @Test func anEditReachesALivePartnerWithinASecond() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                _ = try pair(ma, with: nl, url: url)
                try await Self.running(Self.follower(ma, peers: ["NL-NCTV"])) {
                    try await Self.firstRound(ma, "NL-NCTV")
                    for round in 1...5 {
                        try nl.write(author: "anne") {
                            try $0.set("topic", id: "topic-live", ["name": .text("Edit \(round)")])
                        }
                        let took = try await Self.time(within: .seconds(10)) {
                            try ma.row("topic", id: "topic-live")?["name"] == .text("Edit \(round)")
                        }
                        let elapsed = try #require(took, "edit \(round) never arrived")
                        #expect(elapsed < .seconds(1), "edit \(round) took \(elapsed)")
                    }
                }
            }
        }
    }

    /// A → B → C: B applies A's batch, which wakes C's wait on B.
    @Test func anEditTravelsTwoLiveHops() async throws {
        try await withReplicas { factory in
            let a = try factory.make("NL-NCTV")
            let b = try factory.make("MA-DGST")
            let c = try factory.make("TR-EGM")
            try await withServer(a) { urlA in
                try await withServer(b) { urlB in
                    _ = try pair(b, with: a, url: urlA)
                    _ = try pair(c, with: b, url: urlB)
                    // C trusts A's key (relayed transactions of an untrusted key are held).
                    try c.pinKey(of: a.identity)
                    try await Self.running(Self.follower(b, peers: ["NL-NCTV"])) {
                        try await Self.running(Self.follower(c, peers: ["MA-DGST"])) {
                            try await Self.firstRound(b, "NL-NCTV")
                            try await Self.firstRound(c, "MA-DGST")
                            try a.write(author: "anne") { try $0.set("topic", id: "topic-hop", ["name": "Two hops"]) }
                            let took = try await Self.time(within: .seconds(10)) {
                                try c.row("topic", id: "topic-hop")?["name"] == .text("Two hops")
                            }
                            let elapsed = try #require(took, "the edit never reached C")
                            #expect(elapsed < .seconds(2), "two hops took \(elapsed)")
                            #expect(try c.verify().isIntact)
                        }
                    }
                }
            }
        }
    }

    /// MA may read `public` only: an `eu` edit at NL does not end its wait (that alone would tell
    /// it a secret row changed); a `public` one does at once.
    @Test func aPeerIsNotWokenByAnEditItMayNotRead() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                _ = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                let driver = SyncDriver(replica: ma)
                try await driver.sync(with: try #require(ma.peers().first))
                let peer = try #require(ma.peers().first)
                let secret = Task {
                    let started = ContinuousClock.now
                    let news = try await driver.waitForNews(from: peer, wait: .milliseconds(1_500))
                    return (news, ContinuousClock.now - started)
                }
                try await Task.sleep(for: .milliseconds(300))
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-eu", ["name": "Secret", "scope": "eu"]) }
                let (woken, waited) = try await secret.value
                #expect(!woken, "an eu edit woke a public-only peer")
                #expect(waited >= .milliseconds(1_400), "the wait ended early: \(waited)")
                // The same wait (same cursor and vector) is woken by a public edit.
                let open = Task {
                    let started = ContinuousClock.now
                    let news = try await driver.waitForNews(from: peer, wait: .seconds(10))
                    return (news, ContinuousClock.now - started)
                }
                try await Task.sleep(for: .milliseconds(300))
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-pub", ["name": "Open"]) }
                let (news, took) = try await open.value
                #expect(news && took < .seconds(2), "woken: \(news) after \(took)")
                try await driver.pullNow(from: peer)
                #expect(try ma.row("topic", id: "topic-pub") != nil && ma.row("topic", id: "topic-eu") == nil)
            }
        }
    }

    /// A peer that is down: the follower backs off (a handful of attempts, not a loop) and local
    /// edits go on at full speed meanwhile.
    @Test func aPeerThatIsDownCostsABackedOffRetryAndNeverBlocksEditing() async throws {
        try await withReplicas { factory in
            let ma = try factory.make("MA-DGST")
            try ma.addPeer(name: "NL-NCTV", url: "http://127.0.0.1:9", token: "token-down", read: ["*"], write: ["*"])
            let attempts = LiveAttempts()
            var live = Self.follower(ma, peers: [])
            live.interval = .seconds(60)
            live.firstBackoff = .milliseconds(100)
            live.onRound = { report in if report.error != nil { attempts.add() } }
            try await Self.running(live) {
                var slowest = Duration.zero
                for index in 0..<50 {
                    let started = ContinuousClock.now
                    try ma.write(author: "anne") {
                        try $0.set("topic", id: "topic-\(index)", ["name": .text("Offline \(index)")])
                    }
                    slowest = max(slowest, ContinuousClock.now - started)
                    try await Task.sleep(for: .milliseconds(30))
                }
                // 1.5 s of 100 ms, 200 ms, 400 ms, 800 ms pauses: at most five attempts.
                #expect(attempts.value >= 2 && attempts.value <= 6, "\(attempts.value) attempts")
                #expect(slowest < .milliseconds(500), "an offline edit took \(slowest)")
            }
            #expect(try ma.status().transactions >= 50)
        }
    }
}

/// A count shared with a callback.
final class LiveAttempts: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
