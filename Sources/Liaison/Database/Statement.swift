import CSQLite
import Foundation

/// SQLite's own marker telling it to copy bound text before the call returns.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement with typed binding and column access.
final class Statement {
    let handle: OpaquePointer
    private unowned let connection: Connection
    let sql: String

    init(connection: Connection, sql: String) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw Connection.error(rc: rc, message: String(cString: sqlite3_errmsg(connection.handle)), sql: sql)
        }
        self.handle = statement
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func bind(_ values: [CellValue]) throws {
        for (index, value) in values.enumerated() { try bind(value, at: Int32(index + 1)) }
    }

    func bind(_ value: CellValue, at index: Int32) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(handle, index)
        case .integer(let v): rc = sqlite3_bind_int64(handle, index, v)
        case .real(let v): rc = sqlite3_bind_double(handle, index, v)
        case .text(let v): rc = Self.bindText(handle, index, v)
        }
        if rc != SQLITE_OK { throw failure(rc) }
    }

    func bind(_ text: String, at index: Int32) throws {
        let rc = Self.bindText(handle, index, text)
        if rc != SQLITE_OK { throw failure(rc) }
    }

    /// Binds text as a C string, as SQLite reads it (up to a NUL), without the temporary copy an
    /// implicit `String` to pointer conversion makes: a native string lends its own bytes.
    private static func bindText(_ handle: OpaquePointer, _ index: Int32, _ text: String) -> Int32 {
        text.withCString { sqlite3_bind_text(handle, index, $0, -1, sqliteTransient) }
    }

    func bind(_ value: Int64, at index: Int32) throws {
        let rc = sqlite3_bind_int64(handle, index, value)
        if rc != SQLITE_OK { throw failure(rc) }
    }

    /// Advances to the next row; `false` when done.
    @discardableResult
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(handle)
            return false
        default:
            let error = failure(rc)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Runs the statement to completion with the given arguments.
    func execute(_ values: [CellValue]) throws {
        reset()
        try bind(values)
        while try step() {}
    }

    var columnCount: Int32 { sqlite3_column_count(handle) }

    func columnName(_ index: Int32) -> String { String(cString: sqlite3_column_name(handle, index)) }

    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(handle, index)) }

    func text(_ index: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, index) else { return "" }
        return String(cString: pointer)
    }

    func optionalText(_ index: Int32) -> String? { isNull(index) ? nil : text(index) }

    func value(_ index: Int32) -> CellValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, index))
        case SQLITE_NULL: return .null
        default: return .text(text(index))
        }
    }

    private func failure(_ rc: Int32) -> LiaisonError {
        Connection.error(rc: rc, message: String(cString: sqlite3_errmsg(connection.handle)), sql: sql)
    }
}

extension Statement {
    /// Binds UTF-8 bytes as text.
    func bind(utf8 bytes: [UInt8], at index: Int32) throws {
        let rc = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                sqlite3_bind_text(handle, index, $0, Int32(buffer.count), sqliteTransient)
            }
        }
        if rc != SQLITE_OK { throw LiaisonError(.storage, "cannot bind a value: code \(rc)") }
    }
}
