import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A loopback TCP connection a test holds open on purpose (an idle or half-sent request, a
/// client that never reads), driven without blocking: reads and the wait for the server to close
/// are polled with `MSG_DONTWAIT`, so thousands can be held from async code.
public final class FaultConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var fd: Int32
    private var receivedBytes = Data()
    private var closedByServer = false

    /// Connects to 127.0.0.1:`port`.
    public init(port: Int) throws {
        fd = try FaultSocket.connect(port: port, timeout: 10)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends `text` (or as much as the socket takes); returns whether all went out.
    @discardableResult
    public func send(_ bytes: Data) -> Bool {
        lock.withLock { fd >= 0 && FaultSocket.sendAll(fd, bytes) }
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Data(text.utf8)) }

    /// Reads what has arrived, without waiting; returns whether the server has closed.
    private func poll() -> Bool {
        lock.withLock {
            guard fd >= 0 else { return true }
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while !closedByServer {
                let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if count > 0 {
                    receivedBytes.append(contentsOf: buffer[0..<count])
                } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    closedByServer = true
                } else {
                    break
                }
            }
            return closedByServer
        }
    }

    /// Waits at most `timeout` for the server to close the connection; returns whether it did.
    public func waitForClose(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if poll() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return poll()
    }

    /// Waits at most `timeout` for a whole answer (head, and a body of its `Content-Length`).
    public func waitForAnswer(timeout: Duration) async -> FaultHTTPAnswer? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let closed = poll()
            if let answer = lock.withLock({ FaultHTTP.parse(receivedBytes) }), answer.complete { return answer.answer }
            if closed || ContinuousClock.now >= deadline {
                return lock.withLock { FaultHTTP.parse(receivedBytes)?.answer }
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Every byte received so far.
    public var received: Data {
        _ = poll()
        return lock.withLock { receivedBytes }
    }

    /// Waits at most `timeout` until `isComplete` holds for the bytes received or the server
    /// closes; returns those bytes.
    public func read(until isComplete: (Data) -> Bool, timeout: Duration) async -> Data {
        let deadline = ContinuousClock.now + timeout
        while true {
            let closed = poll()
            let bytes = lock.withLock { receivedBytes }
            if closed || isComplete(bytes) || ContinuousClock.now >= deadline { return bytes }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Closes the connection from this side.
    public func hangUp() {
        lock.withLock {
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }
}

/// A port on 127.0.0.1 that takes connections into its backlog and never answers: a client
/// talking to it stays blocked (until its own timeout), so a test can look at the running process.
public final class FaultSilentListener: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws { (fd, port) = try FaultSocket.listen("silent", backlog: 64) }

    deinit { close(fd) }

    public var url: String { "http://127.0.0.1:\(port)" }
}
