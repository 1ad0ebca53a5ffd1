import Foundation

extension Replica {
    /// The current values of a row, or `nil` when there is none.
    public func row(_ tableName: String, id: String) throws -> [String: CellValue]? {
        let table = try table(named: tableName)
        return try withConnection { try readRow($0, table: table, id: id) }
    }

    /// Every row of a synced table, ordered by id.
    public func rows(_ tableName: String) throws -> [[String: CellValue]] {
        let table = try table(named: tableName)
        return try withConnection { db in
            try db.query(table.selectAllSQL) { statement in
                var row: [String: CellValue] = [:]
                for (index, column) in table.columns.enumerated() { row[column.name] = statement.value(Int32(index)) }
                return row
            }
        }
    }

    /// Canonical JSON of all synced rows: tables by name, rows by id, keys sorted, one row a line.
    /// Replicas that applied the same transactions print the same bytes.
    public func dump() throws -> String {
        var out = "{"
        for (tableIndex, table) in schema.tables.map(\.name).sorted().enumerated() {
            out += tableIndex == 0 ? "\n" : ",\n"
            out += CanonicalJSON.string(table) + ": ["
            let rows = try rows(table)
            for (rowIndex, row) in rows.enumerated() {
                out += (rowIndex == 0 ? "\n  " : ",\n  ") + CanonicalJSON.object(row)
            }
            out += rows.isEmpty ? "]" : "\n]"
        }
        return out + "\n}\n"
    }
}

/// One transaction of the change log, as `liaison log` shows it.
public struct LogEntry: Sendable, Codable, Hashable {
    public var order: Int64
    public var origin: String
    public var site: String
    /// The short fingerprint of the origin's trusted key.
    public var fingerprint: String?
    public var seq: Int64
    public var hlc: HybridTimestamp
    public var time: String
    public var author: String
    public var context: VersionVector
    public var resolves: [String]?
    public var changes: [ChangeRecord]
}

extension Replica {
    /// The newest `limit` transactions of the change log, oldest first. Publishes captured edits first.
    public func log(limit: Int? = nil) throws -> [LogEntry] {
        try withConnection { db in
            try publishIfNeeded(db)
            let sites = try SiteDirectory(db: db)
            let headers = try db.query(
                "SELECT ord, sidx, seq, hlc, author, context, resolves FROM _liaison_tx ORDER BY ord DESC LIMIT ?",
                [.integer(Int64(limit ?? Int(Int32.max)))]
            ) { ($0.int64(0), $0.int64(1), $0.int64(2), $0.int64(3), $0.text(4), $0.text(5), $0.optionalText(6)) }
            return try headers.reversed().map { order, sidx, seq, hlc, author, context, resolves in
                let site = sites.site(sidx)
                let changes = try db.query(
                    "SELECT tbl, pk, op, \(ChangeValues.sql()), lvls, scope, bases FROM _liaison_change WHERE sidx = ? AND seq = ? ORDER BY n",
                    [.integer(sidx), .integer(seq)]
                ) {
                    ChangeRecord(
                        table: $0.text(0), id: $0.text(1), op: ChangeRecord.Operation(rawValue: $0.text(2)) ?? .update,
                        values: try ChangeCodec.decodeValues($0.optionalText(3)),
                        levels: try ChangeCodec.decodeLevels($0.optionalText(4)), scope: $0.text(5),
                        bases: try CellBases.decode($0.optionalText(6)))
                }
                let stamp = HybridTimestamp(rawValue: hlc)
                return LogEntry(
                    order: order, origin: site.id, site: site.code, fingerprint: sites.fingerprint(sidx), seq: seq,
                    hlc: stamp, time: stamp.description,
                    author: author, context: try ChangeCodec.decodeContext(context),
                    resolves: ConflictStore.decodeIDs(resolves), changes: changes)
            }
        }
    }
}

/// What `liaison status` shows.
public struct ReplicaStatus: Sendable, Codable, Hashable {
    public struct PeerStatus: Sendable, Codable, Hashable {
        public var name: String
        public var url: String
        public var siteID: String?
        public var lastSync: String?
        public var lastError: String?
        public var readScopes: String
        public var writeScopes: String
    }

    public var siteID: String
    public var site: String
    public var path: String
    public var schema: String
    public var schemaVersion: Int
    public var vector: VersionVector
    public var sites: [String: String]
    public var transactions: Int
    public var openConflicts: Int
    public var policies: [String: String]
    public var peers: [PeerStatus]
    /// The short fingerprint of each site's trusted key, by site id.
    public var fingerprints: [String: String]
    /// Identity alarms still open: impersonation and equivocation.
    public var alarms: [Alarm]
    /// Keys peers presented that the operator has not trusted (their transactions are not applied).
    public var untrustedKeys: [UntrustedKey]
    /// Each peer's health (`Replica.peerHealth`), filled by `liaison status`.
    public var health: [PeerHealth]? = nil
    /// The security log's counters (failed authentications, refused pushes, shed requests, alarms).
    public var securityEvents: [SecurityEventCount] = []
    /// Transactions held in this replica's quarantine, with their reasons.
    public var quarantined: [HeldTransaction] = []
    /// What each peer said it holds of this replica's traffic, by peer name.
    public var heldByPeers: [String: [HeldTransaction]] = [:]
    /// The last digest comparison with each peer (`liaison compare`, and every sync round).
    public var comparisons: [PeerComparison] = []
    /// What each peer has acknowledged, and who holds compaction back.
    public var acknowledgements: [PeerAcknowledgementState] = []
    /// What compaction has done here and who holds the next one back.
    public var compaction: CompactionSummary? = nil
}

extension Replica {
    /// Version vector, peers, last sync and open conflicts.
    public func status() throws -> ReplicaStatus {
        var status = try baseStatus()
        status.alarms = (try? alarms()) ?? []
        status.untrustedKeys = (try? untrustedKeys()) ?? []
        status.comparisons = (try? comparisons()) ?? []
        status.acknowledgements = (try? acknowledgementStates()) ?? []
        status.compaction = try? compactionSummary()
        return status
    }

    private func baseStatus() throws -> ReplicaStatus {
        try withConnection { db in
            try publishIfNeeded(db)
            let sites = try SiteDirectory(db: db)
            var codes: [String: String] = [:]
            var fingerprints: [String: String] = [:]
            for (id, code, key) in try db.query(
                "SELECT site_id, code, public_key FROM _liaison_site", [],
                { ($0.text(0), $0.text(1), $0.optionalText(2)) })
            {
                codes[id] = code
                fingerprints[id] = key.map(SiteKey.shortFingerprint)
            }
            let peers = try db.query(
                "SELECT name, url, site_id, last_sync, last_error, read_scopes, write_scopes FROM _liaison_peer ORDER BY name"
            ) {
                ReplicaStatus.PeerStatus(
                    name: $0.text(0), url: $0.text(1), siteID: $0.optionalText(2), lastSync: $0.optionalText(3),
                    lastError: $0.optionalText(4), readScopes: $0.text(5), writeScopes: $0.text(6))
            }
            var status = ReplicaStatus(
                siteID: siteID, site: siteCode.rawValue, path: path, schema: schema.name, schemaVersion: schema.version,
                vector: try sites.versionVector(), sites: codes,
                transactions: try db.first("SELECT count(*) FROM _liaison_tx") { $0.int(0) } ?? 0,
                openConflicts: try db.first("SELECT count(*) FROM _liaison_conflict WHERE state = 'open'") { $0.int(0) }
                    ?? 0,
                policies: Dictionary(uniqueKeysWithValues: schema.tables.map { ($0.name, $0.policy.rawValue) }),
                peers: peers, fingerprints: fingerprints, alarms: [], untrustedKeys: [])
            if try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_security'", [], { _ in true }) ?? false
            {
                status.securityEvents = try db.query("SELECT event, count, last FROM _liaison_security ORDER BY event")
                {
                    SecurityEventCount(event: $0.text(0), count: $0.int(1), last: $0.text(2))
                }
            }
            // A replica opened read-only from before quarantine existed has no quarantine tables.
            let store = QuarantineStore(db: db)
            status.quarantined = (try? store.entries().map(\.held)) ?? []
            status.heldByPeers = (try? store.peerHeld()) ?? [:]
            return status
        }
    }
}
