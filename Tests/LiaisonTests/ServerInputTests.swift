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

/// Bad input to a real server over HTTP: each is refused with a 4xx status and a JSON error body,
/// writes nothing, and leaves the server answering.
@Suite(.timeLimit(.minutes(2))) struct ServerInputTests {
    // MARK: Authentication

    @Test(arguments: [
        nil, "Bearer not-a-registered-token", "Bearer ", "Basic dG9rZW4tTUEtREdTVC1OTC1OQ1RW", "token-MA-DGST-NL-NCTV",
        // The token itself never travels: a bearer token, even the right one, is refused.
        "Bearer token-MA-DGST-NL-NCTV",
    ])
    func pushWithoutAValidTokenIsUnauthorized(authorization: String?) async throws {
        try await withHarness { harness in
            let body = try WireJSON.encode(PushRequest(transactions: try harness.clientTransactions(1)))
            try await harness.expectRefused(401, "unauthorized") {
                try await harness.send("POST", "/v1/push", body: body, authorization: .some(authorization))
            }
            try await harness.expectRefused(401, "unauthorized") {
                try await harness.send("GET", "/v1/status", authorization: .some(authorization))
            }
            try await harness.expectRefused(401, "unauthorized") {
                try await harness.send(
                    "POST", "/v1/pull", body: try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector())),
                    authorization: .some(authorization))
            }
        }
    }

    @Test func tokenOfRegisteredPeerIsAccepted() async throws {
        try await withHarness { harness in
            let answer = try await harness.send("GET", "/v1/status")
            #expect(answer.status == 200)
            let status = try WireJSON.decode(StatusResponse.self, from: answer.body)
            #expect(status.siteID == harness.server.siteID && status.site == "NL-NCTV")
            #expect(status.protocolVersion == liaisonProtocolVersion)
        }
    }

    // MARK: Malformed requests

    @Test(arguments: [#"{"protocolVersion":1,"transactions":["#, "not json", "", #"{"protocolVersion":1,}"#])
    func malformedJSONIsRefused(body: String) async throws {
        try await withHarness { harness in
            try await harness.expectRefused(400, "malformed_request") {
                try await harness.send("POST", "/v1/push", body: Data(body.utf8))
            }
            try await harness.expectRefused(400, "malformed_request") {
                try await harness.send("POST", "/v1/pull", body: Data(body.utf8))
            }
        }
    }

    @Test(arguments: [
        #"[]"#,
        #"{"transactions":[]}"#,
        #"{"protocolVersion":"1","transactions":[]}"#,
        #"{"protocolVersion":1,"transactions":{"seq":1}}"#,
        #"{"protocolVersion":1,"transactions":[{"origin":"x","seq":1}]}"#,
        #"{"protocolVersion":1,"transactions":[{"author":"a","changes":[{"id":"t","op":"upsert","table":"topic"}],"context":{},"hlc":1,"offset":0,"origin":"x","seq":1,"site":"MA-DGST","total":1}]}"#,
        #"{"protocolVersion":1,"transactions":[{"author":"a","changes":[{"id":"t","op":"update","table":"topic","values":{"name":[1]}}],"context":{},"hlc":1,"offset":0,"origin":"x","seq":1,"site":"MA-DGST","total":1}]}"#,
    ])
    func pushOfTheWrongShapeIsRefused(body: String) async throws {
        try await withHarness { harness in
            let error = try await harness.expectRefused(400, "malformed_request") {
                try await harness.send("POST", "/v1/push", body: Data(body.utf8))
            }
            #expect(error.message.contains("PushRequest"))
        }
    }

    @Test(arguments: [
        #"{"protocolVersion":1,"cursor":"0"}"#, #"{"protocolVersion":1,"vector":[]}"#,
        #"{"protocolVersion":1,"vector":{"site":"three"}}"#,
    ])
    func pullOfTheWrongShapeIsRefused(body: String) async throws {
        try await withHarness { harness in
            try await harness.expectRefused(400, "malformed_request") {
                try await harness.send("POST", "/v1/pull", body: Data(body.utf8))
            }
        }
    }

    @Test(arguments: [
        ("GET", "/v1/changes"), ("GET", "/v2/status"), ("POST", "/v1/status"), ("GET", "/v1/push"), ("GET", "/"),
    ])
    func unknownEndpointIsNotFoundAsJSON(method: String, path: String) async throws {
        try await withHarness { harness in
            let error = try await harness.expectRefused(404, "not_found") { try await harness.send(method, path) }
            #expect(error.message.contains(path))
        }
    }

    @Test(arguments: [2, 0, -1])
    func wrongProtocolVersionIsRefused(version: Int) async throws {
        try await withHarness { harness in
            let push = PushRequest(protocolVersion: version, transactions: try harness.clientTransactions(1))
            let error = try await harness.expectRefused(400, "malformed_request") {
                try await harness.send("POST", "/v1/push", body: try WireJSON.encode(push))
            }
            #expect(error.message.contains("protocol version \(version)"))
            let pull = PullRequest(protocolVersion: version, cursor: nil, vector: VersionVector())
            try await harness.expectRefused(400, "malformed_request") {
                try await harness.send("POST", "/v1/pull", body: try WireJSON.encode(pull))
            }
        }
    }

    @Test(arguments: ["abc", "1:2", "1:2:3:4", "-1:0:0", "1:x:0", "1:0:99999999999", "::"])
    func badCursorIsRefused(cursor: String) async throws {
        try await withHarness { harness in
            let error = try await harness.expectRefused(400, "malformed_request") {
                try await harness.send(
                    "POST", "/v1/pull", body: try WireJSON.encode(PullRequest(cursor: cursor, vector: VersionVector())))
            }
            #expect(error.message.contains("cursor"))
        }
    }

    @Test(arguments: [0, -5])
    func nonPositiveLimitIsRefused(limit: Int) async throws {
        try await withHarness { harness in
            try await harness.expectRefused(400, "malformed_request") {
                try await harness.send(
                    "POST", "/v1/pull",
                    body: try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector(), limit: limit)))
            }
        }
    }

    // MARK: Transactions the server cannot apply

    /// A table or column unknown here may be one another site added (kept as opaque data, see
    /// SchemaEvolutionTests); renaming one after signing is refused as an alteration.
    @Test func pushRenamingATableAfterSigningIsRefused() async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            transaction.changes[0].table = "organisatoin"
            let error = try await harness.expectRefused(422, "invalid_transaction") {
                try await harness.push([transaction])
            }
            #expect(error.message.contains("altered"))
        }
    }

    @Test func pushAddingAColumnAfterSigningIsRefused() async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            transaction.changes[0].values?["nmae"] = "Returnees"
            let error = try await harness.expectRefused(422, "invalid_transaction") {
                try await harness.push([transaction])
            }
            #expect(error.message.contains("altered"))
        }
    }

    @Test(arguments: [
        ("name", CellValue.integer(42)), ("name", .null), ("scope", "Not A Scope"), ("owner", "nl-nctv"),
        ("description", .real(2.5)),
    ])
    func pushOfAValueOfTheWrongTypeIsRefused(column: String, value: CellValue) async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            transaction.changes[0].values?[column] = value
            // Changed after it was signed: refused as altered. (A genuine transaction with such a
            // value is held in quarantine with `type_mismatch`: QuarantineTests.)
            let error = try await harness.expectRefused(422, "invalid_transaction") {
                try await harness.push([transaction])
            }
            #expect(error.message.contains("forged or altered"))
        }
    }

    @Test(arguments: ["update without values", "write to id", "invalid site code", "seq 0"])
    func transactionWithAnInvalidHeaderOrChangeIsRefused(defect: String) async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            switch defect {
            case "update without values":
                transaction.changes[0].op = .update
                transaction.changes[0].values = nil
            case "write to id": transaction.changes[0].values?["id"] = "topic-other"
            case "invalid site code": transaction.site = "ma-dgst"
            default: transaction.seq = 0
            }
            try await harness.expectRefused(422, "invalid_transaction") { try await harness.push([transaction]) }
        }
    }

    @Test func invalidRowIDIsRefused() async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            transaction.changes[0].id = "topic with spaces"
            try await harness.expectRefused(422, "invalid_transaction") { try await harness.push([transaction]) }
        }
    }

    @Test func transactionOutOfSequenceIsRefused() async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            transaction.seq = 5
            let error = try await harness.expectRefused(422, "invalid_transaction") {
                try await harness.push([transaction])
            }
            #expect(error.message.contains("MA-DGST#5") && error.message.contains("MA-DGST#1"))
        }
    }

    @Test func transactionWithUnmetCausalContextIsRefused() async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            transaction.context["0d3e9a52-0000-4000-8000-000000000000"] = 2
            try await harness.expectRefused(422, "invalid_transaction") { try await harness.push([transaction]) }
        }
    }

    @Test func transactionClaimingTheServersOwnSiteIsRefused() async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            transaction.origin = harness.server.siteID
            transaction.site = harness.server.siteCode.rawValue
            transaction.seq = try harness.server.versionVector()[harness.server.siteID] + 1
            transaction.context = VersionVector()
            let error = try await harness.expectRefused(422, "invalid_transaction") {
                try await harness.push([transaction])
            }
            #expect(error.message.contains("claims to come from this replica"))
        }
    }

    @Test func transactionTenYearsInTheFutureIsRefused() async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            let tenYears: Int64 = 10 * 365 * 24 * 3600 * 1000
            transaction.hlc = HybridTimestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000) + tenYears)
            let error = try await harness.expectRefused(422, "clock_drift") { try await harness.push([transaction]) }
            #expect(error.message.contains("MA-DGST"))
        }
    }

    @Test func pieceThatLeavesAGapIsRefused() async throws {
        try await withHarness { harness in
            var first = try harness.clientTransactions(1)[0]
            first.total = 3
            // The first piece of a larger transaction is staged: accepted, nothing applied yet.
            let before = try harness.snapshot()
            let answer = try await harness.push([first])
            #expect(answer.status == 200, "\(answer.text)")
            let staged = try WireJSON.decode(PushResponse.self, from: answer.body)
            #expect(staged.applied == 0 && staged.skipped == 0)
            #expect(try harness.snapshot() == before)
            var gap = first
            gap.offset = 2
            let error = try await harness.expectRefused(422, "invalid_transaction") { try await harness.push([gap]) }
            #expect(error.message.contains("resend from 1"))
        }
    }

    @Test
    func pieceReachingPastItsTotalIsRefused() async throws {
        try await withHarness { harness in
            var transaction = try harness.clientTransactions(1)[0]
            transaction.total = 0
            try await harness.expectRefused(422, "invalid_transaction") { try await harness.push([transaction]) }
        }
    }

    @Test func oversizedBodyIsRefused() async throws {
        try await withHarness(configuration: ServerConfiguration(maxBodyBytes: 4096)) { harness in
            try harness.client.write(author: "karim") {
                try $0.set(
                    "topic", id: "topic-long",
                    ["name": "Long", "description": .text(String(repeating: "x", count: 5_000))])
            }
            let transactions = try harness.clientTransactions(0)
            let body = try WireJSON.encode(PushRequest(transactions: transactions))
            #expect(body.count > 4096)
            let error = try await harness.expectRefused(413, "payload_too_large") {
                try await harness.send("POST", "/v1/push", body: body)
            }
            #expect(error.message.contains("smaller batches"))
            try await harness.expectRefused(413, "payload_too_large") {
                try await harness.send("POST", "/v1/pull", body: Data(repeating: UInt8(ascii: " "), count: 5_000))
            }
        }
    }

    @Test func bodyWithinTheLimitIsAccepted() async throws {
        try await withHarness(configuration: ServerConfiguration(maxBodyBytes: 4096)) { harness in
            let answer = try await harness.push(try harness.clientTransactions(1))
            #expect(answer.status == 200, "\(answer.text)")
        }
    }

    // MARK: Atomicity and idempotency

    @Test(arguments: ["unknown table", "type mismatch", "gap"])
    func batchWhoseSecondTransactionIsBadAppliesNeither(defect: String) async throws {
        try await withHarness { harness in
            var transactions = try harness.clientTransactions(2)
            #expect(transactions.map(\.seq) == [1, 2])
            switch defect {
            case "unknown table": transactions[1].changes[0].table = "nope"
            case "type mismatch": transactions[1].changes[0].values?["name"] = .integer(1)
            default: transactions[1].seq = 3
            }
            try await harness.expectRefused(422, nil) { try await harness.push(transactions) }
            #expect(try harness.server.row("topic", id: "topic-ma-1") == nil)
            #expect(try harness.server.versionVector()[harness.client.siteID] == 0)
            // The first one alone is fine.
            // Sent alone, it carries the proof of its signed run (`Replica.withProofs`).
            let answer = try await harness.push(try harness.client.withProofs([transactions[0]]))
            #expect(answer.status == 200, "\(answer.text)")
            #expect(try harness.server.row("topic", id: "topic-ma-1")?["name"] == "Returnees 1")
        }
    }

    @Test func pushAppliedTwiceChangesNothingTheSecondTime() async throws {
        try await withHarness { harness in
            let transactions = try harness.clientTransactions(2)
            let first = try await harness.push(transactions)
            #expect(first.status == 200, "\(first.text)")
            let applied = try WireJSON.decode(PushResponse.self, from: first.body)
            #expect(applied.applied == 2 && applied.skipped == 0)
            #expect(applied.vector[harness.client.siteID] == 2)
            #expect(applied.vector == (try harness.server.versionVector()))
            let before = try harness.snapshot()

            let second = try await harness.push(transactions)
            #expect(second.status == 200, "\(second.text)")
            let skipped = try WireJSON.decode(PushResponse.self, from: second.body)
            #expect(skipped.applied == 0 && skipped.skipped == 2)
            #expect(skipped.vector == applied.vector)
            #expect(try harness.snapshot() == before)
        }
    }

    @Test func pullSkipsWhatTheRequesterHas() async throws {
        try await withHarness { harness in
            let everything = try await harness.pull(vector: VersionVector())
            #expect(!everything.transactions.isEmpty && !everything.hasMore)
            let serverVector = try harness.server.versionVector()
            let nothing = try await harness.pull(vector: serverVector)
            #expect(nothing.transactions.isEmpty && !nothing.hasMore)
            #expect(nothing.cursor == everything.cursor)
        }
    }

    // MARK: gzip

    @Test func largeResponsesAreGzippedWhenTheClientAcceptsIt() async throws {
        try await withHarness { harness in
            let body = try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector()))
            let plain = try await RawHTTP.exchange(harness.url, "POST", "/v1/pull", token: harness.token, body: body)
            #expect(plain.status == 200)
            #expect(plain.headers["content-encoding"] == nil)
            let page = try WireJSON.decode(PullResponse.self, from: plain.body)
            #expect(plain.body.count > 1_024)

            let zipped = try await RawHTTP.exchange(
                harness.url, "POST", "/v1/pull", token: harness.token, body: body,
                headers: ["Accept-Encoding": "gzip, deflate"])
            #expect(zipped.status == 200)
            #expect(zipped.headers["content-encoding"] == "gzip")
            #expect(zipped.headers["content-type"] == "application/json")
            #expect(zipped.body.prefix(2) == Data([0x1f, 0x8b]), "not a gzip stream")
            #expect(
                zipped.body.count < plain.body.count / 2, "gzip: \(zipped.body.count) bytes, plain: \(plain.body.count)"
            )

            // URLSession (libcurl) inflates it transparently: the same page arrives.
            let inflated = try await harness.send(
                "POST", "/v1/pull", body: body, headers: ["Accept-Encoding": "gzip"])
            #expect(inflated.status == 200)
            #expect(try WireJSON.decode(PullResponse.self, from: inflated.body) == page)
        }
    }

    @Test func smallResponsesAreNotGzipped() async throws {
        try await withHarness { harness in
            let status = try await RawHTTP.exchange(
                harness.url, "GET", "/v1/status", token: harness.token, headers: ["Accept-Encoding": "gzip"])
            #expect(status.status == 200)
            #expect(status.headers["content-encoding"] == nil)
            #expect(status.body.count <= 1_024)
            _ = try WireJSON.decode(StatusResponse.self, from: status.body)
        }
    }
}

// MARK: - Support

/// A server replica with the sample data, a client replica paired with it, and the shared token.
private struct Harness: Sendable {
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

private func withHarness(
    configuration: ServerConfiguration = ServerConfiguration(),
    _ body: @escaping @Sendable (Harness) async throws -> Void
) async throws {
    try await withPair(configuration: configuration) { pair in
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        try await body(
            Harness(
                server: pair.server, client: pair.client, url: "http://127.0.0.1:\(pair.port)", token: pair.peer.token,
                session: session))
    }
}

/// HTTP/1.1 over a plain socket, so the test sees the bytes on the wire (URLSession inflates gzip).
private enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func exchange(
        _ base: String, _ method: String, _ path: String, token: String, body: Data = Data(),
        headers: [String: String] = [:]
    ) async throws -> Harness.Answer {
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

    private static func parse(_ response: Data) throws -> Harness.Answer {
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
        return Harness.Answer(status: status, headers: headers, body: Data(response[end.upperBound...]))
    }
}
