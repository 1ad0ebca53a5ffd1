import Foundation

/// Changes a peer withheld (outside this replica's scopes there): their signed digests are kept so
/// they can be applied later, when a peer that may send them does.
extension TransactionApplier {
    /// Keeps the digest of each listed change that did not arrive with its transaction.
    func recordWithheld(_ header: TransactionRecord, index: Int64, received: [Int: String]) throws {
        guard let listed = header.digests else { return }
        for position in 0..<header.total where received[position] == nil {
            try db.run(
                "INSERT INTO _liaison_withheld(sidx, seq, n, digest) VALUES (?, ?, ?, ?)",
                [.integer(index), .integer(header.seq), .integer(Int64(position + 1)), .text(listed[position])])
        }
    }

    /// Applies changes of a transaction applied before, which a peer had withheld then: each must
    /// match the signed digest kept for its position. Returns how many were new.
    func applyLate(_ header: TransactionRecord) throws -> Int {
        guard let index = sites.existingIndex(of: header.origin) else { return 0 }
        withheldAny = nil
        let origin = VersionStore.Origin(site: index, seq: header.seq)
        // A copy of a transaction compaction removed here: nothing of it is withheld any more.
        if try appliedForComparison(index, seq: header.seq).removed { return 0 }
        let write = try cellWrite(origin)
        let name = "\(header.site)#\(header.seq)"
        var added = 0
        for change in header.changes {
            guard let position = change.index else { continue }
            let n = Int64(position + 1)
            guard
                let expected = try db.first(
                    "SELECT digest FROM _liaison_withheld WHERE sidx = ? AND seq = ? AND n = ?",
                    [.integer(index), .integer(header.seq), .integer(n)], { $0.text(0) })
            else { continue }
            let form = try signedForm(of: change, name: name)
            guard form.digest == expected else {
                throw LiaisonError(
                    .invalidTransaction,
                    "change \(position) of transaction \(name) does not match its signed digest: it was altered")
            }
            try writeRule.check(change, table: form.table, declared: form.scope, name: name)
            try checkOwnership(change, table: form.table, write: write, name: name)
            try log(change, form, of: origin, position: position)
            try db.run(
                "DELETE FROM _liaison_withheld WHERE sidx = ? AND seq = ? AND n = ?",
                [.integer(index), .integer(header.seq), .integer(n)])
            try merge(change, from: origin, write: write)
            try rejudgeLateStep(change, of: origin)
            added += 1
        }
        try honourLateClaims(of: origin)
        return added
    }
}
