import CSQLite
import Foundation

/// One SQLite connection. Not thread-safe: `Replica` owns it and reaches it from one queue only.
///
/// A small `final class` so that its `deinit` closes the handle (an actor's could not).
final class Connection {
    let handle: OpaquePointer
    let path: String
    private var cache: [String: Statement] = [:]
    /// The same statements by the address of the SQL text last used to find them (`cached`).
    private var byAddress: [UnsafeRawPointer: Statement] = [:]
    /// Serves `liaison_vals` (`ChangeValues`); its statements are finalized before the handle closes.
    private var liveValues: LiveValueReader?
    /// Serves the functions publishing uses for plain inserts (`ChangeWriter+PlainInserts`).
    let publishFunctions: PublishFunctions

    /// How a file is opened.
    enum Mode {
        /// Read and write; the file must exist.
        case readWrite
        /// Read and write, creating the file.
        case create
        /// Read only, on a file nothing can change (a read-only file system): SQLite then needs no
        /// `-shm` file, which it could not create there.
        case immutable
    }

    init(path: String, mode: Mode) throws {
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX
        var name = path
        switch mode {
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .immutable:
            flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            let escaped =
                path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["?", "#", "%"])) ?? path
            name = "file:\(escaped)?immutable=1"
        }
        let rc = sqlite3_open_v2(name, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw LiaisonError(.storage, "cannot open '\(path)': \(message)")
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5_000)
        sqlite3_extended_result_codes(db, 1)
        SearchFolding.register(on: db)
        liveValues = ChangeValues.register(on: db)
        publishFunctions = PublishFunctions.register(on: db)
    }

    /// Whether `liaison_vals` reads a row's first copy in the journal before the row
    /// (`LiveValueReader.readsCopies`; publishing turns it off once it gave the copies away).
    var readsJournalCopies: Bool {
        get { liveValues?.readsCopies ?? true }
        set { liveValues?.readsCopies = newValue }
    }

    /// Whether SQLite opened the file read-only (it does when the file or its file system is write-protected).
    var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

    deinit {
        byAddress.removeAll()
        cache.removeAll()
        liveValues?.close()
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
    ///
    /// Most SQL texts are literals, whose bytes never move: those are found first by address (a
    /// hash of one pointer), then confirmed equal (the same storage compares at once), before the
    /// text itself is hashed; a one-row local write runs five statements.
    func cached(_ sql: String) throws -> Statement {
        let address = sql.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
        if let address, let statement = byAddress[address], statement.sql == sql {
            statement.reset()
            return statement
        }
        if let statement = cache[sql] {
            remember(statement, at: address)
            statement.reset()
            return statement
        }
        let statement = try Statement(connection: self, sql: sql)
        cache[sql] = statement
        remember(statement, at: address)
        return statement
    }

    /// Texts built at run time come at new addresses each time: the table is bounded.
    private func remember(_ statement: Statement, at address: UnsafeRawPointer?) {
        guard let address else { return }
        if byAddress.count >= 256 { byAddress.removeAll(keepingCapacity: true) }
        byAddress[address] = statement
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
            return LiaisonError(
                .storage,
                "the replica is read-only (its file, folder or file system is write-protected); nothing was written")
        case SQLITE_CANTOPEN:
            return LiaisonError(
                .storage,
                "SQLite cannot open the replica or its -wal/-shm files next to it: \(message); check that its folder "
                    + "is writable by this user")
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
