import ArgumentParser
import Foundation
import Liaison
import LiaisonClient
import LiaisonConsole
import LiaisonServer
import Logging
import ServiceLifecycle
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve this replica to its peers (and, with --sync-every, sync with them periodically).")

    @OptionGroup var replica: ReplicaArgument
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0 picks a free one).") var port: Int
    @Option(help: "Also sync with every peer this often (e.g. 30s, 5m).") var syncEvery: String?
    @Option(help: "The largest request body accepted, in bytes.") var maxBody = 16 << 20
    @Option(help: "The most changes in one pull page.") var pageChanges = 5_000
    @Option(help: "Also serve the web console on 127.0.0.1 at this port (0 picks one).") var consolePort: Int?
    @OptionGroup var author: AuthorOption

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        if let syncEvery, parseInterval(syncEvery) == nil {
            throw ValidationError("--sync-every takes a duration such as 30s, 5m, 2h or 1d")
        }
        guard maxBody >= 1_024 else { throw ValidationError("--max-body must be at least 1024") }
        guard pageChanges >= 1 else { throw ValidationError("--page-changes must be at least 1") }
        if let consolePort, !(0...65535).contains(consolePort) {
            throw ValidationError("--console-port must be 0 to 65535")
        }
    }

    func run() async throws {
        try await CLI.run {
            var logger = Logger(label: "liaison")
            logger.logLevel = .warning
            let opened = try CLI.open(replica.database)
            // Publish what was edited offline now, not on the first peer's request.
            _ = try opened.versionVector()
            let configuration = ServerConfiguration(
                host: host, port: port, maxBodyBytes: maxBody, pageLimits: PageLimits(maxChanges: pageChanges))
            let metrics = ConsoleService.metrics(for: opened)
            let app = LiaisonServer.buildApplication(
                replica: opened, configuration: configuration, logger: logger,
                metrics: MetricsEndpoint { try await metrics.render() }
            ) {
                bound in
                Output.line("liaison \(opened.siteCode) serving \(replica.database) on http://\(host):\(bound)")
            }
            var services: [any Service] = [app]
            if let consolePort {
                services.append(
                    try ConsoleService.make(
                        replica: opened, host: "127.0.0.1", port: consolePort, author: author.resolved, logger: logger))
            }
            if let syncEvery, let interval = parseInterval(syncEvery) {
                var periodic = PeriodicSync(
                    driver: SyncDriver(replica: opened, logger: logger), peerNames: [], interval: interval)
                periodic.onRound = { report in
                    Output.line(
                        "\(Date().formatted(.iso8601)) "
                            + (report.error.map { "sync \(report.peer): failed: \($0)" }
                                ?? "sync \(report.peer): pulled \(report.pulledChanges), pushed \(report.pushedChanges) changes")
                    )
                }
                services.append(periodic)
            }
            let group = ServiceGroup(
                configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            Output.line("liaison \(opened.siteCode) stopped")
        }
    }
}
