import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection that holds the server without progress: idle too long, a request's headers
/// or body arriving too slowly. It also registers the connection (`ConnectionRegistry`) and closes
/// it after an answer marked `Connection: close` (refused requests: their body is never read).
///
/// It sits after the HTTP decoder; a `FirstByteWatcher` it puts at the front of the pipeline tells
/// it when the bytes of a new request begin.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase {
        /// No request under way; waiting for its first byte.
        case idle
        /// Bytes of a request arrived; waiting for the end of its headers.
        case head
        /// The head arrived; waiting for the end of its body.
        case body
        /// The request is whole; the server works on its answer (no deadline of this handler).
        case answering
    }

    private let registry: ConnectionRegistry
    private let idleTimeout: TimeAmount
    private let headerTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private var phase = Phase.idle
    private var deadline: Scheduled<Void>?
    private var closesAfterAnswer = false
    private var registered = false
    /// Told when a connection is closed to make room or refused at the limit.
    private let onShed: @Sendable (String) -> Void

    init(
        registry: ConnectionRegistry, idleTimeout: Duration, headerTimeout: Duration, bodyTimeout: Duration,
        onShed: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.registry = registry
        self.onShed = onShed
        self.idleTimeout = TimeAmount(idleTimeout)
        self.headerTimeout = TimeAmount(headerTimeout)
        self.bodyTimeout = TimeAmount(bodyTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(FirstByteWatcher(owner: self), position: .first)
        if context.channel.isActive { register(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        register(context)
        context.fireChannelActive()
    }

    private func register(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        if let victim = registry.admit(context.channel) {
            victim.close(promise: nil)
            if victim === context.channel {
                onShed("at the connection limit with every connection busy")
                return
            }
            onShed("the longest-idle connection closed to make room")
        }
        schedule(context, after: idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if registered { registry.remove(context.channel) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        registry.remove(context.channel)
        context.fireChannelInactive()
    }

    /// The client closed its side (it hung up): a parked live wait on this connection ends.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { registry.inputClosed(context.channel) }
        context.fireUserInboundEventTriggered(event)
    }

    /// Called by the watcher when bytes arrive.
    fileprivate func bytesArrived(_ context: ChannelHandlerContext) {
        guard phase == .idle else { return }
        phase = .head
        schedule(context, after: headerTimeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            phase = .body
            registry.setBusy(context.channel, true)
            schedule(context, after: bodyTimeout)
        case .body:
            break
        case .end:
            phase = .answering
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.headerFields[.connection] == "close" { closesAfterAnswer = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            if closesAfterAnswer {
                let channel = context.channel
                context.writeAndFlush(data).whenComplete { result in
                    promise?.completeWith(result)
                    channel.close(promise: nil)
                }
                return
            }
            context.write(data, promise: promise)
            // A request whose answer came before its whole body (a refusal) keeps its body deadline.
            guard phase == .answering else { return }
            phase = .idle
            registry.setBusy(context.channel, false)
            schedule(context, after: idleTimeout)
        }
    }

    private func schedule(_ context: ChannelHandlerContext, after delay: TimeAmount) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }
}

/// Tells `RequestDeadlines` when the bytes of a request begin, before the HTTP decoder sees them.
private final class FirstByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let owner: RequestDeadlines

    init(owner: RequestDeadlines) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.bytesArrived(context)
        context.fireChannelRead(data)
    }
}
