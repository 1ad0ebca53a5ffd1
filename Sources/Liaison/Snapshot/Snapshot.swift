import Foundation

/// What a new peer starts from when the log it would sync from was compacted, in pages
/// (docs/PROTOCOL.md, "Snapshots"): first this manifest, the runs compaction removed from the
/// source's log, signed by the source; then the source's log as it stands, page after page as a
/// pull from the start would send it under the reader's grant (`SnapshotPage`); the last page signs
/// a digest of the current rows the reader may read.
///
/// `signature` is the source's Ed25519 signature over `liaison-snapshot-v2\n{signer}\n{at}\n{gaps}`,
/// where `gaps` is `SITE_ID=FIRST-THROUGH:HEAD` per removed run, sorted and joined by `,`.
public struct SnapshotManifest: Sendable, Codable, Hashable {
    public var format = SnapshotManifest.currentFormat
    /// The source's site id and code.
    public var signer: String
    public var site: String
    public var at: String
    public var gaps: [SnapshotGap]
    public var signature: String

    public static let currentFormat = "liaison-snapshot-v2"

    /// The bytes `signature` covers.
    public var signedBytes: Data {
        Self.signedBytes(format: format, signer: signer, at: at, gaps: Self.gapsText(gaps))
    }

    /// The snapshot's id, which every page names: the SHA-256 of `signedBytes`, hex.
    public var id: String { SiteKey.sha256Hex(signedBytes) }

    /// The SHA-256 of the gaps text, hex: every page names the source's removed runs by it.
    public var gapsDigest: String { Self.digest(ofGaps: gaps) }

    static func digest(ofGaps gaps: [SnapshotGap]) -> String { SiteKey.sha256Hex(Data(gapsText(gaps).utf8)) }

    static func gapsText(_ gaps: [SnapshotGap]) -> String {
        gaps.map { "\($0.origin)=\($0.first)-\($0.through):\($0.head)" }.sorted().joined(separator: ",")
    }

    static func signedBytes(format: String, signer: String, at: String, gaps: String) -> Data {
        Data("\(format)\n\(signer)\n\(at)\n\(gaps)".utf8)
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

/// `POST /v1/snapshot` asks for a manifest; the body is empty of meaning (the grant decides).
public struct SnapshotRequest: Sendable, Codable, Hashable {
    public init() {}
}

/// `POST /v1/snapshot-page`: the page of snapshot `snapshot` after `after` (the previous page's
/// `cursor`, `"0"` for the first), for a source whose removed runs still digest to `gaps`.
/// `steps`: the first pages carry the removed steps the reader may read before the log
/// (`SnapshotRemovedStep`); a receiver that does not ask gets the log only, as before.
public struct SnapshotPageRequest: Sendable, Codable, Hashable {
    public var snapshot: String
    public var gaps: String
    public var after: String
    public var steps: Bool?

    public init(snapshot: String, gaps: String, after: String, steps: Bool? = nil) {
        self.snapshot = snapshot
        self.gaps = gaps
        self.after = after
        self.steps = steps
    }
}

/// One page of a snapshot: a pull page's transactions and keys as `body` (the exact JSON text
/// signed), bound to its snapshot, to the source's removed runs and to its place in the log.
///
/// `signature` is the source's Ed25519 signature over
/// `liaison-snapshot-page-v1\n{snapshot}\n{gaps}\n{after}\n{cursor}\n{more}\n{rows}\n{SHA-256 of body}`,
/// `more` being `1` or `0`, and `rows` `COUNT:HASH` on the last page, `-` on the others.
public struct SnapshotPage: Sendable, Codable, Hashable {
    public var snapshot: String
    public var gaps: String
    public var after: String
    public var cursor: String
    public var hasMore: Bool
    /// On the last page: the current rows the reader may read, as the source holds them.
    public var rows: SnapshotRowsDigest?
    /// The JSON of `SnapshotPageBody`, as signed.
    public var body: String
    public var signature: String

    /// The bytes `signature` covers.
    public var signedBytes: Data {
        let rowsText = rows.map { "\($0.count):\($0.hash)" } ?? "-"
        return Data(
            "liaison-snapshot-page-v1\n\(snapshot)\n\(gaps)\n\(after)\n\(cursor)\n\(hasMore ? 1 : 0)\n\(rowsText)\n\(SiteKey.sha256Hex(Data(body.utf8)))"
                .utf8)
    }
}

/// The transactions and keys one snapshot page carries.
public struct SnapshotPageBody: Sendable, Codable, Hashable {
    /// Transactions of the source's log in its apply order, as a pull would send them to the reader
    /// (changes it may not read as digests; a large transaction in pieces).
    public var transactions: [TransactionRecord]
    public var keys: [String: SiteKeyRecord]?
    /// Removed steps the reader may read, on the pages before the log (applied before the
    /// transactions of the same page).
    public var removed: [SnapshotRemovedStep]?
}

/// The current rows of a replica as one digest: how many, and the SHA-256 over each known table
/// in name order, each row by id, of `{table}\n{canonical JSON of the row}\n` (`SnapshotRows`).
public struct SnapshotRowsDigest: Sendable, Codable, Hashable {
    public var count: Int
    public var hash: String
}

/// What installing a snapshot did.
public struct SnapshotInstallReport: Sendable, Codable, Hashable {
    /// Transactions applied from the snapshot's log.
    public var transactions: Int
    /// Runs of origins' chains the source had removed, taken on its signed word.
    public var gaps: Int
    /// Current rows, found equal, as a whole, to what the signed log gives.
    public var rows: Int
    /// Pages received.
    public var pages: Int
}
