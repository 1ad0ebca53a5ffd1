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
