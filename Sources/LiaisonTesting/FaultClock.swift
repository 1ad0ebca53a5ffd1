import Foundation
import Liaison

/// A wall clock at an adjustable distance from the real one: an hour behind, an hour ahead, or
/// jumping back in the middle of a test. Pass `now` to `HybridClock(wallTime:)`.
public final class FaultWallClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: Int64

    /// - Parameter offset: milliseconds added to the real time.
    public init(offset: Int64 = 0) { self.offset = offset }

    /// Milliseconds since 1970, off by the current offset.
    public func now() -> Int64 {
        let real = Int64(Date().timeIntervalSince1970 * 1000)
        return lock.withLock { real + offset }
    }

    /// Moves the clock by `milliseconds` (negative: back in time).
    public func shift(by milliseconds: Int64) {
        lock.withLock { offset += milliseconds }
    }

    /// A hybrid clock reading this wall clock.
    public func hybridClock(maximumDrift: Duration = .seconds(300)) -> HybridClock {
        HybridClock(maximumDrift: maximumDrift, wallTime: { [self] in now() })
    }

    public static let hour: Int64 = 3_600_000
}
