import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A misbehaving peer on 127.0.0.1: reads each request's head and answers with fixed bytes (a
/// response cut inside its headers, say), then closes. For faults a proxy cannot stage in time.
/// Call `stop()` when done.
public final class FaultStub: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private let answer: Data
    private let lock = NSLock()
    private var stopped = false
    private var served = 0

    public init(answer: Data) throws {
        self.answer = answer
        (listener, port) = try FaultSocket.listen("stub", backlog: 16)
        Thread.detachNewThread { [self] in
            FaultSocket.acceptEach(on: listener, until: { lock.withLock { stopped } }, reply(to:))
        }
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Requests answered so far.
    public var requests: Int { lock.withLock { served } }

    public func stop() { lock.withLock { stopped = true } }

    /// Reads the request head, sends the one answer, closes.
    private func reply(to client: Int32) {
        FaultSocket.setTimeouts(client, seconds: 5)
        var head = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while head.range(of: Data("\r\n\r\n".utf8)) == nil, head.count < 1_000_000 {
            let count = recv(client, &buffer, buffer.count, 0)
            if count <= 0 { break }
            head.append(contentsOf: buffer[0..<count])
        }
        _ = FaultSocket.sendAll(client, answer)
        lock.withLock { served += 1 }
        shutdown(client, Int32(SHUT_RDWR))
        close(client)
    }
}
