import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Issue 6: clocks that lag or jump.

// MARK: - 3. Clock faults

@Suite(.timeLimit(.minutes(10))) struct ClockFaultTests {
    static let suite = "ClockFaultTests"
    static let tests = 3

    /// Spokes whose clocks are an hour behind, an hour ahead, then jump two hours back, sync
    /// through a hub that allows three hours of drift: same data everywhere, no conflict invented,
    /// every site's timestamps still increasing, and a write that has seen another wins over it
    /// whatever the wall clocks say.
    @Test func replicasAnHourApartOrJumpingBackStillConverge() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withReplicas { factory in
                let hour = FaultWallClock.hour
                let behind = FaultWallClock(offset: -hour)
                let ahead = FaultWallClock(offset: hour)
                let drift = Duration.seconds(3 * 3_600)
                let hub = try factory.make("NL-NCTV", schema: .faultItems, clock: HybridClock(maximumDrift: drift))
                let slow = try factory.make(
                    "MA-DGST", schema: .faultItems, clock: behind.hybridClock(maximumDrift: drift))
                let fast = try factory.make(
                    "TR-TNP", schema: .faultItems, clock: ahead.hybridClock(maximumDrift: drift))
                tally.faults = 3
                try await withServer(hub) { url in
                    let slowPeer = try pair(slow, with: hub, url: url)
                    let fastPeer = try pair(fast, with: hub, url: url)
                    try trustEachOther([hub, slow, fast])
                    var ledger = FaultLedger()
                    func round() async throws {
                        try await SyncDriver(replica: slow).sync(with: slowPeer)
                        try await SyncDriver(replica: fast).sync(with: fastPeer)
                        try await SyncDriver(replica: slow).sync(with: slowPeer)
                    }
                    for step in 0..<6 {
                        for (site, replica) in [("NL-NCTV", hub), ("MA-DGST", slow), ("TR-TNP", fast)] {
                            let batch = FaultBatch(
                                id: ledger.newBatchID(site: site), site: site, size: 20 + step, payload: "v0")
                            try FaultWorkload.insert(batch, into: replica)
                            ledger.recordInsert(batch)
                        }
                        if step == 3 { ahead.shift(by: -2 * hour) }  // the fast one jumps back to an hour behind
                        try await round()
                    }
                    // The fast site (now an hour ahead again) inserts; the slow one, two hours behind it,
                    // updates after syncing: the later write wins, and it is no conflict.
                    ahead.shift(by: 2 * hour)
                    let shared = FaultBatch(
                        id: ledger.newBatchID(site: "TR-TNP"), site: "TR-TNP", size: 3, payload: "v0")
                    try FaultWorkload.insert(shared, into: fast)
                    ledger.recordInsert(shared)
                    try await round()
                    try FaultWorkload.update(batch: shared.id, payload: "causally-later", in: slow)
                    ledger.recordUpdate(batch: shared.id, payload: "causally-later")
                    try await round()

                    let dump = try hub.dump()
                    #expect(try slow.dump() == dump)
                    #expect(try fast.dump() == dump)
                    let (problems, _) = ledger.differences(from: dump)
                    #expect(problems.isEmpty, "\(problems)")
                    for replica in [hub, slow, fast] {
                        #expect(
                            try replica.conflicts(includeResolved: true).isEmpty,
                            "\(replica.siteCode) recorded a conflict")
                        // Each site's own timestamps never went back, whatever its wall clock did.
                        let own = try replica.log().filter { $0.origin == replica.siteID }.map(\.hlc)
                        #expect(own == own.sorted() && Set(own).count == own.count, "\(replica.siteCode): \(own)")
                    }
                    try expectSameLogsWithoutDuplicates(hub, slow)
                    try expectSameLogsWithoutDuplicates(hub, fast)
                }
            }
        }
    }

    /// A hub whose clock is an hour behind its peers' must still serve them (its HLC copes; drift
    /// of transactions is judged by `maximumDrift`, here three hours).
    @Test func aHubWhoseClockIsAnHourBehindStillServesItsPeers() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withReplicas { factory in
                let late = FaultWallClock(offset: -FaultWallClock.hour)
                let hub = try factory.make(
                    "NL-NCTV", schema: .faultItems, clock: late.hybridClock(maximumDrift: .seconds(3 * 3_600)))
                let spoke = try factory.make("MA-DGST", schema: .faultItems)
                let batch = FaultBatch(id: "MA-DGST-b1", site: "MA-DGST", size: 5, payload: "v0")
                try FaultWorkload.insert(batch, into: spoke)
                tally.faults = 1
                try await withServer(hub) { url in
                    let peer = try pair(spoke, with: hub, url: url)
                    var failure: String?
                    do {
                        try await SyncDriver(replica: spoke).sync(with: peer)
                    } catch {
                        failure = "\(error)"
                    }
                    let arrived = try hub.rows("item").count
                    // The hub answers the first request 401 stale_signature with its time; the client
                    // signs again in the hub's time.
                    #expect(failure == nil, "\(failure ?? "")")
                    #expect(arrived == batch.size)
                }
            }
        }
    }

    @Test func aTimestampBeyondTheAllowedDriftIsHeldAndNothingIsApplied() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withReplicas { factory in
                let hub = try factory.make("NL-NCTV", schema: .faultItems)
                let fastClock = FaultWallClock(offset: FaultWallClock.hour)
                let fast = try factory.make("TR-TNP", schema: .faultItems, clock: fastClock.hybridClock())
                let batch = FaultBatch(id: "TR-TNP-b1", site: "TR-TNP", size: 10, payload: "v0")
                try FaultWorkload.insert(batch, into: fast)
                let before = try hub.dump()
                let vector = try hub.versionVector()

                // In the engine: held in quarantine with .clockDrift, nothing applied.
                let page = try fast.changes(after: .start, excluding: vector)
                #expect(!page.transactions.isEmpty)
                let result = try hub.apply(page.transactions, keys: page.keys)
                #expect(result.applied == 0 && result.held == page.transactions.count)
                let held = try hub.quarantined()
                #expect(held.first?.held.error == "clock_drift")
                #expect(held.dropFirst().allSatisfy { $0.held.error == "held_behind" })
                #expect(held.first?.held.message.contains("TR-TNP") == true)
                #expect(try hub.dump() == before)
                #expect(try hub.versionVector() == vector)
                for item in held { try hub.dropQuarantined(item.held.id) }
                #expect(try hub.quarantined().isEmpty)
                tally.faults += 1

                // Over HTTP: held with clock_drift and the pusher told so; nothing applied, the
                // edit kept at its origin.
                try await withServer(hub) { url in
                    let peer = try pair(fast, with: hub, url: url)
                    let report = try await SyncDriver(replica: fast).sync(with: peer)
                    #expect(report.heldThere.first?.error == "clock_drift", "\(report.heldThere)")
                    #expect(try hub.dump() == before)
                    #expect(try hub.versionVector()[fast.siteID] == 0)
                    #expect(try fast.rows("item").count == batch.size)
                }
                tally.faults += 1
                // Once the hub allows more drift, the held transaction goes through at the peer's next
                // round: nothing was lost.
                let tolerant = try Replica.open(at: hub.path, clock: HybridClock(maximumDrift: .seconds(2 * 3_600)))
                try await withServer(tolerant) { url in
                    let peer = try #require(try fast.peers().first)
                    try fast.addPeer(name: peer.name, url: url, token: peer.token, read: ["*"], write: ["*"])
                    try await SyncDriver(replica: fast).sync(with: try #require(try fast.peers().first))
                    #expect(try tolerant.dump() == (try fast.dump()))
                    #expect(try tolerant.rows("item").count == batch.size)
                }
            }
        }
    }
}
