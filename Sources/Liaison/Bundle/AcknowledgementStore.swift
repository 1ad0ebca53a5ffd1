import Foundation

/// What each peer has signed that it applied (its newest `Acknowledgement`), the keys bundles are
/// sealed to, and the bundles made and imported here.
///
/// The tables are created when first needed, so replicas made before them gain them.
/// Runs inside the caller's SQLite transaction.
struct AcknowledgementStore {
    let db: Connection

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_ack(
            peer TEXT PRIMARY KEY NOT NULL, site_id TEXT NOT NULL, at TEXT NOT NULL, vector TEXT NOT NULL,
            ack TEXT NOT NULL, via TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_bundle_key(
            peer TEXT PRIMARY KEY NOT NULL, sealing_key TEXT NOT NULL, via TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_bundle_log(
            id TEXT NOT NULL, direction TEXT NOT NULL, peer TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,
            transactions INTEGER NOT NULL, applied INTEGER NOT NULL DEFAULT 0, held INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (id, direction)) WITHOUT ROWID;
        """

    /// Creates the tables unless the replica is read-only (then reads find none).
    static func prepare(_ db: Connection) throws {
        if !db.isReadOnly { try db.execute(createSQL) }
    }

    private func hasTables() throws -> Bool {
        try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_ack'") { _ in true } ?? false
    }

    /// The newest acknowledgement of `peer`, if any.
    func acknowledgement(of peer: String) throws -> Acknowledgement? {
        guard try hasTables() else { return nil }
        return try db.first("SELECT ack FROM _liaison_ack WHERE peer = ?", [.text(peer)]) {
            try? JSONDecoder().decode(Acknowledgement.self, from: Data($0.text(0).utf8))
        } ?? nil
    }

    /// How each peer's newest acknowledgement arrived (`sync`, `bundle`), by peer name.
    func channels() throws -> [String: String] {
        guard try hasTables() else { return [:] }
        return Dictionary(
            try db.query("SELECT peer, via FROM _liaison_ack", [], { ($0.text(0), $0.text(1)) }),
            uniquingKeysWith: { first, _ in first })
    }

    /// Every peer's newest acknowledgement, by peer name.
    func all() throws -> [String: Acknowledgement] {
        guard try hasTables() else { return [:] }
        var acks: [String: Acknowledgement] = [:]
        for (peer, text) in try db.query("SELECT peer, ack FROM _liaison_ack", [], { ($0.text(0), $0.text(1)) }) {
            acks[peer] = try? JSONDecoder().decode(Acknowledgement.self, from: Data(text.utf8))
        }
        return acks
    }

    /// Keeps `ack` (already verified) when it is newer than the one held; returns whether it was.
    /// An older acknowledgement replayed changes nothing.
    func record(_ ack: Acknowledgement, peer: String, via: String) throws -> Bool {
        if let held = try acknowledgement(of: peer), held.at >= ack.at { return false }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try db.run(
            """
            INSERT INTO _liaison_ack(peer, site_id, at, vector, ack, via) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(peer) DO UPDATE SET site_id = excluded.site_id, at = excluded.at, vector = excluded.vector,
                ack = excluded.ack, via = excluded.via
            """,
            [
                .text(peer), .text(ack.site), .text(ack.at),
                .text(String(decoding: try encoder.encode(ack.vector), as: UTF8.self)),
                .text(String(decoding: try encoder.encode(ack), as: UTF8.self)), .text(via),
            ])
        return true
    }

    /// The X25519 key bundles for `peer` are sealed to, when known.
    func sealingKey(of peer: String) throws -> String? {
        guard try hasTables() else { return nil }
        return try db.first("SELECT sealing_key FROM _liaison_bundle_key WHERE peer = ?", [.text(peer)]) { $0.text(0) }
    }

    func setSealingKey(_ key: String, of peer: String, via: String) throws {
        try db.run(
            """
            INSERT INTO _liaison_bundle_key(peer, sealing_key, via) VALUES (?, ?, ?)
            ON CONFLICT(peer) DO UPDATE SET sealing_key = excluded.sealing_key, via = excluded.via
            """, [.text(peer), .text(key), .text(via)])
    }

    /// When a bundle was imported here before, if it was.
    func importedAt(_ id: String) throws -> String? {
        guard try hasTables() else { return nil }
        return try db.first(
            "SELECT at FROM _liaison_bundle_log WHERE id = ? AND direction = 'in'", [.text(id)], { $0.text(0) })
    }

    func log(
        id: String, direction: String, peer: String, kind: BundleKind, transactions: Int, applied: Int = 0,
        held: Int = 0
    ) throws {
        try db.run(
            """
            INSERT INTO _liaison_bundle_log(id, direction, peer, kind, at, transactions, applied, held)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id, direction) DO UPDATE SET applied = applied + excluded.applied, held = excluded.held
            """,
            [
                .text(id), .text(direction), .text(peer), .text(kind.rawValue), .text(Date().formatted(.iso8601)),
                .integer(Int64(transactions)), .integer(Int64(applied)), .integer(Int64(held)),
            ])
    }
}
