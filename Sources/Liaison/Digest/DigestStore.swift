import Foundation

/// The digests of a replica's rows, kept incrementally.
///
/// - `_liaison_digest_hash`: each row's hash (`RowDigest`, 32 bytes), the scope it was in and its
///   key (`DigestTree`), in one B-tree ordered by table, scope and key, so the rows under a tree
///   node are one index range and a row write touches one B-tree (the layout before kept hex text
///   in `_liaison_digest_row` with two more indexes; it is dropped and hashed again).
/// - `_liaison_digest_node`: per table and scope, the sum of the hashes of the rows under each node
///   of the digest tree (`""` the whole scope, then one, two and three hex digits of the key) with
///   their count. A write updates four sums; any node is one lookup, or a few rows below the stored depth.
/// - `_liaison_digest_dirty`: rows written since the last refresh. Triggers on `_liaison_version`
///   add to it when a write is published or merged, and a refresh adds the rows of local writes
///   not published yet (`markUnpublished`), whoever wrote them (the engine, the CLI, the sqlite3
///   shell), so a refresh hashes only what changed. A write that bypasses triggers (the file edited
///   by other means) is found by `rehash`, which recomputes everything.
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
        CREATE TABLE IF NOT EXISTS _liaison_digest_hash(
            tbl TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, pk TEXT NOT NULL, hash BLOB NOT NULL,
            PRIMARY KEY (tbl, scope, key, pk)) WITHOUT ROWID;
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

    /// Marks every row `records` change as written, for the next refresh: merges run with SQLite's
    /// triggers off (`withCaptureOff`), so the digests' triggers miss them. Nothing when digests
    /// were never installed here.
    static func markWritten(_ records: [TransactionRecord], _ db: Connection) throws {
        guard !records.isEmpty,
            try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_digest_dirty'", [], { _ in true }) ?? false
        else { return }
        let mark = try db.cached(
            "INSERT INTO _liaison_digest_dirty SELECT ?1, ?2 "
                + "WHERE NOT EXISTS (SELECT 1 FROM _liaison_digest_dirty WHERE tbl = ?1 AND pk = ?2)")
        for record in records {
            for change in record.changes {
                try mark.bind(change.table, at: 1)
                try mark.bind(change.id, at: 2)
                _ = try mark.step()
                mark.reset()
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
        if try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_digest_row'", [], { _ in true }) ?? false {
            // Row hashes kept as hex text with two indexes: hash again into `_liaison_digest_hash`.
            try db.execute("DROP TABLE _liaison_digest_row; DROP TABLE IF EXISTS _liaison_digest_table")
        }
        try db.execute(Self.createSQL)
        // Row hashes made under an earlier rule (`RowDigest.rule`) are all made again.
        let rule = try db.first("SELECT rule FROM _liaison_digest_rule", [], { $0.int(0) })
        if rule != RowDigest.rule {
            try db.execute("DELETE FROM _liaison_digest_table; DELETE FROM _liaison_digest_rule")
            try db.run("INSERT INTO _liaison_digest_rule(rule) VALUES (?)", [.integer(Int64(RowDigest.rule))])
        }
        try dropTableTriggers()
        let known = Set(try db.query("SELECT tbl FROM _liaison_digest_table") { $0.text(0) })
        for table in tables.values.sorted(by: { $0.index < $1.index }) where !known.contains(table.name) {
            try rebuild(table)
            try db.run("INSERT INTO _liaison_digest_table VALUES (?)", [.text(table.name)])
        }
    }

    /// The site id of each site index.
    func siteIDs() throws -> [Int64: String] {
        var ids: [Int64: String] = [:]
        for (index, id) in try db.query("SELECT sidx, site_id FROM _liaison_site", [], { ($0.int64(0), $0.text(1)) }) {
            ids[index] = id
        }
        return ids
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

    /// The rows of a range in id order (byte order), with their hashes. The rows are those of the
    /// scope, read in key order: `Replica.reconcileDigests` charges an id range the whole scope.
    func items(table: String, scope: String, lower: String, upper: String?) throws -> [(id: String, hash: [UInt8])] {
        let sql =
            "SELECT pk, hash FROM _liaison_digest_hash WHERE tbl = ? AND scope = ? AND pk >= ?"
            + (upper == nil ? "" : " AND pk < ?") + " ORDER BY pk"
        var arguments: [CellValue] = [.text(table), .text(scope), .text(lower)]
        if let upper { arguments.append(.text(upper)) }
        return try db.query(sql, arguments) { ($0.text(0), $0.blob(1)) }
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
            "SELECT pk, hash FROM _liaison_digest_hash WHERE tbl = ? AND scope = ? AND key >= ? AND key < ? ORDER BY pk",
            [.text(table), .text(scope), .text(node), .text(node + "g")]
        ) { ($0.text(0), $0.blob(1)) }
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
