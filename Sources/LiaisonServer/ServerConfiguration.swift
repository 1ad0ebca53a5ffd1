import Liaison

/// How a Liaison peer endpoint listens and what it accepts.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// The size of a pull page.
    public var pageLimits: PageLimits
    /// A connection with no request under way (none begun, or only the first bytes of one) is closed after this.
    public var idleTimeout: Duration
    /// A request's line and headers must arrive within this of its first byte.
    public var headerTimeout: Duration
    /// A request's body must arrive within this of its headers.
    public var bodyTimeout: Duration
    /// The most connections open at once. At the limit a new connection closes the oldest idle one
    /// (no request under way); when none is idle the new one is closed.
    public var maxConnections: Int
    /// The most request-body bytes buffered at once, over all requests (answered 503 beyond).
    public var maxBufferedBytes: Int
    /// The most requests of one peer handled at once (answered 503 beyond).
    public var maxRequestsPerPeer: Int
    /// The most live waits (`POST /v1/live`) parked at once, one per peer (`nil`: half the connection limit).
    public var maxLiveWaits: Int? = nil

    public init(
        host: String = "127.0.0.1", port: Int = 0, maxBodyBytes: Int = 16 << 20, pageLimits: PageLimits = PageLimits(),
        idleTimeout: Duration = .seconds(30), headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(60), maxConnections: Int = 512, maxBufferedBytes: Int = 128 << 20,
        maxRequestsPerPeer: Int = 4
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.pageLimits = pageLimits
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConnections = max(1, maxConnections)
        self.maxBufferedBytes = max(maxBodyBytes, maxBufferedBytes)
        self.maxRequestsPerPeer = max(1, maxRequestsPerPeer)
    }
}
