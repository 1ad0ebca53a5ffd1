import Foundation

/// The digests of a replica's rows, kept incrementally.
///
/// - `_liaison_digest_row`: each row's hash (`RowDigest`), the scope it was in and its key (`DigestTree`).
/// - `_liaison_digest_node`: per table and scope, the sum of the hashes of the rows under each node
///   of the digest tree (`""` the whole scope, then one, two and three hex digits of the key) with
///   their count. A write updates four sums; any node is one lookup, or a few rows below the stored depth.
/// - `_liaison_digest_dirty`: rows written since the last refresh. Triggers on every synced table
///   and on `_liaison_version` add to it, whoever writes (the engine, the CLI, the sqlite3 shell),
///   so a refresh hashes only what changed. A write that bypasses triggers (the file edited by
///   other means) is found by `rehash`, which recomputes everything.
/// - `_liaison_digest_table`: the tables whose rows are hashed and watched.
///
/// The triggers insert only when the row is not marked yet, rather than `INSERT OR IGNORE`: inside a
/// trigger, the outer statement's conflict clause (an upsert's) would override `OR IGNORE`.
///
/// Installed on first use: a replica that never compares pays nothing. A replica whose digests
/// were kept before the tree (`_liaison_row_digest`, `_liaison_scope_digest`) drops them and hashes
/// again on its next use: they are a cache of the file.
struct DigestStore {
    let db: Connection
    let tables: [String: TableInfo]

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_digest_row(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL,
            PRIMARY KEY (tbl, pk)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS _liaison_digest_row_key ON _liaison_digest_row(tbl, scope, key);
        CREATE INDEX IF NOT EXISTS _liaison_digest_row_scope ON _liaison_digest_row(tbl, scope, pk);
        CREATE TABLE IF NOT EXISTS _liaison_digest_node(
            tbl TEXT NOT NULL, scope TEXT NOT NULL, node TEXT NOT NULL, count INTEGER NOT NULL, sum TEXT NOT NULL,
            PRIMARY KEY (tbl, scope, node)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_digest_dirty(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, PRIMARY KEY (tbl, pk)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_digest_table(tbl TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_digest_rule(rule INTEGER NOT NULL);
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

    /// Marks every row `records` change as written, for the next refresh: merges run with SQLite's
    /// triggers off (`withCaptureOff`), so the digests' triggers miss them. Nothing when digests
    /// were never installed here.
    static func markWritten(_ records: [TransactionRecord], _ db: Connection) throws {
        guard !records.isEmpty,
            try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_digest_dirty'", [], { _ in true }) ?? false
        else { return }
        for record in records {
            for change in record.changes {
                try db.run(
                    """
                    INSERT INTO _liaison_digest_dirty SELECT ?1, ?2
                    WHERE NOT EXISTS (SELECT 1 FROM _liaison_digest_dirty WHERE tbl = ?1 AND pk = ?2)
                    """, [.text(change.table), .text(change.id)])
            }
        }
    }

    /// Creates what is missing and hashes every row of a table not hashed yet (the first use, or a
    /// table added since).
    func install() throws {
        if try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_scope_digest'", [], { _ in true }) ?? false
        {
            // Digests kept before the tree: hash again under the tree.
            try db.execute(
                "DROP TABLE IF EXISTS _liaison_row_digest; DROP TABLE IF EXISTS _liaison_scope_digest; "
                    + "DROP TABLE IF EXISTS _liaison_digest_table")
        }
        try db.execute(Self.createSQL)
        // Row hashes made under an earlier rule (`RowDigest.rule`) are all made again.
        let rule = try db.first("SELECT rule FROM _liaison_digest_rule", [], { $0.int(0) })
        if rule != RowDigest.rule {
            try db.execute("DELETE FROM _liaison_digest_table; DELETE FROM _liaison_digest_rule")
            try db.run("INSERT INTO _liaison_digest_rule(rule) VALUES (?)", [.integer(Int64(RowDigest.rule))])
        }
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
        try db.run("DELETE FROM _liaison_digest_row WHERE tbl = ?", [.text(table.name)])
        try db.run("DELETE FROM _liaison_digest_node WHERE tbl = ?", [.text(table.name)])
        try db.run("DELETE FROM _liaison_digest_dirty WHERE tbl = ?", [.text(table.name)])
        let rows = try db.prepare(table.selectAllSQL)
        let versions = try db.prepare("SELECT pk, col, sidx, seq FROM _liaison_version WHERE tbl = ? ORDER BY pk")
        try versions.bind(table.name, at: 1)
        var pending = try versions.step()
        let names = table.columns.map(\.name)
        var sums = NodeSums()
        let scopeIndex = table.columnIndex["scope"] ?? 1
        let insert = try db.prepare(
            "INSERT INTO _liaison_digest_row(tbl, pk, scope, key, hash) VALUES (?, ?, ?, ?, ?)")
        while try rows.step() {
            let values = (0..<names.count).map { rows.value(Int32($0)) }
            let id = values[0].displayText
            let idBytes = Array(id.utf8)
            var cells: [String: (String, Int64)] = [:]
            // Versions of deleted rows sort between live ids: skip them.
            while pending, Array(versions.text(0).utf8).lexicographicallyPrecedes(idBytes) {
                pending = try versions.step()
            }
            while pending, versions.text(0) == id {
                cells[versions.text(1)] = (sites[versions.int64(2)] ?? "?", versions.int64(3))
                pending = try versions.step()
            }
            let hash = RowDigest.hash(table: table.name, columns: names, values: values, versions: cells)
            let scope = values[scopeIndex].displayText
            let key = DigestTree.key(of: id)
            try insert.execute([.text(table.name), .text(id), .text(scope), .text(key), .text(RowDigest.hex(hash))])
            sums.addLeaf(hash, table: table.name, scope: scope, key: key)
        }
        versions.reset()
        sums.rollUp()
        try sums.save(db)
    }

    /// Hashes the rows written since the last refresh and updates the sums of their tree nodes.
    func refresh() throws {
        let dirty = try db.query("SELECT tbl, pk FROM _liaison_digest_dirty", []) { ($0.text(0), $0.text(1)) }
        guard !dirty.isEmpty else { return }
        let sites = try siteIDs()
        var sums = NodeSums(loadingFrom: db)
        for (name, id) in dirty {
            guard let table = tables[name] else { continue }
            if let (scope, key, hex) = try db.first(
                "SELECT scope, key, hash FROM _liaison_digest_row WHERE tbl = ? AND pk = ?", [.text(name), .text(id)],
                { ($0.text(0), $0.text(1), $0.text(2)) }), let old = RowDigest.bytes(hex: hex)
            {
                try sums.remove(old, table: name, scope: scope, key: key)
            }
            let names = table.columns.map(\.name)
            let values = try db.first(table.selectRowSQL, [.text(id)]) { row in
                (0..<names.count).map { row.value(Int32($0)) }
            }
            guard let values else {
                try db.run("DELETE FROM _liaison_digest_row WHERE tbl = ? AND pk = ?", [.text(name), .text(id)])
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
            let key = DigestTree.key(of: id)
            try db.run(
                "INSERT OR REPLACE INTO _liaison_digest_row(tbl, pk, scope, key, hash) VALUES (?, ?, ?, ?, ?)",
                [.text(name), .text(id), .text(scope), .text(key), .text(RowDigest.hex(hash))])
            try sums.add(hash, table: name, scope: scope, key: key)
        }
        try sums.save(db)
        try db.run("DELETE FROM _liaison_digest_dirty")
    }

    /// The stored sum of a tree node (empty when no row is under it).
    func stored(table: String, scope: String, node: String) throws -> DigestSum {
        try NodeSums.stored(db, table: table, scope: scope, node: node)
    }

    /// Every table and scope with rows, with its sum.
    func scopes() throws -> [(table: String, scope: String, sum: DigestSum)] {
        try db.query(
            "SELECT tbl, scope, sum, count FROM _liaison_digest_node WHERE node = '' ORDER BY tbl, scope", []
        ) {
            ($0.text(0), $0.text(1), DigestSum(hex: $0.text(2), count: $0.int(3)) ?? DigestSum())
        }
    }

    /// Every stored node, `table/scope/node` to `count:fingerprint`.
    func nodes() throws -> [String: String] {
        var nodes: [String: String] = [:]
        for (key, value) in try db.query(
            "SELECT tbl, scope, node, sum, count FROM _liaison_digest_node", [],
            {
                (
                    "\($0.text(0))/\($0.text(1))/\($0.text(2))",
                    "\($0.int(4)):\(DigestSum(hex: $0.text(3), count: $0.int(4))?.fingerprint ?? "?")"
                )
            })
        {
            nodes[key] = value
        }
        return nodes
    }

    /// The rows of a range in id order (byte order), with their hashes.
    func items(table: String, scope: String, lower: String, upper: String?) throws -> [(id: String, hash: [UInt8])] {
        let sql =
            "SELECT pk, hash FROM _liaison_digest_row WHERE tbl = ? AND scope = ? AND pk >= ?"
            + (upper == nil ? "" : " AND pk < ?") + " ORDER BY pk"
        var arguments: [CellValue] = [.text(table), .text(scope), .text(lower)]
        if let upper { arguments.append(.text(upper)) }
        return try db.query(sql, arguments) { ($0.text(0), RowDigest.bytes(hex: $0.text(1)) ?? []) }
    }

    /// The sum of an id range: the stored one for a whole scope, else added up from its rows.
    func sum(table: String, scope: String, lower: String, upper: String?) throws -> DigestSum {
        if lower.isEmpty, upper == nil { return try stored(table: table, scope: scope, node: "") }
        var sum = DigestSum()
        for item in try items(table: table, scope: scope, lower: lower, upper: upper) { sum.add(item.hash) }
        return sum
    }

    /// The rows under a tree node, in id order, with their hashes (an index range on the key:
    /// every key starting with `node` sorts in `[node, node + "g")`).
    func items(table: String, scope: String, node: String) throws -> [(id: String, hash: [UInt8])] {
        try db.query(
            "SELECT pk, hash FROM _liaison_digest_row WHERE tbl = ? AND scope = ? AND key >= ? AND key < ? ORDER BY pk",
            [.text(table), .text(scope), .text(node), .text(node + "g")]
        ) { ($0.text(0), RowDigest.bytes(hex: $0.text(1)) ?? []) }
    }

    /// The sum of a tree node: stored down to `DigestTree.storedDepth` digits, else added up from
    /// its rows (a few: each stored node below holds 1/4,096 of the scope).
    func sum(table: String, scope: String, node: String) throws -> DigestSum {
        if node.utf8.count <= DigestTree.storedDepth { return try stored(table: table, scope: scope, node: node) }
        var sum = DigestSum()
        for item in try items(table: table, scope: scope, node: node) { sum.add(item.hash) }
        return sum
    }
}
