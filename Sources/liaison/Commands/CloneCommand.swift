import ArgumentParser
import Foundation
import Liaison
import LiaisonClient

struct CloneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone", abstract: "Create a replica filled from a peer, and register that peer.")

    @Argument(help: "The peer's URL, e.g. http://127.0.0.1:8080.") var url: String
    @Argument(help: "The new replica file.") var database: String
    @Option(help: "This agency's site code.") var site: String
    /// The secret token the peer registered for this agency (it signs requests; it never travels).
    @OptionGroup var token: TokenOption
    @Option(help: "The name to register the peer under (default: its site code).") var name: String?

    func validate() throws {
        guard SiteCode(site) != nil else { throw ValidationError("invalid site code '\(site)': \(SiteCode.rule)") }
    }

    func run() async throws {
        try await CLI.run {
            if FileManager.default.fileExists(atPath: database) {
                throw LiaisonError(.invalidInput, "'\(database)' exists already; clone into a new file")
            }
            let token = try self.token.resolved()
            let client = try PeerClient(url: url, token: token)
            let status = try await client.status()
            let schema = try await client.schema()
            let replica = try Replica.create(at: database, site: SiteCode(site)!, schema: schema)
            let peerName = name ?? status.site
            do {
                try replica.addPeer(
                    name: peerName, url: url, token: token, siteID: status.siteID, read: ["*"], write: ["*"],
                    publicKey: status.publicKey)
                let peer = try replica.peers().first { $0.name == peerName }!
                let report = try await SyncDriver(replica: replica).sync(with: peer)
                print(
                    "cloned \(report.pulledTransactions) transactions (\(report.pulledChanges) changes) from \(status.site) into \(database); peer '\(peerName)' registered"
                )
            } catch {
                for suffix in ["", "-wal", "-shm", ".keys"] {
                    try? FileManager.default.removeItem(atPath: database + suffix)
                }
                throw error
            }
        }
    }
}
