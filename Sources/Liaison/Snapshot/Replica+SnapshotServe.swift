import Crypto
import Foundation

/// The current rows of a replica as one digest (`SnapshotRowsDigest`), read row by row, so that
/// neither side holds more than one row in memory.
enum SnapshotRows {
    /// The digest of the rows of every known table (the schema's change table aside) whose scope
    /// `readable` allows (`nil` or `*`: every scope). A row without a text scope is left out on
    /// both sides.
    static func digest(_ db: Connection, tables: [String: TableInfo], readable: Set<String>?) throws
        -> SnapshotRowsDigest
    {
        var hasher = SHA256()
        var count = 0
        let everyScope = readable.map { $0.contains("*") } ?? true
        for name in tables.keys.sorted() where name != SchemaLog.table {
            guard let info = tables[name], info.isKnown else { continue }
            let scopeIndex = info.columns.firstIndex { $0.name == "scope" }
            let rows = try db.prepare(info.selectAllSQL)
            while try rows.step() {
                var row: [String: CellValue] = [:]
                for (index, column) in info.columns.enumerated() { row[column.name] = rows.value(Int32(index)) }
                guard let scopeIndex, case .text(let scope) = rows.value(Int32(scopeIndex)) else { continue }
                if !everyScope, let readable, !readable.contains(scope) { continue }
                hasher.update(data: Data("\(name)\n\(CanonicalJSON.object(row))\n".utf8))
                count += 1
            }
        }
        return SnapshotRowsDigest(count: count, hash: SiteKey.hex(hasher.finalize()))
    }
}

extension Replica {
    /// The manifest of a snapshot of this replica: the runs compaction removed from its log,
    /// signed with its key. The pages follow (`snapshotPage`).
    public func snapshotManifest() throws -> SnapshotManifest {
        let key = try requireSigningKey()
        let gaps = try withConnection { db in
            try publishIfNeeded(db)
            return try Self.snapshotGaps(db)
        }
        var manifest = SnapshotManifest(
            signer: siteID, site: siteCode.rawValue, at: Self.acknowledgementTime(), gaps: gaps, signature: "")
        manifest.signature = try TransactionDigest.sign(manifest.signedBytes, with: key)
        return manifest
    }

    /// The page of a snapshot of this replica after `request.after`, for a reader with read grant
    /// `readable` (`nil`: every scope), within `limits`, signed with this replica's key. The last
    /// page also signs the digest of the rows the reader may read, read in the same SQLite
    /// transaction as the page, so the log it ends and the rows it signs are one state.
    ///
    /// - Throws: `.compactedHistory` when this replica's removed runs are no longer those the
    ///   request names (it compacted again since the manifest): the reader starts again.
    public func snapshotPage(
        _ request: SnapshotPageRequest, readable: Set<String>?, limits: PageLimits = PageLimits()
    ) throws -> SnapshotPage {
        guard request.snapshot.count == 64, request.gaps.count == 64,
            (request.snapshot + request.gaps).allSatisfy(\.isHexDigit)
        else {
            throw LiaisonError(
                .malformedRequest, "a snapshot page request names its snapshot and runs by 64 hex digits each")
        }
        // Removed steps are served first, after "0" when asked for, then after their own cursor.
        let stepCursor = SnapshotRemovedSteps.isCursor(request.after)
        let stepsAfter = stepCursor ? try SnapshotRemovedSteps.parseCursor(request.after) : nil
        let after = stepCursor ? .start : try SyncCursor(parsing: request.after)
        let servesSteps = stepCursor || (request.steps == true && after == .start)
        let key = try requireSigningKey()
        var page: SnapshotPage = try withConnection { db in
            // Under the write lock: an edit another SQLite client made is published first, never
            // read as a row the log does not give.
            try transaction(db) {
                _ = try publishValid(db)
                let digest = SnapshotManifest.digest(ofGaps: try Self.snapshotGaps(db))
                guard digest == request.gaps else {
                    throw LiaisonError(
                        .compactedHistory,
                        "this replica compacted its history again since the snapshot began; ask for a new snapshot "
                            + "('liaison clone' starts again by itself)")
                }
                // The removed steps first, so every walk of the log's judgements can read them.
                var removed: [SnapshotRemovedStep]?
                if servesSteps {
                    let (steps, next) = try SnapshotRemovedSteps.page(
                        db, readable: readable, after: stepsAfter, limits: limits)
                    if let next {
                        let body = SnapshotPageBody(transactions: [], keys: nil, removed: steps)
                        return SnapshotPage(
                            snapshot: request.snapshot, gaps: digest, after: request.after, cursor: next, hasMore: true,
                            rows: nil, body: String(decoding: try WireJSON.encode(body), as: UTF8.self),
                            signature: "")
                    }
                    removed = steps.isEmpty ? nil : steps
                }
                let builder = PageBuilder(db: db, limits: limits, readable: readable)
                builder.servesSnapshot = true
                let pulled = try builder.page(after: after, excluding: VersionVector())
                let body = SnapshotPageBody(
                    transactions: pulled.transactions, keys: try introduce(pulled.keys), removed: removed)
                return SnapshotPage(
                    snapshot: request.snapshot, gaps: digest, after: request.after, cursor: pulled.cursor,
                    hasMore: pulled.hasMore,
                    rows: pulled.hasMore ? nil : try SnapshotRows.digest(db, tables: tables, readable: readable),
                    body: String(decoding: try WireJSON.encode(body), as: UTF8.self), signature: "")
            }
        }
        page.signature = try TransactionDigest.sign(page.signedBytes, with: key)
        return page
    }

    /// The runs compaction removed from this replica's log (or the snapshot it started from did).
    static func snapshotGaps(_ db: Connection) throws -> [SnapshotGap] {
        let sites = try SiteDirectory(db: db)
        return try ChainBase.all(db).values.joined().sorted { ($0.site, $0.through) < ($1.site, $1.through) }
            .map {
                SnapshotGap(
                    origin: sites.site($0.site).id, site: sites.site($0.site).code, first: $0.first,
                    through: $0.through, head: $0.head)
            }
    }
}
