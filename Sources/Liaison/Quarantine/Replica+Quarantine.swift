import Foundation

/// A transaction held in this replica's quarantine, as `liaison quarantine` shows it.
public struct QuarantinedTransaction: Sendable, Codable, Hashable {
    /// Which transaction and why it is held.
    public var held: HeldTransaction
    /// The peer it came from (empty for a local apply).
    public var source: String
    /// When it was first held (UTC, ISO 8601).
    public var heldAt: String
    /// How many times it was tried.
    public var attempts: Int
    public var author: String
    /// The changes it brought: table, row id, operation and scope of each (no values).
    public var changes: [ChangeSummary]

    /// One change of a held transaction, without its values.
    public struct ChangeSummary: Sendable, Codable, Hashable {
        public var table: String
        public var id: String
        public var op: String
        public var scope: String?
    }
}

extension Replica {
    /// Every transaction held in quarantine, in arrival order.
    public func quarantined() throws -> [QuarantinedTransaction] {
        try withConnection { db in try QuarantineStore(db: db).entries().map(Self.summary) }
    }

    /// One held transaction by its id (`CODE#SEQ`, as `quarantined()` lists it).
    public func quarantined(_ id: String) throws -> QuarantinedTransaction {
        try withConnection { db in Self.summary(try entry(id, db)) }
    }

    /// Tries one held transaction again now, accepting it whatever the sender's write grant (the
    /// operator vouches for the sender); every other check still applies. Returns `nil` when it
    /// was applied, else the transaction still held with its new reason.
    public func releaseQuarantined(_ id: String) throws -> HeldTransaction? {
        try withConnection { db in
            let held = try entry(id, db).held
            return try transaction(db) {
                _ = try publishValid(db)
                let batch = try BatchApplication(replica: self, db: db, source: "", writable: nil)
                if try batch.retryHeld(only: (held.origin, held.seq), override: true) > 0 { _ = try batch.retryHeld() }
                return try QuarantineStore(db: db).entries(
                    where: "origin = ? AND seq = ?", [.text(held.origin), .integer(held.seq)]
                ).first?.held
            }
        }
    }

    /// Forgets one held transaction. Those held behind it stay held until it arrives again.
    public func dropQuarantined(_ id: String) throws {
        try withConnection { db in
            let held = try entry(id, db).held
            try transaction(db) { try QuarantineStore(db: db).remove(origin: held.origin, seq: held.seq) }
        }
    }

    /// Tries held transactions again (after a grant or a key changed, or at the start of a sync):
    /// all of them, or first those `peer` sent. Returns how many were applied.
    @discardableResult
    public func retryQuarantine(from peer: String? = nil) throws -> Int {
        try withConnection { db in
            guard try Self.hasHeld(db) else { return 0 }
            if let peer, try QuarantineStore(db: db).held(from: peer).isEmpty { return 0 }
            return try transaction(db) {
                _ = try publishValid(db)
                return try BatchApplication(replica: self, db: db, source: "", writable: nil).retryHeld(source: peer)
            }
        }
    }

    /// What is held here of what `peer` sent (to tell that peer).
    public func held(from peer: String) throws -> [HeldTransaction] {
        try withConnection { db in try Self.hasHeld(db) ? try QuarantineStore(db: db).held(from: peer) : [] }
    }

    /// Records what `peer` said it holds of this replica's traffic (replacing what it said before).
    public func recordPeerHeld(peer: String, _ held: [HeldTransaction]) throws {
        try withConnection { db in
            let store = QuarantineStore(db: db)
            if held.isEmpty, try store.peerHeld()[peer] == nil { return }
            try transaction(db) { try store.replacePeerHeld(peer, held) }
        }
    }

    /// What each peer said it holds of this replica's traffic, by peer name.
    public func heldByPeers() throws -> [String: [HeldTransaction]] {
        try withConnection { db in try QuarantineStore(db: db).peerHeld() }
    }

    static func hasHeld(_ db: Connection) throws -> Bool {
        try db.first("SELECT 1 FROM _liaison_quarantine LIMIT 1") { _ in true } ?? false
    }

    private func entry(_ id: String, _ db: Connection) throws -> QuarantineStore.Entry {
        let parts = id.split(separator: "#", maxSplits: 1)
        let store = QuarantineStore(db: db)
        guard parts.count == 2, let seq = Int64(parts[1]),
            let found = try store.entries(where: "site = ? AND seq = ?", [.text(String(parts[0])), .integer(seq)])
                .first
        else {
            throw LiaisonError(
                .notFound, "nothing held with id '\(id)'; list held transactions with 'liaison quarantine DB list'")
        }
        return found
    }

    private static func summary(_ entry: QuarantineStore.Entry) -> QuarantinedTransaction {
        QuarantinedTransaction(
            held: entry.held, source: entry.source, heldAt: entry.heldAt, attempts: entry.attempts,
            author: entry.record.author,
            changes: entry.record.changes.map {
                .init(table: $0.table, id: $0.id, op: $0.op.rawValue, scope: $0.scope)
            })
    }
}
