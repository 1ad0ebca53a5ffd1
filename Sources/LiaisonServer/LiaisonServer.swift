import Hummingbird
import Liaison
import Logging
import NIOCore

/// The peer endpoint of one replica.
public enum LiaisonServer {
    /// Builds the Hummingbird application serving `replica` under `/v1`.
    ///
    /// `onRunning` receives the bound port once the server listens (useful with port 0); `metrics`,
    /// when given, answers `GET /metrics` (Prometheus text, no row ids or personal data).
    public static func buildApplication(
        replica: Replica, configuration: ServerConfiguration = ServerConfiguration(),
        logger: Logger = Logger(label: "liaison.server"), metrics: MetricsEndpoint? = nil,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: PeerRequestContext.self)
        router.middlewares.add(ErrorMiddleware())
        let securityLog = SecurityLog(replica: replica, logger: logger)
        let budget = RequestBudget(
            maxBufferedBytes: configuration.maxBufferedBytes, maxRequestsPerPeer: configuration.maxRequestsPerPeer)
        let group = router.group("v1").add(
            middleware: PeerAuthenticator(
                replica: replica, maxBodyBytes: configuration.maxBodyBytes, budget: budget,
                securityLog: securityLog,
                wallTime: replica.clock.wallTime)
        ).add(middleware: AnswerSigner(securityLog: securityLog))
        let connections = ConnectionRegistry(limit: configuration.maxConnections)
        let sync = SyncController(replica: replica, configuration: configuration)
        sync.register(on: group)
        LiveController(
            replica: replica,
            hub: LiveHub(
                replica: replica, maxWatches: configuration.maxLiveWaits ?? max(1, configuration.maxConnections / 2),
                logger: logger),
            connections: connections, sync: sync
        ).register(on: group)
        DigestController(replica: replica, configuration: configuration).register(on: group)
        if let metrics {
            router.get("metrics") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: try await metrics.render())))
            }
        }
        return Application(
            router: router,
            server: .http1(
                configuration: .init(additionalChannelHandlers: [
                    ParserErrorResponder(),
                    RequestDeadlines(
                        registry: connections, idleTimeout: configuration.idleTimeout,
                        headerTimeout: configuration.headerTimeout, bodyTimeout: configuration.bodyTimeout,
                        onShed: { reason in securityLog.record(.connectionShed, ["security.reason": "\(reason)"]) }),
                ])),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "liaison",
                backlog: 1_024),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}

/// What answers `GET /metrics` on the peer listener: Prometheus text made at each scrape.
public struct MetricsEndpoint: Sendable {
    public let render: @Sendable () async throws -> String

    public init(_ render: @escaping @Sendable () async throws -> String) { self.render = render }
}
