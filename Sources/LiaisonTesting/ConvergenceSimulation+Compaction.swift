import Foundation
import Liaison

/// What compaction did during simulated runs.
public final class SimulationCompactionTally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = (compactions: 0, transactions: 0, values: 0, heldBack: 0)

    public init() {}

    /// Compactions run, transactions removed whole, values dropped, and compactions that removed
    /// nothing whole because a peer had acknowledged what the replica lacked.
    public var figures: (compactions: Int, transactions: Int, values: Int, heldBack: Int) {
        lock.withLock { counts }
    }

    /// Replicas cloned by snapshot that showed what their control twins show.
    public var clones: Int { lock.withLock { cloneCount } }
    private var cloneCount = 0

    public func addClones(_ count: Int) { lock.withLock { cloneCount += count } }

    func add(_ result: CompactionResult) {
        lock.withLock {
            counts.compactions += 1
            counts.transactions += result.transactions
            counts.values += result.changes
            counts.heldBack += result.heldBackBy.isEmpty ? 0 : 1
        }
    }
}

extension ConvergenceSimulation {
    /// Makes replicas compact at random steps (`percent` of the steps), removing superseded
    /// transactions whole, gated by acknowledgements as in real use: every replica registers the
    /// others as peers, and at a compaction each peer's acknowledgement of what it has applied is
    /// refreshed only by chance (half the time), so the floor often lags, or, in half the
    /// compactions, after a round in which the replica synced with every peer both ways. The first replica never
    /// compacts: it keeps the whole history the checks of `verify()` read. Decisions come from a
    /// generator of their own, so the seed's other steps stay what they were.
    ///
    /// With `compacting` false, everything happens but the compaction itself: a control run whose
    /// steps, syncs and acknowledgements are the same, to compare with (`SimulationCompactionTally`).
    /// With `removing` false, compactions drop values only (`compact` without `removingTransactions`).
    ///
    /// With `clones`, a quarter of the compactions are followed by a new replica cloned from the
    /// one that compacted, by snapshot, under that replica's grant (`SimulationClones`).
    public func compactAtRandom(
        percent: Int, tally: SimulationCompactionTally, compacting: Bool = true, removing: Bool = true,
        clones: SimulationClones? = nil
    ) throws {
        for (index, replica) in replicas.enumerated() {
            for (other, peer) in replicas.enumerated() where other != index {
                try replica.addPeer(
                    name: peer.siteCode.rawValue, url: "http://simulated.invalid", token: "simulated-\(index)-\(other)",
                    siteID: peer.siteID, read: grants[other] ?? ["*"], write: grants[other] ?? ["*"])
            }
        }
        var random = SeededGenerator(seed: seed &+ 0xC0_4AC7)
        afterStep = { [unowned self] in
            guard Int.random(in: 0..<100, using: &random) < percent else { return }
            let index = Int.random(in: 1..<replicas.count, using: &random)
            // Half the time a round first: the replica syncs with every peer both ways, and every
            // peer acknowledges; otherwise each acknowledgement is refreshed by chance only.
            let round = Bool.random(using: &random)
            var fresh: [Bool] = []
            for _ in replicas { fresh.append(round || Bool.random(using: &random)) }
            if round {
                for other in replicas.indices where other != index { _ = try settle(from: other, to: index) }
                for other in replicas.indices where other != index { _ = try settle(from: index, to: other) }
            }
            try compact(index, refreshing: fresh, tally: tally, compacting: compacting, removing: removing)
            if let clones, Int.random(in: 0..<4, using: &random) == 0 {
                let limits = PageLimits(maxChanges: Int.random(in: 1...8, using: &random), maxBytes: 1_024)
                try clone(from: index, into: clones, limits: limits)
            }
        }
    }

    private func compact(
        _ index: Int, refreshing fresh: [Bool], tally: SimulationCompactionTally, compacting: Bool, removing: Bool
    ) throws {
        let replica = replicas[index]
        let peers = try replica.peers()
        for (other, peer) in replicas.enumerated() where other != index && fresh[other] {
            guard let record = peers.first(where: { $0.name == peer.siteCode.rawValue }) else { continue }
            do {
                try replica.recordAcknowledgement(
                    try peer.makeAcknowledgement(to: replica.siteID), from: record, via: "sync")
            } catch let error as LiaisonError where error.code == .invalidInput {
                // Its key is not trusted here yet: its acknowledgement does not count.
            }
        }
        guard compacting else {
            trace.append("no compaction at \(index) (control run)")
            return
        }
        let result = try replica.compact(removingTransactions: removing)
        tally.add(result)
        trace.append(
            "compact at \(index): \(result.transactions) transactions removed, \(result.changes) values dropped"
                + (result.heldBackBy.isEmpty ? "" : ", held back by \(result.heldBackBy.joined(separator: ","))"))
    }
}
