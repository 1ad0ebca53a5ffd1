import Foundation

/// One sync round with a peer, as the replica remembers it.
public struct SyncRound: Sendable, Codable, Hashable {
    /// When it ended (ISO 8601).
    public var at: String
    /// `ok`, or the error in one line.
    public var result: String
    public var ok: Bool { result == "ok" }
}

/// How far apart this replica and a peer are, and how their last rounds went: the one vocabulary
/// of the console, `status --json` and `/metrics`.
public struct PeerHealth: Sendable, Codable, Hashable {
    public var peer: String
    public var url: String
    public var siteID: String?
    public var site: String?
    /// The fingerprint of the key this replica trusts for the peer's site, when it trusts one.
    public var fingerprint: String?
    public var readScopes: String
    public var writeScopes: String
    /// Transactions this replica holds that the peer had not, at the last vector seen from it.
    public var peerLacks: Int?
    /// The time of the oldest transaction the peer lacks.
    public var peerLacksSince: String?
    /// Transactions the peer held that this replica lacks, at the last vector seen from it.
    public var weLack: Int?
    /// When the peer's vector that shows it was seen.
    public var weLackSince: String?
    /// The last round the peer started with this replica's server.
    public var lastInbound: SyncRound?
    /// The last round this replica started with the peer.
    public var lastOutbound: SyncRound?
    /// Requests naming the peer's key that failed authentication here (bad, stale or misdirected
    /// signature, altered body, replay): the `authentication_failed` and `replayed_request` counts.
    public var authFailures: Int
    /// `ok`, `behind`, `failing` or `never` (no round yet either way).
    public var state: String
    /// Transactions the peer sent that are held in this replica's quarantine.
    public var heldHere = 0
    /// Transactions of this replica's traffic the peer said it holds in its quarantine.
    public var heldThere = 0
    /// Requests from the peer this replica's server refused, by kind (`PeerRefusalKind`: the
    /// security log's event names); a refused push refuses every transaction in it.
    public var refused: [String: Int] = [:]
}

/// Which way a round went.
public enum SyncDirection: String, Sendable {
    /// The peer called this replica's server.
    case inbound = "in"
    /// This replica called the peer.
    case outbound = "out"
}

extension Replica {
    static let healthTableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_peer_health(
            peer TEXT NOT NULL, direction TEXT NOT NULL, at TEXT NOT NULL, result TEXT NOT NULL,
            vector TEXT, vector_at TEXT, auth_failures INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (peer, direction)) WITHOUT ROWID
        """

    /// Records a round with `peer` and, when known, the peer's version vector at its end.
    /// An inbound pull records only when something changed, so paging costs no write.
    ///
    /// With `merging`, the stored vector keeps every entry that was higher (what the peer is known to
    /// hold only grows: a page it was sent, a push it made).
    public func recordRound(
        peer: String, direction: SyncDirection, error: String?, peerVector: VersionVector?, merging: Bool = false
    ) throws {
        let now = Date().formatted(.iso8601)
        let result = error.map { String($0.split(separator: "\n").first ?? "") } ?? "ok"
        try withConnection { db in
            guard !db.isReadOnly else { return }
            try db.execute(Self.healthTableSQL)
            var known = peerVector
            if merging, var merged = known,
                let stored = try db.first(
                    "SELECT vector FROM _liaison_peer_health WHERE peer = ? AND direction = ?",
                    [.text(peer), .text(direction.rawValue)], { $0.optionalText(0) }) ?? nil,
                let entries = try? JSONDecoder().decode([String: Int64].self, from: Data(stored.utf8))
            {
                for (site, seq) in entries where seq > merged[site] { merged[site] = seq }
                known = merged
            }
            let vector = try known.map { String(decoding: try JSONEncoder().encode($0.entries), as: UTF8.self) }
            try db.run(
                """
                INSERT INTO _liaison_peer_health(peer, direction, at, result, vector, vector_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(peer, direction) DO UPDATE SET at = excluded.at, result = excluded.result,
                    vector = coalesce(excluded.vector, vector), vector_at = coalesce(excluded.vector_at, vector_at)
                WHERE result != excluded.result OR coalesce(vector, '') != coalesce(excluded.vector, vector, '')
                    OR at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-10 seconds')
                """,
                [
                    .text(peer), .text(direction.rawValue), .text(now), .text(result),
                    vector.map { .text($0) } ?? .null,
                    vector == nil ? .null : .text(now),
                ])
        }
    }

    /// Counts a refused request signed with `peer`'s token at once (the server now counts through
    /// `recordPeerRefusals`, batched; this stays for callers outside a server).
    public func recordAuthFailure(peer: String) throws {
        try withConnection { db in
            guard !db.isReadOnly else { return }
            try db.execute(Self.healthTableSQL)
            try db.run(
                """
                INSERT INTO _liaison_peer_health(peer, direction, at, result, auth_failures) VALUES (?, 'in', ?, 'unauthorized', 1)
                ON CONFLICT(peer, direction) DO UPDATE SET auth_failures = auth_failures + 1
                """, [.text(peer), .text(Date().formatted(.iso8601))])
        }
    }

    /// The health of every registered peer, by name.
    public func peerHealth() throws -> [PeerHealth] {
        try withConnection { db in
            try publishIfNeeded(db)
            let sites = try SiteDirectory(db: db)
            let ours = try sites.versionVector()
            let hasTable =
                try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_peer_health'") { _ in true } ?? false
            var rounds: [String: [String: (round: SyncRound, vector: String?, vectorAt: String?, failures: Int)]] = [:]
            if hasTable {
                for row in try db.query(
                    "SELECT peer, direction, at, result, vector, vector_at, auth_failures FROM _liaison_peer_health",
                    [],
                    {
                        (
                            $0.text(0), $0.text(1), SyncRound(at: $0.text(2), result: $0.text(3)), $0.optionalText(4),
                            $0.optionalText(5), $0.int(6)
                        )
                    })
                {
                    rounds[row.0, default: [:]][row.1] = (row.2, row.3, row.4, row.5)
                }
            }
            let peers = try db.query(
                """
                SELECT p.name, p.url, p.site_id,
                    coalesce((SELECT s.public_key FROM _liaison_site s WHERE s.site_id = p.site_id), p.public_key),
                    p.read_scopes, p.write_scopes, p.last_sync, p.last_error
                FROM _liaison_peer p ORDER BY p.name
                """
            ) {
                (
                    name: $0.text(0), url: $0.text(1), siteID: $0.optionalText(2), key: $0.optionalText(3),
                    read: $0.text(4), write: $0.text(5), lastSync: $0.optionalText(6), lastError: $0.optionalText(7)
                )
            }
            // Held transactions by peer, both ways (no quarantine tables in an old read-only replica).
            let heldHere = Dictionary(
                (try? db.query("SELECT source, count(*) FROM _liaison_quarantine GROUP BY source", []) {
                    ($0.text(0), $0.int(1))
                }) ?? [], uniquingKeysWith: +)
            let heldThere = Dictionary(
                (try? db.query("SELECT peer, count(*) FROM _liaison_peer_held GROUP BY peer", []) {
                    ($0.text(0), $0.int(1))
                }) ?? [], uniquingKeysWith: +)
            let refusals = try Self.peerRefusals(db)
            return try peers.map { peer in
                let inbound = rounds[peer.name]?["in"]
                var outbound = rounds[peer.name]?["out"]
                if outbound == nil, let lastSync = peer.lastSync {
                    outbound = (SyncRound(at: lastSync, result: peer.lastError ?? "ok"), nil, nil, 0)
                }
                // The newest vector seen from the peer, whichever way it came.
                let seen = [inbound, outbound].compactMap { $0 }.filter { $0.vector != nil }
                    .max { ($0.vectorAt ?? "") < ($1.vectorAt ?? "") }
                var health = PeerHealth(
                    peer: peer.name, url: peer.url, siteID: peer.siteID,
                    site: peer.siteID.flatMap { id in sites.existingIndex(of: id).map { sites.site($0).code } },
                    fingerprint: peer.key.map(SiteKey.fingerprint), readScopes: peer.read, writeScopes: peer.write,
                    lastInbound: inbound?.round, lastOutbound: outbound?.round,
                    authFailures: inbound?.failures ?? 0, state: "never", heldHere: heldHere[peer.name] ?? 0,
                    heldThere: heldThere[peer.name] ?? 0, refused: refusals[peer.name] ?? [:])
                // Counted per request before the security log counted them per peer (older files).
                health.authFailures += health.refused.filter { PeerRefusalKind.authentication.contains($0.key) }
                    .values.reduce(0, +)
                if let text = seen?.vector,
                    let entries = try? JSONDecoder().decode([String: Int64].self, from: Data(text.utf8))
                {
                    let theirs = VersionVector(entries)
                    var lacks = 0
                    var oldest: Int64?
                    for (site, seq) in ours.entries where seq > theirs[site] {
                        lacks += Int(seq - theirs[site])
                        if let sidx = sites.existingIndex(of: site),
                            let hlc = try db.first(
                                "SELECT min(hlc) FROM _liaison_tx WHERE sidx = ? AND seq > ?",
                                [.integer(sidx), .integer(theirs[site])], { $0.isNull(0) ? nil : $0.int64(0) }) ?? nil
                        {
                            oldest = min(oldest ?? hlc, hlc)
                        }
                    }
                    var weLack = 0
                    for (site, seq) in theirs.entries where seq > ours[site] { weLack += Int(seq - ours[site]) }
                    health.peerLacks = lacks
                    health.peerLacksSince = oldest.map { HybridTimestamp(rawValue: $0).description }
                    health.weLack = weLack
                    health.weLackSince = weLack > 0 ? seen?.vectorAt : nil
                }
                let last = [health.lastInbound, health.lastOutbound].compactMap { $0 }.max { $0.at < $1.at }
                if let last {
                    if !last.ok {
                        health.state = "failing"
                    } else if (health.peerLacks ?? 0) > 0 || (health.weLack ?? 0) > 0 {
                        health.state = "behind"
                    } else {
                        health.state = "ok"
                    }
                }
                return health
            }
        }
    }

    /// Open conflicts per table.
    public func openConflictsByTable() throws -> [String: Int] {
        try withConnection { db in
            try publishIfNeeded(db)
            var counts: [String: Int] = [:]
            for (table, count) in try db.query(
                "SELECT tbl, count(*) FROM _liaison_conflict WHERE state = 'open' GROUP BY tbl", [],
                { ($0.text(0), $0.int(1)) })
            {
                counts[table] = count
            }
            return counts
        }
    }

    /// For each table with open conflicts, when the oldest one arose: the later of its two writes
    /// (hybrid timestamp milliseconds since 1970).
    public func oldestOpenConflictByTable() throws -> [String: Int64] {
        try withConnection { db in
            try publishIfNeeded(db)
            var oldest: [String: Int64] = [:]
            for (table, hlc) in try db.query(
                """
                SELECT c.tbl, min(max(w.hlc, l.hlc)) FROM _liaison_conflict c
                JOIN _liaison_tx w ON w.sidx = c.winner_sidx AND w.seq = c.winner_seq
                JOIN _liaison_tx l ON l.sidx = c.loser_sidx AND l.seq = c.loser_seq
                WHERE c.state = 'open' GROUP BY c.tbl
                """, [], { ($0.text(0), $0.int64(1)) })
            {
                oldest[table] = HybridTimestamp(rawValue: hlc).milliseconds
            }
            return oldest
        }
    }
}
