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
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw FaultFailure("stub socket: errno \(errno)") }
        var address = FaultSocket.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw FaultFailure("stub bind/listen: errno \(code)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: actual.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Requests answered so far.
    public var requests: Int { lock.withLock { served } }

    public func stop() { lock.withLock { stopped = true } }

    private func acceptLoop() {
        defer { close(listener) }
        while !lock.withLock({ stopped }) {
            var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
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
}
