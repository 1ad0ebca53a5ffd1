import Foundation
import Liaison
import LiaisonClient

/// A `liaison serve` child process on 127.0.0.1 with an ephemeral port.
final class ServerProcess {
    let process = Process()
    let url: String

    init(liaison: String, database: String, arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: liaison)
        process.arguments = ["serve", database, "--port", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        var buffer = Data()
        var found: String?
        while found == nil {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if let range = text.range(of: "http://127.0.0.1:[0-9]+", options: .regularExpression) { found = String(text[range]) }
        }
        guard let found else { throw LiaisonError(.peer, "the server did not start") }
        url = found
    }

    /// Peak RSS of the server so far.
    var peakRSS: Int { processPeakRSS(pid: process.processIdentifier) }

    func stop() {
        process.interrupt()
        process.waitUntilExit()
    }
}

/// Counts what crosses HTTP: raw bytes each way, and the responses' size after gzip level 6.
final class WireCounter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var sent = 0
    private(set) var received = 0
    private(set) var receivedCompressed = 0
    private(set) var sentCompressed = 0

    func record(sent: Int, received: Data) {
        let compressed = gzipSize(received)
        lock.lock()
        self.sent += sent
        self.received += received.count
        receivedCompressed += compressed
        lock.unlock()
    }
}

/// Pulls everything A has into a new replica B (as `liaison clone` does), counting bytes.
func clone(from url: String, into path: String, site: String, token: String, counter: WireCounter) async throws -> Replica {
    let client = try PeerClient(url: url, token: token)
    let status = try await client.status()
    let schema = try await client.schema()
    let replica = try Replica.create(at: path, site: SiteCode(site)!, schema: schema)
    try replica.addPeer(name: "A", url: url, token: token, siteID: status.siteID, read: ["*"], write: ["*"])
    var driver = SyncDriver(replica: replica)
    driver.onExchange = { counter.record(sent: $0, received: $1) }
    try await driver.sync(with: try replica.peers()[0])
    return replica
}

func syncOnce(_ replica: Replica, counter: WireCounter) async throws -> SyncReport {
    var driver = SyncDriver(replica: replica)
    driver.onExchange = { counter.record(sent: $0, received: $1) }
    return try await driver.sync(with: try replica.peers()[0])
}
