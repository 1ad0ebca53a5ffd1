import Foundation
import Liaison

/// Creates replica A with `rows` rows inserted in transactions of `batch` rows, and registers
/// the bench token for B. Runs in its own process so the timed processes start clean.
enum Prepare {
    static let token = "bench-token-0123456789"
    /// W7's second peer, granted the data set's one scope instead of `*`.
    static let scopedToken = "bench-token-scoped-0123456789"

    static func run(path: String, rows: Int, batch: Int) throws {
        let replica = try Replica.create(at: path, site: SiteCode("BENCH-A")!, schema: Workload.schema)
        try replica.addPeer(name: "B", url: "http://127.0.0.1:1", token: token, read: ["*"], write: ["*"])
        try replica.addPeer(
            name: "C", url: "http://127.0.0.1:1", token: scopedToken, read: ["public"], write: ["public"])
        let sql =
            "INSERT INTO organisation(id, name, kind, country, updated_at, email, phone, address, city, postcode, notes, scope, owner) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'public', 'BENCH-A')"
        var random = Workload.Generator(seed: 42)
        var index = 0
        while index < rows {
            let end = min(rows, index + batch)
            try replica.write(author: "bench") { editor in
                for position in index..<end {
                    try editor.execute(sql, Workload.row(position, &random).map { .text($0) })
                }
            }
            index = end
        }
    }

    /// Runs this same executable with `arguments` and waits for it.
    static func child(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw LiaisonError(.storage, "bench child \(arguments) failed") }
    }
}
