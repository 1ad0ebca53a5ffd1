import Foundation

/// Replica files damaged in thirteen ways: random bytes in the middle, truncation, a zeroed page, a
/// broken header, a foreign SQLite database, a text file, an empty file, noise, a garbage
/// write-ahead log (kind 8, which SQLite must ignore), a broken schema, another format, a dropped
/// change log, a directory.
public enum FaultCorruption {
    public static let kinds = 13

    /// Writes a copy of `base` at `url` damaged in way `kind` (0 to 12); returns what was done.
    public static func apply(kind: Int, base: Data, at url: URL, cli: FaultCLI, rng: inout SeededGenerator) async throws
        -> String
    {
        let pageSize = 4_096
        var bytes = base
        func write(_ data: Data) throws { try data.write(to: url) }
        switch kind {
        case 0:
            let length = rng.int(64...4_096)
            let offset = rng.int(bytes.count / 4...(bytes.count * 9 / 10 - length))
            for index in offset..<(offset + length) { bytes[index] = UInt8.random(in: 0...255, using: &rng) }
            try write(bytes)
            return "\(length) random bytes at offset \(offset)"
        case 1:
            let length = rng.int(bytes.count / 20...(bytes.count * 19 / 20))
            try write(bytes.prefix(length))
            return "truncated to \(length) of \(base.count) bytes"
        case 2:
            let page = rng.int(2...(bytes.count / pageSize - 1))
            bytes.replaceSubrange(page * pageSize..<(page + 1) * pageSize, with: Data(count: pageSize))
            try write(bytes)
            return "page \(page) zeroed"
        case 3:
            for index in 0..<100 { bytes[index] = UInt8.random(in: 0...255, using: &rng) }
            try write(bytes)
            return "the SQLite header overwritten"
        case 4:
            let made = try await cli.sqlite(url.path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            guard made.status == 0 else { throw FaultFailure("sqlite3 could not make a foreign database: \(made)") }
            return "a foreign SQLite database"
        case 5:
            try write(Data("This is a shopping list, not a replica.\n".utf8))
            return "a text file"
        case 6:
            try write(Data())
            return "an empty file"
        case 7:
            try write(Data((0..<65_536).map { _ in UInt8.random(in: 0...255, using: &rng) }))
            return "64 kB of random bytes"
        case 8:
            try write(bytes)
            try Data((0..<40_000).map { _ in UInt8.random(in: 0...255, using: &rng) }).write(
                to: URL(fileURLWithPath: url.path + "-wal"))
            return "a garbage write-ahead log"
        case 9:
            try write(bytes)
            _ = try await cli.sqlite(
                url.path, "UPDATE _liaison_meta SET value = '{\"tables\": 5' WHERE key = 'schema';")
            return "a broken schema in the header"
        case 10:
            try write(bytes)
            _ = try await cli.sqlite(url.path, "UPDATE _liaison_meta SET value = '999' WHERE key = 'format';")
            return "format 999"
        case 11:
            try write(bytes)
            _ = try await cli.sqlite(url.path, "DROP TABLE _liaison_tx;")
            return "the change log table dropped"
        default:
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return "a directory"
        }
    }
}
