import Foundation
import Liaison

/// One hostile request and what the server may answer to it.
public struct FaultRequest: Sendable, CustomStringConvertible {
    public enum Expectation: Sendable {
        /// A 4xx JSON error and nothing else.
        case refused
        /// A 4xx JSON error, or a 200 that writes nothing (a pull, a status, a push that applies nothing).
        case harmless
    }

    public var method: String
    public var path: String
    public var headers: [FaultHeader]
    public var body: Data?
    /// The token the request is signed with, if any (as a registered peer signs: bound to the
    /// harness's site id as sender and the server's as recipient).
    public var token: String?
    /// The recipient the signature names (the server's site id).
    public var to: String? = nil
    /// What the request tries, for reports.
    public var kind: String
    public var expectation: Expectation

    public var isPush: Bool { path == "/v1/push" && method == "POST" }

    public var description: String {
        let shown = body.map { String(decoding: $0.prefix(160), as: UTF8.self).debugDescription } ?? "no body"
        return "\(kind): \(method) \(path.prefix(120)) (\(body?.count ?? 0) bytes: \(shown))"
    }

    public func bytes(port: Int) -> Data {
        FaultHTTP.request(
            method, path, port: port, token: token, to: to, body: body, headers: headers.map { ($0.name, $0.value) })
    }
}

public struct FaultHeader: Sendable {
    public var name: String
    public var value: String
}

/// Makes a seeded stream of hostile requests against the `/v1` endpoints of a server with the
/// cooperation schema: path tricks, malformed and deeply nested JSON, wrong types, huge numbers,
/// oversized bodies, unknown fields, SQL in table and column names, random bytes.
///
/// Every push it makes is unacceptable by construction (a poison that no mutation can turn into a
/// valid value), so a server that writes anything has a bug.
public struct FaultFuzzer {
    private var generator: SeededGenerator
    private let token: String
    private let serverSiteID: String
    private let maxBody: Int
    private var counter = 0

    public init(seed: UInt64, token: String, serverSiteID: String, maxBody: Int) {
        self.generator = SeededGenerator(seed: seed)
        self.token = token
        self.serverSiteID = serverSiteID
        self.maxBody = maxBody
    }

    /// The next hostile request. Every signed request is bound, as a real peer signs: from the
    /// harness's site id to the server's.
    public mutating func next() -> FaultRequest {
        counter += 1
        let roll = int(100)
        var request: FaultRequest
        switch roll {
        case 0..<10: request = pathTrick()
        case 10..<30: request = hostilePull()
        case 30..<55: request = poisonedPush()
        case 55..<80: request = brokenJSON()
        case 80..<86: request = badAuthorization()
        case 86..<92: request = oversized()
        default: request = randomBytes()
        }
        request.to = serverSiteID
        return request
    }

    // MARK: - Random helpers

    private mutating func int(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &generator) }
    private mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &generator) < probability
    }
    private mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    private mutating func randomData(_ count: Int) -> Data {
        Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    private mutating func randomUUID() -> String {
        let hex = (0..<32).map { _ in String(int(16), radix: 16) }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    private static var nowHLC: Int64 { Int64(Date().timeIntervalSince1970 * 1000) << 16 }

    private static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed])) ?? Data("{}".utf8)
    }

    /// Values of the wrong type for any field: none of them decodes as a string, an integer or an array
    /// where those are expected... except where the field takes a cell value, which the poisons cover.
    private mutating func wrongValue() -> Any {
        pick(
            [
                NSNull(), "string", true, 1.5, -0.5, [1, 2], ["nested": ["deeper": [1]]], [Any](), [String: Any](),
                String(repeating: "x", count: 10_000), Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude,
            ] as [Any])
    }

    private mutating func hugeNumberLiteral() -> String {
        pick([
            "1" + String(repeating: "0", count: 400), "1e999999", "-1e999999", "9223372036854775808",
            "-9223372036854775809", "18446744073709551616", "0.000000000000000000000000000001e-99999", "1E+400",
            "123456789012345678901234567890.5",
        ])
    }

    // MARK: - Paths

    private mutating func pathTrick() -> FaultRequest {
        let long = String(repeating: pick(["a", "%2e", "../", "%00"]), count: pick([1_000, 4_000, 16_000]))
        let path = pick([
            "/v1/../v1/status", "/v1/%2e%2e/v1/status", "/v1/./status", "/%2e%2e/%2e%2e/etc/passwd", "/v1/status/..",
            "//v1//status", "/v1/status%00", "/v1/status;x=1", "/v1/%73tatus", "/V1/STATUS", "/v1/status?cursor=1",
            "/v1/status#fragment", "/v1/%F0%9F%98%80", "/v1/push/extra", "/v1/%ZZ", "/v1/status%2F..%2F..%2F",
            "/v1/pull?" + long, "/v1/" + long, "/" + long, "/v2/status", "/v1", "/", "/v1/schema/../../",
            "/v1/status/%2e%2e/push", "/v1/..%2fpush", "/v1/%252e%252e/status",
        ])
        let method = pick(["GET", "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
        let body: Data? = method == "GET" ? nil : Self.json(["protocolVersion": 1, "cursor": "0", "vector": [:]])
        return FaultRequest(
            method: method, path: path, headers: [], body: body, token: token, kind: "path trick",
            expectation: .harmless)
    }

    // MARK: - Pull

    private mutating func hostilePull() -> FaultRequest {
        var request: [String: Any] = ["protocolVersion": 1, "cursor": "0", "vector": [String: Any]()]
        switch int(6) {
        case 0:
            request["cursor"] = pick(
                [
                    "abc", "1:2", "-1:0:0", "0:0:2147483648", "9223372036854775806:0:0", "9223372036854775807:0:0",
                    "9223372036854775807:9223372036854775807:2147483647", "1:9223372036854775807:0",
                    "0:0:1", "١:٠:٠", " 1:0:0", "1:0:0 ", "0x10:0:0", "+1:0:0",
                    String(repeating: "9", count: 100) + ":0:0",
                    String(repeating: "1:", count: 5_000), "1:0:0\u{0}", "::", "", "0",
                    "organisation; DROP TABLE topic", NSNull(), 5, ["a"], ["order": 1],
                ] as [Any])
        case 1:
            request["vector"] = pick(
                [
                    ["x": -1], ["x": Int64.max], ["x": 1.5], ["x": "1"], [Any](), "abc", NSNull(),
                    [serverSiteID: Int64.max], [serverSiteID: Int64.min], ["'; DROP TABLE _liaison_tx; --": 1],
                ] as [Any])
        case 2:
            var vector: [String: Any] = [:]
            for index in 0..<(pick([100, 5_000])) { vector["site-\(index)-\(randomUUID())"] = index }
            request["vector"] = vector
        case 3:
            request["limit"] = pick([0, -1, Int64.max, Int64.min, 1.5, "10", NSNull(), 1e30, [1]] as [Any])
        case 4:
            request["protocolVersion"] = pick([0, 2, -1, "1", NSNull(), 1.5, Int64.max] as [Any])
        default:
            request["extra"] = wrongValue()
            request["cursor"] = pick(["0", "0:0:0", "1:0:0"])
            request[pick(["Cursor", "vector ", "\u{0}", "__proto__", "constructor"])] = wrongValue()
        }
        let body = Self.json(request)
        return FaultRequest(
            method: "POST", path: "/v1/pull", headers: [], body: body, token: token, kind: "hostile pull",
            expectation: .harmless)
    }

    // MARK: - Push

    /// A transaction from a new site that the server would apply if nothing were wrong with it.
    private mutating func validTransaction() -> [String: Any] {
        let number = counter * 1_000 + int(1_000)
        return [
            "origin": randomUUID(), "site": "MA-DGST", "seq": 1, "hlc": Self.nowHLC, "author": "fuzz",
            "context": [String: Any](),
            "total": 1, "offset": 0,
            "changes": [
                [
                    "table": "topic", "id": "topic-fuzz-\(number)", "op": "insert",
                    "values": [
                        "name": "Fuzz \(number)", "scope": "public", "owner": "MA-DGST", "description": NSNull(),
                    ],
                ] as [String: Any]
            ],
        ]
    }

    /// Makes `transaction` unacceptable and says how.
    private mutating func poison(_ transaction: inout [String: Any]) -> (String, FaultRequest.Expectation) {
        var change = (transaction["changes"] as! [[String: Any]])[0]
        var values = change["values"] as! [String: Any]
        let result: (String, FaultRequest.Expectation)
        switch int(14) {
        case 0:
            change["table"] = pick([
                "organisation; DROP TABLE topic", "topic; --", "\"topic\"", "topic\"--", "sqlite_master",
                "_liaison_meta",
                "_liaison_tx", "topic WHERE 1=1", "", "TOPIC", "topic ", String(repeating: "t", count: 5_000),
                "top\u{0}ic",
                "../topic", "organisation'); DROP TABLE topic;--", "main.topic", "temp.topic", "topic/*",
            ])
            result = ("SQL in a table name", .refused)
        case 1:
            values[
                pick([
                    "name\"--", "name = 'x'; --", "rowid", "_rowid_", "oid", "", "nmae", "id", "NAME", "name\u{0}",
                    "\"name\"",
                    String(repeating: "c", count: 3_000), "scope; DROP TABLE topic", "name\" = 'x' WHERE 1=1; --",
                ])
            ] = "Injected"
            result = ("SQL in a column name", .refused)
        case 2:
            switch int(4) {
            case 0: values["name"] = pick([42, NSNull(), 1.5, Int64.max] as [Any])
            case 1:
                values["scope"] = pick([
                    "Not A Scope", "'; DROP TABLE topic; --", "", String(repeating: "s", count: 500),
                ])
            case 2: values["owner"] = pick(["nl-nctv", "", String(repeating: "X", count: 40), "NL NCTV"])
            default: values["name"] = pick([true, [1], ["a": 1]] as [Any])
            }
            result = ("a value of the wrong type", .refused)
        case 3:
            transaction["seq"] = pick([0, -1, Int64.min, 2, Int64.max, 1_000_000] as [Int64])
            result = ("a sequence number out of order", .refused)
        case 4:
            transaction["hlc"] = pick([Int64.max, Self.nowHLC + (86_400_000 << 16), Self.nowHLC + (3_600_000 << 16)])
            result = ("a timestamp far ahead", .refused)
        case 5:
            transaction["total"] = pick([0, -1, Int.min])
            result = ("a total smaller than its changes", .refused)
        case 6:
            transaction["offset"] = pick([-1, 5, Int.min, Int.max - 10, Int.max])
            result = ("an offset past its total", .refused)
        case 7:
            change["id"] = pick(["", "with space", "\u{7f}", String(repeating: "i", count: 129), "a\nb", "tab\there"])
            result = ("an invalid row id", .refused)
        case 8:
            if chance(0.5) {
                transaction["origin"] = ""
            } else {
                transaction["site"] = pick([
                    "ma-dgst", "'; DROP TABLE topic; --", "", "M", String(repeating: "A", count: 40),
                ])
            }
            result = ("an invalid origin", .refused)
        case 9:
            transaction["context"] = [randomUUID(): pick([3, 1, Int64.max] as [Int64])]
            result = ("an unmet causal context", .refused)
        case 10:
            change["op"] = "update"
            transaction["changes"] = [change.filter { $0.key != "values" }]
            return ("an update without values", .refused)
        case 11:
            transaction["origin"] = serverSiteID
            transaction["site"] = "NL-NCTV"
            if chance(0.5) {
                transaction["seq"] = 1
                result = ("the server's own transaction again", .harmless)
            } else {
                transaction["seq"] = pick([1_000, 50] as [Int64])
                result = ("a transaction claiming the server's own site", .refused)
            }
        case 12:
            transaction["total"] = pick([2, 1_000])
            result = ("the first piece of a larger transaction (staged)", .harmless)
        default:
            change["table"] = pick(["nope", "organisation; DROP TABLE topic"])
            transaction["extra"] = wrongValue()
            change["unknownField"] = wrongValue()
            result = ("unknown fields and an unknown table", .refused)
        }
        change["values"] = values
        transaction["changes"] = [change]
        return result
    }

    private mutating func poisonedPushObject() -> ([String: Any], String, FaultRequest.Expectation) {
        if chance(0.08) { return impossiblySizedBatch() }
        var transaction = validTransaction()
        let (kind, expectation) = poison(&transaction)
        var transactions: [[String: Any]] = [transaction]
        var label = kind
        if expectation == .refused && chance(0.2) {
            // A valid transaction first: the batch must be refused whole.
            transactions.insert(validTransaction(), at: 0)
            label = "a valid transaction, then " + kind
            return (["protocolVersion": 1, "transactions": transactions], label, .refused)
        }
        if chance(0.05) {
            transactions = Array(repeating: transaction, count: 2_000)
            label = "2,000 copies of " + kind
        }
        var push: [String: Any] = ["protocolVersion": 1, "transactions": transactions]
        if chance(0.1) { push["protocolVersion"] = pick([0, 2, -1, "1", NSNull(), 1.5] as [Any]) }
        if chance(0.1) { push["unknown"] = wrongValue() }
        return (push, label, expectation)
    }

    /// Five transactions of a site whose key the push itself brings, so the server checks their
    /// signatures ahead on every core; one claims a size far beyond the changes it carries.
    private mutating func impossiblySizedBatch() -> ([String: Any], String, FaultRequest.Expectation) {
        let origin = randomUUID()
        var batch: [[String: Any]] = (1...5).map { seq in
            var transaction = validTransaction()
            transaction["origin"] = origin
            transaction["seq"] = seq
            transaction["signature"] = randomData(64).base64EncodedString()
            return transaction
        }
        let size = pick([Int.max / 2, Int.max, 1 << 40, 1 << 31])
        let victim = int(batch.count)
        batch[victim]["total"] = size
        batch[victim]["span"] = size
        let keys = [origin: ["key": randomData(32).base64EncodedString(), "site": "MA-DGST"]]
        return (
            ["protocolVersion": 1, "transactions": batch, "keys": keys],
            "a batch with its key, one transaction claiming \(size) changes", .refused
        )
    }

    private mutating func poisonedPush() -> FaultRequest {
        let (push, kind, expectation) = poisonedPushObject()
        return FaultRequest(
            method: "POST", path: "/v1/push", headers: [], body: Self.json(push), token: token,
            kind: "push with " + kind,
            expectation: expectation)
    }

    // MARK: - Broken JSON

    /// A poisoned push (or a pull) whose JSON text is then damaged in a way that cannot turn a
    /// poison into a valid value.
    private mutating func brokenJSON() -> FaultRequest {
        let isPush = chance(0.6)
        var text: Data
        // Damage may leave the JSON readable (a byte inside a key): the poison then decides.
        var expectation = FaultRequest.Expectation.harmless
        if isPush {
            let (push, _, poison) = poisonedPushObject()
            text = Self.json(push)
            expectation = poison
        } else {
            text = Self.json(["protocolVersion": 1, "cursor": "0", "vector": [String: Any]()])
        }
        let damage: String
        switch int(11) {
        case 0:
            text = text.prefix(int(max(1, text.count)))
            damage = "truncated JSON"
        case 1, 2:
            let bytes: [UInt8] = [0x00, 0xff, 0x7b, 0x22, 0x5c, 0x5d]
            var damaged = [UInt8](text)
            for _ in 0..<(1 + int(3)) {
                let position = int(damaged.count)
                if chance(0.5) { damaged[position] = pick(bytes) } else { damaged.insert(pick(bytes), at: position) }
            }
            text = Data(damaged)
            damage = "damaged JSON"
        case 3:
            let depth = pick([1_000, 10_000, 100_000])
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let place = pick(["transactions", "vector", "cursor", "protocolVersion", "top"])
            text = Data(
                (place == "top"
                    ? nested
                    : "{\"protocolVersion\":1,\"cursor\":\"0\",\"vector\":{},\"transactions\":[],\"\(place)\":\(nested)}")
                    .utf8)
            damage = "\(depth) nested arrays at \(place)"
        case 4:
            let depth = pick([1_000, 10_000])
            text = Data((String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)).utf8)
            damage = "\(depth) nested objects"
        case 5:
            let literal = hugeNumberLiteral()
            let field = pick(["protocolVersion", "seq", "hlc", "total", "offset", "limit"])
            text = Data(
                "{\"protocolVersion\":\(field == "protocolVersion" ? literal : "1"),\"cursor\":\"0\",\"vector\":{},\"limit\":\(field == "limit" ? literal : "10"),\"transactions\":[{\"origin\":\"\(randomUUID())\",\"site\":\"MA-DGST\",\"seq\":\(field == "seq" ? literal : "2"),\"hlc\":\(field == "hlc" ? literal : "1"),\"author\":\"a\",\"context\":{},\"total\":\(field == "total" ? literal : "1"),\"offset\":\(field == "offset" ? literal : "0"),\"changes\":[{\"table\":\"nope\",\"id\":\"t\",\"op\":\"insert\",\"values\":{\"name\":\"x\"}}]}]}"
                    .utf8)
            damage = "a huge number in \(field)"
        case 6:
            var damaged = [UInt8](text)
            let position = int(damaged.count)
            damaged.insert(
                contentsOf: pick([[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]),
                at: position)
            text = Data(damaged)
            damage = "invalid UTF-8"
        case 7:
            text = Data(
                pick(["", "null", "[]", "\"push\"", "123", "{}", "true", "{\"protocolVersion\":1}", " ", "\u{FEFF}{}"])
                    .utf8)
            damage = "a JSON value of the wrong shape"
        case 8:
            text = Data([0xef, 0xbb, 0xbf]) + text + Data("/* comment */".utf8)
            damage = "a byte order mark and a comment"
        case 9:
            // Every field of a pull or push of the wrong type.
            let field = pick(["protocolVersion", "transactions", "cursor", "vector", "limit"])
            var object: [String: Any] = [
                "protocolVersion": 1, "cursor": "0", "vector": [String: Any](), "transactions": [Any](),
            ]
            object[field] = wrongValue()
            if isPush { object["transactions"] = [["origin": 5, "seq": "one", "changes": "none"]] }
            text = Self.json(object)
            damage = "wrong types"
        default:
            text = Data(
                "{\"protocolVersion\":1,\"transactions\":[{\"origin\":\"\(randomUUID())\",\"site\":\"MA-DGST\",\"seq\":2,\"hlc\":1,\"author\":\"\(String(repeating: "a", count: 200_000))\",\"context\":{},\"total\":1,\"offset\":0,\"changes\":[{\"table\":\"nope\",\"id\":\"t\",\"op\":\"insert\",\"values\":{}}]}]}"
                    .utf8)
            damage = "a 200 kB string"
        }
        let path = isPush ? "/v1/push" : "/v1/pull"
        return FaultRequest(
            method: "POST", path: path, headers: [], body: text, token: token, kind: damage + " to " + path,
            expectation: expectation)
    }

    // MARK: - Authorization, size, noise

    private mutating func badAuthorization() -> FaultRequest {
        let path = pick(["/v1/status", "/v1/schema", "/v1/pull", "/v1/push"])
        let method = path.hasSuffix("pull") || path.hasSuffix("push") ? "POST" : "GET"
        let body: Data? = method == "POST" ? Self.json(poisonedPushObject().0) : nil
        let now = FaultHTTP.nowMilliseconds
        let sender = FaultHTTP.harnessSender
        func signed(
            token: String, method: String = method, path: String = path, body: Data? = body, at time: Int64 = now,
            from: String = sender, to: String = serverSiteID
        ) -> String {
            RequestSignature.sign(
                token: token, method: method, path: path, body: body ?? Data(), now: time, from: from, to: to
            ).headerValue
        }
        /// A header of the old, unbound form: no sender, recipient or body hash (refused whatever its HMAC).
        func unbound() -> String {
            let signature = RequestSignature.sign(
                token: token, method: method, path: path, body: body ?? Data(), now: now, from: sender,
                to: serverSiteID)
            return "Liaison key=\(signature.keyID), ts=\(now), nonce=\(signature.nonce), sig=\(signature.signature)"
        }
        let value: String? = pick([
            nil, "Bearer \(token)", "Bearer not-a-token", "Basic dG9rZW46dG9rZW4=", token,
            signed(token: "a-token-nobody-registered"), signed(token: token, path: "/v1/elsewhere"),
            signed(token: token, body: Data("{}".utf8)), signed(token: token, method: "DELETE"),
            signed(token: token, at: now - 3_600_000), signed(token: token, at: now + 3_600_000),
            signed(token: token, at: Int64.max), signed(token: token, at: Int64.min),
            "Liaison key=, ts=, nonce=, sig=", "Liaison " + String(repeating: "key=x,", count: 2_000),
            "Liaison key=\(String(repeating: "k", count: 65)), ts=1, nonce=n, sig=s",
            signed(token: token).replacingOccurrences(of: "sig=", with: "sig=A"),
            unbound(), path == "/v1/status" ? unbound() : signed(token: token, to: ""), signed(token: token, to: "another-site"),
            signed(token: token, from: serverSiteID), signed(token: token, from: "bad\u{1b}[31msite"),
            signed(token: token).replacingOccurrences(of: "body=", with: "body=0"),
        ])
        var headers: [FaultHeader] = []
        if let value { headers.append(FaultHeader(name: "Authorization", value: value)) }
        return FaultRequest(
            method: method, path: path, headers: headers, body: body, token: nil, kind: "bad authorization",
            expectation: .refused)
    }

    private mutating func oversized() -> FaultRequest {
        let size = maxBody + 1 + int(maxBody)
        var body = Data("{\"protocolVersion\":1,\"cursor\":\"0\",\"vector\":{},\"transactions\":[],\"pad\":\"".utf8)
        body.append(Data(repeating: UInt8(ascii: "p"), count: size))
        body.append(Data("\"}".utf8))
        let path = pick(["/v1/push", "/v1/pull"])
        return FaultRequest(
            method: "POST", path: path, headers: [], body: body, token: token, kind: "a body past the limit to \(path)",
            expectation: .refused)
    }

    private mutating func randomBytes() -> FaultRequest {
        let path = pick(["/v1/push", "/v1/pull", "/v1/status", "/v1/nowhere"])
        let body = randomData(int(4_000))
        let contentType = pick([
            "application/json", "application/octet-stream", "text/plain; charset=utf-16", "multipart/form-data",
        ])
        return FaultRequest(
            method: "POST", path: path, headers: [FaultHeader(name: "Content-Type", value: contentType)], body: body,
            token: token, kind: "random bytes to \(path)", expectation: path == "/v1/pull" ? .harmless : .refused)
    }
}
