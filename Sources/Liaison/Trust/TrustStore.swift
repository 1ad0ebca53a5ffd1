import Crypto
import Foundation

/// Which key each site code is bound to, who may introduce keys, and what went wrong.
///
/// `_liaison_site.public_key` holds only *trusted* keys: set by the operator (`peer add --key`,
/// `clone --key`, `liaison trust --key`) or by a verified introduction of a site the operator marked
/// as introducer. A key a peer merely presents is kept apart, in `_liaison_candidate`, for the
/// operator to confirm. A site code belongs to one site id and one key: anything else claiming it
/// is refused and leaves an alarm (`_liaison_alarm`).
///
/// Runs inside the caller's SQLite transaction.
struct TrustStore {
    let db: Connection

    /// The trust tables; created on every open, so replicas made before them gain them.
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_introducer(site_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_candidate(
            site_id TEXT PRIMARY KEY NOT NULL, code TEXT NOT NULL, key TEXT, via TEXT NOT NULL, seen TEXT NOT NULL)
            WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_alarm(
            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, site_id TEXT NOT NULL, code TEXT NOT NULL,
            message TEXT NOT NULL, via TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 1, state TEXT NOT NULL DEFAULT 'open', UNIQUE(kind, site_id, message, via));
        CREATE TABLE IF NOT EXISTS _liaison_key(
            site_id TEXT NOT NULL, from_seq INTEGER NOT NULL, key TEXT NOT NULL, rotation TEXT,
            revoked_since INTEGER, PRIMARY KEY (site_id, from_seq)) WITHOUT ROWID;
        """ + revocationSQL

    /// Whether a site id from a peer is well formed: 1 to 64 ASCII letters, digits, '-', '_' or '.'
    /// (site ids are shown to people, so nothing else is accepted).
    static func isValidSiteID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        return (1...64).contains(bytes.count)
            && bytes.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E
            }
    }

    /// The trusted key of a site id, if any.
    func trustedKey(of siteID: String) throws -> String? {
        try db.first("SELECT public_key FROM _liaison_site WHERE site_id = ?", [.text(siteID)]) { $0.optionalText(0) }
            ?? nil
    }

    /// Refuses a site id and code that contradict a binding held here: the code belongs to another
    /// site id, or the id is known under another code.
    func checkBinding(siteID: String, code: String, via: String) throws {
        if let other = try db.first(
            "SELECT site_id FROM _liaison_site WHERE code = ? AND site_id <> ? LIMIT 1", [.text(code), .text(siteID)],
            { $0.text(0) })
        {
            throw TrustNotice.alarm(
                .impersonation, siteID: siteID, code: code, via: via,
                "site \(siteID) claims the code \(code), which belongs to site \(other) here; refused")
        }
        if let known = try db.first(
            "SELECT code FROM _liaison_site WHERE site_id = ?", [.text(siteID)], { $0.text(0) }
        ), known != code {
            throw TrustNotice.alarm(
                .impersonation, siteID: siteID, code: code, via: via,
                "site \(siteID) is \(known) here but now calls itself \(code); refused")
        }
    }

    /// Binds a site id and code to a key (an operator's decision or a verified introduction).
    /// Refuses anything that contradicts a binding held here.
    func bind(siteID: String, code: String, key: String, via: String) throws {
        try checkBinding(siteID: siteID, code: code, via: via)
        switch try trustedKey(of: siteID) {
        case .some(let trusted) where trusted != key:
            throw TrustNotice.alarm(
                .impersonation, siteID: siteID, code: code, via: via,
                "\(code) presents key \(SiteKey.fingerprint(key)), not the trusted \(SiteKey.fingerprint(trusted)); refused"
            )
        case .some:
            break
        case .none:
            try db.run(
                """
                INSERT INTO _liaison_site(site_id, code, public_key) VALUES (?, ?, ?)
                ON CONFLICT(site_id) DO UPDATE SET public_key = excluded.public_key
                """, [.text(siteID), .text(code), .text(key)])
        }
        // Other ids that presented themselves under this code are impostors now: their transactions
        // are refused as such, no longer waiting for a decision.
        try db.run("DELETE FROM _liaison_candidate WHERE site_id = ? OR code = ?", [.text(siteID), .text(code)])
    }

    /// The key that signs `seq` of a site whose keys were rotated or revoked (`nil`: the trusted key).
    func key(of siteID: String, at seq: Int64) throws -> (key: String, revokedSince: Int64?)? {
        try db.first(
            """
            SELECT key, revoked_since FROM _liaison_key WHERE site_id = ? AND from_seq <= ?
            ORDER BY from_seq DESC LIMIT 1
            """, [.text(siteID), .integer(seq)], { ($0.text(0), $0.isNull(1) ? nil : $0.int64(1)) })
    }

    /// A site's rotations, oldest first, as they travel with its key.
    func rotations(of siteID: String) throws -> [KeyRotation] {
        try db.query(
            "SELECT rotation FROM _liaison_key WHERE site_id = ? AND rotation IS NOT NULL ORDER BY from_seq",
            [.text(siteID)]
        ) { try WireJSON.decode(KeyRotation.self, from: $0.text(0)) }
    }

    /// Follows `rotations` from the key trusted for a site: each must be signed by the key before
    /// it and start after it. Trusts the last key reached; returns it (`nil` when the chain does
    /// not start at the trusted key).
    func follow(_ rotations: [KeyRotation], of siteID: String, code: String) throws -> String? {
        guard var current = try trustedKey(of: siteID) else { return nil }
        var start =
            try db.first(
                "SELECT max(from_seq) FROM _liaison_key WHERE site_id = ?", [.text(siteID)],
                { $0.isNull(0) ? 0 : $0.int64(0) }) ?? 0
        // A rotation may not re-key transactions applied here already.
        let applied =
            try db.first("SELECT seq FROM _liaison_site WHERE site_id = ?", [.text(siteID)], { $0.int64(0) }) ?? 0
        start = max(start, applied)
        var accepted = false
        for rotation in rotations.sorted(by: { $0.fromSeq < $1.fromSeq }) where rotation.previous == current {
            guard rotation.fromSeq > start, (try? SiteKey.publicKey(rotation.key)) != nil else { return nil }
            if rotation.introducer != nil {
                // Vouched for by an introducer (the old key was lost or stolen): valid even from a revoked key.
                guard try isVouched(rotation, of: siteID) else { return nil }
            } else {
                // A revoked key's word is worth nothing: its thief could rotate to a key of its own.
                guard try !isRevoked(siteID, key: current),
                    Self.isSigned(
                        Self.rotationBytes(rotation, siteID: siteID), by: current, signature: rotation.signature)
                else { return nil }
            }
            try db.run(
                "INSERT OR IGNORE INTO _liaison_key(site_id, from_seq, key) VALUES (?, 1, ?)",
                [.text(siteID), .text(current)])
            try db.run(
                "INSERT OR REPLACE INTO _liaison_key(site_id, from_seq, key, rotation) VALUES (?, ?, ?, ?)",
                [.text(siteID), .integer(rotation.fromSeq), .text(rotation.key), .text(try WireJSON.string(rotation))])
            current = rotation.key
            start = rotation.fromSeq
            accepted = true
        }
        guard accepted else { return nil }
        // A key revoked before it arrived here (an introducer saw the thief's key first).
        try applyRevocations(of: siteID)
        try db.run("UPDATE _liaison_site SET public_key = ? WHERE site_id = ?", [.text(current), .text(siteID)])
        try db.run("UPDATE _liaison_peer SET public_key = ? WHERE site_id = ?", [.text(current), .text(siteID)])
        return current
    }

    /// Whether an operator revoked this key of the site.
    func isRevoked(_ siteID: String, key: String) throws -> Bool {
        try db.first(
            "SELECT 1 FROM _liaison_key WHERE site_id = ? AND key = ? AND revoked_since IS NOT NULL",
            [.text(siteID), .text(key)], { _ in true }) ?? false
    }

    /// The operator confirmed a new key for a site whose trusted key is revoked: it signs the
    /// site's transactions after those applied here; earlier ones keep their keys.
    func replaceRevokedKey(of siteID: String, code: String, with key: String) throws -> Bool {
        guard let current = try trustedKey(of: siteID), current != key, try isRevoked(siteID, key: current),
            (try? checkBinding(siteID: siteID, code: code, via: "operator")) != nil
        else { return false }
        let applied =
            try db.first("SELECT seq FROM _liaison_site WHERE site_id = ?", [.text(siteID)], { $0.int64(0) }) ?? 0
        try db.run(
            "INSERT OR REPLACE INTO _liaison_key(site_id, from_seq, key) VALUES (?, ?, ?)",
            [.text(siteID), .integer(applied + 1), .text(key)])
        try db.run("UPDATE _liaison_site SET public_key = ? WHERE site_id = ?", [.text(key), .text(siteID)])
        return true
    }

    /// The bytes a rotation's signature covers.
    static func rotationBytes(_ rotation: KeyRotation, siteID: String) -> Data {
        Data(
            ("{\"fromSeq\":" + String(rotation.fromSeq) + ",\"key\":" + CanonicalJSON.string(rotation.key)
                + ",\"previous\":" + CanonicalJSON.string(rotation.previous) + ",\"siteID\":"
                + CanonicalJSON.string(siteID) + "}").utf8)
    }

    func isIntroducer(_ siteID: String) throws -> Bool {
        try db.first("SELECT 1 FROM _liaison_introducer WHERE site_id = ?", [.text(siteID)]) { _ in true } ?? false
    }

    /// Site ids whose later transactions are held after an equivocation, until an operator decides.
    func heldOrigins() throws -> Set<String> {
        Set(
            try db.query(
                "SELECT DISTINCT site_id FROM _liaison_alarm WHERE kind = 'equivocation' AND state = 'open'"
            ) { $0.text(0) })
    }

    /// Records what a refused batch revealed (after its transaction rolled back).
    func record(_ notice: TrustNotice) throws {
        let now = Date().formatted(.iso8601)
        switch notice.kind {
        case .alarm(let kind, let message):
            try db.run(
                """
                INSERT INTO _liaison_alarm(kind, site_id, code, message, via, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(kind, site_id, message, via) DO UPDATE SET count = count + 1,
                    last_seen = excluded.last_seen, state = 'open'
                """,
                [
                    .text(kind.rawValue), .text(notice.siteID), .text(notice.code), .text(message), .text(notice.via),
                    .text(now), .text(now),
                ])
        case .candidate(let key):
            guard try trustedKey(of: notice.siteID) == nil else { return }
            try db.run(
                """
                INSERT INTO _liaison_candidate(site_id, code, key, via, seen) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(site_id) DO UPDATE SET code = excluded.code, key = coalesce(excluded.key, key),
                    via = excluded.via, seen = excluded.seen
                """,
                [
                    .text(notice.siteID), .text(notice.code), key.map { .text($0) } ?? .null, .text(notice.via),
                    .text(now),
                ])
        }
    }
}

/// Something a batch revealed about identities, carried as the cause of the error that refused it
/// and recorded once the batch's transaction has rolled back.
struct TrustNotice: Error, Sendable {
    enum Kind: Sendable {
        case alarm(Alarm.Kind, String)
        case candidate(key: String?)
    }

    var kind: Kind
    var siteID: String
    var code: String
    var via: String
    /// With an equivocation: the digest applied here and the digest of the other version.
    var digests: [String]? = nil

    /// An error that refuses the batch and leaves an alarm.
    static func alarm(_ kind: Alarm.Kind, siteID: String, code: String, via: String, _ message: String)
        -> LiaisonError
    {
        LiaisonError(
            kind == .equivocation ? .equivocation : .identityConflict, message,
            cause: TrustNotice(kind: .alarm(kind, message), siteID: siteID, code: code, via: via))
    }
}

/// An identity problem this replica saw: a site code claimed by another id or key, or two
/// different transactions under one `(origin, seq)`.
public struct Alarm: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable {
        /// A site id or key claimed a code bound to another.
        case impersonation
        /// An origin signed two different transactions under one sequence number.
        case equivocation
        /// A key of the site was revoked (by the site itself or an introducer) since a time.
        case revocation
    }

    public var kind: Kind
    public var siteID: String
    public var site: String
    public var message: String
    /// The peer it came through.
    public var via: String
    public var firstSeen: String
    public var lastSeen: String
    public var count: Int
    public var state: String
}

/// A key a peer presented for a site that has none trusted here: shown so that the operator can
/// confirm it (`liaison trust DB SITE --key K --site-id ID`), never trusted on its own.
public struct UntrustedKey: Sendable, Codable, Hashable {
    public var siteID: String
    public var site: String
    /// The key presented, base64 (`nil` when the transactions came without one).
    public var key: String?
    public var fingerprint: String?
    public var via: String
    public var seen: String
}

/// A site whose key this replica trusts.
public struct TrustedSite: Sendable, Codable, Hashable {
    public var siteID: String
    public var site: String
    public var publicKey: String
    public var fingerprint: String
    /// Whether keys it introduces are trusted here.
    public var isIntroducer: Bool
}
