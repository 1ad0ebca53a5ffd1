import Foundation

extension Replica {
    /// The replica format recorded in the file and the steps that brought it there (for tests and
    /// diagnostics).
    package func storageFormat() throws -> (format: Int, steps: [String]) {
        try withConnection { db in
            let format = try ReplicaMigrator.format(of: db) ?? 0
            let steps = try db.query("SELECT name FROM _liaison_migration ORDER BY format") { $0.text(0) }
            return (format, steps)
        }
    }

    /// The `CREATE` statement SQLite keeps for one of the file's tables or indexes, `nil` when absent.
    package func storedSQL(of name: String) throws -> String? {
        try withConnection { db in
            try db.first("SELECT sql FROM sqlite_master WHERE name = ?", [.text(name)]) { $0.optionalText(0) } ?? nil
        }
    }
}
