import Foundation
import Liaison

/// W7, trust overhead: W2a and W2b over HTTP for a peer granted `public` (scope filtering on every
/// change: the default path) against the same run for a peer granted `*`. Signatures are checked
/// on both, as cheaply as the design allows (one per signed run). A smaller data set than W2 (10,000
/// rows and updates by default), since it clones three times (one untimed warm-up); A publishes
/// its updates before either timed sync, so neither pays for publishing.
enum W7 {
    static func run(directory: String, liaison: String, rows: Int) async throws -> [String: Double] {
        let pathA = directory + "/a.db"
        try Prepare.child(["prepare", pathA, String(rows), String(rows)])
        let server = try ServerProcess(liaison: liaison, database: pathA)
        defer { server.stop() }
        var result: [String: Double] = ["w7_rows": Double(rows)]
        let star = directory + "/star.db"
        let scoped = directory + "/scoped.db"
        // An untimed clone first, so neither timed one pays for the server's cold start (the
        // first run showed a `*` clone 1.4 × slower than the scoped one after it).
        _ = try Client.run(["clone", server.url, directory + "/warm.db", Prepare.token])
        result["w7a_star_seconds"] = try Client.run(["clone", server.url, star, Prepare.token])["seconds"]
        result["w7a_scoped_seconds"] = try Client.run(["clone", server.url, scoped, Prepare.scopedToken])["seconds"]
        let a = try Replica.open(at: pathA)
        let cloned = try a.versionVector()
        var random = Workload.Generator(seed: 42)
        let ids = (0..<rows).map { Workload.row($0, &random)[0] }
        for (index, id) in ids.enumerated() {
            try a.write(author: "bench") { editor in
                try editor.execute(Workload.updateSQL, [.text("Renamed \(index)"), "2026-11-29T12:00:00Z", .text(id)])
            }
        }
        _ = try a.versionVector()
        result["w7b_star_seconds"] = try Client.run(["sync", star])["seconds"]
        result["w7b_scoped_seconds"] = try Client.run(["sync", scoped])["seconds"]
        let dump = try a.dump()
        result.merge(try W7Pages.run(a, after: cloned)) { $1 }
        result["w7_equal"] =
            try dump == Replica.open(at: star).dump() && dump == Replica.open(at: scoped).dump() ? 1 : 0
        return result
    }
}
