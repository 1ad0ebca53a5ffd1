import Foundation
import Liaison
import LiaisonClient

/// W8, clone by snapshot: W2a's replica A (ROWS inserts in one transaction, or in transactions of
/// BATCH rows) served by `liaison
/// serve`, cloned by a client in its own process through the paged snapshot (`POST /v1/snapshot`,
/// then `/v1/snapshot-page` until the last), so both peak RSS figures are each process's own.
enum SnapshotClone {
    static func run(directory: String, liaison: String, rows: Int, batch: Int) async throws -> [String: Double] {
        let pathA = directory + "/a.db"
        let pathB = directory + "/b.db"
        try Prepare.child(["prepare", pathA, String(rows), String(batch)])
        let server = try ServerProcess(liaison: liaison, database: pathA)
        defer { server.stop() }
        let clone = try Client.run(["snapshot", server.url, pathB])
        var result: [String: Double] = ["rows": Double(rows), "batch": Double(batch)]
        for (key, value) in clone { result["w8_" + key] = value }
        result["w8_server_rss"] = Double(server.peakRSS)
        result["w8_equal"] = try Replica.open(at: pathA).dump() == Replica.open(at: pathB).dump() ? 1 : 0
        return result
    }

    /// `client snapshot URL PATH`: a new replica at PATH started from A's snapshot.
    static func cloning(url: String, path: String) async throws -> [String: Double] {
        let counter = WireCounter()
        var report: SnapshotInstallReport?
        let seconds = try await measureAsync {
            let ownID = UUID().uuidString.lowercased()
            var client = try PeerClient(url: url, token: Prepare.token, from: ownID)
            let status = try await client.status()
            client.to = status.siteID
            client.onExchange = { counter.record($0) }
            let replica = try Replica.create(
                at: path, site: SiteCode("BENCH-B")!, schema: try await client.schema(), siteID: ownID)
            try replica.addPeer(
                name: "A", url: url, token: Prepare.token, siteID: status.siteID, read: ["*"], write: ["*"])
            try replica.trust(site: SiteCode(status.site)!, siteID: status.siteID, key: status.publicKey ?? "")
            report = try await client.cloneSnapshot(into: replica, from: "A")
        }
        return [
            "seconds": seconds, "pages": Double(report?.pages ?? 0), "rows_checked": Double(report?.rows ?? 0),
            "transactions": Double(report?.transactions ?? 0), "bytes_raw": Double(counter.received),
            "bytes_gzip": Double(counter.receivedCompressed), "rss": Double(processPeakRSS()),
        ]
    }
}
