import Foundation
import Liaison

extension PeerClient {
    /// Waits on the peer until it holds something new this replica may read (`POST /v1/live`).
    public func live(_ request: LiveRequest) async throws -> LiveResponse { try await send("live", body: request) }
}

extension SyncDriver {
    /// Waits on `peer` (`POST /v1/live`) from this replica's pull cursor and vector for it, at most
    /// `wait`; `true` when the peer says a pull would bring something readable.
    ///
    /// - Throws: `LiaisonError` when the peer's site id is not known yet (sync once first), or the
    ///   exchange fails (unreachable, refused, an answer without the peer's signature).
    public func waitForNews(from peer: PeerRecord, wait: Duration) async throws -> Bool {
        // A peer that never answers costs the wait and a little more, not the exchange timeout.
        let client = try liveClient(for: peer, timeout: wait.seconds + 10)
        let vector = try await replica.perform { try $0.versionVector() }
        let milliseconds =
            Int(wait.components.seconds) * 1_000 + Int(wait.components.attoseconds / 1_000_000_000_000_000)
        return try await client.live(
            LiveRequest(cursor: peer.pullCursor, vector: vector, waitMilliseconds: milliseconds)
        )
        .news
    }

    /// Pulls what `peer` has for this replica, without the rest of a round (the status check, the
    /// push, the digests): what a live wake-up runs. The peer record must come from a round that
    /// checked the peer's identity (its site id is known).
    @discardableResult
    public func pullNow(from peer: PeerRecord) async throws -> SyncReport {
        var report = SyncReport(peer: peer.name)
        let started = ContinuousClock.now
        try await pull(from: try liveClient(for: peer), peer: peer, report: &report)
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    private func liveClient(for peer: PeerRecord, timeout: TimeInterval = 300) throws -> PeerClient {
        guard let siteID = peer.siteID else {
            throw LiaisonError(
                .invalidInput, "the site id of peer \(peer.name) is not known yet: sync with it once first")
        }
        var client = try PeerClient(
            url: peer.url, token: peer.token, from: replica.siteID, to: siteID, timeout: timeout)
        client.onExchange = onExchange
        client.schema = SchemaStamp(replica.schema)
        client.maxClockOffset = maxClockOffset
        return client
    }
}
