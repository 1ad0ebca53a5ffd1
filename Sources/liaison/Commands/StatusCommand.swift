import ArgumentParser
import Liaison

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Version vector, peers, last sync, open conflicts and table policies.")

    @OptionGroup var replica: ReplicaArgument
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let status = try CLI.open(replica.database).status()
            if json {
                try CLI.printJSON(status)
                return
            }
            print("site \(status.site) (\(status.siteID))")
            print("schema \(status.schema) v\(status.schemaVersion), \(status.transactions) transactions")
            print("version vector:")
            for (site, seq) in status.vector.entries.sorted(by: { $0.key < $1.key }) {
                print("  \(TerminalText.field(status.sites[site] ?? site)) \(seq)")
            }
            print("open conflicts: \(status.openConflicts)")
            print(
                "policies: "
                    + status.policies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            if status.peers.isEmpty { print("peers: none") }
            for peer in status.peers {
                print(
                    "peer \(peer.name) \(TerminalText.field(peer.url)) last sync \(peer.lastSync ?? "never")"
                        + (peer.lastError.map { " (last error: \(TerminalText.field($0)))" } ?? "")
                )
            }
        }
    }
}
