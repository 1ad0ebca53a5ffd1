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
    @Flag(
        help:
            "Keep a long-poll open to each peer and pull as soon as it has news (full rounds every --sync-every, default 30s)."
    )
    var live = false
    @Option(help: "The largest request body accepted, in bytes.") var maxBody = 16 << 20
    @Option(help: "The most changes in one pull page.") var pageChanges = 5_000
    @Option(help: "Also serve the web console on 127.0.0.1 at this port (0 picks one).") var consolePort: Int?
    @OptionGroup var author: AuthorOption
    @Option(help: "Close a connection with no request under way after this (e.g. 30s).") var idleTimeout = "30s"
    @Option(help: "A request's headers must arrive within this of its first byte.") var headerTimeout = "10s"
    @Option(help: "A request's body must arrive within this of its headers.") var bodyTimeout = "60s"
    @Option(help: "The most open connections; at the limit a new one closes the oldest idle one.")
    var maxConnections = 512
    @Option(help: "The most requests of one peer handled at once (503 beyond).") var maxRequestsPerPeer = 4

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        if let syncEvery, parseInterval(syncEvery) == nil {
            throw ValidationError("--sync-every takes a duration such as \(DurationText.examples)")
        }
        guard maxBody >= 1_024 else { throw ValidationError("--max-body must be at least 1024") }
        guard pageChanges >= 1 else { throw ValidationError("--page-changes must be at least 1") }
        if let consolePort, !(0...65535).contains(consolePort) {
            throw ValidationError("--console-port must be 0 to 65535")
        }
        for (name, value) in [
            ("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
        ]
        where parseInterval(value) == nil {
            throw ValidationError("\(name) takes a duration such as \(DurationText.examples)")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard maxRequestsPerPeer >= 1 else { throw ValidationError("--max-requests-per-peer must be at least 1") }
    }

    func run() async throws {
        try await CLI.run {
            var logger = Logger(label: "liaison")
            logger.logLevel = .warning
            let opened = try CLI.open(replica.database)
            // Publish what was edited offline now, not on the first peer's request.
            _ = try opened.versionVector()
            let descriptors = raiseDescriptorLimit()
            let configuration = ServerConfiguration(
                host: host, port: port, maxBodyBytes: maxBody, pageLimits: PageLimits(maxChanges: pageChanges),
                idleTimeout: parseInterval(idleTimeout) ?? .seconds(30),
                headerTimeout: parseInterval(headerTimeout) ?? .seconds(10),
                bodyTimeout: parseInterval(bodyTimeout) ?? .seconds(60),
                // Leave descriptors for the replica, its WAL and the periodic sync's own connections.
                maxConnections: min(maxConnections, max(16, descriptors - 64)),
                maxRequestsPerPeer: maxRequestsPerPeer)
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
            if live {
                services.append(
                    Self.liveSync(opened, interval: syncEvery.flatMap(parseInterval) ?? .seconds(30), logger: logger))
            } else if let syncEvery, let interval = parseInterval(syncEvery) {
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
            var groupConfiguration = ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // Requests under way get half a second to finish; then the server is cancelled, which
            // closes every connection, however many are open or half-sent.
            groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(500)
            let group = ServiceGroup(configuration: groupConfiguration)
            try await group.run()
            Output.line("liaison \(opened.siteCode) stopped")
        }
    }
}

extension ServeCommand {
    /// `--live`: a long-poll to each peer, full rounds every `interval`, a line per round and per wake-up.
    static func liveSync(_ replica: Replica, interval: Duration, logger: Logger) -> LiveSync {
        var live = LiveSync(driver: SyncDriver(replica: replica, logger: logger), peerNames: [], interval: interval)
        live.onRound = { report in
            Output.line(
                "\(Date().formatted(.iso8601)) "
                    + (report.error.map { "sync \(report.peer): failed: \(TerminalText.field($0))" }
                        ?? "sync \(report.peer): pulled \(report.pulledChanges), pushed \(report.pushedChanges) changes")
            )
        }
        live.onWake = { report in
            Output.line("\(Date().formatted(.iso8601)) live \(report.peer): pulled \(report.pulledChanges) changes")
        }
        return live
    }
}

/// Raises this process's soft limit of open descriptors to its hard limit; returns the limit now.
private func raiseDescriptorLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
    if limit.rlim_cur < limit.rlim_max {
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    return Int(clamping: limit.rlim_cur)
}
