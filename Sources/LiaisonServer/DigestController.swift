import Foundation
import Hummingbird
import Liaison
import NIOCore

/// `POST /v1/digest`: the fingerprints of the tables and scopes the peer may read, and one step of
/// range reconciliation over them. Nothing outside the peer's read grant is ever described.
struct DigestController {
    let replica: Replica
    let configuration: ServerConfiguration

    /// The most ranges and items one request may carry.
    static let maxRanges = 4_096
    static let maxItems = 100_000

    func register(on group: RouterGroup<PeerRequestContext>) {
        group.post("digest") { request, context in try await digest(request, context) }
    }

    func digest(_ request: Request, _ context: PeerRequestContext) async throws -> Response {
        guard let peer = context.peer, let signature = context.signature else {
            throw LiaisonError(.unauthorized, "the request is not authenticated")
        }
        let buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
        let body: DigestRequest
        do {
            body = try WireJSON.decode(DigestRequest.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw LiaisonError(
                .malformedRequest, "the request body is not a valid DigestRequest: \(SyncController.describe(error))")
        }
        guard body.protocolVersion == liaisonProtocolVersion else {
            throw LiaisonError(
                .malformedRequest,
                "protocol version \(body.protocolVersion) is not supported; this server speaks \(liaisonProtocolVersion)"
            )
        }
        let ranges = body.ranges ?? []
        guard ranges.count <= Self.maxRanges, ranges.reduce(0, { $0 + ($1.items?.count ?? 0) }) <= Self.maxItems else {
            throw LiaisonError(.malformedRequest, "too many ranges or items in one digest request; send fewer")
        }
        let readable = peer.readScopes
        let answer = try await replica.perform { replica -> DigestResponse in
            let vector = try replica.versionVector()
            guard let ranges = body.ranges else {
                return DigestResponse(
                    vector: vector, scopes: try replica.scopeDigests(readable: readable), readable: readable.sorted())
            }
            let (reply, _) = try replica.reconcileDigests(ranges, role: .server, readable: readable)
            return DigestResponse(vector: vector, ranges: reply)
        }
        let data = try WireJSON.encode(answer)
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[AnswerSigner.answerHeader] = AnswerSignature.sign(
            token: peer.token, status: 200, nonce: signature.nonce, body: data)
        if data.count > 1_024, SyncController.acceptsGzip(request.headers[.acceptEncoding]),
            let compressed = Gzip.compress(data)
        {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: compressed)))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
