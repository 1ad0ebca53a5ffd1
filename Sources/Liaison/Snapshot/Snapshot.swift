import Foundation

/// What a new peer starts from when the log it would sync from was compacted: the source's log as
/// it stands (every transaction it kept, filtered to the reader's grant as a pull is), the runs
/// compaction removed from it, and the current rows under that grant, signed by the source
/// (docs/PROTOCOL.md, "Snapshots").
///
/// `signature` is the source's Ed25519 signature over
/// `liaison-snapshot-v1\n{signer}\n{at}\n{gaps}\n{SHA-256 of body}`, where `gaps` is
/// `SITE_ID=FIRST-THROUGH:HEAD` per removed run, sorted and joined by `,`, and `body` the JSON of
/// `SnapshotBody`, kept as the exact text that was signed.
public struct SnapshotEnvelope: Sendable, Codable, Hashable {
    public var format = "liaison-snapshot-v1"
    /// The source's site id and code.
    public var signer: String
    public var site: String
    public var at: String
    public var gaps: [SnapshotGap]
    /// The JSON of `SnapshotBody`, as signed.
    public var body: String
    public var signature: String

    /// The bytes `signature` covers.
    public var signedBytes: Data {
        Self.signedBytes(
            format: format, signer: signer, at: at, gaps: Self.gapsText(gaps), body: SiteKey.sha256Hex(Data(body.utf8)))
    }

    static func gapsText(_ gaps: [SnapshotGap]) -> String {
        gaps.map { "\($0.origin)=\($0.first)-\($0.through):\($0.head)" }.sorted().joined(separator: ",")
    }

    static func signedBytes(format: String, signer: String, at: String, gaps: String, body: String) -> Data {
        Data("\(format)\n\(signer)\n\(at)\n\(gaps)\n\(body)".utf8)
    }
}

/// One run of an origin's chain the source removed: `head` is the digest of `through`'s header,
/// which the origin's transaction `through + 1` names as its `previous`.
public struct SnapshotGap: Sendable, Codable, Hashable {
    public var origin: String
    public var site: String
    public var first: Int64
    public var through: Int64
    public var head: String
}

/// The log and rows a snapshot carries.
public struct SnapshotBody: Sendable, Codable, Hashable {
    /// Every transaction the source holds, in its apply order, as a pull from the start would
    /// send them to the reader (changes it may not read as digests).
    public var transactions: [TransactionRecord]
    public var keys: [String: SiteKeyRecord]?
    /// The rows the reader may read, as the source holds them now.
    public var rows: [SnapshotRow]
}

/// One current row of a snapshot.
public struct SnapshotRow: Sendable, Codable, Hashable {
    public var table: String
    public var values: [String: CellValue]
}

/// `POST /v1/snapshot` asks for one; the body is empty of meaning (the grant decides).
public struct SnapshotRequest: Sendable, Codable, Hashable {
    public init() {}
}

extension Replica {
    /// A snapshot of this replica for a reader with read grant `readable` (`nil`: every scope),
    /// signed with this replica's key.
    public func makeSnapshot(readable: Set<String>?) throws -> SnapshotEnvelope {
        let key = try requireSigningKey()
        var records: [TransactionRecord] = []
        var keys: [String: SiteKeyRecord] = [:]
        let gaps: [SnapshotGap] = try withConnection { db in
            try publishIfNeeded(db)
            return try transactionOfReads(db) {
                let builder = PageBuilder(db: db, limits: PageLimits(), readable: readable)
                builder.servesSnapshot = true
                var cursor = SyncCursor.start
                while true {
                    let page = try builder.page(after: cursor, excluding: VersionVector())
                    records += page.transactions
                    for (site, record) in try introduce(page.keys) ?? [:] { keys[site] = record }
                    cursor = try SyncCursor(parsing: page.cursor)
                    if !page.hasMore { break }
                }
                let sites = try SiteDirectory(db: db)
                return try ChainBase.all(db).values.joined().sorted { ($0.site, $0.through) < ($1.site, $1.through) }
                    .map {
                        SnapshotGap(
                            origin: sites.site($0.site).id, site: sites.site($0.site).code, first: $0.first,
                            through: $0.through, head: $0.head)
                    }
            }
        }
        var rows: [SnapshotRow] = []
        for table in tables.keys.sorted() where table != SchemaLog.table {
            guard tables[table]?.isKnown == true else { continue }
            for row in try self.rows(table) {
                guard case .text(let scope)? = row["scope"] else { continue }
                if let readable, !readable.contains("*"), !readable.contains(scope) { continue }
                rows.append(SnapshotRow(table: table, values: row))
            }
        }
        let body = String(
            decoding: try WireJSON.encode(SnapshotBody(transactions: records, keys: keys, rows: rows)), as: UTF8.self)
        var envelope = SnapshotEnvelope(
            signer: siteID, site: siteCode.rawValue, at: Self.acknowledgementTime(), gaps: gaps, body: body,
            signature: "")
        envelope.signature = try TransactionDigest.sign(envelope.signedBytes, with: key)
        return envelope
    }
}
