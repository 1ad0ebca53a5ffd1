import Foundation

/// Whether a peer waiting on `POST /v1/live` has something new to pull: a transaction after its
/// cursor, not in its vector, with at least one change in a scope it may read.
public struct LiveNews: Sendable, Equatable {
    /// Whether such a transaction exists.
    public var found: Bool
    /// The last apply order looked at: a later check for the same cursor and vector starts after it.
    public var checkedUpTo: Int64
}

extension Replica {
    /// Looks for something new for a peer that pulled up to `cursor`, holds `vector` and may read
    /// `readable` (`nil`: every scope), after publishing local edits not yet published.
    ///
    /// A transaction counts only when one of its changes lies in a readable scope, judged like a
    /// pull page judges it (by the scope each change was made in): a transaction whose changes are
    /// all withheld from the peer never wakes it, so a waiting peer learns nothing of edits it may
    /// not read (they reach it, as digests, with its next pull). `after` (from an earlier answer
    /// for the same cursor and vector) skips what was looked at already.
    public func liveNews(
        after cursor: SyncCursor, excluding vector: VersionVector, readable: Set<String>?, checkedUpTo: Int64? = nil
    ) throws -> LiveNews {
        try withConnection { db in
            try publishIfNeeded(db)
            let sites = try SiteDirectory(db: db)
            // A cursor inside a transaction (a piece delivered) leaves the rest of that one to read.
            var from = cursor.offset > 0 ? cursor.order - 1 : cursor.order
            if let checkedUpTo { from = max(from, checkedUpTo) }
            let scopes = readable.flatMap { $0.contains("*") ? nil : $0.sorted() }
            let filter =
                scopes.map { scopes in
                    scopes.isEmpty
                        ? " AND 0"
                        : " AND EXISTS (SELECT 1 FROM _liaison_change c WHERE c.sidx = t.sidx AND c.seq = t.seq"
                            + " AND c.scope IN (\(Array(repeating: "?", count: scopes.count).joined(separator: ", "))))"
                } ?? ""
            let batch: Int64 = 1_000
            while true {
                let rows = try db.query(
                    "SELECT t.ord, t.sidx, t.seq FROM _liaison_tx t WHERE t.ord > ?\(filter) ORDER BY t.ord LIMIT ?",
                    [.integer(from)] + (scopes ?? []).map { .text($0) } + [.integer(batch)]
                ) { ($0.int64(0), $0.int64(1), $0.int64(2)) }
                for (order, site, seq) in rows {
                    if vector[sites.site(site).id] < seq { return LiveNews(found: true, checkedUpTo: order) }
                    from = order
                }
                if rows.count < Int(batch) { break }
            }
            // Nothing readable after `from`: later checks start at the newest transaction now.
            let newest = try db.first("SELECT max(ord) FROM _liaison_tx") { $0.isNull(0) ? 0 : $0.int64(0) } ?? 0
            return LiveNews(found: false, checkedUpTo: max(from, newest))
        }
    }

    /// A second connection to this replica's file that tells when anything committed to it, from
    /// this process or another (`PRAGMA data_version`): what wakes waiting peers.
    public func changeProbe() throws -> ChangeProbe { try ChangeProbe(path: path) }
}

/// Tells whether the replica file changed since it last asked (any connection's commit, this
/// process's or another's). Cheap: SQLite reads a counter from the shared WAL index.
public final class ChangeProbe: @unchecked Sendable {
    private let lock = NSLock()
    private let connection: Connection
    private var last: Int64?

    init(path: String) throws {
        connection = try Connection(path: path, mode: .readWrite)
        last = try connection.first("PRAGMA data_version") { $0.int64(0) }
    }

    /// `true` when a commit happened since the previous call (or since the probe was made).
    public func changed() throws -> Bool {
        try lock.withLock {
            let now = try connection.first("PRAGMA data_version") { $0.int64(0) }
            defer { last = now }
            return now != last
        }
    }
}
