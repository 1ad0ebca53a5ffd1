import ArgumentParser
import Foundation
import Liaison
import LiaisonClient
import Logging
import ServiceLifecycle
import UnixSignals

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Sync with peers: pull what they have, then push what they lack.")

    @OptionGroup var replica: ReplicaArgument
    @Option(name: .customLong("peer"), help: "Only these peers (repeatable); default all.") var peerNames: [String] = []
    @Option(help: "Keep syncing this often until stopped (e.g. 30s).") var every: String?
    @Option(help: "The most changes in one page.") var pageChanges = 5_000
    @Option(help: "The largest clock difference adopted from a peer's signed answer (e.g. 24h, the default).")
    var maxClockOffset = "24h"
    @Flag(help: "Print JSON reports, no progress.") var json = false

    func validate() throws {
        if let every, parseInterval(every) == nil {
            throw ValidationError("--every takes a duration such as \(DurationText.examples)")
        }
        guard pageChanges >= 1 else { throw ValidationError("--page-changes must be at least 1") }
        if parseInterval(maxClockOffset) == nil {
            throw ValidationError("--max-clock-offset takes a duration such as 30s, 5m or 24h")
        }
    }

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            let peers = try opened.peers()
            for name in peerNames where !peers.contains(where: { $0.name == name }) {
                throw LiaisonError(
                    .invalidInput,
                    "no peer '\(name)'; add it with 'liaison peer add \(replica.database) \(name) URL --token T'")
            }
            let chosen = peers.filter { peerNames.isEmpty || peerNames.contains($0.name) }
            if chosen.isEmpty {
                throw LiaisonError(.invalidInput, "no peers registered; add one with 'liaison peer add'")
            }
            var driver = SyncDriver(replica: opened, pageLimits: PageLimits(maxChanges: pageChanges))
            if let offset = parseInterval(maxClockOffset) {
                driver.maxClockOffset = Int64(offset.components.seconds) * 1000
            }
            let showProgress = !json && isatty(STDERR_FILENO) == 1
            if showProgress {
                let started = ContinuousClock.now
                driver.progress = { report in
                    let spent = ContinuousClock.now - started
                    let elapsed = max(
                        0.001, Double(spent.components.seconds) + Double(spent.components.attoseconds) / 1e18)
                    let done = report.pulledChanges + report.pushedChanges
                    Output.error(
                        "\u{1B}[2K\r\(report.peer): \(done) changes, \(Int(Double(done) / elapsed))/s\u{1B}[1A")
                }
            }
            if let every, let interval = parseInterval(every) {
                var periodic = PeriodicSync(driver: driver, peerNames: chosen.map(\.name), interval: interval)
                periodic.onRound = { report in Output.line("\(Date().formatted(.iso8601)) \(describe(report))") }
                let group = ServiceGroup(
                    configuration: .init(
                        services: [periodic], gracefulShutdownSignals: [.sigterm, .sigint],
                        logger: Logger(label: "liaison")))
                try await group.run()
                return
            }
            var failed = false
            var reports: [SyncReport] = []
            for peer in chosen {
                do {
                    reports.append(try await driver.sync(with: peer))
                } catch {
                    failed = true
                    var report = SyncReport(peer: peer.name)
                    report.error = (error as? LiaisonError)?.message ?? "\(error)"
                    reports.append(report)
                }
            }
            if json { try CLI.printJSON(reports) } else { reports.forEach { Output.line(describe($0)) } }
            if failed {
                if !json {
                    for report in reports where report.error != nil {
                        Output.error("liaison: sync with \(report.peer) failed: \(report.error!)")
                    }
                }
                throw ExitCode(1)
            }
        }
    }

    func describe(_ report: SyncReport) -> String {
        if let error = report.error { return "\(report.peer): failed: \(error)" }
        return "\(report.peer): pulled \(report.pulledTransactions) transactions (\(report.pulledChanges) changes), "
            + "pushed \(report.pushedTransactions) (\(report.pushedChanges) changes) in \(String(format: "%.2f", report.seconds)) s"
            + held(report)
    }

    /// What either side holds aside, and why.
    func held(_ report: SyncReport) -> String {
        var lines = ""
        for item in report.heldHere { lines += "\n  held here: " + TerminalText.describe(item) }
        for item in report.heldThere {
            lines += "\n  held by \(TerminalText.field(report.peer)): " + TerminalText.describe(item)
        }
        return lines
    }
}
