import Foundation
import Liaison
import Logging
import ServiceLifecycle

/// `liaison serve --live`: keeps a long-poll (`POST /v1/live`) open to each online peer and pulls
/// as soon as the peer says it holds something new this replica may read; a full round every
/// `interval` stays the fallback (it also pushes, and learns a peer's identity first).
///
/// Each peer has its own task: a peer that is down, slow or refusing only delays itself. A failed
/// wait backs off (1 s, doubling, up to `interval`) and the next contact is a full round. Nothing
/// here holds the replica between requests, so local edits never wait for the network.
public struct LiveSync: Service {
    public let driver: SyncDriver
    public let peerNames: [String]
    /// The period of full rounds with each peer.
    public var interval: Duration
    /// The longest wait asked of a peer (it caps it too: `LiveHub.maxWait` on a Liaison server).
    public var maxWait: Duration = .seconds(25)
    /// The first pause after a failure (doubling up to `interval`).
    public var firstBackoff: Duration = .seconds(1)
    /// Called after each full round with its report (or error text).
    public var onRound: (@Sendable (SyncReport) -> Void)?
    /// Called after each pull a wake-up caused.
    public var onWake: (@Sendable (SyncReport) -> Void)?

    public init(driver: SyncDriver, peerNames: [String], interval: Duration) {
        self.driver = driver
        self.peerNames = peerNames
        self.interval = interval
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { tasks in
                var running: Set<String> = []
                while !Task.isCancelled {
                    // New peers get a task; a removed peer's task ends by itself.
                    guard let names = try? await driver.replica.perform({ try $0.peers().map(\.name) }) else {
                        try? await Task.sleep(for: .seconds(1))
                        continue
                    }
                    for name in names where !running.contains(name) && (peerNames.isEmpty || peerNames.contains(name)) {
                        running.insert(name)
                        tasks.addTask { await follow(name) }
                    }
                    running.formIntersection(names)
                    try? await Task.sleep(for: min(interval, .seconds(5)))
                }
                tasks.cancelAll()
            }
        }
    }

    /// The loop of one peer, until it is removed or the service stops.
    func follow(_ name: String) async {
        var failures = 0
        var nextRound = ContinuousClock.now
        while !Task.isCancelled {
            guard let peer = try? await driver.replica.perform({ try $0.peers().first { $0.name == name } }) else {
                return
            }
            do {
                if nextRound <= .now || peer.siteID == nil {
                    let report = try await driver.sync(with: peer)
                    onRound?(report)
                    nextRound = .now + interval
                    continue
                }
                let wait = min(maxWait, nextRound - .now)
                let asked = ContinuousClock.now
                let news = try await driver.waitForNews(from: peer, wait: wait)
                failures = 0
                if news {
                    let report = try await driver.pullNow(from: peer)
                    onWake?(report)
                    // A peer that says "news" and has none is not followed at full speed.
                    if report.pulledChanges == 0 { try? await Task.sleep(for: .milliseconds(200)) }
                } else if ContinuousClock.now - asked < wait - .seconds(1) {
                    // Ended early (the peer restarted, or does not hold waits): do not spin.
                    try? await Task.sleep(for: firstBackoff)
                }
            } catch {
                if Task.isCancelled { return }
                failures += 1
                var report = SyncReport(peer: name)
                report.error = (error as? LiaisonError)?.message ?? "\(error)"
                onRound?(report)
                let pause = min(firstBackoff * (1 << min(failures - 1, 16)), interval)
                // The next contact is a full round: it checks who answers before waiting again.
                nextRound = .now + pause
                try? await Task.sleep(for: pause)
            }
        }
    }
}
