import Foundation

/// Reads a page of the change log in apply order, within byte and change limits. A transaction
/// larger than a page travels in pieces; the cursor then points inside it.
struct PageBuilder {
    let db: Connection
    let limits: PageLimits

    private struct Header {
        var order: Int64
        var site: Int64
        var seq: Int64
        var hlc: Int64
        var author: String
        var context: String
        var resolves: String?
        var total: Int
    }

    func page(after cursor: SyncCursor, excluding vector: VersionVector) throws -> PullResponse {
        let sites = try SiteDirectory(db: db)
        var records: [TransactionRecord] = []
        var changeCount = 0
        var bytes = 0
        var position = cursor
        let headers = try db.prepare(
            "SELECT ord, sidx, seq, hlc, author, context, resolves, changes FROM _liaison_tx WHERE ord >= ? ORDER BY ord")
        try headers.bind([.integer(cursor.offset > 0 ? cursor.order : cursor.order + 1)])
        while try headers.step() {
            let header = Header(
                order: headers.int64(0), site: headers.int64(1), seq: headers.int64(2), hlc: headers.int64(3),
                author: headers.text(4), context: headers.text(5), resolves: headers.optionalText(6), total: headers.int(7))
            if changeCount >= limits.maxChanges || bytes >= limits.maxBytes {
                return PullResponse(transactions: records, cursor: position.description, hasMore: true)
            }
            let site = sites.site(header.site)
            let resuming = cursor.offset > 0 && header.order == cursor.order
            if vector[site.id] >= header.seq {
                position = SyncCursor(order: header.order, lastChange: 0, offset: 0)
                continue
            }
            var record = TransactionRecord(
                origin: site.id, site: site.code, seq: header.seq, hlc: HybridTimestamp(rawValue: header.hlc),
                author: header.author, context: try ChangeCodec.decodeContext(header.context),
                resolves: ConflictStore.decodeIDs(header.resolves), total: header.total,
                offset: resuming ? cursor.offset : 0, changes: [])
            bytes += 200 + header.context.utf8.count
            var last = resuming ? cursor.lastChange : 0
            let room = max(1, limits.maxChanges - changeCount)
            let rows = try db.query(
                "SELECT n, tbl, pk, op, vals, lvls FROM _liaison_change WHERE sidx = ? AND seq = ? AND n > ? ORDER BY n LIMIT ?",
                [.integer(header.site), .integer(header.seq), .integer(last), .integer(Int64(room))]
            ) { ($0.int64(0), $0.text(1), $0.text(2), $0.text(3), $0.optionalText(4), $0.optionalText(5)) }
            for (n, table, pk, op, vals, levels) in rows {
                if bytes >= limits.maxBytes && !record.changes.isEmpty { break }
                record.changes.append(
                    ChangeRecord(
                        table: table, id: pk, op: ChangeRecord.Operation(rawValue: op) ?? .update,
                        values: try ChangeCodec.decodeValues(vals), levels: try ChangeCodec.decodeLevels(levels)))
                bytes += 40 + table.utf8.count + pk.utf8.count + (vals?.utf8.count ?? 0)
                last = n
            }
            changeCount += record.changes.count
            records.append(record)
            if record.isLastPiece {
                position = SyncCursor(order: header.order, lastChange: 0, offset: 0)
            } else {
                position = SyncCursor(order: header.order, lastChange: last, offset: record.offset + record.changes.count)
                return PullResponse(transactions: records, cursor: position.description, hasMore: true)
            }
        }
        return PullResponse(transactions: records, cursor: position.description, hasMore: false)
    }
}
