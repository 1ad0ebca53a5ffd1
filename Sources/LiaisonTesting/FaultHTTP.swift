import Foundation
import Liaison

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One HTTP answer as it came over the wire.
public struct FaultHTTPAnswer: Sendable, CustomStringConvertible {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: Data

    public var text: String { String(decoding: body, as: UTF8.self) }
    public var description: String { "\(status) \(text.prefix(300).debugDescription)" }

    /// The body as `{"error": String, "message": String, ...}`, if it is one.
    public var errorObject: (error: String, message: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let error = object["error"] as? String, let message = object["message"] as? String
        else { return nil }
        return (error, message)
    }
}

/// HTTP/1.1 over a plain loopback socket: sends exactly the bytes given (path tricks, broken
/// bodies), one request per connection, with time limits on every step.
public enum FaultHTTP {
    /// The site id the fault harness signs as when it plays a peer registered without one.
    public static let harnessSender = "fault-harness-sender"

    /// The bytes of a request with `Connection: close` and a `Content-Length`, signed with `token`
    /// as a registered peer signs (`RequestSignature`) when one is given: from site `from` to site
    /// `to` ('' is accepted only in a `GET /v1/status`). By default both come from
    /// `ServedReplicas` for a `withServer` server; for another (a `liaison serve` process), `from`
    /// is `harnessSender` and `to` must be given.
    public static func request(
        _ method: String, _ path: String, port: Int, token: String?, from: String? = nil, to: String? = nil,
        body: Data? = nil, headers: [(String, String)] = []
    ) -> Data {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token {
            let binding = ServedReplicas.binding(port: port, token: token)
            let signature = RequestSignature.sign(
                token: token, method: method, path: signedPath(path), body: body ?? Data(), now: nowMilliseconds,
                from: from ?? binding.from, to: to ?? binding.to)
            head += "Authorization: \(signature.headerValue)\r\n"
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                head += "Content-Type: application/json\r\n"
            }
            head += "Content-Length: \(body.count)\r\n"
        }
        return Data((head + "\r\n").utf8) + (body ?? Data())
    }

    /// The part of a request target a signature covers: the path without query or fragment.
    public static func signedPath(_ target: String) -> String {
        String(target.prefix { $0 != "?" && $0 != "#" })
    }

    public static var nowMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Sends `request` and reads the answer; `nil` when the server closed without answering.
    /// The answer is polled without blocking (`FaultConnection`): no thread waits on the socket, so
    /// a test cannot starve the server it talks to of the threads it needs.
    public static func exchange(port: Int, request: Data, timeout: Int = 15) async throws -> FaultHTTPAnswer? {
        let connection = try FaultConnection(port: port)
        defer { connection.hangUp() }
        // The server may answer (413, 400) and close before reading the whole body: a failed
        // send is not the end, the answer may still be there to read.
        connection.send(request)
        return await connection.waitForAnswer(timeout: .seconds(timeout))
    }

    /// `GET path`, signed with `token` (from `from` to `to`, see `request`) when one is given.
    public static func get(
        _ path: String, port: Int, token: String?, from: String? = nil, to: String? = nil
    ) async throws -> FaultHTTPAnswer? {
        try await exchange(port: port, request: request("GET", path, port: port, token: token, from: from, to: to))
    }

    private static let separator = Data("\r\n\r\n".utf8)

    static func parse(_ response: Data) -> (answer: FaultHTTPAnswer, complete: Bool)? {
        guard let end = response.range(of: separator) else { return nil }
        let lines = String(decoding: response[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let rest = Data(response[end.upperBound...])
        if let length = headers["content-length"].flatMap(Int.init) {
            return (FaultHTTPAnswer(status: status, headers: headers, body: rest.prefix(length)), rest.count >= length)
        }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            let (body, complete) = dechunk(rest)
            return (FaultHTTPAnswer(status: status, headers: headers, body: body), complete)
        }
        return (FaultHTTPAnswer(status: status, headers: headers, body: rest), false)
    }

    private static func dechunk(_ data: Data) -> (Data, Bool) {
        var body = Data()
        var index = data.startIndex
        let crlf = Data("\r\n".utf8)
        while let lineEnd = data[index...].range(of: crlf) {
            let sizeText = String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first.map(String.init) ?? "", radix: 16) else { break }
            if size == 0 { return (body, true) }
            let start = lineEnd.upperBound
            guard data.distance(from: start, to: data.endIndex) >= size + 2 else { break }
            let end = data.index(start, offsetBy: size)
            body.append(data[start..<end])
            index = data.index(end, offsetBy: 2)
        }
        return (body, false)
    }
}

/// Small wrappers around BSD sockets on 127.0.0.1.
enum FaultSocket {
    /// A new TCP socket.
    static func stream(_ purpose: String) throws -> Int32 {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw FaultFailure("\(purpose) socket: errno \(errno)") }
        return fd
    }

    /// A socket listening on 127.0.0.1 at a free port, and that port.
    static func listen(_ purpose: String, backlog: Int32) throws -> (fd: Int32, port: Int) {
        let fd = try stream(purpose)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #if canImport(Glibc)
            let listening = bound == 0 && Glibc.listen(fd, backlog) == 0
        #else
            let listening = bound == 0 && Darwin.listen(fd, backlog) == 0
        #endif
        guard listening else {
            let code = errno
            close(fd)
            throw FaultFailure("\(purpose) bind/listen: errno \(code)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: actual.sin_port)))
    }

    static func connect(port: Int, timeout: Int) throws -> Int32 {
        let fd = try stream("client")
        setTimeouts(fd, seconds: timeout)
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                systemConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw FaultFailure("connect to 127.0.0.1:\(port): errno \(code)")
        }
        return fd
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    #if canImport(Glibc)
        static let noSignal = Int32(MSG_NOSIGNAL)
    #else
        static let noSignal: Int32 = 0
    #endif

    static func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        #if canImport(Glibc)
            Glibc.connect(fd, address, length)
        #else
            Darwin.connect(fd, address, length)
        #endif
    }

    /// Accepts connections on `listener` and hands each to `handle` until `isStopped`, polling
    /// every 100 ms; closes the listener at the end.
    static func acceptEach(on listener: Int32, until isStopped: () -> Bool, _ handle: (Int32) -> Void) {
        defer { close(listener) }
        while !isStopped() {
            var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            handle(client)
        }
    }

    static func setTimeouts(_ fd: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// Sends every byte (never raising SIGPIPE); `false` when the peer went away first.
    static func sendAll(_ fd: Int32, _ bytes: some ContiguousBytes) -> Bool {
        bytes.withUnsafeBytes { buffer in
            buffer.isEmpty || sendAll(fd, buffer.baseAddress!, count: buffer.count)
        }
    }

    /// Sends `count` bytes from `buffer`; `false` when the peer went away.
    static func sendAll(_ fd: Int32, _ buffer: UnsafeRawPointer, count: Int) -> Bool {
        var sent = 0
        while sent < count {
            let written = send(fd, buffer + sent, count - sent, noSignal)
            if written <= 0 { return false }
            sent += written
        }
        return true
    }
}
