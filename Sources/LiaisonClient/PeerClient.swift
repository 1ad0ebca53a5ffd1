import AsyncHTTPClient
import Foundation
import Liaison
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOHTTPCompression

/// Speaks the `/v1` protocol to one peer over AsyncHTTPClient (SwiftNIO).
///
/// Every failure of the exchange — a refused or cut connection, a timeout, an error answer — comes
/// back as a `LiaisonError`; nothing is retried behind the caller's back except a request refused
/// only because this machine's clock differs from the peer's (then it is signed again in the peer's
/// time, once, if the answer carries the peer's HMAC and the offset is within `maxClockOffset`).
///
/// Requests name this site (`from`) and the peer (`to`); answers must carry the HMAC made with the
/// same token over the request's nonce (`AnswerSignature`), else nothing of them is used.
public struct PeerClient: Sendable {
    public let baseURL: URL
    let token: String
    let timeout: TimeInterval
    /// This replica's site id, named as sender in every request.
    public var from: String
    /// The peer's site id, named as recipient ('' until known: only `status` may then be asked).
    public var to: String
    /// The largest clock difference adopted from a peer's `stale_signature` answer, in ms (default 24 h).
    public var maxClockOffset: Int64 = PeerClient.defaultMaxClockOffset

    /// 24 hours, in ms.
    public static let defaultMaxClockOffset: Int64 = 24 * 3_600_000
    /// What this client learned about the peer's clock: add it to the local time when signing.
    private let clockOffset = ClockOffset()
    /// Called after every exchange with what it moved.
    public var onExchange: (@Sendable (Exchange) -> Void)?
    /// The schema and major version of the replica this client syncs: sent with every request
    /// (`Liaison-Schema`), and every answer that names another major is refused.
    public var schema: SchemaStamp?

    /// What one request and its answer moved.
    public struct Exchange: Sendable {
        /// The request body's bytes.
        public var sent: Int
        /// The answer's body, decompressed.
        public var received: Data
        /// The answer body's bytes as they crossed HTTP (gzip-compressed when the server compressed it).
        public var receivedOnWire: Int
    }

    /// The largest answer accepted, after decompression. Answers are inflated as they arrive
    /// (never a whole compressed body first), and an answer inflating past this is cut off there:
    /// a small gzip "bomb" costs a client at most this much. A pull page is ~2 MB; one transaction,
    /// however large, fits a push body (16 MiB by default), so 64 MiB leaves room.
    public static let maxAnswerBytes = 64 << 20

    /// - Parameters:
    ///   - from: this replica's site id: every request names its sender.
    ///   - to: the peer's site id, when known ('' allows only `status()`, whose answer names it).
    ///   - timeout: how long one exchange (request and whole answer) may take.
    /// - Throws: `LiaisonError` `.invalidInput` for a URL that is not http(s) or an empty `from`.
    public init(url: String, token: String, from: String, to: String = "", timeout: TimeInterval = 300) throws {
        guard !from.isEmpty else {
            throw LiaisonError(
                .invalidInput, "a peer client needs this replica's site id: every request names its sender")
        }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw LiaisonError(.invalidInput, "invalid peer URL '\(url)': expected http://HOST:PORT")
        }
        self.baseURL = parsed
        self.token = token
        self.timeout = timeout
        self.from = from
        self.to = to
    }

    public func status() async throws -> StatusResponse { try await send("status", body: Optional<PullRequest>.none) }

    public func schema() async throws -> SchemaDefinition { try await send("schema", body: Optional<PullRequest>.none) }

    public func pull(_ request: PullRequest) async throws -> PullResponse { try await send("pull", body: request) }

    /// Pushes `request`; `packed` writes its transactions in the packed form, which only a server
    /// whose status lists `"packed"` in `forms` reads.
    public func push(_ request: PushRequest, packed: Bool = false) async throws -> PushResponse {
        packed ? try await send("push", body: PackedPushRequest(request)) : try await send("push", body: request)
    }

    /// One step of a digest comparison (`POST /v1/digest`).
    public func digest(_ request: DigestRequest) async throws -> DigestResponse {
        try await send("digest", body: request)
    }

    func send<Body: Encodable, Answer: Decodable>(_ path: String, body: Body?) async throws -> Answer {
        guard !to.isEmpty || path == "status" else {
            throw LiaisonError(
                .invalidInput,
                "the site id of \(baseURL.absoluteString) is not known yet: ask its status first (requests are signed for it)"
            )
        }
        let url = baseURL.appendingPathComponent("v1").appendingPathComponent(path)
        let payload = try body.map { try WireJSON.encode($0) }
        var answer = try await exchange(url: url, payload: payload)
        if answer.status == 401, let refusal = try? JSONDecoder().decode(ErrorResponse.self, from: answer.body),
            refusal.error == "stale_signature", let serverTime = refusal.serverTime
        {
            guard answer.isSigned else { throw unsignedAnswer(answer.status) }
            let offset = serverTime.subtractingReportingOverflow(Self.now()).partialValue
            guard offset.magnitude <= maxClockOffset.magnitude else {
                throw LiaisonError(
                    .peer,
                    "\(baseURL.absoluteString)'s clock is \(offset / 3_600_000) h from this machine's, more than the "
                        + "\(maxClockOffset / 3_600_000) h allowed; set both clocks right (or raise --max-clock-offset)"
                )
            }
            clockOffset.value = offset
            answer = try await exchange(url: url, payload: payload)
        }
        guard answer.status == 200 else {
            let refusal = try? JSONDecoder().decode(ErrorResponse.self, from: answer.body)
            let code: LiaisonError.Code =
                switch answer.status {
                case 401: .unauthorized
                case 403: .forbiddenScope
                case 409 where refusal?.error == "equivocation": .equivocation
                case 409 where refusal?.error == "compacted_history": .compactedHistory
                case 409: .identityConflict
                case 422 where refusal?.error == "untrusted_key": .untrustedKey
                default: .peer
                }
            let details = refusal.map { "\($0.error): \($0.message)" } ?? "no details"
            throw LiaisonError(
                code,
                "\(baseURL.absoluteString) answered \(answer.status): \(details)"
                    + (answer.isSigned ? "" : " (this answer carries no valid signature of the peer)"))
        }
        guard answer.isSigned else { throw unsignedAnswer(answer.status) }
        do {
            return try WireJSON.decode(Answer.self, from: answer.body)
        } catch {
            throw LiaisonError(.peer, "\(baseURL.absoluteString) sent an unreadable \(Answer.self): \(error)")
        }
    }

    private func unsignedAnswer(_ status: Int) -> LiaisonError {
        LiaisonError(
            .unauthorized,
            "\(baseURL.absoluteString) answered \(status) without a valid signature made with the shared token "
                + "(forged or altered on the way, or not a liaison peer); nothing of it was used")
    }

    /// One signed request and its whole answer; `isSigned` tells whether the answer's HMAC verified.
    private func exchange(url: URL, payload: Data?) async throws -> (status: Int, body: Data, isSigned: Bool) {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = payload == nil ? .GET : .POST
        let signature = RequestSignature.sign(
            token: token, method: request.method.rawValue, path: url.path, body: payload ?? Data(),
            now: Self.now() + clockOffset.value, from: from, to: to)
        request.headers.add(name: "Authorization", value: signature.headerValue)
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        if let schema { request.headers.add(name: SchemaStamp.header, value: schema.headerValue) }
        if let payload {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: payload))
        }
        do {
            let response = try await Self.http.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let body = try await response.body.collect(upTo: Self.maxAnswerBytes)
            let data = Data(buffer: body, byteTransferStrategy: .noCopy)
            let onWire =
                response.headers.first(name: "Content-Encoding") == "gzip"
                ? response.headers.first(name: "Content-Length").flatMap(Int.init) ?? data.count : data.count
            onExchange?(Exchange(sent: payload?.count ?? 0, received: data, receivedOnWire: onWire))
            let status = Int(response.status.code)
            if let schema, let theirs = response.headers.first(name: SchemaStamp.header).flatMap(SchemaStamp.init),
                !theirs.isCompatible(with: schema)
            {
                throw SchemaMajor.refusal(
                    peer: baseURL.absoluteString, theirs: (theirs.name, theirs.major), ours: (schema.name, schema.major)
                )
            }
            let isSigned = AnswerSignature.isValid(
                response.headers.first(name: AnswerSignature.header), token: token, status: status,
                nonce: signature.nonce, body: data)
            return (status, data, isSigned)
        } catch let error as LiaisonError {
            throw error
        } catch {
            throw LiaisonError(.peer, "cannot reach \(baseURL.absoluteString): \(Self.describe(error))", cause: error)
        }
    }

    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            return "the connection was closed before the whole answer arrived; sync again to resume"
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
            return "no complete answer in time; sync again to resume"
        case let error as HTTPClientError where error == .connectTimeout:
            return "the connection timed out; is the peer's 'liaison serve' running?"
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            return "connection refused; is the peer's 'liaison serve' running at that address?"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case is NIOHTTPDecompression.DecompressionError:
            return
                "the answer inflates to more than \(maxAnswerBytes) bytes; this peer is not a Liaison server, or a hostile one"
        case is NIOTooManyBytesError:
            return "the answer is larger than \(maxAnswerBytes) bytes; ask for smaller pages"
        default:
            return "\(error)"
        }
    }

    /// One connection pool for the process: kept-alive connections are shared by every client.
    /// It lives as long as the process, so it is never shut down.
    private static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: .seconds(10), read: .seconds(300)),
            decompression: .enabled(limit: .size(maxAnswerBytes)))
        configuration.httpVersion = .http1Only
        configuration.redirectConfiguration = .disallow
        // A peer that is down fails the round at once (the next round tries again), rather than
        // after the pool's retries until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}

/// The offset a client learned between its clock and its peer's, shared by its copies.
private final class ClockOffset: @unchecked Sendable {
    private let lock = NSLock()
    private var milliseconds: Int64 = 0

    var value: Int64 {
        get { lock.withLock { milliseconds } }
        set { lock.withLock { milliseconds = newValue } }
    }
}
