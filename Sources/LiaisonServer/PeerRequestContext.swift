import Hummingbird
import Logging
import NIOCore

/// The request context: who the authenticated peer is.
public struct PeerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The registered peer name behind the bearer token, set by `PeerAuthenticator`.
    public var peer: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.peer = nil
    }
}
