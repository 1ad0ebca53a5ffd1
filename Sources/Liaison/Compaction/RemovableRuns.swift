import Foundation

/// Which runs of each origin's chain compaction may remove whole (headers and change rows), not
/// only their values. A transaction goes only when every live path that reads old log rows would
/// decide the same without it:
/// - every change of it had its value dropped (or is dropped in this pass): superseded, not a
///   deletion, move or owner change, no `owner-wins` table, no side of an open conflict;
/// - its rows are all held here in a known table, so the write rule reads a row's scope from the
///   row and never from the log (`WriteRule.scopeHere`), and no reveal rebuilds them;
/// - no conflict record names it (winner, loser or resolution), it resolves nothing, it carries
///   no schema change, and no change of it is withheld here;
/// - it is at or below the floor every counted peer acknowledged, and not its origin's newest
///   transaction (heads, seals and the next publish read that one).
/// A run ends at a transaction that may not go (a row's insert that is still current, say). Writes
/// that had not seen a removed run are held for an operator (`TransactionApplier.checkAboveChainBases`).
struct RemovableRuns {
    let db: Connection
    let tables: [String: TableInfo]

    /// The runs of each origin's chain (by site index) that may go whole under `floor`, counting
    /// the changes in `dropping` as dropped.
    func runs(floor: [Int64: Int64], dropping: Set<Position>) throws -> [Int64: [ClosedRange<Int64>]] {
        var runs: [Int64: [ClosedRange<Int64>]] = [:]
        for (site, through) in floor.sorted(by: { $0.key < $1.key }) where through > 0 {
            let applied =
                try db.first("SELECT seq FROM _liaison_site WHERE sidx = ?", [.integer(site)]) { $0.int64(0) } ?? 0
            let last = min(through, applied - 1)
            guard last >= 1 else { continue }
            let seqs = try db.query(
                "SELECT seq, signature <> '' FROM _liaison_tx WHERE sidx = ? AND seq <= ? ORDER BY seq",
                [.integer(site), .integer(last)]
            ) { ($0.int64(0), $0.int64(1) != 0) }
            var current: ClosedRange<Int64>?
            // A kept transaction without a signature of its own is proved by the signed one that
            // ends its publish run, through the headers between (`SignedRuns`): those all stay.
            var keptUnsigned = false
            for (seq, isSigned) in seqs {
                let removable = try !keptUnsigned && isRemovable(site: site, seq: seq, dropping: dropping)
                if !removable { keptUnsigned = !isSigned }
                if removable {
                    if let run = current, run.upperBound == seq - 1 {
                        current = run.lowerBound...seq
                    } else {
                        if let run = current { runs[site, default: []].append(run) }
                        current = seq...seq
                    }
                } else if let run = current {
                    runs[site, default: []].append(run)
                    current = nil
                }
            }
            if let run = current { runs[site, default: []].append(run) }
        }
        return runs
    }

    struct Position: Hashable {
        var site: Int64
        var seq: Int64
        var n: Int64
    }

    private func isRemovable(site: Int64, seq: Int64, dropping: Set<Position>) throws -> Bool {
        let key: [CellValue] = [.integer(site), .integer(seq)]
        guard
            let (total, resolves) = try db.first(
                "SELECT changes, coalesce(resolves, '') FROM _liaison_tx WHERE sidx = ? AND seq = ?", key,
                { ($0.int64(0), $0.text(1)) }),
            resolves.isEmpty || resolves == "[]"
        else { return false }
        let changes = try db.query("SELECT n, tbl, pk FROM _liaison_change WHERE sidx = ? AND seq = ?", key) {
            (n: $0.int64(0), table: $0.text(1), pk: $0.text(2))
        }
        guard Int64(changes.count) == total else { return false }
        let referenced =
            try db.first(
                """
                SELECT 1 FROM _liaison_conflict WHERE (winner_sidx = ?1 AND winner_seq = ?2)
                OR (loser_sidx = ?1 AND loser_seq = ?2) OR (resolved_sidx = ?1 AND resolved_seq = ?2) LIMIT 1
                """, key, { _ in true }) ?? false
        if referenced { return false }
        let marked = try CompactionCheckpoint.compacted(db, site: site, seq: seq)
        for change in changes {
            guard change.table != SchemaLog.table,
                dropping.contains(Position(site: site, seq: seq, n: change.n)) || marked.contains(change.n),
                let table = tables[change.table], table.isKnown,
                try db.first("SELECT 1 FROM \(table.quotedName) WHERE id = ?", [.text(change.pk)], { _ in true })
                    ?? false
            else { return false }
        }
        return true
    }
}

extension Replica {
    /// Peers that count for compaction whose acknowledgement names transactions this replica does
    /// not hold yet: a transaction is removed whole only when none does (their writes made before they
    /// acknowledged may not have seen it).
    func peersAheadOfThisReplica() throws -> [String] {
        let vector = try versionVector()
        let acks = try acknowledgements()
        let stale = try stalePeers()
        return try peers().filter { peer in
            guard stale[peer.name] == nil, let ack = acks[peer.name] else { return false }
            return !vector.dominates(ack.vector)
        }.map(\.name).sorted()
    }
}
