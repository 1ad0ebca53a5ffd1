import Foundation

/// Local writes are marked for the digests from the capture journal, not by triggers of their own.
///
/// Triggers on every synced table used to mark each written row in `_liaison_digest_dirty`, so a
/// local write paid a second B-tree insert in its own transaction (W1b after a replica's first
/// sync: about twice the CPU of the capture alone, DECISIONS "Publishing updates in bulk"). Every
/// write those triggers saw is in the capture journal too (the capture triggers fire on the same
/// statements, and both are off only while merging, which marks its rows itself): publishing
/// writes the row's versions, whose triggers mark it, and a refresh marks the rows of the writes
/// still in the journal (an edit of another SQLite client that cannot be published yet).
extension DigestStore {
    /// Drops the per-table marking triggers of files that have them.
    func dropTableTriggers() throws {
        let names = try db.query(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name <> '_liaison_version' "
                + "AND name LIKE '\\_liaison\\_rowdigest\\_%' ESCAPE '\\'"
        ) { $0.text(0) }
        for name in names { try db.execute("DROP TRIGGER IF EXISTS \(CaptureTriggers.quoted(name))") }
    }

    /// Marks the rows written locally and not published yet.
    func markUnpublished() throws {
        guard try db.first("SELECT 1 FROM _liaison_journal WHERE tbl > 0 LIMIT 1", [], { _ in true }) != nil else {
            return
        }
        for table in tables.values {
            try db.run(
                "INSERT INTO _liaison_digest_dirty SELECT DISTINCT ?1, j.pk FROM _liaison_journal j WHERE j.tbl = ?2 "
                    + "AND j.pk IS NOT NULL AND NOT EXISTS (SELECT 1 FROM _liaison_digest_dirty d "
                    + "WHERE d.tbl = ?1 AND d.pk = j.pk)",
                [.text(table.name), .integer(Int64(table.index))])
        }
    }
}
