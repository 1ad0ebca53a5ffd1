import Foundation
import Liaison

/// W2 (full clone, then incremental sync) over real HTTP, and W5 (scale) with other sizes.
enum W2 {
    static func run(directory: String, liaison: String, rows: Int, batch: Int, updates: Int) async throws -> [String:
        Double]
    {
        let pathA = directory + "/a.db"
        try Prepare.child(["prepare", pathA, String(rows), String(batch)])
        let server = try ServerProcess(liaison: liaison, database: pathA)
        defer { server.stop() }
        var result: [String: Double] = ["rows": Double(rows)]

        let full = WireCounter()
        var replicaB: Replica?
        result["w2a_seconds"] = try await measureAsync {
            replicaB = try await clone(
                from: server.url, into: directory + "/b.db", site: "BENCH-B", token: Prepare.token, counter: full)
        }
        result["w2a_client_rss"] = Double(processPeakRSS())
        result["w2a_server_rss"] = Double(server.peakRSS)
        result["w2a_bytes_raw"] = Double(full.received)
        result["w2a_bytes_gzip"] = Double(full.receivedCompressed)
        let b = replicaB!
        let a = try Replica.open(at: pathA)
        result["w2a_equal"] = try a.dump() == b.dump() ? 1 : 0
        guard updates > 0 else { return result }

        var random = Workload.Generator(seed: 42)
        let ids = (0..<updates).map { Workload.row($0, &random)[0] }
        for (index, id) in ids.enumerated() {
            try a.write(author: "bench") { editor in
                try editor.execute(Workload.updateSQL, [.text("Renamed \(index)"), "2026-11-29T12:00:00Z", .text(id)])
            }
        }
        let incremental = WireCounter()
        result["w2b_seconds"] = try await measureAsync { _ = try await syncOnce(b, counter: incremental) }
        result["w2b_bytes_raw"] = Double(incremental.received)
        result["w2b_bytes_gzip"] = Double(incremental.receivedCompressed)
        result["w2b_equal"] = try a.dump() == b.dump() ? 1 : 0
        result["w2b_server_rss"] = Double(server.peakRSS)
        result["w2b_client_rss"] = Double(processPeakRSS())
        result["updates"] = Double(updates)
        return result
    }
}
