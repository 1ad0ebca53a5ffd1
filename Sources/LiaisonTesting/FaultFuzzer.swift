import Foundation
import Liaison

/// Makes a seeded stream of hostile requests against the `/v1` endpoints of a server with the
/// cooperation schema: path tricks, malformed and deeply nested JSON, wrong types, huge numbers,
/// oversized bodies, unknown fields, SQL in table and column names, random bytes.
///
/// Every push it makes is unacceptable by construction (a poison that no mutation can turn into a
/// valid value), so a server that writes anything has a bug. Its parts: hostile pulls and
/// poisoned pushes (`FaultFuzzer+Push.swift`), damaged JSON (`FaultFuzzer+BrokenJSON.swift`).
public struct FaultFuzzer {
    var generator: SeededGenerator
    let token: String
    let serverSiteID: String
    let maxBody: Int
    var counter = 0

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

    mutating func int(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &generator) }
    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &generator) < probability
    }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    mutating func randomData(_ count: Int) -> Data {
        Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    mutating func randomUUID() -> String {
        let hex = (0..<32).map { _ in String(int(16), radix: 16) }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    static var nowHLC: Int64 { Int64(Date().timeIntervalSince1970 * 1000) << 16 }

    static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed])) ?? Data("{}".utf8)
    }

    /// Values of the wrong type for any field: none of them decodes as a string, an integer or an array
    /// where those are expected... except where the field takes a cell value, which the poisons cover.
    mutating func wrongValue() -> Any {
        pick(
            [
                NSNull(), "string", true, 1.5, -0.5, [1, 2], ["nested": ["deeper": [1]]], [Any](), [String: Any](),
                String(repeating: "x", count: 10_000), Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude,
            ] as [Any])
    }

    mutating func hugeNumberLiteral() -> String {
        pick([
            "1" + String(repeating: "0", count: 400), "1e999999", "-1e999999", "9223372036854775808",
            "-9223372036854775809", "18446744073709551616", "0.000000000000000000000000000001e-99999", "1E+400",
            "123456789012345678901234567890.5",
        ])
    }

    // MARK: - Paths

    mutating func pathTrick() -> FaultRequest {
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

    // MARK: - Authorization, size, noise

    mutating func badAuthorization() -> FaultRequest {
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
            unbound(), path == "/v1/status" ? unbound() : signed(token: token, to: ""),
            signed(token: token, to: "another-site"),
            signed(token: token, from: serverSiteID), signed(token: token, from: "bad\u{1b}[31msite"),
            signed(token: token).replacingOccurrences(of: "body=", with: "body=0"),
        ])
        var headers: [FaultHeader] = []
        if let value { headers.append(FaultHeader(name: "Authorization", value: value)) }
        return FaultRequest(
            method: method, path: path, headers: headers, body: body, token: nil, kind: "bad authorization",
            expectation: .refused)
    }

    mutating func oversized() -> FaultRequest {
        let size = maxBody + 1 + int(maxBody)
        var body = Data("{\"protocolVersion\":1,\"cursor\":\"0\",\"vector\":{},\"transactions\":[],\"pad\":\"".utf8)
        body.append(Data(repeating: UInt8(ascii: "p"), count: size))
        body.append(Data("\"}".utf8))
        let path = pick(["/v1/push", "/v1/pull"])
        return FaultRequest(
            method: "POST", path: path, headers: [], body: body, token: token, kind: "a body past the limit to \(path)",
            expectation: .refused)
    }

    mutating func randomBytes() -> FaultRequest {
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
