import Foundation
import Liaison

extension PeerClient {
    /// `POST /v1/snapshot`: the manifest of the peer's signed snapshot (`SnapshotInstallation`
    /// checks it).
    public func snapshotManifest() async throws -> SnapshotManifest {
        try await send("snapshot", body: SnapshotRequest())
    }

    /// `POST /v1/snapshot-page`: one page of that snapshot, under this replica's read grant there.
    public func snapshotPage(_ request: SnapshotPageRequest) async throws -> SnapshotPage {
        try await send("snapshot-page", body: request)
    }

    /// Starts `replica`, which holds no transaction yet, from the peer's snapshot, page by page
    /// (`SnapshotInstallation`: each page checked where it lands, the whole verified before it is
    /// committed). A page the network lost is asked for again from the same cursor, up to
    /// `attempts` times; when the peer compacted again meanwhile (`compacted_history`), the
    /// snapshot starts again, at most twice. Anything refused installs nothing.
    public func cloneSnapshot(into replica: Replica, from peerName: String, attempts: Int = 4) async throws
        -> SnapshotInstallReport
    {
        var restarts = 0
        while true {
            let installation = try SnapshotInstallation(
                replica: replica, manifest: try await snapshotManifest(), from: peerName)
            do {
                while !installation.isComplete {
                    try installation.apply(try await page(installation.next, attempts: attempts))
                }
                return try installation.finish()
            } catch let error as LiaisonError where error.code == .compactedHistory && restarts < 2 {
                installation.cancel()
                restarts += 1
            } catch {
                installation.cancel()
                throw error
            }
        }
    }

    /// One page, asked for again after a network fault (the server keeps no state: any page can be
    /// asked for again).
    private func page(_ request: SnapshotPageRequest, attempts: Int) async throws -> SnapshotPage {
        var attempt = 1
        while true {
            do {
                return try await snapshotPage(request)
            } catch let error as LiaisonError where error.code == .peer && attempt < attempts {
                try await Task.sleep(for: .milliseconds(200 << attempt))
                attempt += 1
            }
        }
    }
}
