import Foundation
import Liaison
import Logging
import ServiceLifecycle

/// Syncs with the given peers every `interval` until shut down, backing off (doubling, up to
/// ten intervals) while a peer is unreachable.
public struct PeriodicSync: Service {
    public let driver: SyncDriver
    public let peerNames: [String]
    public let interval: Duration
    /// Called after each round with each peer's report (or error text).
    public var onRound: (@Sendable (SyncReport) -> Void)?

    public init(driver: SyncDriver, peerNames: [String], interval: Duration) {
        self.driver = driver
        self.peerNames = peerNames
        self.interval = interval
    }

    public func run() async throws {
        var failures: [String: Int] = [:]
        var due: [String: ContinuousClock.Instant] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let peers = try await driver.replica.perform { try $0.peers() }
                .filter { peerNames.isEmpty || peerNames.contains($0.name) }
            for peer in peers where (due[peer.name] ?? .now) <= .now {
                do {
                    let report = try await driver.sync(with: peer)
                    failures[peer.name] = 0
                    onRound?(report)
                } catch {
                    failures[peer.name, default: 0] += 1
                    var report = SyncReport(peer: peer.name)
                    report.error = (error as? LiaisonError)?.message ?? "\(error)"
                    onRound?(report)
                }
                let backoff = min(1 << min(failures[peer.name] ?? 0, 10), 10)
                due[peer.name] = .now + interval * max(1, backoff)
            }
            try? await gracefulShutdownOrSleep(interval)
        }
    }

    private func gracefulShutdownOrSleep(_ duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}
