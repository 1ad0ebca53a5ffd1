import CSQLite
import Foundation

let benchTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// Plain SQLite through the same system library: the floor every figure is divided by.
final class PlainSQLite {
    let db: OpaquePointer

    init(path: String) {
        var handle: OpaquePointer?
        sqlite3_open(path, &handle)
        db = handle!
        exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    }

    deinit { sqlite3_close_v2(db) }

    func exec(_ sql: String) {
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &error) != SQLITE_OK {
            fatalError("plain SQLite: \(String(cString: error!)) in \(sql)")
        }
    }

    func prepare(_ sql: String) -> OpaquePointer {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            fatalError("plain SQLite: \(String(cString: sqlite3_errmsg(db)))")
        }
        return statement!
    }

    func run(_ statement: OpaquePointer, _ values: [String]) {
        sqlite3_reset(statement)
        for (index, value) in values.enumerated() {
            sqlite3_bind_text(statement, Int32(index + 1), value, -1, benchTransient)
        }
        guard sqlite3_step(statement) == SQLITE_DONE else {
            fatalError("plain SQLite: \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    /// Bytes per table or index (with its indexes' names folded into the engine table they belong
    /// to), from SQLite's `dbstat` table; empty when the library lacks it.
    func bytesByTable() -> [String: Double] {
        var statement: OpaquePointer?
        let sql =
            "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
            + "LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1"
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { return [:] }
        defer { sqlite3_finalize(statement) }
        var result: [String: Double] = [:]
        while sqlite3_step(statement) == SQLITE_ROW {
            result[String(cString: sqlite3_column_text(statement, 0))] = sqlite3_column_double(statement, 1)
        }
        return result
    }

    /// Checkpoints the WAL into the main file and returns main + WAL size.
    func checkpointedSize(path: String) -> Int {
        exec("PRAGMA wal_checkpoint(TRUNCATE);")
        return fileSize(path) + fileSize(path + "-wal")
    }
}
