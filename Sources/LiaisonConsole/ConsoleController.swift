import Foundation
import Hummingbird
import Liaison
import Logging
import NIOCore

/// The console's routes. Every read and edit goes through the engine's public API, as the CLI's do.
struct ConsoleController: Sendable {
    let replica: Replica
    let pages: Pages
    let sessions: SessionStore
    /// Who the console's edits and resolutions are signed as.
    let author: String
    let metrics: ConsoleMetrics
    let logger: Logger

    func register(on router: Router<ConsoleContext>) {
        router.get("/") { try await overview($0, $1) }
        router.get("/peers") { try await peers($0, $1) }
        router.get("/log") { try await log($0, $1) }
        router.post("/sync") { try await syncNow($0, $1) }
        router.get("/table") { try await table($0, $1) }
        router.get("/table.csv") { try await tableCSV($0, $1) }
        router.get("/row") { try await row($0, $1) }
        router.post("/row") { try await saveRow($0, $1) }
        router.get("/conflicts") { try await conflicts($0, $1) }
        router.get("/conflict") { try await conflict($0, $1) }
        router.post("/conflict") { try await resolve($0, $1) }
        router.get("/held") { try await heldList($0, $1) }
        router.get("/held/item") { try await heldItem($0, $1) }
        router.post("/held/release") { try await releaseHeld($0, $1) }
        router.post("/held/drop") { try await dropHeld($0, $1) }
        router.get("/schema") { try await schema($0, $1) }
        router.post("/schema/column") { try await changeSchema($0, $1, kind: "column") }
        router.post("/schema/choice") { try await changeSchema($0, $1, kind: "choice") }
        router.post("/schema/table") { try await changeSchema($0, $1, kind: "table") }
        router.get("/events") { try await events($0, $1) }
        router.get("/state") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: try await stateStamp())))
        }
        router.get("/metrics") { _, _ in
            let text = try await metrics.render()
            return Response(
                status: .ok, headers: [.contentType: ConsoleMetrics.contentType],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/static/console.css") { _, _ in Self.asset(Assets.css, type: "text/css; charset=utf-8") }
        router.get("/static/favicon.svg") { _, _ in Self.asset(Assets.icon, type: "image/svg+xml") }
        router.get("/static/console.js") { _, _ in Self.asset(Assets.js, type: "text/javascript; charset=utf-8") }
    }

    /// The page stamp as JSON (`GET /state`, for scripts and browsers without `EventSource`).
    func stateStamp() async throws -> String {
        "{\"stamp\":\"\(try await stamp())\"}"
    }

    func takeFlash(_ context: ConsoleContext) async -> String? {
        guard let id = context.sessionID else { return nil }
        return await sessions.takeFlash(id)
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Turns errors into an HTML-free plain answer with a fitting status (pages escape; this never echoes HTML).
struct ConsoleErrors: RouterMiddleware {
    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as LiaisonError {
            let status: HTTPResponse.Status =
                switch error.code {
                case .notFound, .conflict, .unknownTable: .notFound
                case .busy: .serviceUnavailable
                default: error.isUsageError ? .badRequest : .internalServerError
                }
            return Pages.plain(status, error.message)
        } catch let error as any HTTPResponseError {
            return Pages.plain(error.status, error.status == .notFound ? "No such page." : "\(error.status)")
        }
    }
}

/// Where and how the console listens.
public struct ConsoleConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The one-time login token of the printed link.
    public var loginToken: String
    /// Who the console's edits and resolutions are signed as.
    public var author: String

    public init(host: String = "127.0.0.1", port: Int = 0, loginToken: String = "", author: String) {
        self.host = host
        self.port = port
        self.loginToken = loginToken.isEmpty ? SessionStore.randomToken() : loginToken
        self.author = author
    }

    /// The line `liaison console` prints: where to open the console, with the one-time login.
    public func loginLine(site: String, port: Int) -> String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return "console for \(site) at http://\(shown):\(port)/?login=\(loginToken)"
    }
}

/// The web console of one replica.
public enum LiaisonConsole {
    /// Builds the console application; `onRunning` receives the bound port.
    public static func buildApplication(
        replica: Replica, configuration: ConsoleConfiguration, metrics: ConsoleMetrics,
        logger: Logger = Logger(label: "liaison.console"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = Router(context: ConsoleContext.self)
        router.middlewares.add(SecurityHeaders())
        router.middlewares.add(ConsoleErrors())
        let sessions = SessionStore(loginToken: configuration.loginToken)
        router.middlewares.add(SessionGate(sessions: sessions))
        ConsoleController(
            replica: replica, pages: try Pages(replica: replica), sessions: sessions, author: configuration.author,
            metrics: metrics, logger: logger
        ).register(on: router)
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "liaison-console"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}
