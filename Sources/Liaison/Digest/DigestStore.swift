import Foundation

/// The digests of a replica's rows, kept incrementally.
///
/// - `_liaison_row_digest`: each row's hash (`RowDigest`) and the scope it was in.
/// - `_liaison_scope_digest`: per table and scope, the sum of its rows' hashes and their count.
/// - `_liaison_digest_dirty`: rows written since the last refresh. Triggers on every synced table
///   and on `_liaison_version` add to it, whoever writes (the engine, the CLI, the sqlite3 shell),
///   so a refresh hashes only what changed. A write that bypasses triggers (the file edited by
///   other means) is found by `rehash`, which recomputes everything.
/// - `_liaison_digest_table`: the tables whose rows are hashed and watched.
///
/// The triggers insert only when the row is not marked yet, rather than `INSERT OR IGNORE`: inside a
/// trigger, the outer statement's conflict clause (an upsert's) would override `OR IGNORE`.
///
/// Installed on first use: a replica that never compares pays nothing.
struct DigestStore {
    let db: Connection
    let tables: [String: TableInfo]

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_row_digest(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, scope TEXT NOT NULL, hash TEXT NOT NULL,
            PRIMARY KEY (tbl, pk)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS _liaison_row_digest_scope ON _liaison_row_digest(tbl, scope, pk);
        CREATE TABLE IF NOT EXISTS _liaison_scope_digest(
            tbl TEXT NOT NULL, scope TEXT NOT NULL, count INTEGER NOT NULL, sum TEXT NOT NULL,
            PRIMARY KEY (tbl, scope)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_digest_dirty(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, PRIMARY KEY (tbl, pk)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_digest_table(tbl TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
        CREATE TRIGGER IF NOT EXISTS _liaison_rowdigest_version_insert AFTER INSERT ON _liaison_version BEGIN
            INSERT INTO _liaison_digest_dirty SELECT NEW.tbl, NEW.pk
            WHERE NOT EXISTS (SELECT 1 FROM _liaison_digest_dirty WHERE tbl = NEW.tbl AND pk = NEW.pk);
        END;
        CREATE TRIGGER IF NOT EXISTS _liaison_rowdigest_version_update AFTER UPDATE ON _liaison_version BEGIN
            INSERT INTO _liaison_digest_dirty SELECT NEW.tbl, NEW.pk
            WHERE NOT EXISTS (SELECT 1 FROM _liaison_digest_dirty WHERE tbl = NEW.tbl AND pk = NEW.pk);
        END;
        CREATE TRIGGER IF NOT EXISTS _liaison_rowdigest_version_delete AFTER DELETE ON _liaison_version BEGIN
            INSERT INTO _liaison_digest_dirty SELECT OLD.tbl, OLD.pk
            WHERE NOT EXISTS (SELECT 1 FROM _liaison_digest_dirty WHERE tbl = OLD.tbl AND pk = OLD.pk);
        END;
        """

    /// The triggers that mark a synced table's written rows.
    static func triggersSQL(for table: TableInfo) -> String {
        let name = table.quotedName
        let literal = "'" + table.name.replacingOccurrences(of: "'", with: "''") + "'"
        func trigger(_ event: String, _ row: String) -> String {
            """
            CREATE TRIGGER IF NOT EXISTS \(CaptureTriggers.quoted("_liaison_rowdigest_\(event)_" + table.name))
            AFTER \(event.uppercased()) ON \(name) BEGIN
                INSERT INTO _liaison_digest_dirty SELECT \(literal), \(row).id
                WHERE NOT EXISTS (SELECT 1 FROM _liaison_digest_dirty WHERE tbl = \(literal) AND pk = \(row).id);
            END;
            """
        }
        return trigger("insert", "NEW") + trigger("update", "NEW") + trigger("delete", "OLD")
    }

    /// Creates what is missing and hashes every row of a table not hashed yet (the first use, or a
    /// table added since).
    func install() throws {
        try db.execute(Self.createSQL)
        let known = Set(try db.query("SELECT tbl FROM _liaison_digest_table") { $0.text(0) })
        for table in tables.values.sorted(by: { $0.index < $1.index }) where !known.contains(table.name) {
            try db.execute(Self.triggersSQL(for: table))
            try rebuild(table)
            try db.run("INSERT INTO _liaison_digest_table VALUES (?)", [.text(table.name)])
        }
    }

    /// The site id of each site index.
    private func siteIDs() throws -> [Int64: String] {
        var ids: [Int64: String] = [:]
        for (index, id) in try db.query("SELECT sidx, site_id FROM _liaison_site", [], { ($0.int64(0), $0.text(1)) }) {
            ids[index] = id
        }
        return ids
    }

    /// Hashes every row of `table` again, from the rows and versions as they are in the file.
    func rebuild(_ table: TableInfo) throws {
        let sites = try siteIDs()
        try db.run("DELETE FROM _liaison_row_digest WHERE tbl = ?", [.text(table.name)])
        try db.run("DELETE FROM _liaison_scope_digest WHERE tbl = ?", [.text(table.name)])
        try db.run("DELETE FROM _liaison_digest_dirty WHERE tbl = ?", [.text(table.name)])
        let rows = try db.prepare(table.selectAllSQL)
        let versions = try db.prepare("SELECT pk, col, sidx, seq FROM _liaison_version WHERE tbl = ? ORDER BY pk")
        try versions.bind(table.name, at: 1)
        var pending = try versions.step()
        let names = table.columns.map(\.name)
        var sums: [String: DigestSum] = [:]
        let scopeIndex = table.columnIndex["scope"] ?? 1
        while try rows.step() {
            let values = (0..<names.count).map { rows.value(Int32($0)) }
            let id = values[0].displayText
            let idBytes = Array(id.utf8)
            var cells: [String: (String, Int64)] = [:]
            // Versions of deleted rows sort between live ids: skip them.
            while pending, Array(versions.text(0).utf8).lexicographicallyPrecedes(idBytes) { pending = try versions.step() }
            while pending, versions.text(0) == id {
                cells[versions.text(1)] = (sites[versions.int64(2)] ?? "?", versions.int64(3))
                pending = try versions.step()
            }
            let hash = RowDigest.hash(table: table.name, columns: names, values: values, versions: cells)
            let scope = values[scopeIndex].displayText
            try db.run(
                "INSERT INTO _liaison_row_digest(tbl, pk, scope, hash) VALUES (?, ?, ?, ?)",
                [.text(table.name), .text(id), .text(scope), .text(RowDigest.hex(hash))])
            sums[scope, default: DigestSum()].add(hash)
        }
        versions.reset()
        for (scope, sum) in sums { try save(table: table.name, scope: scope, sum) }
    }

    /// Hashes the rows written since the last refresh and updates their scopes' sums.
    func refresh() throws {
        let dirty = try db.query("SELECT tbl, pk FROM _liaison_digest_dirty", []) { ($0.text(0), $0.text(1)) }
        guard !dirty.isEmpty else { return }
        let sites = try siteIDs()
        var sums: [String: [String: DigestSum]] = [:]
        func sum(_ table: String, _ scope: String) throws -> DigestSum {
            if let known = sums[table]?[scope] { return known }
            return try stored(table: table, scope: scope)
        }
        for (name, id) in dirty {
            guard let table = tables[name] else { continue }
            if let (scope, hex) = try db.first(
                "SELECT scope, hash FROM _liaison_row_digest WHERE tbl = ? AND pk = ?", [.text(name), .text(id)],
                { ($0.text(0), $0.text(1)) }), let old = RowDigest.bytes(hex: hex)
            {
                var updated = try sum(name, scope)
                updated.remove(old)
                sums[name, default: [:]][scope] = updated
            }
            let names = table.columns.map(\.name)
            let values = try db.first(table.selectRowSQL, [.text(id)]) { row in
                (0..<names.count).map { row.value(Int32($0)) }
            }
            guard let values else {
                try db.run("DELETE FROM _liaison_row_digest WHERE tbl = ? AND pk = ?", [.text(name), .text(id)])
                continue
            }
            var cells: [String: (String, Int64)] = [:]
            for (column, site, seq) in try db.query(
                "SELECT col, sidx, seq FROM _liaison_version WHERE tbl = ? AND pk = ?", [.text(name), .text(id)],
                { ($0.text(0), $0.int64(1), $0.int64(2)) })
            {
                cells[column] = (sites[site] ?? "?", seq)
            }
            let hash = RowDigest.hash(table: name, columns: names, values: values, versions: cells)
            let scope = values[table.columnIndex["scope"] ?? 1].displayText
            try db.run(
                "INSERT OR REPLACE INTO _liaison_row_digest(tbl, pk, scope, hash) VALUES (?, ?, ?, ?)",
                [.text(name), .text(id), .text(scope), .text(RowDigest.hex(hash))])
            var updated = try sum(name, scope)
            updated.add(hash)
            sums[name, default: [:]][scope] = updated
        }
        for (table, scopes) in sums { for (scope, value) in scopes { try save(table: table, scope: scope, value) } }
        try db.run("DELETE FROM _liaison_digest_dirty")
    }

    private func stored(table: String, scope: String) throws -> DigestSum {
        let found = try db.first(
            "SELECT sum, count FROM _liaison_scope_digest WHERE tbl = ? AND scope = ?", [.text(table), .text(scope)],
            { DigestSum(hex: $0.text(0), count: $0.int(1)) })
        return (found ?? nil) ?? DigestSum()
    }

    private func save(table: String, scope: String, _ sum: DigestSum) throws {
        if sum.count <= 0 {
            try db.run("DELETE FROM _liaison_scope_digest WHERE tbl = ? AND scope = ?", [.text(table), .text(scope)])
        } else {
            try db.run(
                "INSERT OR REPLACE INTO _liaison_scope_digest(tbl, scope, count, sum) VALUES (?, ?, ?, ?)",
                [.text(table), .text(scope), .integer(Int64(sum.count)), .text(sum.hex)])
        }
    }

    /// Every table and scope with rows, with its sum.
    func scopes() throws -> [(table: String, scope: String, sum: DigestSum)] {
        try db.query("SELECT tbl, scope, sum, count FROM _liaison_scope_digest ORDER BY tbl, scope", []) {
            ($0.text(0), $0.text(1), DigestSum(hex: $0.text(2), count: $0.int(3)) ?? DigestSum())
        }
    }

    /// The rows of a range in id order (byte order), with their hashes.
    func items(table: String, scope: String, lower: String, upper: String?) throws -> [(id: String, hash: [UInt8])] {
        let sql =
            "SELECT pk, hash FROM _liaison_row_digest WHERE tbl = ? AND scope = ? AND pk >= ?"
            + (upper == nil ? "" : " AND pk < ?") + " ORDER BY pk"
        var arguments: [CellValue] = [.text(table), .text(scope), .text(lower)]
        if let upper { arguments.append(.text(upper)) }
        return try db.query(sql, arguments) { ($0.text(0), RowDigest.bytes(hex: $0.text(1)) ?? []) }
    }

    /// The sum of a range: the stored one for a whole scope, else added up from its rows.
    func sum(table: String, scope: String, lower: String, upper: String?) throws -> DigestSum {
        if lower.isEmpty, upper == nil { return try stored(table: table, scope: scope) }
        var sum = DigestSum()
        for item in try items(table: table, scope: scope, lower: lower, upper: upper) { sum.add(item.hash) }
        return sum
    }
}
