import Foundation
import Liaison
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Speaks the `/v1` protocol to one peer over URLSession (libcurl on Linux).
public struct PeerClient: Sendable {
    public let baseURL: URL
    let token: String
    let session: URLSession
    /// Called after every exchange with the bytes sent and the (decompressed) body received.
    public var onExchange: (@Sendable (_ sent: Int, _ received: Data) -> Void)?

    /// - Throws: `LiaisonError` `.invalidInput` for a URL that is not http(s).
    public init(url: String, token: String, timeout: TimeInterval = 300) throws {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw LiaisonError(.invalidInput, "invalid peer URL '\(url)': expected http://HOST:PORT")
        }
        self.baseURL = parsed
        self.token = token
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpAdditionalHeaders = ["Accept-Encoding": "gzip"]
        self.session = URLSession(configuration: configuration)
    }

    public func status() async throws -> StatusResponse { try await send("status", body: Optional<PullRequest>.none) }

    public func schema() async throws -> SchemaDefinition { try await send("schema", body: Optional<PullRequest>.none) }

    public func pull(_ request: PullRequest) async throws -> PullResponse { try await send("pull", body: request) }

    public func push(_ request: PushRequest) async throws -> PushResponse { try await send("push", body: request) }

    private func send<Body: Encodable, Answer: Decodable>(_ path: String, body: Body?) async throws -> Answer {
        let url = baseURL.appendingPathComponent("v1").appendingPathComponent(path)
        var request = URLRequest(url: url)
        var payload = Data()
        if let body {
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            payload = try WireJSON.encode(body)
            request.httpBody = payload
        }
        let signature = RequestSignature.sign(
            token: token, method: request.httpMethod ?? "GET", path: url.path, body: payload,
            now: Int64(Date().timeIntervalSince1970 * 1000))
        request.setValue(signature.headerValue, forHTTPHeaderField: "Authorization")
        // libcurl would otherwise send "Expect: 100-continue" with larger bodies and wait for an
        // interim answer the server never sends.
        request.setValue("", forHTTPHeaderField: "Expect")
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw LiaisonError(.peer, "cannot reach \(baseURL.absoluteString): \(error.localizedDescription)", cause: error)
        }
        onExchange?(request.httpBody?.count ?? 0, data)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            let answer = try? JSONDecoder().decode(ErrorResponse.self, from: data)
            let code: LiaisonError.Code = status == 401 ? .unauthorized : status == 403 ? .forbiddenScope : .peer
            throw LiaisonError(
                code, "\(baseURL.absoluteString) answered \(status): \(answer.map { "\($0.error): \($0.message)" } ?? "no details")")
        }
        do {
            return try WireJSON.decode(Answer.self, from: data)
        } catch {
            throw LiaisonError(.peer, "\(baseURL.absoluteString) sent an unreadable \(Answer.self): \(error)")
        }
    }
}
