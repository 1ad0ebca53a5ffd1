import Foundation
import Liaison

/// W3: concurrent edits on A and B (5,000 true conflicts, 5,000 different-column edits), then one
/// sync round both ways over real HTTP.
enum W3 {
    static func run(directory: String, liaison: String, rows: Int) async throws -> [String: Double] {
        let pathA = directory + "/a.db"
        try Prepare.child(["prepare", pathA, String(rows), String(rows)])
        let server = try ServerProcess(liaison: liaison, database: pathA)
        defer { server.stop() }
        let b = try await clone(
            from: server.url, into: directory + "/b.db", site: "BENCH-B", token: Prepare.token, counter: WireCounter())
        let a = try Replica.open(at: pathA)
        _ = try a.versionVector()
        var random = Workload.Generator(seed: 42)
        let ids = (0..<min(10_000, rows)).map { Workload.row($0, &random)[0] }
        let half = ids.count / 2
        try a.write(author: "bench-a") { editor in
            for (index, id) in ids.enumerated() {
                try editor.execute("UPDATE organisation SET name = ? WHERE id = ?", [.text("A \(index)"), .text(id)])
            }
        }
        try b.write(author: "bench-b") { editor in
            for (index, id) in ids.enumerated() {
                if index < half {
                    try editor.execute(
                        "UPDATE organisation SET name = ? WHERE id = ?", [.text("B \(index)"), .text(id)])
                } else {
                    try editor.execute("UPDATE organisation SET country = ? WHERE id = ?", ["XX", .text(id)])
                }
            }
        }
        var result: [String: Double] = [:]
        // B syncs in its own process (as W2); this one reads both files afterwards.
        let round = try Client.run(["sync", directory + "/b.db"])
        result["w3_seconds"] = round["seconds"]
        result["w3_client_rss"] = round["rss"]
        result["w3_changes"] = Double(ids.count * 2)
        result["w3_equal"] = try a.dump() == b.dump() ? 1 : 0
        let onA = try a.conflicts()
        let onB = try b.conflicts()
        result["w3_conflicts_a"] = Double(onA.count)
        result["w3_conflicts_b"] = Double(onB.count)
        let winners = { (list: [Conflict]) in Set(list.map { "\($0.rowID)|\($0.winner.siteID)#\($0.winner.seq)" }) }
        result["w3_same_winners"] = winners(onA) == winners(onB) ? 1 : 0
        let kept = try ids[half...].allSatisfy { id in
            let row = try b.row("organisation", id: id)
            return row?["country"] == "XX" && (row?["name"]?.displayText.hasPrefix("A ") ?? false)
        }
        result["w3_both_columns_kept"] = kept ? 1 : 0
        result["w3_bytes_raw"] = (round["bytes_raw"] ?? 0) + (round["bytes_sent"] ?? 0)
        return result
    }
}
