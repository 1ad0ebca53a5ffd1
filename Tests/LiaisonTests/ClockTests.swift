import Foundation
import Liaison
import LiaisonTesting
import Synchronization
import Testing

/// A wall clock a test can move.
final class ManualWallClock: Sendable {
    let milliseconds: Mutex<Int64>
    init(_ start: Int64) { milliseconds = Mutex(start) }
    func set(_ value: Int64) { milliseconds.withLock { $0 = value } }
    var clock: HybridClock { HybridClock(maximumDrift: .seconds(60)) { [self] in milliseconds.withLock { $0 } } }
}

@Suite struct ClockTests {
    @Test func nextIsMonotonicWhenTheWallClockGoesBack() {
        let wall = ManualWallClock(1_000_000)
        let clock = wall.clock
        let first = clock.next(after: .zero)
        wall.set(500_000)
        let second = clock.next(after: first)
        let third = clock.next(after: second)
        #expect(first < second && second < third)
        wall.set(2_000_000)
        #expect(clock.next(after: third).milliseconds == 2_000_000)
    }

    @Test func replicaStaysMonotonicAcrossAWallClockJumpBack() async throws {
        try await withReplicas { factory in
            let wall = ManualWallClock(1_800_000_000_000)
            let replica = try factory.make("NL-NCTV", clock: wall.clock)
            try replica.write(author: "a") { try $0.set("topic", id: "t1", ["name": "one"]) }
            wall.set(1_700_000_000_000)
            try replica.write(author: "a") { try $0.set("topic", id: "t2", ["name": "two"]) }
            try replica.write(author: "a") { try $0.set("topic", id: "t3", ["name": "three"]) }
            let stamps = try replica.log().map(\.hlc)
            #expect(stamps.count == 3)
            #expect(stamps == stamps.sorted() && Set(stamps).count == 3)
        }
    }

    /// A transaction stamped too far ahead is held, not applied; once this machine's clock has
    /// caught up, the next retry applies it.
    @Test func remoteTimestampTooFarAheadIsHeldUntilTheClockCatchesUp() async throws {
        try await withReplicas { factory in
            let wall = ManualWallClock(1_800_000_000_000)
            let ahead = ManualWallClock(1_800_000_000_000 + 3_600_000)
            let nl = try factory.make("NL-NCTV", clock: ahead.clock)
            let ma = try factory.make("MA-DGST", clock: wall.clock)
            try nl.write(author: "a") { try $0.set("topic", id: "t1", ["name": "one"]) }
            try transfer(from: nl, to: ma)
            #expect(try ma.quarantined().map(\.held.error) == ["clock_drift"])
            #expect(try ma.rows("topic").isEmpty)
            #expect(try ma.log().isEmpty)
            #expect(try ma.retryQuarantine() == 0)
            wall.set(1_800_000_000_000 + 3_600_000)
            #expect(try ma.retryQuarantine() == 1)
            #expect(try ma.rows("topic").count == 1)
            #expect(try ma.quarantined().isEmpty)
        }
    }

    @Test func receivingAdvancesTheLocalClock() async throws {
        try await withReplicas { factory in
            let slow = ManualWallClock(1_800_000_000_000)
            let fast = ManualWallClock(1_800_000_000_000 + 30_000)
            let nl = try factory.make("NL-NCTV", clock: fast.clock)
            let ma = try factory.make("MA-DGST", clock: slow.clock)
            try nl.write(author: "a") { try $0.set("topic", id: "t1", ["name": "one"]) }
            try transfer(from: nl, to: ma)
            try ma.write(author: "b") { try $0.set("topic", id: "t1", ["name": "two"]) }
            let log = try ma.log()
            #expect(log[1].hlc > log[0].hlc)
        }
    }
}
