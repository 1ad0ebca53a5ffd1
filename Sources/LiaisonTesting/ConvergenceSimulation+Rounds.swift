import Foundation
import Liaison

extension ConvergenceSimulation {
    /// Whether `LIAISON_SIM_ROUNDS=1` asks for extra sync rounds in the plain simulation.
    static var roundsRequested: Bool { ProcessInfo.processInfo.environment["LIAISON_SIM_ROUNDS"] == "1" }

    /// Adds, at random steps, the sync rounds of the compaction simulation (`compactAtRandom`)
    /// without its peers, acknowledgements or compactions: one replica (never the first) pulls
    /// from every other, then every other pulls from it. A round is an ordinary delivery order,
    /// so a seed that fails here is a merge fault, not compaction's. The decisions are drawn from
    /// the compaction simulation's own generator in the same sequence, so a seed's rounds fall at
    /// the steps where its compaction control run has them; the seed's other steps stay what they
    /// were. `LIAISON_SIM_ROUNDS=1` turns it on (`ConvergenceSimulation.init`).
    func syncRoundsAtRandom(percent: Int = 4) {
        var random = SeededGenerator(seed: seed &+ 0xC0_4AC7)
        roundStep = { [unowned self] in
            guard Int.random(in: 0..<100, using: &random) < percent else { return }
            let index = Int.random(in: 1..<replicas.count, using: &random)
            let round = Bool.random(using: &random)
            // The compaction simulation draws a refresh flag per replica when there is no round.
            if !round { for _ in replicas { _ = Bool.random(using: &random) } }
            guard round else { return }
            try syncRound(with: index)
        }
    }

    /// One replica syncs with every other both ways: first it pulls from each, then each pulls from it.
    func syncRound(with index: Int) throws {
        var moved = 0
        for other in replicas.indices where other != index { moved += try settle(from: other, to: index) }
        for other in replicas.indices where other != index { moved += try settle(from: index, to: other) }
        trace.append("round at \(index): \(moved) transactions moved")
    }
}
