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
            let manifest = try await retrying(attempts) { try await snapshotManifest() }
            let installation = try SnapshotInstallation(replica: replica, manifest: manifest, from: peerName)
            do {
                while !installation.isComplete {
                    let request = installation.next
                    try installation.apply(try await retrying(attempts) { try await snapshotPage(request) })
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

    /// `body`, tried again after a network fault (`.peer`: the server keeps no snapshot state, so
    /// the manifest or any page can be asked for again), at most `attempts` times in all.
    private func retrying<T>(_ attempts: Int, _ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as LiaisonError where error.code == .peer && attempt < attempts {
                try await Task.sleep(for: .milliseconds(200 << attempt))
                attempt += 1
            }
        }
    }
}
