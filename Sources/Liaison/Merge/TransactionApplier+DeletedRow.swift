import Foundation

/// A deletion that arrives for a row another deletion removed here already.
extension TransactionApplier {
    /// Records the `delete` conflict a deletion lost to a write it had not seen, when the row is
    /// already gone here (removed by a later deletion that had seen that write). Where the
    /// deletion arrived while the row still held the write, it lost to it with this conflict, and
    /// the later deletion then removed the row; where it arrived after, it recorded nothing: one
    /// replica held the conflict open and the other none (compaction simulation seed 17: SITE-0#12
    /// deleted `topic-1` concurrently with SITE-1#17's edit, and SITE-1#18, having seen the edit,
    /// deleted it again). The row stays deleted; the winner is the unseen write LWW ranks first, as
    /// `mergeDeletion` records it for a held row.
    func recordDeletionOfDeletedRow(
        table: TableInfo, pk: String, deletion: VersionStore.Origin, write: CellWrite
    ) throws {
        let unseen = try writesUnseen(by: write, table: table, pk: pk, deletion: deletion)
        guard let kept = unseen.max(by: { MergeRule.wins($1.1, over: $0.1, policy: .lww) }) else { return }
        try record(
            .init(
                kind: .delete, table: table.name, pk: pk, column: nil, policy: table.definition.policy,
                winner: kept.0, winnerValue: nil, loser: deletion, loserValue: nil),
            loserWrite: write)
    }
}
