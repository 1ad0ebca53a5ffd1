import Foundation
import HTTPTypes
import LiaisonProtocol
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request the HTTP parser rejects — a request line or header past its limits, bytes
/// that are not HTTP — with the same JSON error as every other refusal, then closes the
/// connection. Without it the client gets a bare `400` with an empty body.
final class ParserErrorResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let tooLarge: Bool
        switch parserError {
        case .headerOverflow: tooLarge = true
        default: tooLarge = false
        }
        let answer = ErrorResponse(
            error: tooLarge ? "header_too_large" : "malformed_request",
            message: tooLarge
                ? "the request line or headers are longer than this server accepts; send a shorter request"
                : "the request is not valid HTTP/1.1 (\(parserError)); send a well-formed request")
        let body = (try? WireJSON.encode(answer)) ?? Data()
        let status: HTTPResponse.Status =
            tooLarge ? .init(code: 431, reasonPhrase: "Request Header Fields Too Large") : .badRequest
        let head = HTTPResponse(
            status: status,
            headerFields: [.contentType: "application/json", .contentLength: String(body.count), .connection: "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
