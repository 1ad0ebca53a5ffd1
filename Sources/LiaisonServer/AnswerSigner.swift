import Foundation
import HTTPTypes
import Hummingbird
import Liaison
import NIOCore

/// Signs the answers to authenticated requests (`AnswerSignature`): error answers here, after the
/// authenticator, raising each into the security log; `SyncController` signs the others as it
/// writes them.
struct AnswerSigner: RouterMiddleware {
    typealias Context = PeerRequestContext
    /// Where refusals are raised (`SecurityLog.raise`).
    let securityLog: SecurityLog

    func handle(
        _ request: Request, context: PeerRequestContext, next: (Request, PeerRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as LiaisonError {
            guard let peer = context.peer, let signature = context.signature else { throw error }
            securityLog.raise(error, peer: peer.name, path: request.uri.path)
            return Self.signed(
                status: ErrorMiddleware<PeerRequestContext>.status(for: error.code),
                answer: ErrorResponse(error: error.code.description, message: error.message, digests: error.digests),
                peer: peer, signature: signature)
        }
    }

    /// An error answer with its HMAC.
    static func signed(
        status: HTTPResponse.Status, answer: ErrorResponse, peer: PeerRecord, signature: RequestSignature
    ) -> Response {
        let body = (try? WireJSON.encode(answer)) ?? Data()
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[answerHeader] = AnswerSignature.sign(
            token: peer.token, status: Int(status.code), nonce: signature.nonce, body: body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static let answerHeader = HTTPField.Name(AnswerSignature.header)!
}
