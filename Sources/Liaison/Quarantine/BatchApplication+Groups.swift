import Foundation

/// Groups: a run of whole transactions of a batch applied in one savepoint instead of one each.
///
/// The quarantine needs each transaction apart only when one fails: a transaction that cannot be
/// applied now is rolled back alone and held, and the others apply. Most batches hold none, so
/// a group of whole transactions is tried first in one savepoint, with the applied-seq of each
/// origin and the apply order written once at its end (`TransactionApplier.flushCounters`). If
/// any transaction of the group fails, for any reason, the whole group is rolled back, the
/// applier rebuilt (its caches may name rows the rollback removed), and the group applied again
/// one transaction at a time, each in its own savepoint (`runOne`), which holds or refuses
/// exactly what it did before groups existed. Every check runs where it ran, on every
/// transaction: only the savepoints and two counter writes per transaction are saved.
extension BatchApplication {
    /// The most transactions tried in one group: what a failure makes the batch apply twice.
    static let groupLimit = 256

    /// The records from `start` that may share a group: whole transactions of other origins,
    /// without eviction outlines (checked against what the transaction before applied) and
    /// without schema changes (they change the tables in memory, which no rollback restores).
    /// At least the record at `start` (a group of one is applied alone).
    func groupRange(_ records: [TransactionRecord], from start: Int) -> Range<Int> {
        var end = start
        while end < records.count, end - start < Self.groupLimit, isGroupable(records[end]) { end += 1 }
        return start..<max(end, start + 1)
    }

    private func isGroupable(_ record: TransactionRecord) -> Bool {
        record.isComplete && record.evictions == nil && record.origin != replica.siteID
            && !record.changes.contains { $0.table == SchemaLog.table }
    }

    /// Applies `group` in one savepoint; returns how many of its records it applied, from its
    /// start (the rest are for `runOne`). A transaction applied here before ends the group before
    /// it (nothing of it was written: `check` only reads); any failure rolls the group back and
    /// returns 0. Only tried when nothing is held here, so no transaction of the group waits
    /// behind a held one and none is released from the quarantine.
    func applyGroup(
        _ records: [TransactionRecord], _ group: Range<Int>, current: inout TransactionRecord?, forms: BatchForms?
    ) throws -> Int {
        guard heldCount == 0 else { return 0 }
        try db.execute("SAVEPOINT liaison_group")
        applier.defersCounters = true
        var applied = 0
        do {
            for position in group {
                let record = records[position]
                current = record
                applier.writableScopes = writable
                guard try applier.check(record) else { break }
                applier.currentForms = forms?.forms(at: position)
                applier.currentIndex = forms == nil ? nil : position
                defer { (applier.currentForms, applier.currentIndex) = (nil, nil) }
                try applier.apply(record) { record.changes }
                applied += 1
            }
            try applier.flushCounters()
            applier.defersCounters = false
            try db.execute("RELEASE liaison_group")
        } catch {
            try db.execute("ROLLBACK TO liaison_group; RELEASE liaison_group")
            try rebuildApplier()
            return 0
        }
        result.applied += applied
        return applied
    }
}
