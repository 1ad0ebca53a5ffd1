import Foundation
import Liaison
import LiaisonProtocol

/// Quarantine in the randomized simulation: keys trusted late, a rogue origin signing values the
/// receivers' rules reject, and the check that nothing else stays held once everyone has synced.
extension ConvergenceSimulation {
    /// The rogue writes a new agreement, alters its status to a value no replica accepts, signs
    /// the result as its own transaction and pushes it, followed by a valid one, to a random
    /// replica: both are held (`type_mismatch`, then `held_behind`), nothing of them applies.
    func pushInvalid() throws {
        // Once a run: the rogue's later transactions could only wait behind the first.
        guard rogueSent.isEmpty else { return }
        let index = Int.random(in: 0..<replicas.count, using: &extra)
        let target = replicas[index]
        let count = 0
        try rogue.write(author: "rogue") {
            try $0.set("agreement", id: "agr-rogue-\(count)", ["title": "Rogue", "kind": "roadmap", "status": "draft"])
        }
        try rogue.write(author: "rogue") { try $0.set("topic", id: "topic-rogue-\(count)", ["name": "Rogue"]) }
        let page = try rogue.changes(after: .start, excluding: try target.versionVector())
        var records = Array(page.transactions.suffix(2))
        guard records.count == 2, let first = records[0].changes.firstIndex(where: { $0.table == "agreement" }) else {
            throw failure("the rogue's page lacks its two transactions")
        }
        records[0].changes[first].values?["status"] = "finished"
        records[0] = try rogue.signedAsOrigin(records[0])
        // The valid one follows the altered one in the rogue's chain (a page may leave the link
        // out, so the receiver computes it from the record before).
        records[1].previous = try rogue.headerDigest(of: records[0])
        records[1] = try rogue.signedAsOrigin(records[1])
        let before = try target.dump()
        let result = try target.apply(records, keys: page.keys, writableScopes: ["public"], from: "rogue")
        guard result.held == 2, try target.dump() == before else {
            throw failure("replica \(index) applied a rogue transaction (held \(result.held) of 2)")
        }
        try noteHeld(at: index)
        for record in records { rogueSent.insert("\(record.site)#\(record.seq)") }
        trace.append("rogue push to \(index)")
    }

    /// The last replica's operator trusts the fourth's key: what was held for it applies.
    func trustLate() throws {
        guard distrustsKey else { return }
        try replicas[replicas.count - 1].pinKey(of: replicas[3].identity)
        distrustsKey = false
        trace.append("trust late")
    }

    /// Notes what replica `index` holds now, by reason.
    func noteHeld(at index: Int) throws {
        for held in try replicas[index].quarantined() {
            heldSeen.insert("\(index)|\(held.held.site)#\(held.held.seq)|\(held.held.error)")
        }
    }

    /// Held transactions by reason over the run.
    public var heldByReason: [String: Int] {
        heldSeen.reduce(into: [:]) { counts, entry in counts[String(entry.split(separator: "|")[2]), default: 0] += 1 }
    }

    /// Nothing stuck: after the final sync a replica holds only the rogue's transactions, which the
    /// operator then drops; no rogue value ever reached a row.
    func verifyNothingStuck() throws {
        for (index, replica) in replicas.enumerated() {
            for held in try replica.quarantined() {
                let id = "\(held.held.site)#\(held.held.seq)"
                guard rogueSent.contains(id) else {
                    let rows = try replicas.flatMap { try $0.log() }.filter { "\($0.site)#\($0.seq)" == id }
                        .flatMap(\.changes).map(\.id)
                    try printForDebugging(replicas: Array(replicas.indices), rows: Set(rows))
                    throw failure(
                        "replica \(index) still holds \(id) after the final sync: \(held.held.error) \(held.held.message)"
                    )
                }
                try replica.dropQuarantined(id)
            }
            guard try replica.quarantined().isEmpty else { throw failure("replica \(index) kept what was dropped") }
            guard try !replica.dump().contains("Rogue") else { throw failure("replica \(index) holds a rogue row") }
        }
    }
}
