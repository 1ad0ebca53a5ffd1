import Foundation

/// Outlines of moves and deletions a requester may not read but whose row it may hold: the ones in
/// this replica's own log, and the ones it received as outlines itself (a relay lacking the scope
/// forwards them, so a downstream peer learns of the move too).
extension PageBuilder {
    func evictionOutlines(_ header: PageBuilderHeader, isLocal: Bool) throws -> [ChangeOutline] {
        var outlines: [ChangeOutline] = []
        if let readable, !readable.contains("*") { outlines = try ownOutlines(header, isLocal: isLocal, readable) }
        guard !isLocal, try Self.hasOutlineTable(db) else { return outlines }
        // Forwarded to every requester, whatever it may read: one that may read the change but
        // was sent only its digest (by a relay lacking the scope) forwards the outline in turn,
        // and asks for the change itself.
        let held = Set(outlines.map(\.index))
        for outline in try db.query(
            "SELECT n, tbl, pk, op, scope, body FROM _liaison_outline WHERE sidx = ? AND seq = ? ORDER BY n",
            [.integer(header.site), .integer(header.seq)],
            {
                ChangeOutline(
                    index: $0.int(0) - 1, table: $0.text(1), id: $0.text(2),
                    op: ChangeRecord.Operation(rawValue: $0.text(3)) ?? .update, scope: $0.text(4), body: $0.text(5))
            })
        where !held.contains(outline.index) {
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
            "SELECT n, tbl, pk, op, vals, lvls, scope, bases FROM _liaison_change WHERE sidx = ? AND seq = ? ORDER BY n",
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
