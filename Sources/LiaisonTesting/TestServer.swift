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
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw LiaisonError(.peer, "the test server did not start") }
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
