import Foundation

/// Issues hybrid timestamps that never go backwards, even when the wall clock does.
///
/// The clock holds no state of its own: the replica passes the last timestamp it stored, so two
/// processes writing one file stay monotonic together.
public struct HybridClock: Sendable {
    /// Reads the wall clock in milliseconds since 1970.
    public var wallTime: @Sendable () -> Int64
    /// How far a remote timestamp may be ahead of this clock before it is refused.
    public var maximumDrift: Duration

    public init(
        maximumDrift: Duration = .seconds(300),
        wallTime: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.wallTime = wallTime
        self.maximumDrift = maximumDrift
    }

    /// The timestamp of a new local event that comes after `last`.
    public func next(after last: HybridTimestamp) -> HybridTimestamp {
        let physical = HybridTimestamp(milliseconds: wallTime())
        return physical > last ? physical : HybridTimestamp(rawValue: last.rawValue + 1)
    }

    /// Checks a remote timestamp against the drift bound.
    public func check(remote: HybridTimestamp, from origin: String) throws {
        let bound = wallTime() + maximumDrift.components.seconds * 1000
        if remote.milliseconds > bound {
            throw LiaisonError(
                .clockDrift,
                "a transaction from \(origin) is timestamped \(remote), more than \(maximumDrift) ahead of this "
                    + "machine's clock; check the clocks of both machines")
        }
    }
}
