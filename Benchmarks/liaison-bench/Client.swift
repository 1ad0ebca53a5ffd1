import Foundation
import Liaison

/// The syncing client in its own process, so its peak RSS is the client's alone (the bench process
/// also writes replica A and dumps both replicas).
enum Client {
    /// `client clone URL PATH [TOKEN]`: clones A into a new replica at PATH.
    static func cloning(url: String, path: String, token: String = Prepare.token) async throws -> [String: Double] {
        let counter = WireCounter()
        var result: [String: Double] = [:]
        result["seconds"] = try await measureAsync {
            let site = token == Prepare.scopedToken ? "BENCH-C" : "BENCH-B"
            _ = try await clone(from: url, into: path, site: site, token: token, counter: counter)
        }
        return result.merging(figures(counter)) { $1 }
    }

    /// `client sync PATH`: one sync round of the replica at PATH with its first peer.
    static func syncing(path: String) async throws -> [String: Double] {
        let replica = try Replica.open(at: path)
        let counter = WireCounter()
        var result: [String: Double] = [:]
        result["seconds"] = try await measureAsync { _ = try await syncOnce(replica, counter: counter) }
        return result.merging(figures(counter)) { $1 }
    }

    private static func figures(_ counter: WireCounter) -> [String: Double] {
        [
            "bytes_raw": Double(counter.received), "bytes_gzip": Double(counter.receivedCompressed),
            "bytes_sent": Double(counter.sent), "rss": Double(processPeakRSS()),
        ]
    }

    /// Runs `liaison-bench client ARGUMENTS` and returns the figures it printed.
    static func run(_ arguments: [String]) throws -> [String: Double] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["client"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let figures = try JSONSerialization.jsonObject(with: data) as? [String: Double]
        else { throw LiaisonError(.storage, "bench client \(arguments) failed") }
        return figures
    }
}
