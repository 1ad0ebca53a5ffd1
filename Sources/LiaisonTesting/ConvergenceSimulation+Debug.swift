import Foundation
import Liaison

extension ConvergenceSimulation {
    /// With `LIAISON_SIM_DEBUG=1`, prints what replicas `indices` hold of the rows `ids` (every
    /// logged change of them, and their conflicts), and the whole trace: for replaying a failing seed.
    func printForDebugging(replicas indices: [Int], rows ids: Set<String>) throws {
        guard ProcessInfo.processInfo.environment["LIAISON_SIM_DEBUG"] == "1" else { return }
        for index in indices {
            print("DEBUG replica \(index) conflicts:")
            for conflict in try replicas[index].conflicts(includeResolved: true) where ids.contains(conflict.rowID) {
                print(
                    "  \(conflict.id) \(conflict.kind) \(conflict.rowID).\(conflict.column ?? "-") winner "
                        + "\(conflict.winner.site)#\(conflict.winner.seq) loser \(conflict.loser.site)#\(conflict.loser.seq) "
                        + conflict.state)
            }
            print("DEBUG replica \(index) log:")
            for entry in try replicas[index].log() {
                for change in entry.changes where ids.contains(change.id) {
                    print(
                        "  ord \(entry.order) \(entry.site)#\(entry.seq) context \(entry.context) \(change.op) "
                            + "\(change.table)/\(change.id) scope \(change.scope ?? "?") values "
                            + "\(change.values.map { "\($0)" } ?? "-") bases \(change.bases.map { "\($0)" } ?? "-")")
                }
            }
            for held in try replicas[index].quarantined() {
                print("DEBUG replica \(index) holds \(held.held.site)#\(held.held.seq): \(held.held.error)")
            }
        }
        print("DEBUG trace: \(trace.joined(separator: "; "))")
    }
}
