import CSQLite
import Foundation

/// One SQLite connection. Not thread-safe: `Replica` owns it and reaches it from one queue only.
///
/// A small `final class` so that its `deinit` closes the handle (an actor's could not).
final class Connection {
    let handle: OpaquePointer
    let path: String
    private var cache: [String: Statement] = [:]

    init(path: String, create: Bool) throws {
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        if create { flags |= SQLITE_OPEN_CREATE }
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw LiaisonError(.storage, "cannot open '\(path)': \(message)")
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5_000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements that return no rows.
    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw Connection.error(rc: rc, message: message, sql: sql)
        }
    }

    /// A prepared statement, cached by its SQL text and reset for reuse.
    func cached(_ sql: String) throws -> Statement {
        if let statement = cache[sql] {
            statement.reset()
            return statement
        }
        let statement = try Statement(connection: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// A fresh prepared statement, finalized when released.
    func prepare(_ sql: String) throws -> Statement {
        try Statement(connection: self, sql: sql)
    }

    /// Binds `arguments`, runs the statement and discards rows.
    func run(_ sql: String, _ arguments: [CellValue] = []) throws {
        let statement = try cached(sql)
        try statement.bind(arguments)
        while try statement.step() {}
    }

    /// The rows of a query, each read by `row`.
    func query<T>(_ sql: String, _ arguments: [CellValue] = [], _ row: (Statement) throws -> T) throws -> [T] {
        let statement = try cached(sql)
        try statement.bind(arguments)
        var result: [T] = []
        while try statement.step() { result.append(try row(statement)) }
        return result
    }

    /// The first row of a query, if any.
    func first<T>(_ sql: String, _ arguments: [CellValue] = [], _ row: (Statement) throws -> T) throws -> T? {
        let statement = try cached(sql)
        try statement.bind(arguments)
        defer { statement.reset() }
        return try statement.step() ? row(statement) : nil
    }

    var changes: Int { Int(sqlite3_changes(handle)) }

    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    static func error(rc: Int32, message: String, sql: String?) -> LiaisonError {
        let primary = rc & 0xff
        let context = sql.map { " (SQL: \($0.prefix(200)))" } ?? ""
        switch primary {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return LiaisonError(
                .busy, "the database is locked by another process; retry when it has finished: \(message)")
        case SQLITE_NOTADB:
            return LiaisonError(.notAReplica, "the file is not a SQLite database")
        case SQLITE_FULL:
            return LiaisonError(.storage, "the disk is full; nothing of this write was saved: \(message)")
        case SQLITE_READONLY:
            return LiaisonError(.storage, "the database is read-only; nothing was written: \(message)")
        default:
            return LiaisonError(.storage, "\(message)\(context)")
        }
    }
}

extension Connection {
    func setBusyTimeout(_ timeout: Duration) {
        let ms = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        sqlite3_busy_timeout(handle, Int32(clamping: ms))
    }
}
