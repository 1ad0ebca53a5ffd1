import Foundation

extension ChangeWriter {
    /// Whether the row whose journal `entries` (newest first) are being published was created in
    /// this run: the newest insert or deletion among them is an insert.
    static func isCreatedInRun(_ entries: [Entry]) -> Bool {
        entries.first { $0.mask == -1 || $0.mask == 0 }?.mask == -1
    }

    /// The entry as published. A row created in this run is published in its final scope: its
    /// insert writes every cell, `scope` too, so a later change of the same run that moved the
    /// row moves nothing any peer could have seen; it writes only its other cells and carries
    /// none. Before, the move claimed `scope` and the insert did not write it, while the insert's
    /// outline showed the scope: a replica that may not read it judged that outline as a scope
    /// write and recorded a conflict replicas reading the insert did not (simulation seed 691).
    static func publishedEntry(_ entry: Entry, createdInRun: Bool, scopeBit: Int64) -> Entry {
        guard createdInRun, entry.mask > 0, entry.mask & scopeBit != 0 else { return entry }
        var published = entry
        published.mask = entry.mask & ~scopeBit
        return published
    }
}
