import Foundation
import Liaison
import LiaisonServer
import LiaisonTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Support

/// A server replica with the sample data, a client replica paired with it, and the shared token.
struct ServerInputHarness: Sendable {
    let server: Replica
    let client: Replica
    let url: String
    let token: String
    let session: URLSession

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Snapshot: Equatable {
        var dump: String
        var vector: VersionVector
        var log: Int
    }

    /// What the server holds; a refused request must leave it unchanged.
    func snapshot() throws -> Snapshot {
        Snapshot(dump: try server.dump(), vector: try server.versionVector(), log: try server.log().count)
    }

    /// Writes `count` new topics on the client, one transaction each, and returns every client
    /// transaction the server lacks, as a pull page would carry them.
    func clientTransactions(_ count: Int) throws -> [TransactionRecord] {
        let written = try client.versionVector()[client.siteID]
        for number in stride(from: written + 1, through: written + Int64(count), by: 1) {
            try client.write(author: "karim") {
                try $0.set("topic", id: "topic-ma-\(number)", ["name": .text("Returnees \(number)")])
            }
        }
        return try client.changes(after: .start, excluding: try server.versionVector()).transactions
    }

    /// Sends a request; `authorization` `nil` uses the peer's bearer token, `.some(nil)` sends none.
    func send(
        _ method: String, _ path: String, body: Data? = nil, authorization: String?? = nil,
        headers: [String: String] = [:]
    ) async throws -> Answer {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = method
        switch authorization {
        case .none:
            let binding = ServedReplicas.binding(url: url, token: token)
            let signed = RequestSignature.sign(
                token: token, method: method, path: URL(string: url + path)!.path, body: body ?? Data(),
                now: Int64(Date().timeIntervalSince1970 * 1000), from: binding.from, to: binding.to)
            request.setValue(signed.headerValue, forHTTPHeaderField: "Authorization")
        case .some(.some(let value)): request.setValue(value, forHTTPHeaderField: "Authorization")
        case .some(.none): break
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Answer(status: http.statusCode, headers: fields, body: data)
    }

    func push(_ transactions: [TransactionRecord]) async throws -> Answer {
        try await send("POST", "/v1/push", body: try WireJSON.encode(PushRequest(transactions: transactions)))
    }

    func pull(cursor: String? = nil, vector: VersionVector) async throws -> PullResponse {
        let answer = try await send(
            "POST", "/v1/pull", body: try WireJSON.encode(PullRequest(cursor: cursor, vector: vector)))
        try #require(answer.status == 200, "\(answer.text)")
        return try WireJSON.decode(PullResponse.self, from: answer.body)
    }

    /// Sends a bad request and checks the answer: `status`, a JSON body of exactly `error` (`code`,
    /// unless `nil`) and `message`, nothing written, and the server still answering.
    @discardableResult
    func expectRefused(
        _ status: Int, _ code: String?, sourceLocation: SourceLocation = #_sourceLocation,
        _ request: () async throws -> Answer
    ) async throws -> ErrorResponse {
        let before = try snapshot()
        let answer = try await request()
        #expect(answer.status == status, "answer: \(answer.text)", sourceLocation: sourceLocation)
        #expect(answer.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
        let object = try #require(
            try JSONSerialization.jsonObject(with: answer.body) as? [String: Any], "not a JSON object: \(answer.text)",
            sourceLocation: sourceLocation)
        #expect(Set(object.keys) == ["error", "message"], "answer: \(answer.text)", sourceLocation: sourceLocation)
        let error = try WireJSON.decode(ErrorResponse.self, from: answer.body)
        if let code { #expect(error.error == code, "message: \(error.message)", sourceLocation: sourceLocation) }
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        #expect(!error.message.contains(token), "the message reveals the token", sourceLocation: sourceLocation)
        #expect(try snapshot() == before, "the refused request wrote something", sourceLocation: sourceLocation)
        let alive = try await send("GET", "/v1/status")
        #expect(alive.status == 200, "the server stopped answering: \(alive.text)", sourceLocation: sourceLocation)
        return error
    }
}

func withServerInputHarness(
    configuration: ServerConfiguration = ServerConfiguration(),
    _ body: @escaping @Sendable (ServerInputHarness) async throws -> Void
) async throws {
    try await withPair(configuration: configuration) { pair in
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        try await body(
            ServerInputHarness(
                server: pair.server, client: pair.client, url: "http://127.0.0.1:\(pair.port)", token: pair.peer.token,
                session: session))
    }
}

/// HTTP/1.1 over a plain socket, so the test sees the bytes on the wire (URLSession inflates gzip).
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func exchange(
        _ base: String, _ method: String, _ path: String, token: String, body: Data = Data(),
        headers: [String: String] = [:]
    ) async throws -> ServerInputHarness.Answer {
        guard let port = URL(string: base)?.port else { throw Failure(description: "no port in \(base)") }
        let binding = ServedReplicas.binding(port: port, token: token)
        let signed = RequestSignature.sign(
            token: token, method: method, path: path, body: body, now: Int64(Date().timeIntervalSince1970 * 1000),
            from: binding.from, to: binding.to)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: \(signed.headerValue)\r\n"
        head += "Connection: close\r\nContent-Length: \(body.count)\r\n"
        if !body.isEmpty { head += "Content-Type: application/json\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Data((head + "\r\n").utf8) + body
        // Polled without blocking a thread (FaultConnection): the server's handlers need them.
        let connection = try FaultConnection(port: port)
        defer { connection.hangUp() }
        connection.send(request)
        let response = await connection.read(until: isComplete, timeout: .seconds(20))
        return try parse(response)
    }

    private static let separator = Data("\r\n\r\n".utf8)

    private static func isComplete(_ response: Data) -> Bool {
        guard let end = response.range(of: separator),
            let answer = try? parse(response), let length = answer.headers["content-length"].flatMap(Int.init)
        else { return false }
        return response.count - end.upperBound >= length
    }

    private static func parse(_ response: Data) throws -> ServerInputHarness.Answer {
        guard let end = response.range(of: separator) else {
            throw Failure(description: "no complete HTTP head in \(response.count) bytes")
        }
        let lines = String(decoding: response[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw Failure(description: "bad status line '\(lines[0])'")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        return ServerInputHarness.Answer(status: status, headers: headers, body: Data(response[end.upperBound...]))
    }
}
