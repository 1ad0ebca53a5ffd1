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
            if let range = text.range(of: "http://127.0.0.1:[0-9]+", options: .regularExpression) {
                found = String(text[range])
            }
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

/// Counts what crosses HTTP: raw bytes each way, and the answers as they crossed the wire (the
/// server gzips answers over 1 KiB at level 6; smaller ones count uncompressed).
final class WireCounter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var sent = 0
    private(set) var received = 0
    private(set) var receivedCompressed = 0

    func record(_ exchange: PeerClient.Exchange) {
        lock.withLock {
            sent += exchange.sent
            received += exchange.received.count
            receivedCompressed += exchange.receivedOnWire
        }
    }
}

/// Pulls everything A has into a new replica B (as `liaison clone` does), counting bytes.
func clone(from url: String, into path: String, site: String, token: String, counter: WireCounter) async throws
    -> Replica
{
    let ownID = UUID().uuidString.lowercased()
    var client = try PeerClient(url: url, token: token, from: ownID)
    let status = try await client.status()
    client.to = status.siteID
    let schema = try await client.schema()
    let replica = try Replica.create(at: path, site: SiteCode(site)!, schema: schema, siteID: ownID)
    try replica.addPeer(name: "A", url: url, token: token, siteID: status.siteID, read: ["*"], write: ["*"])
    // The bench is B's operator: it trusts the key A presents (both sides run here).
    try replica.trust(site: SiteCode(status.site)!, siteID: status.siteID, key: status.publicKey ?? "")
    var driver = SyncDriver(replica: replica)
    driver.onExchange = { counter.record($0) }
    try await driver.sync(with: try replica.peers()[0])
    return replica
}

func syncOnce(_ replica: Replica, counter: WireCounter) async throws -> SyncReport {
    var driver = SyncDriver(replica: replica)
    driver.onExchange = { counter.record($0) }
    return try await driver.sync(with: try replica.peers()[0])
}
