import Foundation
import Liaison
import LiaisonServer
import Logging
import ServiceLifecycle

/// Serves `replica` on 127.0.0.1 with an ephemeral port while `body` runs, then shuts down cleanly.
public func withServer<T: Sendable>(
    _ replica: Replica, configuration: ServerConfiguration = ServerConfiguration(),
    _ body: @Sendable (String) async throws -> T
) async throws -> T {
    var logger = Logger(label: "liaison.test-server")
    logger.logLevel = .critical
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    var configuration = configuration
    configuration.host = "127.0.0.1"
    configuration.port = 0
    let app = LiaisonServer.buildApplication(replica: replica, configuration: configuration, logger: logger) { port in
        continuation.yield(port)
        continuation.finish()
    }
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        // On threads of its own: a busy cooperative pool must not leave it unable to answer (`TestExecutor`).
        tasks.addTask(executorPreference: TestExecutor.shared) { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw LiaisonError(.peer, "the test server did not start") }
        ServedReplicas.register(replica, port: port)
        defer { ServedReplicas.unregister(port: port) }
        do {
            let result = try await body("http://127.0.0.1:\(port)")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// Registers `client` and `server` as peers of each other with a shared token.
public func pair(_ client: Replica, with server: Replica, url: String, token: String? = nil) throws -> PeerRecord {
    let token = token ?? "token-\(client.siteCode)-\(server.siteCode)"
    try server.addPeer(
        name: client.siteCode.rawValue, url: "http://127.0.0.1:1", token: token, read: ["*"], write: ["*"])
    try client.addPeer(name: server.siteCode.rawValue, url: url, token: token, read: ["*"], write: ["*"])
    try server.pinKey(of: client.identity)
    try client.pinKey(of: server.identity)
    return try client.peers().first { $0.name == server.siteCode.rawValue }!
}

/// The replicas `withServer` serves now, by port: a test that signs raw requests as a peer would
/// (an attacker holding a registered token included) finds here whom to bind them to.
public enum ServedReplicas {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var byPort: [Int: Replica] = [:]

    static func register(_ replica: Replica, port: Int) { lock.withLock { byPort[port] = replica } }
    static func unregister(port: Int) { _ = lock.withLock { byPort.removeValue(forKey: port) } }

    /// The replica served on `port` by `withServer`, if any.
    public static func replica(port: Int) -> Replica? { lock.withLock { byPort[port] } }

    /// Whom a holder of `token` names in a request to the server on `port`: its site id as that
    /// server registered it (else `FaultHTTP.harnessSender`), and the server's site id ('' when no
    /// `withServer` serves that port).
    public static func binding(port: Int, token: String) -> (from: String, to: String) {
        guard let replica = replica(port: port) else { return (FaultHTTP.harnessSender, "") }
        let registered = (try? replica.peer(forToken: token))?.siteID
        return (registered ?? FaultHTTP.harnessSender, replica.siteID)
    }

    /// `binding(port:token:)` for a base URL such as `http://127.0.0.1:PORT`.
    public static func binding(url: String, token: String) -> (from: String, to: String) {
        guard let port = URL(string: url)?.port else { return (FaultHTTP.harnessSender, "") }
        return binding(port: port, token: token)
    }
}
