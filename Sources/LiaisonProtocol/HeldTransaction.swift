import Foundation

/// A transaction a receiver keeps aside instead of applying (its quarantine): which one, why, and
/// what it waits behind. Sent back so the sender learns what of its traffic is held and why.
public struct HeldTransaction: Hashable, Sendable, Codable {
    /// The origin's site id.
    public var origin: String
    /// The origin's site code.
    public var site: String
    public var seq: Int64
    /// The error code that holds it (`forbidden_scope`, `type_mismatch`, ... or `held_behind`).
    public var error: String
    /// Why, for people. Text of a remote engine: print it escaped.
    public var message: String
    /// The held transaction this one waits behind (`CODE#SEQ`), when it is held only for that.
    public var waitsFor: String?

    public init(origin: String, site: String, seq: Int64, error: String, message: String, waitsFor: String? = nil) {
        self.origin = origin
        self.site = site
        self.seq = seq
        self.error = error
        self.message = message
        self.waitsFor = waitsFor
    }

    /// The id people use for it: `CODE#SEQ`.
    public var id: String { "\(site)#\(seq)" }
}
