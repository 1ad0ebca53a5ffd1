import Hummingbird
import Liaison
import Logging
import NIOCore

/// The request context: who the authenticated peer is.
public struct PeerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The registered peer behind the request signature, set by `PeerAuthenticator`.
    public var peer: PeerRecord?
    /// The request's verified signature: its nonce keys the answer's HMAC (`AnswerSignature`).
    public var signature: RequestSignature?
    /// The connection the request came on (a parked live wait lets it be closed at the connection limit).
    public var channel: (any Channel)?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.peer = nil
        self.signature = nil
        self.channel = source.channel
    }
}
