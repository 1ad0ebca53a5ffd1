import Foundation

extension Replica {
    /// Loads the facts of the seed document (see `SampleData`) in one transaction.
    public func loadSample(author: String = "seed") throws {
        try write(author: author) { editor in
            for row in SampleData.rows { try editor.set(row.table, id: row.id, row.values) }
        }
    }
}
