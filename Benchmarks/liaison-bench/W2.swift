import CSQLite
import Foundation
import Liaison

/// W2 (full clone, then incremental sync) over real HTTP, and W5 (scale) with other sizes. The
/// syncing client B runs in its own process (`liaison-bench client`), so its peak RSS is its own.
enum W2 {
    static func run(directory: String, liaison: String, rows: Int, batch: Int, updates: Int) async throws -> [String:
        Double]
    {
        let pathA = directory + "/a.db"
        let pathB = directory + "/b.db"
        try Prepare.child(["prepare", pathA, String(rows), String(batch)])
        let server = try ServerProcess(liaison: liaison, database: pathA)
        defer { server.stop() }
        var result: [String: Double] = ["rows": Double(rows)]

        let full = try Client.run(["clone", server.url, pathB])
        result["w2a_seconds"] = full["seconds"]
        result["w2a_client_rss"] = full["rss"]
        result["w2a_server_rss"] = Double(server.peakRSS)
        result["w2a_bytes_raw"] = full["bytes_raw"]
        result["w2a_bytes_gzip"] = full["bytes_gzip"]
        let a = try Replica.open(at: pathA)
        result["w2a_equal"] = try a.dump() == Replica.open(at: pathB).dump() ? 1 : 0
        guard updates > 0 else { return result }

        var random = Workload.Generator(seed: 42)
        let ids = (0..<updates).map { Workload.row($0, &random)[0] }
        for (index, id) in ids.enumerated() {
            try a.write(author: "bench") { editor in
                try editor.execute(Workload.updateSQL, [.text("Renamed \(index)"), "2026-11-29T12:00:00Z", .text(id)])
            }
        }
        let incremental = try Client.run(["sync", pathB])
        result["w2b_seconds"] = incremental["seconds"]
        result["w2b_bytes_raw"] = incremental["bytes_raw"]
        result["w2b_bytes_gzip"] = incremental["bytes_gzip"]
        result["w2b_client_rss"] = incremental["rss"]
        result["w2b_server_rss"] = Double(server.peakRSS)
        result["w2b_equal"] = try a.dump() == Replica.open(at: pathB).dump() ? 1 : 0
        let (plainRaw, plainGzip) = try plainWire(pathA, ids: ids, directory: directory)
        result["w2b_plain_bytes_raw"] = Double(plainRaw)
        result["w2b_plain_bytes_gzip"] = Double(plainGzip)
        result["updates"] = Double(updates)
        return result
    }

    /// The plain floor for wire bytes: each changed row whole, as one JSON array of its 11 values
    /// per line (what a sync without an engine format would send), raw and gzip -6.
    static func plainWire(_ path: String, ids: [String], directory: String) throws -> (Int, Int) {
        let plain = PlainSQLite(path: path)
        let select = plain.prepare(
            "SELECT json_array(id, name, kind, country, updated_at, email, phone, address, city, postcode, notes) "
                + "FROM organisation WHERE id = ?")
        defer { sqlite3_finalize(select) }
        var out = Data()
        for id in ids {
            sqlite3_reset(select)
            sqlite3_bind_text(select, 1, id, -1, benchTransient)
            guard sqlite3_step(select) == SQLITE_ROW, let text = sqlite3_column_text(select, 0) else { continue }
            out.append(contentsOf: Data(String(cString: text).utf8))
            out.append(UInt8(ascii: "\n"))
        }
        let file = directory + "/plain-wire.jsonl"
        try out.write(to: URL(fileURLWithPath: file))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-6", "-c", file]
        let pipe = Pipe()
        gzip.standardOutput = pipe
        try gzip.run()
        let compressed = pipe.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        return (out.count, compressed.count)
    }
}
