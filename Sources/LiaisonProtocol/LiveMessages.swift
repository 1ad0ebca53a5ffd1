import Foundation

/// `POST /v1/live`: wait until the server has something new the requester may read.
///
/// The same position a pull would send: the pull cursor the requester holds for this server and
/// its version vector. The server answers as soon as a transaction after the cursor, not in the
/// vector, has a change in a scope the requester may read, or after `waitMilliseconds` (capped by
/// the server) with `news: false`. The requester then pulls as usual.
public struct LiveRequest: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    /// The requester's pull cursor for this server (`nil` or `"0"`: the beginning).
    public var cursor: String?
    /// What the requester has applied.
    public var vector: VersionVector
    /// How long to wait at most, in milliseconds (the server caps it; absent: the server's cap).
    public var waitMilliseconds: Int?

    public init(
        protocolVersion: Int = liaisonProtocolVersion, cursor: String?, vector: VersionVector,
        waitMilliseconds: Int? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.cursor = cursor
        self.vector = vector
        self.waitMilliseconds = waitMilliseconds
    }
}

/// The answer to `POST /v1/live`: whether a pull now would bring something readable.
public struct LiveResponse: Hashable, Sendable, Codable {
    public var protocolVersion: Int
    /// `true`: pull now. `false`: the wait ended (its deadline, or a newer wait of the same peer).
    public var news: Bool

    public init(protocolVersion: Int = liaisonProtocolVersion, news: Bool) {
        self.protocolVersion = protocolVersion
        self.news = news
    }
}
