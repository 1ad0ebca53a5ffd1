import ArgumentParser
import Liaison

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Version vector, peers, last sync, open conflicts and table policies.")

    @OptionGroup var replica: ReplicaArgument
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            var status = try opened.status()
            status.health = try opened.peerHealth()
            if json {
                try CLI.printJSON(status)
                return
            }
            print("site \(status.site) (\(status.siteID)) key \(status.fingerprints[status.siteID] ?? "?")")
            for alarm in status.alarms {
                print(
                    "ALARM \(alarm.kind.rawValue) \(alarm.site) via \(alarm.via) (\(alarm.count)x, last \(alarm.lastSeen)): \(TerminalText.field(alarm.message))"
                        + (alarm.kind == .equivocation
                            ? "; its later transactions are held until 'liaison trust DB \(alarm.site) --clear-alarms'"
                            : ""))
            }
            for key in status.untrustedKeys {
                print(
                    "untrusted key: \(key.site) (\(key.siteID)) \(key.fingerprint.map { "presents \($0)" } ?? "presented no key") "
                        + "via \(key.via); its transactions are not applied until you trust it. Compare the fingerprint with \(key.site)'s operator, then "
                        + "'liaison trust DB \(key.site) --key K --site-id \(key.siteID)'")
            }
            print("schema \(status.schema) v\(status.schemaVersion), \(status.transactions) transactions")
            print("version vector:")
            for (site, seq) in status.vector.entries.sorted(by: { $0.key < $1.key }) {
                print(
                    "  \(TerminalText.field(status.sites[site] ?? site)) [\(status.fingerprints[site] ?? "untrusted")] \(seq)"
                )
            }
            print("open conflicts: \(status.openConflicts)")
            print(
                "held here: \(status.quarantined.count)\(status.quarantined.isEmpty ? "" : " (liaison quarantine DB list)")"
            )
            for held in status.quarantined.prefix(10) { print("  " + TerminalText.describe(held)) }
            for (peer, held) in status.heldByPeers.sorted(by: { $0.key < $1.key }) where !held.isEmpty {
                print(TerminalText.field("held by peer \(peer): \(held.count)"))
                for item in held.prefix(10) { print("  " + TerminalText.describe(item)) }
            }
            for comparison in status.comparisons { print(TerminalText.field(ComparisonText.line(comparison))) }
            for ack in status.acknowledgements { print(TerminalText.field(AcknowledgementText.line(ack))) }
            for line in status.compaction.map(CompactionText.lines) ?? [] { print(TerminalText.field(line)) }
            print(
                "policies: "
                    + status.policies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            print(
                "security events: "
                    + (status.securityEvents.isEmpty
                        ? "none"
                        : status.securityEvents.map { "\($0.event) \($0.count) (last \($0.last))" }.joined(
                            separator: ", ")))
            if status.peers.isEmpty { print("peers: none") }
            for peer in status.health ?? [] {
                let lacks =
                    (peer.peerLacks.map { "it lacks \($0), we lack \(peer.weLack ?? 0)" } ?? "no vector seen yet")
                    + (peer.heldHere + peer.heldThere > 0
                        ? ", held here \(peer.heldHere), there \(peer.heldThere)" : "")
                    + refusals(peer.refused)
                print(
                    "peer \(peer.peer) \(TerminalText.field(peer.url)) \(peer.state): \(lacks); last out \(peer.lastOutbound.map { "\($0.at) \(TerminalText.field($0.result))" } ?? "never"), last in \(peer.lastInbound.map { "\($0.at) \(TerminalText.field($0.result))" } ?? "never")"
                )
            }
        }
    }

    /// ", refused here: KIND COUNT …" in the security log's words, or nothing.
    private func refusals(_ counts: [String: Int]) -> String {
        let parts = PeerRefusalKind.all.compactMap { kind in counts[kind].map { "\(kind) \($0)" } }
        return parts.isEmpty ? "" : ", refused here: " + parts.joined(separator: " ")
    }
}
