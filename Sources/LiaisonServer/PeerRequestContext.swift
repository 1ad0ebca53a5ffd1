import Hummingbird
import Liaison
import Logging
import NIOCore

/// The request context: who the authenticated peer is.
public struct PeerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The registered peer behind the request signature, set by `PeerAuthenticator`.
    public var peer: PeerRecord?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.peer = nil
    }
}
