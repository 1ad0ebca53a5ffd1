import Foundation

/// The conflict between a carried cell's base and a concurrent version of the cell here.
extension TransactionApplier {
    /// Records the conflict in which a move's carried base (a write this replica holds only as a
    /// digest: withheld here, or relayed by a peer lacking its scope) beat the concurrent version
    /// of the cell here by policy. A replica that read the base's change compared the two
    /// when the later of them arrived and recorded this conflict; without it, the replica that
    /// learnt the base through the move recorded none, and when the base's own change arrived late
    /// the cell already held it (simulation seed 4 at 150 steps: an `owner-wins` cell written by
    /// its owner and by another site concurrently, the conflict only on the replica that read the
    /// owner's write first). Both values are known here: the base's is the carried value. Where the
    /// base loses, nothing is recorded here: its own change, when it arrives, meets the cell as any
    /// late write does (a replica that never reads it holds fewer conflicts, never other ones).
    func recordCarriedRival(
        column: String, table: TableInfo, pk: String,
        base: (origin: VersionStore.Origin, write: CellWrite, value: CellValue),
        local: (origin: VersionStore.Origin, write: CellWrite, value: CellValue)
    ) throws {
        // Where the base's change is held, it was merged when it arrived and met this cell then.
        guard try !isLogged(base.origin, table: table.name, pk: pk) else { return }
        try record(
            .init(
                kind: .value, table: table.name, pk: pk, column: column, policy: table.definition.policy,
                winner: base.origin, winnerValue: base.value, loser: local.origin, loserValue: local.value),
            loserWrite: local.write)
    }
}
