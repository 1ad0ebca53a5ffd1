import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonServer
import LiaisonTesting
import Testing

/// `serve --live`: a long-poll to each peer brings an edit to a connected partner long before the
/// next full round (W6 in `Scripts/bench` measures how fast: milliseconds), across hops, never for an edit the partner may not read, and a peer that is down only
/// costs a backed-off retry.
@Suite(.timeLimit(.minutes(3))) struct LiveTests {
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
        let done = try await time(within: .seconds(60)) { try replica.peers().first { $0.name == peer }?.siteID != nil }
        try #require(done != nil, "no first round with \(peer)")
    }

    @Test func anEditReachesALivePartnerBeforeTheNextFullRound() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                _ = try pair(ma, with: nl, url: url)
                try await Self.running(Self.follower(ma, peers: ["NL-NCTV"])) {
                    try await Self.firstRound(ma, "NL-NCTV")
                    var times: [Duration] = []
                    for round in 1...5 {
                        try nl.write(author: "anne") {
                            try $0.set("topic", id: "topic-live", ["name": .text("Edit \(round)")])
                        }
                        // Full rounds are a minute apart: within half of that, it came by the
                        // long-poll. How fast is the bench's W6 (a test run on two loaded cores
                        // can stall a wait for seconds, so no speed is asserted here).
                        let took = try await Self.time(within: .seconds(30)) {
                            try ma.row("topic", id: "topic-live")?["name"] == .text("Edit \(round)")
                        }
                        times.append(try #require(took, "edit \(round) never arrived; earlier ones took \(times)"))
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
                            // Within half a full round's period: by the long-poll at each hop.
                            let took = try await Self.time(within: .seconds(30)) {
                                try c.row("topic", id: "topic-hop")?["name"] == .text("Two hops")
                            }
                            let atB = try b.row("topic", id: "topic-hop") != nil
                            let heldAtC = try c.status().quarantined.count
                            _ = try #require(took, "the edit never reached C (at B: \(atB), held at C: \(heldAtC))")
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

    /// MA's own edit, pushed to NL while MA waits on NL, does not wake MA (its vector has it).
    @Test func aPeerIsNotWokenByItsOwnEditComingBack() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                _ = try pair(ma, with: nl, url: url)
                let driver = SyncDriver(replica: ma)
                try await driver.sync(with: try #require(ma.peers().first))
                try ma.write(author: "amal") { try $0.set("topic", id: "topic-ma", ["name": "From MA"]) }
                let peer = try #require(ma.peers().first)
                let waiting = Task {
                    let started = ContinuousClock.now
                    let news = try await driver.waitForNews(from: peer, wait: .milliseconds(1_500))
                    return (news, ContinuousClock.now - started)
                }
                try await Task.sleep(for: .milliseconds(300))
                try await driver.sync(with: peer)
                #expect(try nl.row("topic", id: "topic-ma") != nil, "the push did not land")
                let (woken, waited) = try await waiting.value
                #expect(!woken && waited >= .milliseconds(1_400), "woken: \(woken) after \(waited)")
            }
        }
    }

    /// A peer that refuses connections and one that accepts and never answers: the follower backs
    /// off from the first (a handful of attempts, not a loop), waits on the second, and local
    /// edits go on at full speed meanwhile.
    @Test func aPeerThatIsDownCostsABackedOffRetryAndNeverBlocksEditing() async throws {
        try await withReplicas { factory in
            let ma = try factory.make("MA-DGST")
            let silent = try FaultSilentListener()
            try ma.addPeer(name: "NL-NCTV", url: "http://127.0.0.1:9", token: "token-down", read: ["*"], write: ["*"])
            try ma.addPeer(name: "TR-EGM", url: silent.url, token: "token-silent", read: ["*"], write: ["*"])
            let attempts = LiveAttempts()
            var live = Self.follower(ma, peers: [])
            live.firstBackoff = .milliseconds(100)
            live.onRound = { report in if report.peer == "NL-NCTV", report.error != nil { attempts.add() } }
            let started = ContinuousClock.now
            try await Self.running(live) {
                var slowest = Duration.zero
                for index in 0..<50 {
                    let began = ContinuousClock.now
                    try ma.write(author: "anne") {
                        try $0.set("topic", id: "topic-\(index)", ["name": .text("Offline \(index)")])
                    }
                    slowest = max(slowest, ContinuousClock.now - began)
                    try await Task.sleep(for: .milliseconds(30))
                }
                // Pauses of 100 ms, 200 ms, 400 ms…: attempt n begins after (2^(n-1) - 1) × 100 ms.
                let elapsed =
                    Double((ContinuousClock.now - started).components.seconds)
                    + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
                let bound = 2 + Int(log2(elapsed / 0.1 + 1))
                #expect(attempts.value >= 2 && attempts.value <= bound, "\(attempts.value) attempts in \(elapsed) s")
                #expect(slowest < .seconds(2), "an offline edit took \(slowest)")
            }
            #expect(try ma.status().transactions >= 50)
            withExtendedLifetime(silent) {}
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
