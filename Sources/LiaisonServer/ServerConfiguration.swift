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

    public init(
        host: String = "127.0.0.1", port: Int = 0, maxBodyBytes: Int = 16 << 20, pageLimits: PageLimits = PageLimits()
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.pageLimits = pageLimits
    }
}
