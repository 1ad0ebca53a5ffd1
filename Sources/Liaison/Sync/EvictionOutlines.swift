import Foundation

/// Outlines of moves and deletions a requester may not read but whose row it may hold: the ones in
/// this replica's own log, and the ones it received as outlines itself (a relay lacking the scope
/// forwards them, so a downstream peer learns of the move too).
extension PageBuilder {
    func evictionOutlines(_ header: PageBuilderHeader, isLocal: Bool) throws -> [ChangeOutline] {
        var outlines: [ChangeOutline] = []
        if let readable, !readable.contains("*") { outlines = try ownOutlines(header, isLocal: isLocal, readable) }
        guard !isLocal, try Self.hasOutlineTable(db) else { return outlines }
        // Forwarded only to a requester that may not read the change either: one that may read it
        // would drop a row it is about to receive whole (and edit it in between as a new row,
        // simulation seeds 376, 562); it asks for the change itself, and a replica downstream
        // that may not read it gets the outline with its `wanted` answer (`wantedOutlines`).
        guard !Scope.allows(readable, "*") else { return outlines }
        let held = Set(outlines.map(\.index))
        for outline in try db.query(
            "SELECT n, tbl, pk, op, scope, body FROM _liaison_outline WHERE sidx = ? AND seq = ? ORDER BY n",
            [.integer(header.site), .integer(header.seq)],
            {
                ChangeOutline(
                    index: $0.int(0) - 1, table: $0.text(1), id: $0.text(2),
                    op: ChangeRecord.Operation(rawValue: $0.text(3)) ?? .update, scope: $0.text(4), body: $0.text(5))
            })
        where !held.contains(outline.index) && !Scope.allows(readable, outline.scope) {
            guard try wasReadable(table: outline.table, id: outline.id, before: header.order) else { continue }
            outlines.append(outline)
        }
        return outlines
    }

    private func ownOutlines(_ header: PageBuilderHeader, isLocal: Bool, _ readable: Set<String>) throws
        -> [ChangeOutline]
    {
        var outlines: [ChangeOutline] = []
        let rows = try db.query(
            "SELECT n, tbl, pk, op, \(ChangeValues.sql()), lvls, scope, bases FROM _liaison_change WHERE sidx = ? AND seq = ? ORDER BY n",
            [.integer(header.site), .integer(header.seq)]
        ) {
            (
                $0.int64(0), $0.text(1), $0.text(2), $0.text(3), $0.optionalText(4), $0.optionalText(5), $0.text(6),
                $0.optionalText(7)
            )
        }
        for (rank, (n, table, pk, op, vals, levels, scope, bases)) in rows.enumerated()
        where !readable.contains(scope) && (op == "delete" || vals?.contains("\"scope\":") == true) {
            guard try wasReadable(table: table, id: pk, before: header.order) else { continue }
            outlines.append(
                ChangeOutline(
                    index: isLocal ? rank : Int(n) - 1, table: table, id: pk,
                    op: ChangeRecord.Operation(rawValue: op) ?? .update, scope: scope,
                    body: TransactionDigest.body(values: vals, levels: levels, bases: bases)))
        }
        return outlines
    }

    /// Records of transactions the requester has already (or gets earlier in this page) whose
    /// changes of a row it may not read would take that row out of its reach, sent again, header
    /// only, with those outlines, right after `record` brings the row to it.
    ///
    /// Two concurrent creations of one id, one in `public` and one in `eu` that wins: a public-only
    /// replica that received the `eu` one first (as a digest: it held no row, so no outline) then
    /// created the row from the public one, and kept it; another, receiving them the other way
    /// round, dropped it (the simulation's soak seeds 268, 371, 422, 843). Only this replica knows
    /// both changes concern the row, so it says so, exactly when the requester comes to hold it.
    func companions(
        of record: TransactionRecord, _ header: PageBuilderHeader, vector: VersionVector, sites: SiteDirectory,
        bytes: inout Int
    ) throws -> [TransactionRecord] {
        guard let readable, !readable.contains("*") else { return [] }
        let scopes = readable.sorted()
        let marks = Array(repeating: "?", count: scopes.count).joined(separator: ", ")
        var outlines: [Int64: (header: PageBuilderHeader, outlines: [ChangeOutline])] = [:]
        for change in record.changes where change.op == .insert || change.values?["scope"] != nil {
            let rows = try db.query(
                """
                SELECT c.sidx, c.seq, c.n, c.op, \(ChangeValues.sql("c")), c.lvls, c.scope, c.bases, t.ord FROM _liaison_change c
                JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
                WHERE c.tbl = ? AND c.pk = ? AND c.scope NOT IN (\(marks)) AND t.ord <> ?
                    AND (c.op <> 'update' OR \(ChangeValues.sql("c")) LIKE '%"scope":%')
                """, [.text(change.table), .text(change.id)] + scopes.map { .text($0) } + [.integer(header.order)]
            ) {
                (
                    $0.int64(0), $0.int64(1), $0.int64(2), $0.text(3), $0.optionalText(4), $0.optionalText(5),
                    $0.text(6), $0.optionalText(7), $0.int64(8)
                )
            }
            for (site, seq, n, op, vals, levels, scope, bases, order) in rows {
                guard vector[sites.site(site).id] >= seq || order < header.order else { continue }
                if outlines[order] == nil {
                    guard
                        let found = try db.first(
                            "SELECT \(Self.headerColumns) FROM _liaison_tx WHERE ord = ?", [.integer(order)], readHeader
                        )
                    else { continue }
                    outlines[order] = (found, [])
                }
                let index =
                    site == 1
                    ? try db.first(
                        "SELECT count(*) FROM _liaison_change WHERE sidx = 1 AND seq = ? AND n < ?",
                        [.integer(seq), .integer(n)]
                    ) { $0.int(0) } ?? 0
                    : Int(n) - 1
                outlines[order]?.outlines.append(
                    ChangeOutline(
                        index: index, table: change.table, id: change.id,
                        op: ChangeRecord.Operation(rawValue: op) ?? .update, scope: scope,
                        body: TransactionDigest.body(values: vals, levels: levels, bases: bases)))
            }
        }
        return try outlines.keys.sorted().compactMap { order in
            guard let (found, list) = outlines[order] else { return nil }
            var (companion, _) = try piece(
                found, sites: sites, from: .start, room: Int(Int32.max), bytes: &bytes, forceIndex: true, only: [])
            guard companion.changes.isEmpty, companion.digests != nil else { return nil }
            companion.span = companion.total
            companion.evictions = list
            return companion
        }
    }

    /// Outlines, for a requester asking again for changes it may not read (`wanted`), of those
    /// that move or delete a row it holds a readable change of (by its vector): a requester that
    /// received such a change as a digest when it did not hold the row yet learns of it this way.
    func wantedOutlines(_ header: PageBuilderHeader, vector: VersionVector, sites: SiteDirectory) throws
        -> [ChangeOutline]
    {
        guard let readable, !readable.contains("*") else { return [] }
        let scopes = readable.sorted()
        let marks = Array(repeating: "?", count: scopes.count).joined(separator: ", ")
        let isLocal = header.site == 1
        let rows = try db.query(
            "SELECT n, tbl, pk, op, \(ChangeValues.sql()), lvls, scope, bases FROM _liaison_change WHERE sidx = ? AND seq = ? ORDER BY n",
            [.integer(header.site), .integer(header.seq)]
        ) {
            (
                $0.int64(0), $0.text(1), $0.text(2), $0.text(3), $0.optionalText(4), $0.optionalText(5), $0.text(6),
                $0.optionalText(7)
            )
        }
        var outlines: [ChangeOutline] = []
        for (rank, (n, table, pk, op, vals, levels, scope, bases)) in rows.enumerated()
        where !readable.contains(scope) && (op != "update" || vals?.contains("\"scope\":") == true) {
            let held = try db.query(
                "SELECT c.sidx, c.seq FROM _liaison_change c WHERE c.tbl = ? AND c.pk = ? AND c.scope IN (\(marks))",
                [.text(table), .text(pk)] + scopes.map { .text($0) }
            ) { ($0.int64(0), $0.int64(1)) }
            guard held.contains(where: { vector[sites.site($0.0).id] >= $0.1 }) else { continue }
            outlines.append(
                ChangeOutline(
                    index: isLocal ? rank : Int(n) - 1, table: table, id: pk,
                    op: ChangeRecord.Operation(rawValue: op) ?? .update, scope: scope,
                    body: TransactionDigest.body(values: vals, levels: levels, bases: bases)))
        }
        return outlines
    }

    /// Whether this replica keeps received outlines (replicas made before it create the table on
    /// the first outline they receive).
    static func hasOutlineTable(_ db: Connection) throws -> Bool {
        try db.first("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_liaison_outline'") { _ in true }
            ?? false
    }

    /// Outlines received for changes held here only as digests, kept to forward.
    static let outlineTableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_outline(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL, tbl TEXT NOT NULL, pk TEXT NOT NULL,
            op TEXT NOT NULL, scope TEXT NOT NULL, body TEXT NOT NULL,
            PRIMARY KEY (sidx, seq, n)) WITHOUT ROWID
        """
}
