import ArgumentParser
import Liaison
import LiaisonConsole
import Logging
import Prometheus
import ServiceLifecycle
import UnixSignals

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract:
            "Serve the web console for analysts on this machine: browse, edit, review conflicts, see who is behind.",
        discussion: """
            Prints one line 'console for SITE at http://127.0.0.1:PORT/?login=TOKEN'. The link logs one browser
            in once (a session cookie); restart the console for a new link. /metrics serves Prometheus text.
            """)

    @OptionGroup var replica: ReplicaArgument
    @Option(help: "The address to listen on (keep 127.0.0.1 unless the network is trusted).") var host = "127.0.0.1"
    @Option(help: "The port (0 picks a free one).") var port: Int
    @OptionGroup var author: AuthorOption

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
    }

    func run() async throws {
        try await CLI.run {
            var logger = Logger(label: "liaison")
            logger.logLevel = .warning
            let opened = try CLI.open(replica.database)
            let app = try ConsoleService.make(
                replica: opened, host: host, port: port, author: author.resolved, logger: logger)
            var configuration = ServiceGroupConfiguration(
                services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // Open event streams (live refresh) would otherwise hold the console up.
            configuration.maximumGracefulShutdownDuration = .milliseconds(500)
            let group = ServiceGroup(configuration: configuration)
            try await group.run()
        }
    }
}

/// The console as a service of the process, shared by `console` and `serve --console-port`.
enum ConsoleService {
    static let registry = PrometheusCollectorRegistry()

    static func metrics(for replica: Replica) -> ConsoleMetrics {
        ConsoleMetrics.bootstrap(registry)
        return ConsoleMetrics(replica: replica, registry: registry)
    }

    static func make(replica: Replica, host: String, port: Int, author: String, logger: Logger) throws
        -> some Service
    {
        let configuration = ConsoleConfiguration(host: host, port: port, author: author)
        return try LiaisonConsole.buildApplication(
            replica: replica, configuration: configuration, metrics: metrics(for: replica), logger: logger
        ) { bound in
            Output.line(configuration.loginLine(site: replica.siteCode.rawValue, port: bound))
        }
    }
}
