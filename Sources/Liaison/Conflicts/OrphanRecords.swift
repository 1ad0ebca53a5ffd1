import Foundation

/// `orphan` conflicts belong to a live referrer: a row whose reference points to a row deleted
/// concurrently. When the referrer itself is deleted, its orphan records go, wherever the
/// deletion is applied (a merge, a deletion outline, or this replica's own publish), so the
/// records are the same whichever of the two deletions a replica met first
/// (docs/DECISIONS.md, "Orphan records go with their referrer").
struct OrphanRecords {
    let db: Connection

    /// Forgets the orphan conflicts of referrer row `pk` of `table`, open or resolved, except
    /// `resolving` (the ones the deleting transaction itself resolves: a resolution that kept
    /// the deletion by deleting the referrer stays, resolved).
    func dropDeleted(table: String, pk: String, except resolving: Set<String>) throws {
        let ids = try db.query(
            "SELECT id FROM _liaison_conflict WHERE kind = 'orphan' AND tbl = ? AND pk = ?", [.text(table), .text(pk)]
        ) { $0.text(0) }
        for id in ids where !resolving.contains(id) {
            try db.run("DELETE FROM _liaison_conflict WHERE id = ?", [.text(id)])
        }
    }

    /// The rows this replica deleted in the run it publishes now (and did not create again):
    /// each loses its orphan records as where the deletion arrives. `resolves` gives the
    /// conflicts the transaction of a journal entry resolves.
    func dropPublishedDeletions(tables: [Int: TableInfo], replica: Replica, resolves: (Int64) -> [String]) throws {
        guard try db.first("SELECT 1 FROM _liaison_conflict WHERE kind = 'orphan' LIMIT 1", [], { _ in true }) != nil
        else { return }
        let deleted = try db.query(
            "SELECT id, tbl, pk FROM _liaison_journal WHERE tbl > 0 AND mask = 0 ORDER BY id", [],
            { ($0.int64(0), $0.int(1), $0.text(2)) })
        for (entry, index, pk) in deleted {
            guard let table = tables[index], try replica.readRow(db, table: table, id: pk) == nil else { continue }
            try dropDeleted(table: table.name, pk: pk, except: Set(resolves(entry)))
        }
    }
}
