import Crypto
import Foundation

/// How a peer proves itself on every request without sending its token: an HMAC-SHA256, keyed by
/// the shared token, over the method, path, a timestamp, a nonce, the sender's and the recipient's
/// site ids and the body's SHA-256.
///
/// `Authorization: Liaison key=<token id>, ts=<ms>, nonce=<hex>, from=<site id>, to=<site id>, sig=<base64>`.
/// The server accepts it only within `window` of its own clock, only once (a captured request sent
/// again is refused), and only when it names this server as recipient and the registered peer as
/// sender (a request captured on its way to another server, or reflected back to its sender, is
/// refused). `to` may be empty only while the sender does not know the recipient yet (`clone`'s
/// first `GET /v1/status`).
public struct RequestSignature: Sendable, Hashable {
    public var keyID: String
    public var timestamp: Int64
    public var nonce: String
    /// The sender's site id ('' when unbound).
    public var from: String
    /// The recipient's site id ('' when the sender does not know it yet).
    public var to: String
    public var signature: String

    /// How far a request's timestamp may be from the server's clock.
    public static let window: Int64 = 300_000

    /// The public name of a token: the first 16 hex digits of its SHA-256 (the token itself never travels).
    public static func keyID(forToken token: String) -> String {
        String(SiteKey.sha256Hex(Data(token.utf8)).prefix(16))
    }

    /// Signs a request from site `from` to site `to`.
    public static func sign(
        token: String, method: String, path: String, body: Data, now: Int64, from: String = "", to: String = ""
    ) -> RequestSignature {
        let nonce = SiteKey.hex((0..<12).map { _ in UInt8.random(in: 0...255) })
        return RequestSignature(
            keyID: keyID(forToken: token), timestamp: now, nonce: nonce, from: from, to: to,
            signature: mac(
                token: token, method: method, path: path, timestamp: now, nonce: nonce, from: from, to: to, body: body))
    }

    /// The signed text: `METHOD\nPATH\nTS\nNONCE\nSHA256(BODY)`, then `\nFROM\nTO` when either is set.
    static func mac(
        token: String, method: String, path: String, timestamp: Int64, nonce: String, from: String, to: String,
        body: Data
    ) -> String {
        var message = "\(method)\n\(path)\n\(timestamp)\n\(nonce)\n\(SiteKey.sha256Hex(body))"
        if !from.isEmpty || !to.isEmpty { message += "\n\(from)\n\(to)" }
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(code).base64EncodedString()
    }

    /// Whether this signature was made with `token` for this request.
    public func isValid(token: String, method: String, path: String, body: Data) -> Bool {
        let expected = Self.mac(
            token: token, method: method, path: path, timestamp: timestamp, nonce: nonce, from: from, to: to,
            body: body)
        return constantTimeEqual(expected, signature)
    }

    /// The header value.
    public var headerValue: String {
        "Liaison key=\(keyID), ts=\(timestamp), nonce=\(nonce)"
            + (from.isEmpty && to.isEmpty ? "" : ", from=\(from), to=\(to)") + ", sig=\(signature)"
    }

    /// Parses a header value; `nil` when it is not of this form.
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
        guard from.count <= 64, to.count <= 64 else { return nil }
        self.init(keyID: key, timestamp: ts, nonce: nonce, from: from, to: to, signature: sig)
    }

    public init(keyID: String, timestamp: Int64, nonce: String, from: String = "", to: String = "", signature: String) {
        self.keyID = keyID
        self.timestamp = timestamp
        self.nonce = nonce
        self.from = from
        self.to = to
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
    /// server) as sender, when it names them: a request captured on its way elsewhere, or
    /// reflected back to its sender, is refused (`.unauthorized`).
    public func checkDirection(of signature: RequestSignature, from peer: PeerRecord, method: String, path: String)
        throws
    {
        guard !signature.to.isEmpty || !signature.from.isEmpty else { return }
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

    /// The peer a request signature names, if its HMAC verifies; the timestamp and replay checks are
    /// the caller's (see `ReplayGuard`).
    ///
    /// - Throws: `.unauthorized` when the signature verifies but names another recipient, or this
    ///   server or another site than the registered peer as its sender (a reflected or misdirected
    ///   request).
    public func peer(for signature: RequestSignature, method: String, path: String, body: Data) throws -> PeerRecord? {
        guard
            let peer = try peers().first(where: {
                RequestSignature.keyID(forToken: $0.token) == signature.keyID
                    && signature.isValid(token: $0.token, method: method, path: path, body: body)
            })
        else { return nil }
        try checkDirection(of: signature, from: peer, method: method, path: path)
        return peer
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
