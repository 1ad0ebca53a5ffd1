import Hummingbird
import Liaison
import Logging
import NIOCore

/// The peer endpoint of one replica.
public enum LiaisonServer {
    /// Builds the Hummingbird application serving `replica` under `/v1`.
    ///
    /// `onRunning` receives the bound port once the server listens (useful with port 0).
    public static func buildApplication(
        replica: Replica, configuration: ServerConfiguration = ServerConfiguration(),
        logger: Logger = Logger(label: "liaison.server"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: PeerRequestContext.self)
        router.middlewares.add(ErrorMiddleware())
        let budget = RequestBudget(
            maxBufferedBytes: configuration.maxBufferedBytes, maxRequestsPerPeer: configuration.maxRequestsPerPeer)
        let group = router.group("v1").add(
            middleware: PeerAuthenticator(
                replica: replica, replays: ReplayGuard(), maxBodyBytes: configuration.maxBodyBytes, budget: budget,
                wallTime: replica.clock.wallTime))
        SyncController(replica: replica, configuration: configuration).register(on: group)
        let connections = ConnectionRegistry(limit: configuration.maxConnections)
        return Application(
            router: router,
            server: .http1(
                configuration: .init(additionalChannelHandlers: [
                    ParserErrorResponder(),
                    RequestDeadlines(
                        registry: connections, idleTimeout: configuration.idleTimeout,
                        headerTimeout: configuration.headerTimeout, bodyTimeout: configuration.bodyTimeout),
                ])),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "liaison",
                backlog: 1_024),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}
