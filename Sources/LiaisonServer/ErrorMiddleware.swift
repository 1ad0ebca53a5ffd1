import Foundation
import Hummingbird
import Liaison
import Logging
import NIOCore

/// Turns every error into `{"error": code, "message": text}` with a fitting status, in one place.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as LiaisonError {
            if !error.isUsageError && error.code != .unauthorized && error.code != .forbiddenScope {
                context.logger.warning("request failed", metadata: ["error": "\(error)"])
            }
            return Self.response(
                status: Self.status(for: error.code), code: error.code.description, message: error.message)
        } catch let error as any HTTPResponseError {
            let code =
                error.status == .contentTooLarge
                ? "payload_too_large"
                : error.status.reasonPhrase.lowercased()
                    .replacingOccurrences(of: " ", with: "_")
            let message =
                error.status == .contentTooLarge
                ? "the request body is larger than this server accepts; send smaller batches"
                : error.status == .notFound
                    ? "no such endpoint: \(request.method) \(request.uri.path)" : "\(error.status)"
            return Self.response(status: error.status, code: code, message: message)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return Self.response(status: .internalServerError, code: "internal", message: "the server failed: \(error)")
        }
    }

    static func status(for code: LiaisonError.Code) -> HTTPResponse.Status {
        switch code {
        case .malformedRequest, .invalidInput: return .badRequest
        case .unauthorized: return .unauthorized
        case .forbiddenScope: return .forbidden
        case .notFound, .conflict: return .notFound
        case .identityConflict, .equivocation, .compactedHistory: return .conflict
        case .unknownTable, .unknownColumn, .typeMismatch, .invalidTransaction, .clockDrift, .schemaMismatch,
            .untrustedKey, .quarantineFull, .behindCheckpoint:
            return .unprocessableContent
        case .busy: return .serviceUnavailable
        default: return .internalServerError
        }
    }

    static func response(status: HTTPResponse.Status, code: String, message: String) -> Response {
        response(status: status, answer: ErrorResponse(error: code, message: message))
    }

    static func response(status: HTTPResponse.Status, answer: ErrorResponse) -> Response {
        let body = (try? WireJSON.encode(answer)) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
