import CSQLite
import CZlib
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
        for (index, value) in values.enumerated() { sqlite3_bind_text(statement, Int32(index + 1), value, -1, benchTransient) }
        guard sqlite3_step(statement) == SQLITE_DONE else { fatalError("plain SQLite: \(String(cString: sqlite3_errmsg(db)))") }
    }

    /// Checkpoints the WAL into the main file and returns main + WAL size.
    func checkpointedSize(path: String) -> Int {
        exec("PRAGMA wal_checkpoint(TRUNCATE);")
        return fileSize(path) + fileSize(path + "-wal")
    }
}

/// gzip level 6 size of a body, as the wire-bytes figures count it.
func gzipSize(_ data: Data) -> Int {
    var stream = z_stream()
    guard deflateInit2_(&stream, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else { return 0 }
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(data.count))) + 32)
    let produced: Int = data.withUnsafeBytes { source in
        output.withUnsafeMutableBytes { target in
            stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(data.count)
            stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
            stream.avail_out = uInt(target.count)
            deflate(&stream, Z_FINISH)
            return Int(stream.total_out)
        }
    }
    return produced
}
