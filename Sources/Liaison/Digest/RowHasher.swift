import CSQLite
import Crypto
import Foundation

/// Hashes the rows of one table straight from SQLite, byte for byte as `RowDigest.hash` does
/// (`liaison-row-v2`), without building a `CellValue` per cell or a dictionary of versions per
/// row: the table's and columns' length-prefixed names are encoded once, each row is written
/// into one reused buffer, and a cell's version is a slot per column position.
///
/// A refresh or a rebuild hashes every written row, so this runs once per row the replica holds
/// at the first comparison (a clone's whole table) and once per written row after.
struct RowHasher {
    let table: TableInfo
    /// `liaison-row-v2\0` and the table's name, length-prefixed.
    private let prefix: [UInt8]
    /// Each column's name, length-prefixed, by position.
    private let names: [[UInt8]]
    /// `v`, then the site id, length-prefixed, by site index (`?` for an index with no site).
    private var sites: [Int64: [UInt8]]
    /// This row's versions: the site index and seq of each column's own version (`none`: no
    /// version), and of the row's insert (column `''`).
    private var versionSite: [Int64]
    private var versionSeq: [Int64]
    private var insertSite: Int64 = 0
    private var insertSeq: Int64 = Self.none
    private static let none = Int64.min
    private var buffer: [UInt8] = []

    /// - Parameter sites: the site id of each site index (`_liaison_site`).
    init(table: TableInfo, sites: [Int64: String]) {
        self.table = table
        var prefix = Array("liaison-row-v2\u{0}".utf8)
        Self.append(Array(table.name.utf8), to: &prefix)
        self.prefix = prefix
        names = table.columns.map { column in
            var bytes: [UInt8] = []
            Self.append(Array(column.name.utf8), to: &bytes)
            return bytes
        }
        self.sites = sites.mapValues { id in
            var bytes: [UInt8] = [UInt8(ascii: "v")]
            Self.append(Array(id.utf8), to: &bytes)
            return bytes
        }
        versionSite = Array(repeating: 0, count: table.columns.count)
        versionSeq = Array(repeating: Self.none, count: table.columns.count)
        buffer.reserveCapacity(1_024)
    }

    /// Forgets the versions of the row hashed last.
    mutating func clearVersions() {
        for position in versionSeq.indices { versionSeq[position] = Self.none }
        insertSeq = Self.none
    }

    /// Replaces the versions with those of row `id`, read on from `versions` (rows of
    /// `pk, col, site, seq` in the order the rows are read); versions of deleted rows, which sort
    /// between live ids, are skipped. `pending` says whether `versions` still stands on a row.
    mutating func takeVersions(of id: String, from versions: Statement, pending: inout Bool) throws {
        clearVersions()
        let idBytes = Array(id.utf8)
        while pending, Array(versions.text(0).utf8).lexicographicallyPrecedes(idBytes) {
            pending = try versions.step()
        }
        while pending, versions.text(0) == id {
            addVersion(column: versions.text(1), site: versions.int64(2), seq: versions.int64(3))
            pending = try versions.step()
        }
    }

    /// Records one `_liaison_version` row of the row about to be hashed (a column this table does
    /// not have is ignored, as `RowDigest.hash` ignores it).
    mutating func addVersion(column: String, site: Int64, seq: Int64) {
        if column.isEmpty {
            insertSite = site
            insertSeq = seq
        } else if let position = table.columnIndex[column] {
            versionSite[position] = site
            versionSeq[position] = seq
        }
    }

    /// The hash of the row `statement` is on, its columns the table's in schema order from
    /// `offset`, with the versions added since `clearVersions()`.
    mutating func hash(_ statement: Statement, from offset: Int32 = 0) -> [UInt8] {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: prefix)
        let handle = statement.handle
        for position in names.indices {
            buffer.append(contentsOf: names[position])
            let column = offset + Int32(position)
            switch sqlite3_column_type(handle, column) {
            case SQLITE_NULL: buffer.append(UInt8(ascii: "n"))
            case SQLITE_INTEGER:
                buffer.append(UInt8(ascii: "i"))
                appendDecimal(sqlite3_column_int64(handle, column))
            case SQLITE_FLOAT:
                buffer.append(UInt8(ascii: "r"))
                Self.append(
                    Array(String(sqlite3_column_double(handle, column).bitPattern, radix: 16).utf8), to: &buffer)
            default:
                buffer.append(UInt8(ascii: "t"))
                appendText(handle, column)
            }
            if position > 0, versionSeq[position] != Self.none {
                appendVersion(site: versionSite[position], seq: versionSeq[position])
            } else if position > 0, insertSeq != Self.none {
                appendVersion(site: insertSite, seq: insertSeq)
            } else {
                buffer.append(UInt8(ascii: "-"))
            }
        }
        return Array(SHA256.hash(data: buffer))
    }

    private mutating func appendVersion(site: Int64, seq: Int64) {
        if let bytes = sites[site] {
            buffer.append(contentsOf: bytes)
        } else {
            buffer.append(contentsOf: Array("v1:?".utf8))
        }
        appendDecimal(seq)
    }

    /// A text cell as `Statement.text` reads it (up to the first NUL, ill-formed UTF-8 repaired),
    /// length-prefixed. Well-formed text is copied as it is, the rest goes through `String`.
    private mutating func appendText(_ handle: OpaquePointer, _ column: Int32) {
        guard let pointer = sqlite3_column_text(handle, column) else {
            buffer.append(contentsOf: Array("0:".utf8))
            return
        }
        let whole = UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column)))
        let length = whole.firstIndex(of: 0) ?? whole.count
        let bytes = UnsafeBufferPointer(rebasing: whole[0..<length])
        if bytes.allSatisfy({ $0 < 0x80 }) || String(validating: bytes, as: UTF8.self) != nil {
            appendLength(length)
            buffer.append(contentsOf: bytes)
        } else {
            let repaired = Array(String(cString: pointer).utf8)
            Self.append(repaired, to: &buffer)
        }
    }

    /// A number in decimal, length-prefixed (`String(value)`'s bytes).
    private mutating func appendDecimal(_ value: Int64) {
        if value >= 0, value < 10 {
            buffer.append(UInt8(ascii: "1"))
            buffer.append(UInt8(ascii: ":"))
            buffer.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        Self.append(Array(String(value).utf8), to: &buffer)
    }

    private mutating func appendLength(_ length: Int) {
        if length < 10 {
            buffer.append(UInt8(ascii: "0") + UInt8(length))
        } else {
            buffer.append(contentsOf: Array(String(length).utf8))
        }
        buffer.append(UInt8(ascii: ":"))
    }

    /// Length-prefixed, as `RowDigest` encodes every part.
    private static func append(_ utf8: [UInt8], to bytes: inout [UInt8]) {
        bytes.append(contentsOf: Array(String(utf8.count).utf8))
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: utf8)
    }
}
