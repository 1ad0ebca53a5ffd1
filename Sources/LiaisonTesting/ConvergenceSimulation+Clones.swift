import Foundation
import Liaison

/// Replicas cloned by snapshot during a simulated run (`ConvergenceSimulation.compactAtRandom`),
/// each from a replica that has just compacted (or, in the control run, would have), under that
/// replica's grant. They take no part in the run; at its end they catch up from every replica
/// (`catchUpClones`), and each must show what its twin of the control run shows: a clone of a
/// compacted log judges every later change as a clone of the whole log does.
public final class SimulationClones: @unchecked Sendable {
    let directory: URL
    /// The clones, in the order they were made: the replica, and the grant it cloned under.
    public internal(set) var clones: [(replica: Replica, grant: Set<String>?)] = []

    /// Clones are made in `directory`.
    public init(directory: URL) { self.directory = directory }
}

extension ConvergenceSimulation {
    /// Clones replica `index` into a new replica by snapshot, page by page within `limits`, in
    /// this process: the manifest, the pages under the source's grant, the installation's checks.
    func clone(from index: Int, into clones: SimulationClones, limits: PageLimits) throws {
        let source = replicas[index]
        let number = clones.clones.count
        // The clone never writes; its clock only has to accept the simulated time of the others.
        let replica = try Replica.create(
            at: clones.directory.appendingPathComponent("clone-\(number).db").path,
            site: SiteCode("CLONE-\(number)")!, siteID: String(format: "00000000-0000-4000-8000-7777%08d", number),
            clock: HybridClock(maximumDrift: .seconds(Int64(1) << 40)))
        try replica.pinKey(of: rogue.identity)
        for other in replicas { try replica.pinKey(of: other.identity) }
        let grant = grants[index]
        try replica.addPeer(
            name: source.siteCode.rawValue, url: "http://simulated.invalid", token: "simulated-clone-\(number)",
            siteID: source.siteID, read: grant ?? ["*"], write: grant ?? ["*"], publicKey: source.publicKey)
        let installation = try SnapshotInstallation(
            replica: replica, manifest: try source.snapshotManifest(), from: source.siteCode.rawValue)
        do {
            while !installation.isComplete {
                try installation.apply(try source.snapshotPage(installation.next, readable: grant, limits: limits))
            }
            let report = try installation.finish()
            trace.append("clone \(number) of \(index): \(report.transactions) transactions, \(report.gaps) runs")
        } catch let error as LiaisonError {
            throw SimulationFailure(
                seed: seed, message: "a snapshot of replica \(index) was refused: \(error.message)", trace: trace)
        }
        clones.clones.append((replica, grant))
    }

    /// Brings every clone up to date: it pulls from each replica in turn, as a peer under its
    /// grant, until nothing moves (a replica whose compacted log it cannot sync from is skipped).
    public func catchUpClones(_ clones: SimulationClones) throws {
        for (replica, grant) in clones.clones {
            for _ in 0..<4 {
                var moved = 0
                for (from, source) in replicas.enumerated() {
                    var cursor = SyncCursor.start
                    var wanted = try replica.wantedTransactions()
                    while true {
                        let page: PullResponse
                        do {
                            page = try source.changes(
                                after: cursor, excluding: try replica.versionVector(), readable: grant, wanted: wanted)
                        } catch let error as LiaisonError where error.code == .compactedHistory {
                            break
                        }
                        wanted = []
                        do {
                            let result = try replica.apply(
                                page.transactions, keys: page.keys, writableScopes: grants[from])
                            moved += result.applied
                        } catch let error as LiaisonError where error.code == .forbiddenScope {
                            break
                        }
                        cursor = try SyncCursor(parsing: page.cursor)
                        if !page.hasMore { break }
                    }
                }
                if moved == 0 { break }
            }
        }
    }
}
