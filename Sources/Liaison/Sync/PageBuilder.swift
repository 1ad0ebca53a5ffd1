import Foundation

/// Reads a page of the change log in apply order, within byte and change limits, showing a peer
/// only the changes whose own logged scope it may read: each change is judged by the scope it was
/// made in, never by the row's scope now, so a row moved into a readable scope or a re-used id
/// reveals nothing of versions made in a scope the peer may not read. A transaction larger than a
/// page travels in pieces; the cursor then points inside it. Withheld changes travel as their
/// signed digests only; a move or deletion of a row the peer may hold (an earlier change of it was
/// readable) also travels as an outline, so the peer can drop its copy (`TransactionApplier.evict`).
final class PageBuilder {
    let db: Connection
    let limits: PageLimits
    /// Scopes the requester may read; `nil` for all.
    let readable: Set<String>?

    /// Set when a snapshot reads the whole log: it carries the removed runs itself (`ChainBase`).
    var servesSnapshot = false

    /// Whether this replica has compacted values (they travel as digests only, like withheld ones).
    private lazy var hasCompacted = (try? CompactionCheckpoint.hasTables(db)) ?? false

    init(db: Connection, limits: PageLimits, readable: Set<String>?) {
        self.db = db
        self.limits = limits
        self.readable = readable
    }

    /// Whether a change of the row logged before apply order `order` was readable to the
    /// requester (always, for one that may read every scope), so that it may hold the row: a later move or deletion it may not read then
    /// travels as an outline, and the requester judges whether it holds the row in another scope.
    func wasReadable(table: String, id: String, before order: Int64) throws -> Bool {
        guard let readable, !readable.contains("*") else { return true }
        let scopes = readable.sorted()
        let marks = Array(repeating: "?", count: scopes.count).joined(separator: ", ")
        return try db.first(
            """
            SELECT 1 FROM _liaison_change c JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
            WHERE c.tbl = ? AND c.pk = ? AND t.ord < ? AND c.scope IN (\(marks)) LIMIT 1
            """, [.text(table), .text(id), .integer(order)] + scopes.map { .text($0) }, { _ in true }) ?? false
    }

    typealias Header = PageBuilderHeader

    /// A piece's changes (one string, so the statement cache finds it without building it again).
    static let pieceSQL =
        "SELECT n, tbl, pk, op, \(ChangeValues.sql()), lvls, scope, bases FROM _liaison_change "
        + "WHERE sidx = ? AND seq = ? AND n > ? ORDER BY n LIMIT ?"

    /// The causal context last decoded, by its stored text: consecutive transactions of one
    /// origin mostly carry the same one (a run of local edits: `{}`).
    private var lastContext: (text: String, vector: VersionVector)?

    func context(_ text: String) throws -> VersionVector {
        if let lastContext, lastContext.text == text { return lastContext.vector }
        let vector = try ChangeCodec.decodeContext(text)
        lastContext = (text, vector)
        return vector
    }

    static let headerColumns = "ord, sidx, seq, hlc, author, context, resolves, changes, previous, signature"

    func readHeader(_ s: Statement) -> Header {
        Header(
            order: s.int64(0), site: s.int64(1), seq: s.int64(2), hlc: s.int64(3), author: s.text(4),
            context: s.text(5),
            resolves: s.optionalText(6), total: s.int(7), previous: s.optionalText(8), signature: s.text(9))
    }

    func page(after cursor: SyncCursor, excluding vector: VersionVector, wanted: [WantedTransaction] = []) throws
        -> PullResponse
    {
        if !servesSnapshot { try ChainBase.refuseBehind(db, vector: vector) }
        let sites = try SiteDirectory(db: db)
        var records: [TransactionRecord] = []
        var changeCount = 0
        var bytes = 0
        var origins: Set<Int64> = []
        func finish(_ cursor: SyncCursor, hasMore: Bool) throws -> PullResponse {
            try attachProofs(&records, sites)
            return PullResponse(
                transactions: records, cursor: cursor.description, hasMore: hasMore, keys: try keys(for: origins, sites)
            )
        }
        // Changes the requester holds only as digests, which this server may now send.
        for want in wanted {
            guard let site = sites.existingIndex(of: want.origin),
                let header = try db.first(
                    "SELECT \(Self.headerColumns) FROM _liaison_tx WHERE sidx = ? AND seq = ?",
                    [.integer(site), .integer(want.seq)],
                    readHeader)
            else { continue }
            var (record, _) = try piece(
                header, sites: sites, from: .start, room: Int(Int32.max), bytes: &bytes, forceIndex: true,
                only: want.missing.map { Set($0.prefix(10_000)) })
            if record.changes.isEmpty {
                // Nothing it may read: but a move or deletion of a row it holds is outlined.
                let outlines = try wantedOutlines(header, vector: vector, sites: sites)
                guard !outlines.isEmpty, record.digests != nil else { continue }
                record.evictions = outlines
            }
            record.span = record.total
            origins.insert(header.site)
            changeCount += record.changes.count
            records.append(record)
        }
        var position = cursor
        /// The last whole transaction of each origin in this page.
        var completeInPage: [Int64: Int64] = [:]
        let headers = try db.prepare("SELECT \(Self.headerColumns) FROM _liaison_tx WHERE ord >= ? ORDER BY ord")
        try headers.bind([.integer(cursor.offset > 0 || cursor.order == .max ? cursor.order : cursor.order + 1)])
        while try headers.step() {
            let header = readHeader(headers)
            if changeCount >= limits.maxChanges || bytes >= limits.maxBytes {
                return try finish(position, hasMore: true)
            }
            let site = sites.site(header.site)
            let resuming = cursor.offset > 0 && header.order == cursor.order
            if vector[site.id] >= header.seq {
                position = SyncCursor(order: header.order, lastChange: 0, offset: 0)
                continue
            }
            let start = resuming ? cursor : SyncCursor(order: header.order, lastChange: 0, offset: 0)
            var (record, lastN) = try piece(
                header, sites: sites, from: start, room: max(1, limits.maxChanges - changeCount), bytes: &bytes,
                forceIndex: false)
            origins.insert(header.site)
            changeCount += record.changes.count
            // The hash-chain link is left out where the requester can compute it (ChainLinks.swift).
            if record.isComplete, header.seq > 1, completeInPage[header.site] == header.seq - 1 {
                record.previous = nil
            }
            if record.isComplete { completeInPage[header.site] = header.seq }
            records.append(record)
            for companion in try companions(of: record, header, vector: vector, sites: sites, bytes: &bytes) {
                origins.insert(sites.existingIndex(of: companion.origin) ?? header.site)
                records.append(companion)
            }
            if record.isLastPiece {
                position = SyncCursor(order: header.order, lastChange: 0, offset: 0)
            } else {
                position = SyncCursor(order: header.order, lastChange: lastN, offset: record.offset + record.covered)
                return try finish(position, hasMore: true)
            }
        }
        return try finish(position, hasMore: false)
    }

    /// One transaction, or the piece of it that fits, from `start`; and the log number of the last
    /// change read (for the cursor).
    func piece(
        _ header: Header, sites: SiteDirectory, from start: SyncCursor, room: Int, bytes: inout Int, forceIndex: Bool,
        only positions: Set<Int>? = nil
    ) throws -> (TransactionRecord, Int64) {
        let site = sites.site(header.site)
        var record = TransactionRecord(
            origin: site.id, site: site.code, seq: header.seq, hlc: HybridTimestamp(rawValue: header.hlc),
            author: header.author, context: try context(header.context),
            resolves: ConflictStore.decodeIDs(header.resolves), total: header.total, offset: start.offset, changes: [],
            previous: header.previous, signature: header.signature.isEmpty ? nil : header.signature)
        bytes += 300 + header.context.utf8.count
        let isLocal = header.site == SiteIndex.local
        var rank = start.offset
        var last = start.lastChange
        var covered = start.offset
        var withheld = false
        let scan = max(room, 1) * 4
        let rows = try db.query(
            Self.pieceSQL,
            [.integer(header.site), .integer(header.seq), .integer(last), .integer(Int64(scan))]
        ) {
            (
                $0.int64(0), $0.text(1), $0.text(2), $0.text(3), $0.optionalText(4), $0.optionalText(5), $0.text(6),
                $0.optionalText(7)
            )
        }
        var finished = rows.count < scan
        let compacted = hasCompacted ? try CompactionCheckpoint.compacted(db, site: header.site, seq: header.seq) : []
        for (n, table, pk, op, vals, levels, scope, bases) in rows {
            if record.changes.count >= room || (bytes >= limits.maxBytes && !record.changes.isEmpty) {
                finished = false
                break
            }
            let position = isLocal ? rank : Int(n) - 1
            rank += 1
            last = n
            covered = position + 1
            let visible = Scope.allows(readable, scope)
            guard visible, !compacted.contains(n), positions?.contains(position) ?? true else {
                withheld = true
                continue
            }
            record.changes.append(
                ChangeRecord(
                    table: table, id: pk, op: ChangeRecord.Operation(rawValue: op) ?? .update,
                    values: try ChangeCodec.decodeValues(vals), levels: try ChangeCodec.decodeLevels(levels),
                    scope: scope,
                    index: position, bases: try CellBases.decode(bases)))
            bytes += 60 + table.utf8.count + pk.utf8.count + (vals?.utf8.count ?? 0)
        }
        if finished { covered = header.total }
        let heldOnlyInPart =
            try isLocal
            ? false
            : db.first(
                "SELECT 1 FROM _liaison_withheld WHERE sidx = ? AND seq = ? LIMIT 1",
                [.integer(header.site), .integer(header.seq)]
            ) { _ in true } ?? false
        let gaps = heldOnlyInPart
        if withheld || gaps || forceIndex || covered - start.offset != record.changes.count {
            record.span = covered - start.offset
        } else {
            for index in record.changes.indices { record.changes[index].index = nil }
        }
        if finished, try withheld || gaps || hasUnreadable(header) {
            record.digests = try digests(header, isLocal: isLocal)
        }
        if finished, positions == nil, record.digests != nil {
            // With the last piece, when the receiver holds every withheld digest of the transaction.
            let outlines = try evictionOutlines(header, isLocal: isLocal)
            record.evictions = outlines.isEmpty ? nil : outlines
        }
        return (record, last)
    }

    /// Whether any change of the transaction was made in a scope the requester may not read.
    private func hasUnreadable(_ header: Header) throws -> Bool {
        guard let readable, !readable.contains("*") else { return false }
        let scopes = try db.query(
            "SELECT DISTINCT scope FROM _liaison_change WHERE sidx = ? AND seq = ?",
            [.integer(header.site), .integer(header.seq)]
        ) { $0.text(0) }
        return scopes.contains { !readable.contains($0) }
    }

    /// Every change digest of the transaction by position, held or withheld.
    private func digests(_ header: Header, isLocal: Bool) throws -> [String] {
        let key: [CellValue] = [.integer(header.site), .integer(header.seq)]
        if isLocal {
            return try db.query("SELECT digest FROM _liaison_change WHERE sidx = ? AND seq = ? ORDER BY n", key) {
                $0.text(0)
            }
        }
        var byPosition: [Int: String] = [:]
        for (n, digest) in try db.query(
            "SELECT n, digest FROM _liaison_change WHERE sidx = ? AND seq = ? UNION ALL "
                + "SELECT n, digest FROM _liaison_withheld WHERE sidx = ? AND seq = ?", key + key,
            { ($0.int(0), $0.text(1)) })
        {
            byPosition[n - 1] = digest
        }
        return (0..<header.total).map { byPosition[$0] ?? "" }
    }

    private func keys(for origins: Set<Int64>, _ sites: SiteDirectory) throws -> [String: SiteKeyRecord]? {
        guard !origins.isEmpty else { return nil }
        var keys: [String: SiteKeyRecord] = [:]
        for origin in origins {
            if let key = try db.first(
                "SELECT site_id, code, public_key FROM _liaison_site WHERE sidx = ?", [.integer(origin)],
                {
                    $0.isNull(2) ? nil : ($0.text(0), SiteKeyRecord(site: $0.text(1), key: $0.text(2)))
                }) ?? nil
            {
                keys[key.0] = key.1
            }
        }
        return keys
    }
}

/// A transaction header as the page builder reads it.
struct PageBuilderHeader {
    var order: Int64
    var site: Int64
    var seq: Int64
    var hlc: Int64
    var author: String
    var context: String
    var resolves: String?
    var total: Int
    var previous: String?
    var signature: String
}
