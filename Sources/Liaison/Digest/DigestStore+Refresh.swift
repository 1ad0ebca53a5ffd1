import CSQLite
import Foundation

extension DigestStore {
    /// Rows hashed by a rebuild before they are written, sorted by scope and key: inserts in index
    /// order touch each page of `_liaison_digest_hash` once per chunk rather than once per row,
    /// and memory stays bounded whatever the table's size.
    static let rebuildChunk = 16_384

    /// Hashes every row of `table` again, from the rows and versions as they are in the file.
    func rebuild(_ table: TableInfo) throws {
        var hasher = RowHasher(table: table, sites: try siteIDs())
        try db.run("DELETE FROM _liaison_digest_hash WHERE tbl = ?", [.text(table.name)])
        try db.run("DELETE FROM _liaison_digest_node WHERE tbl = ?", [.text(table.name)])
        try db.run("DELETE FROM _liaison_digest_dirty WHERE tbl = ?", [.text(table.name)])
        let rows = try db.prepare(table.selectAllSQL)
        let versions = try db.prepare("SELECT pk, col, sidx, seq FROM _liaison_version WHERE tbl = ? ORDER BY pk")
        try versions.bind(table.name, at: 1)
        var pending = try versions.step()
        var sums = NodeSums()
        let scopeIndex = Int32(table.columnIndex["scope"] ?? 1)
        let insert = try HashWriter(db, table: table.name)
        var chunk: [HashWriter.Entry] = []
        chunk.reserveCapacity(Self.rebuildChunk)
        while try rows.step() {
            let id = rows.text(0)
            try hasher.takeVersions(of: id, from: versions, pending: &pending)
            let hash = hasher.hash(rows)
            let scope = rows.value(scopeIndex).displayText
            let key = DigestTree.key(of: id)
            chunk.append(HashWriter.Entry(scope: scope, key: key, id: id, hash: hash))
            sums.addLeaf(hash, table: table.name, scope: scope, key: key)
            if chunk.count >= Self.rebuildChunk { try insert.write(&chunk) }
        }
        try insert.write(&chunk)
        versions.reset()
        sums.rollUp()
        try sums.save(db)
    }

    /// Hashes the rows written since the last refresh and updates the sums of their tree nodes:
    /// per table, one pass over its marked rows joined with the rows and their versions.
    func refresh() throws {
        try markUnpublished()
        let marked = try db.query("SELECT tbl, count(*) FROM _liaison_digest_dirty GROUP BY tbl", []) {
            ($0.text(0), $0.int(1))
        }
        guard !marked.isEmpty else { return }
        let sites = try siteIDs()
        var sums = NodeSums(loadingFrom: db)
        for (name, count) in marked {
            guard let table = tables[name] else { continue }
            // Many rows touch most of the 4,369 stored nodes: read them all at once.
            if count > 256 { try sums.load(db, table: name) }
            try refresh(table, sites: sites, sums: &sums)
        }
        try sums.save(db)
        try db.run("DELETE FROM _liaison_digest_dirty")
    }

    private func refresh(_ table: TableInfo, sites: [Int64: String], sums: inout NodeSums) throws {
        var hasher = RowHasher(table: table, sites: sites)
        let name = table.name
        // A row's old hash is under the scope it was in: its scope now, else (a move, a deletion)
        // one of the table's other scopes.
        let scopes = try db.query("SELECT scope FROM _liaison_digest_node WHERE tbl = ? AND node = ''", [.text(name)]) {
            $0.text(0)
        }
        let list = table.quotedColumns.map { "t." + $0 }.joined(separator: ", ")
        let rows = try db.prepare(
            "SELECT d.pk, t.id IS NOT NULL, \(list) FROM _liaison_digest_dirty d LEFT JOIN \(table.quotedName) t "
                + "ON t.id = d.pk WHERE d.tbl = ? ORDER BY d.pk")
        try rows.bind(name, at: 1)
        let versions = try db.prepare(
            "SELECT v.pk, v.col, v.sidx, v.seq FROM _liaison_digest_dirty d JOIN _liaison_version v "
                + "ON v.tbl = d.tbl AND v.pk = d.pk WHERE d.tbl = ? ORDER BY d.pk")
        try versions.bind(name, at: 1)
        var pending = try versions.step()
        let old = try db.cached(
            "SELECT hash FROM _liaison_digest_hash WHERE tbl = ? AND scope = ? AND key = ? AND pk = ?")
        let delete = try db.cached(
            "DELETE FROM _liaison_digest_hash WHERE tbl = ? AND scope = ? AND key = ? AND pk = ?")
        let insert = try HashWriter(db, table: name)
        let scopeIndex = Int32(table.columnIndex["scope"] ?? 1) + 2
        while try rows.step() {
            let id = rows.text(0)
            try hasher.takeVersions(of: id, from: versions, pending: &pending)
            let exists = rows.int64(1) != 0
            let scope = exists ? rows.value(scopeIndex).displayText : nil
            let key = DigestTree.key(of: id)
            for candidate in ([scope].compactMap { $0 } + scopes.filter { $0 != scope }) {
                try old.bind([.text(name), .text(candidate), .text(key), .text(id)])
                defer { old.reset() }
                guard try old.step() else { continue }
                try sums.remove(old.blob(0), table: name, scope: candidate, key: key)
                if candidate != scope {
                    try delete.execute([.text(name), .text(candidate), .text(key), .text(id)])
                }
                break
            }
            guard let scope else { continue }
            let hash = hasher.hash(rows, from: 2)
            var one = [HashWriter.Entry(scope: scope, key: key, id: id, hash: hash)]
            try insert.write(&one)
            try sums.add(hash, table: name, scope: scope, key: key)
        }
        versions.reset()
    }
}

/// Writes rows' hashes to `_liaison_digest_hash` with one prepared statement.
struct HashWriter {
    struct Entry {
        var scope: String
        var key: String
        var id: String
        var hash: [UInt8]
    }

    private let statement: Statement
    private let table: String

    init(_ db: Connection, table: String) throws {
        statement = try db.cached(
            "INSERT OR REPLACE INTO _liaison_digest_hash(tbl, scope, key, pk, hash) VALUES (?, ?, ?, ?, ?)")
        self.table = table
    }

    /// Writes `entries` in index order (scope, then key) and empties them.
    func write(_ entries: inout [Entry]) throws {
        if entries.count > 1 { entries.sort { ($0.scope, $0.key, $0.id) < ($1.scope, $1.key, $1.id) } }
        for entry in entries {
            statement.reset()
            try statement.bind(table, at: 1)
            try statement.bind(entry.scope, at: 2)
            try statement.bind(entry.key, at: 3)
            try statement.bind(entry.id, at: 4)
            try statement.bind(blob: entry.hash, at: 5)
            _ = try statement.step()
        }
        entries.removeAll(keepingCapacity: true)
    }
}

extension Statement {
    /// Binds bytes as a blob.
    func bind(blob bytes: [UInt8], at index: Int32) throws {
        let rc = bytes.withUnsafeBytes { buffer in
            sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), sqliteTransient)
        }
        if rc != SQLITE_OK { throw LiaisonError(.storage, "cannot bind a value: code \(rc)") }
    }

    /// A blob column's bytes (empty for NULL).
    func blob(_ index: Int32) -> [UInt8] {
        guard let pointer = sqlite3_column_blob(handle, index) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, index))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
