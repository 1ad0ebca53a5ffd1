import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the proxy does to one connection.
public enum FaultAction: Sendable, Equatable, CustomStringConvertible {
    /// Forwards everything.
    case pass
    /// Forwards this many bytes of the server's answer, then closes both sides.
    case cutResponse(after: Int)
    /// Forwards this many bytes of the client's request, then closes both sides.
    case cutRequest(after: Int)
    /// Holds the server's answer back this long before forwarding it.
    case delay(milliseconds: Int)
    /// Resets the connection at once (RST), before anything is forwarded.
    case reset
    /// Delivers the connection's request number `index` (from 0) to the server twice: a copy on a
    /// connection of its own, whose answer is dropped, then the request itself (a middlebox that
    /// retransmits; a push may so arrive twice).
    case duplicateRequest(index: Int)

    public var description: String {
        switch self {
        case .pass: "pass"
        case .cutResponse(let bytes): "cut response after \(bytes) bytes"
        case .cutRequest(let bytes): "cut request after \(bytes) bytes"
        case .delay(let milliseconds): "delay \(milliseconds) ms"
        case .reset: "reset"
        case .duplicateRequest(let index): "duplicate request \(index)"
        }
    }

    var kind: String? {
        switch self {
        case .pass: nil
        case .cutResponse: "cut response"
        case .cutRequest: "cut request"
        case .delay: "delay"
        case .reset: "reset"
        case .duplicateRequest: "duplicate request"
        }
    }
}

/// How often and how hard the proxy interferes, drawn from a seeded generator.
public struct FaultPlan: Sendable {
    public var seed: UInt64
    /// The share of connections that get a fault.
    public var faultRate: Double
    /// Cuts happen within this many bytes.
    public var maxCutBytes: Int
    public var maxDelayMilliseconds: Int
    /// Actions for the first connections, in order; random ones follow.
    public var script: [FaultAction]
    /// A connection idle this long in either direction is closed (bounds every stall).
    public var idleTimeoutSeconds: Int

    public init(
        seed: UInt64, faultRate: Double = 0.5, maxCutBytes: Int = 20_000, maxDelayMilliseconds: Int = 300,
        script: [FaultAction] = [], idleTimeoutSeconds: Int = 30
    ) {
        self.seed = seed
        self.faultRate = faultRate
        self.maxCutBytes = maxCutBytes
        self.maxDelayMilliseconds = maxDelayMilliseconds
        self.script = script
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}

/// A loopback TCP proxy between a sync client and a server that cuts, delays and resets
/// connections according to a seeded plan. Plain BSD sockets, two threads per connection.
/// Call `stop()` when done.
public final class FaultProxy: @unchecked Sendable {
    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let plan: FaultPlan
    private let lock = NSLock()
    private var generator: SeededGenerator
    private var enabled = true
    private var stopped = false
    private var connectionCount = 0
    private var injected = 0
    private var actions: [String: Int] = [:]
    private var live: Set<Int32> = []

    /// Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:`upstreamPort`.
    public init(upstreamPort: Int, plan: FaultPlan) throws {
        self.upstreamPort = upstreamPort
        self.plan = plan
        self.generator = SeededGenerator(seed: plan.seed)
        (listener, port) = try FaultSocket.listen("proxy", backlog: 64)
        Thread.detachNewThread { [self] in
            FaultSocket.acceptEach(on: listener, until: { lock.withLock { stopped } }) { client in
                let action = nextAction()
                Thread.detachNewThread { [self] in serve(client: client, action: action) }
            }
        }
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// While disabled, every new connection passes untouched.
    public var isEnabled: Bool {
        get { lock.withLock { enabled } }
        set { lock.withLock { enabled = newValue } }
    }

    /// Connections on which a fault took effect.
    public var faultsInjected: Int { lock.withLock { injected } }
    /// Connections accepted.
    public var connections: Int { lock.withLock { connectionCount } }
    /// How many faults of each kind took effect.
    public var faultKinds: [String: Int] { lock.withLock { actions } }

    /// Stops accepting and tears down every live connection.
    public func stop() {
        // Under the lock: a socket still in `live` has not been closed, so its number is still its own.
        lock.withLock {
            stopped = true
            for fd in live { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func nextAction() -> FaultAction {
        lock.withLock {
            connectionCount += 1
            guard enabled else { return .pass }
            if connectionCount <= plan.script.count { return plan.script[connectionCount - 1] }
            guard Double.random(in: 0..<1, using: &generator) < plan.faultRate else { return .pass }
            switch Int.random(in: 0..<20, using: &generator) {
            case 0..<10: return .cutResponse(after: Int.random(in: 0...plan.maxCutBytes, using: &generator))
            case 10..<16: return .cutRequest(after: Int.random(in: 0...plan.maxCutBytes, using: &generator))
            case 16: return .delay(milliseconds: Int.random(in: 1...plan.maxDelayMilliseconds, using: &generator))
            case 17: return .duplicateRequest(index: Int.random(in: 0..<6, using: &generator))
            default: return .reset
            }
        }
    }

    private func record(_ action: FaultAction) {
        guard let kind = action.kind else { return }
        lock.withLock {
            injected += 1
            actions[kind, default: 0] += 1
        }
    }

    private func serve(client: Int32, action: FaultAction) {
        FaultSocket.setTimeouts(client, seconds: plan.idleTimeoutSeconds)
        if action == .reset {
            var abort = linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &abort, socklen_t(MemoryLayout<linger>.size))
            close(client)
            record(action)
            return
        }
        guard let upstream = try? FaultSocket.connect(port: upstreamPort, timeout: plan.idleTimeoutSeconds) else {
            close(client)
            return
        }
        let registered = lock.withLock { () -> Bool in
            guard !stopped else { return false }
            live.insert(client)
            live.insert(upstream)
            return true
        }
        guard registered else {
            close(client)
            close(upstream)
            return
        }
        let pair = SocketPair(client: client, upstream: upstream) { [self] in
            lock.withLock {
                live.remove(client)
                live.remove(upstream)
            }
        }
        var requestLimit: Int?
        var responseLimit: Int?
        var delay: Int?
        switch action {
        case .cutRequest(let bytes): requestLimit = bytes
        case .cutResponse(let bytes): responseLimit = bytes
        case .delay(let milliseconds): delay = milliseconds
        case .pass, .reset, .duplicateRequest: break
        }
        Thread.detachNewThread { [self, requestLimit] in
            if case .duplicateRequest(let index) = action {
                relayRequests(from: client, to: upstream, duplicating: index, action: action)
            } else {
                pump(from: client, to: upstream, limit: requestLimit, delay: nil, action: action)
            }
            pair.finish()
        }
        pump(from: upstream, to: client, limit: responseLimit, delay: delay, action: action)
        pair.finish()
    }

    /// Forwards the client's requests one whole message at a time; request number `index` is first
    /// sent to the server on a connection of its own, and its answer there awaited and dropped.
    private func relayRequests(from client: Int32, to upstream: Int32, duplicating index: Int, action: FaultAction) {
        var number = 0
        while let request = FaultHTTPFraming.readMessage(from: client) {
            if number == index,
                let copy = try? FaultSocket.connect(port: upstreamPort, timeout: plan.idleTimeoutSeconds)
            {
                if FaultSocket.sendAll(copy, request), FaultHTTPFraming.readMessage(from: copy) != nil {
                    record(action)
                }
                close(copy)
            }
            number += 1
            guard FaultSocket.sendAll(upstream, request) else { break }
        }
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(upstream, Int32(SHUT_RDWR))
    }

    /// Copies bytes until either side ends or `limit` is passed, then tears down both sides.
    private func pump(from source: Int32, to target: Int32, limit: Int?, delay: Int?, action: FaultAction) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var forwarded = 0
        var delayed = false
        while true {
            let count = recv(source, &buffer, buffer.count, 0)
            if count <= 0 { break }
            if let delay, !delayed {
                delayed = true
                usleep(useconds_t(delay * 1_000))
                record(action)
            }
            var chunk = count
            var cut = false
            if let limit, forwarded + count > limit {
                chunk = limit - forwarded
                cut = true
            }
            let sent = buffer.withUnsafeBytes { FaultSocket.sendAll(target, $0.baseAddress!, count: chunk) }
            forwarded += chunk
            if cut {
                record(action)
                break
            }
            if !sent { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(target, Int32(SHUT_RDWR))
    }
}

/// The two sockets of one proxied connection, closed once both pumps have finished.
private final class SocketPair: @unchecked Sendable {
    private let client: Int32
    private let upstream: Int32
    private let lock = NSLock()
    private var remaining = 2
    private let onClose: @Sendable () -> Void

    init(client: Int32, upstream: Int32, onClose: @escaping @Sendable () -> Void) {
        self.client = client
        self.upstream = upstream
        self.onClose = onClose
    }

    func finish() {
        let last = lock.withLock { () -> Bool in
            remaining -= 1
            return remaining == 0
        }
        guard last else { return }
        onClose()
        close(client)
        close(upstream)
    }
}

/// Just enough HTTP/1.1 framing for the proxy to find where one message ends.
enum FaultHTTPFraming {
    /// Reads one message with a `Content-Length` body (or none) from `fd`: its bytes, or `nil` when
    /// the connection ends first.
    static func readMessage(from fd: Int32) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var expected: Int?
        while expected.map({ bytes.count < $0 }) ?? true {
            // One byte at a time until the head ends, so nothing of a following message is taken.
            let wanted = expected.map { min(buffer.count, $0 - bytes.count) } ?? 1
            let count = recv(fd, &buffer, wanted, 0)
            if count <= 0 { return nil }
            bytes.append(contentsOf: buffer[0..<count])
            if expected == nil, bytes.count >= 4, bytes.suffix(4) == [13, 10, 13, 10] {
                let head = String(decoding: bytes, as: UTF8.self).lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                expected = bytes.count + length
            }
        }
        return bytes
    }
}
