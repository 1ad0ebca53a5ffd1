import Crypto
import Foundation

/// How a peer proves itself on every request without sending its token: an HMAC-SHA256, keyed by
/// the shared token, over the method, path, a timestamp, a nonce, the body's SHA-256 and the
/// sender's and the recipient's site ids.
///
/// `Authorization: Liaison key=<token id>, ts=<ms>, nonce=<hex>, from=<site id>, to=<site id>, body=<hex>, sig=<base64>`.
/// The header carries the body's hash, so a server checks the HMAC from the headers alone, before
/// it reserves anything for the request or reads a byte of its body; the body must then hash to
/// `body`. The server accepts a request only within `window` of its own clock, only once (a
/// captured request sent again is refused), and only when it names this server as recipient and
/// the registered peer as sender (a request captured on its way to another server, or reflected
/// back to its sender, is refused). Every request is bound: `from` is never empty, and `to` may be
/// empty only while the sender does not know the recipient yet (`clone`'s first `GET /v1/status`).
public struct RequestSignature: Sendable, Hashable {
    public var keyID: String
    public var timestamp: Int64
    public var nonce: String
    /// The sender's site id ('' only in a request that names none, which a server refuses).
    public var from: String
    /// The recipient's site id ('' when the sender does not know it yet).
    public var to: String
    /// The hex SHA-256 of the body ('' when the header does not carry it, which a server refuses).
    public var bodyHash: String
    public var signature: String

    /// How far a request's timestamp may be from the server's clock.
    public static let window: Int64 = 300_000

    /// The hex SHA-256 of an empty body (every `GET`).
    public static let emptyBodyHash = SiteKey.sha256Hex(Data())

    /// The public name of a token: the first 16 hex digits of its SHA-256 (the token itself never travels).
    public static func keyID(forToken token: String) -> String {
        String(SiteKey.sha256Hex(Data(token.utf8)).prefix(16))
    }

    /// Signs a request from site `from` to site `to` ('' only for a first `GET /v1/status`).
    public static func sign(
        token: String, method: String, path: String, body: Data, now: Int64, from: String, to: String
    ) -> RequestSignature {
        let nonce = SiteKey.hex((0..<12).map { _ in UInt8.random(in: 0...255) })
        let bodyHash = SiteKey.sha256Hex(body)
        return RequestSignature(
            keyID: keyID(forToken: token), timestamp: now, nonce: nonce, from: from, to: to, bodyHash: bodyHash,
            signature: mac(
                token: token, method: method, path: path, timestamp: now, nonce: nonce, bodyHash: bodyHash,
                from: from, to: to))
    }

    /// The signed text: `METHOD\nPATH\nTS\nNONCE\nSHA256(BODY)\nFROM\nTO`.
    static func mac(
        token: String, method: String, path: String, timestamp: Int64, nonce: String, bodyHash: String,
        from: String, to: String
    ) -> String {
        let message = "\(method)\n\(path)\n\(timestamp)\n\(nonce)\n\(bodyHash)\n\(from)\n\(to)"
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(code).base64EncodedString()
    }

    /// Why this request cannot be accepted whatever its HMAC (`nil` when it is bound): it names no
    /// sender, no recipient outside a first `GET /v1/status`, or no body hash.
    public func unboundReason(method: String, path: String) -> String? {
        if from.isEmpty || bodyHash.isEmpty {
            return "this request names no sender ('from=') or no body hash ('body='); every request must be signed "
                + "over its sender's and recipient's site ids and its body's hash: upgrade the client (docs/PROTOCOL.md, Authentication)"
        }
        if to.isEmpty && !(method == "GET" && path.hasSuffix("/v1/status")) {
            return "this request names no recipient ('to='); only a first GET /v1/status may: ask the status first, "
                + "then sign every request for the site id it answers with"
        }
        return nil
    }

    /// Whether the header's HMAC was made with `token` for this method and path (the body is
    /// checked apart, against `bodyHash`: `matches(body:)`).
    public func isValid(token: String, method: String, path: String) -> Bool {
        let expected = Self.mac(
            token: token, method: method, path: path, timestamp: timestamp, nonce: nonce, bodyHash: bodyHash,
            from: from, to: to)
        return constantTimeEqual(expected, signature)
    }

    /// Whether `body` is the body this request was signed over.
    public func matches(body: Data) -> Bool { constantTimeEqual(SiteKey.sha256Hex(body), bodyHash) }

    /// Whether this signature was made with `token` for this request and this body.
    public func isValid(token: String, method: String, path: String, body: Data) -> Bool {
        isValid(token: token, method: method, path: path) && matches(body: body)
    }

    /// The header value.
    public var headerValue: String {
        "Liaison key=\(keyID), ts=\(timestamp), nonce=\(nonce), from=\(from), to=\(to), body=\(bodyHash), sig=\(signature)"
    }

    /// Parses a header value; `nil` when it is not of this form. A header without `from`, `to` or
    /// `body` parses (with those empty) so that the server can say what it lacks.
    public init?(header: String) {
        guard header.hasPrefix("Liaison ") else { return nil }
        var fields: [String: String] = [:]
        for part in header.dropFirst("Liaison ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { fields[pair[0]] = pair[1] }
            if pair.count == 1, part.hasSuffix("=") { fields[pair[0]] = "" }
        }
        guard let key = fields["key"], let ts = fields["ts"].flatMap(Int64.init), let nonce = fields["nonce"],
            let sig = fields["sig"], nonce.count <= 64, key.count <= 64
        else { return nil }
        let from = fields["from"] ?? ""
        let to = fields["to"] ?? ""
        let bodyHash = fields["body"] ?? ""
        guard from.isEmpty || TrustStore.isValidSiteID(from), to.isEmpty || TrustStore.isValidSiteID(to),
            bodyHash.count <= 64
        else { return nil }
        self.init(keyID: key, timestamp: ts, nonce: nonce, from: from, to: to, bodyHash: bodyHash, signature: sig)
    }

    public init(
        keyID: String, timestamp: Int64, nonce: String, from: String, to: String, bodyHash: String, signature: String
    ) {
        self.keyID = keyID
        self.timestamp = timestamp
        self.nonce = nonce
        self.from = from
        self.to = to
        self.bodyHash = bodyHash
        self.signature = signature
    }
}

/// The HMAC an answer carries in `Liaison-Answer`, keyed by the token that signed the request:
/// HMAC-SHA256 over `answer\nSTATUS\nREQUEST NONCE\nSHA256(BODY)` (the body before gzip). A client
/// uses nothing of an answer that does not verify: no cursor, vector, page or `serverTime`.
public enum AnswerSignature {
    /// The name of the header.
    public static let header = "Liaison-Answer"

    public static func sign(token: String, status: Int, nonce: String, body: Data) -> String {
        let message = "answer\n\(status)\n\(nonce)\n\(SiteKey.sha256Hex(body))"
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(code).base64EncodedString()
    }

    public static func isValid(_ value: String?, token: String, status: Int, nonce: String, body: Data) -> Bool {
        guard let value else { return false }
        return constantTimeEqual(sign(token: token, status: status, nonce: nonce, body: body), value)
    }
}

private func constantTimeEqual(_ x: String, _ y: String) -> Bool {
    let a = Array(x.utf8)
    let b = Array(y.utf8)
    guard a.count == b.count else { return false }
    return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
}

extension Replica {
    /// Checks that a verified request names this server as recipient and `peer` (never this
    /// server) as sender: a request captured on its way elsewhere, or
    /// reflected back to its sender, is refused (`.unauthorized`).
    public func checkDirection(of signature: RequestSignature, from peer: PeerRecord, method: String, path: String)
        throws
    {
        let isFirstContact = method == "GET" && path.hasSuffix("/v1/status")
        guard signature.to == siteID || (signature.to.isEmpty && isFirstContact) else {
            throw LiaisonError(
                .unauthorized,
                "this request was signed for another site (\(signature.to.prefix(64))), not for this one; refused")
        }
        guard signature.from != siteID, peer.siteID.map({ $0 == signature.from }) ?? true else {
            throw LiaisonError(
                .unauthorized,
                "this request names sender \(signature.from.prefix(64)), not peer \(peer.name); a captured request "
                    + "reflected or redirected here is refused")
        }
    }
}

/// The freshness window of request signatures. Signatures seen within it are remembered in the
/// replica (`Replica+Replay.swift`), so a restart does not reopen it.
public enum ReplayGuard {
    /// The message for a signature whose timestamp lies outside the window around `now`; `nil` when it is fresh.
    public static func staleness(of signature: RequestSignature, now: Int64) -> String? {
        guard signature.timestamp < now - RequestSignature.window || signature.timestamp > now + RequestSignature.window
        else {
            return nil
        }
        let seconds = signature.timestamp.subtractingReportingOverflow(now).partialValue / 1000
        return "the request's timestamp is \(seconds) s from this server's clock (allowed: "
            + "\(RequestSignature.window / 1000) s); sign again with the serverTime of this answer"
    }
}
