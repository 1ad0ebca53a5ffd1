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

extension Replica {
    /// How each logged change of one row keeps its values, in log order: the values stored in the
    /// log (`nil` when none), and the mask of columns read from the row while they are current
    /// (`nil` when none). For tests of `ChangeValues`.
    package func changeStorage(_ table: String, id: String) throws -> [(
        op: String, stored: String?, live: Int64?
    )] {
        try withConnection { db in
            try db.query(
                """
                SELECT c.op, c.vals, c.live FROM _liaison_change c JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
                WHERE c.tbl = ? AND c.pk = ? ORDER BY t.ord, c.n
                """, [.text(table), .text(id)]
            ) { ($0.text(0), $0.optionalText(1), $0.isNull(2) ? nil : $0.int64(2)) }
        }
    }

    /// The values of each logged change of one row as `liaison_vals` reads them now, in log order,
    /// without publishing first: a change still current reads the row's first copy in the journal
    /// when local writes overwrote it since (`JournalCopy`). For tests of `ChangeValues`.
    package func changeValuesUnpublished(_ table: String, id: String) throws -> [String?] {
        try withConnection { db in
            try db.query(
                """
                SELECT \(ChangeValues.sql("c")) FROM _liaison_change c
                JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
                WHERE c.tbl = ? AND c.pk = ? ORDER BY t.ord, c.n
                """, [.text(table), .text(id)]
            ) { $0.optionalText(0) }
        }
    }

    /// The operation, bases and digest of each logged change of one row, in log order. For tests
    /// of publishing (`ChangeWriter+PlainInserts` against the row-by-row path).
    package func changeLogEntries(_ table: String, id: String) throws -> [(op: String, bases: String?, digest: String)]
    {
        try withConnection { db in
            try db.query(
                """
                SELECT c.op, c.bases, c.digest FROM _liaison_change c
                JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
                WHERE c.tbl = ? AND c.pk = ? ORDER BY t.ord, c.n
                """, [.text(table), .text(id)]
            ) { ($0.text(0), $0.optionalText(1), $0.text(2)) }
        }
    }
}
