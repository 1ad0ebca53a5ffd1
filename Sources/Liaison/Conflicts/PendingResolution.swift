import Foundation

/// Claims to close a conflict that was not recorded here when the claim arrived.
///
/// A transaction's `resolves` is judged when the transaction is applied. Where the conflict's
/// sides reached this replica later (a change withheld by a relay lacking its scope and asked for
/// since, `wanted`), the conflict was recorded after the claim, and the claim had counted for
/// nothing: the conflict stayed open here and closed on every replica that recorded it first
/// (simulation seed 17 at 150 steps). Such a claim is kept here, with what its judgement needs of
/// the batch it came in (its sender's write grant, whether the sender was the origin), and judged
/// as `honour` would have judged it once the conflict is recorded.
enum PendingResolution {
    static let tableSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_pending_resolution(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, conflict TEXT NOT NULL, grant TEXT,
            from_origin INTEGER NOT NULL, PRIMARY KEY (sidx, seq, conflict)) WITHOUT ROWID
        """

    /// One kept claim: transaction `origin` closes `conflict`; `writable` is the write grant of
    /// the peer it was last received from (`nil`: any), `fromOrigin` whether that peer was its origin.
    struct Claim {
        var origin: VersionStore.Origin
        var conflict: String
        var writable: Set<String>?
        var fromOrigin: Bool
    }

    /// Keeps a claim whose conflict is not recorded here.
    static func remember(_ db: Connection, _ claim: Claim) throws {
        try db.execute(tableSQL)
        let grant: CellValue = claim.writable.map { .text(ConflictStore.encodeIDs($0.sorted())) } ?? .null
        try db.run(
            "INSERT OR IGNORE INTO _liaison_pending_resolution(sidx, seq, conflict, grant, from_origin) VALUES (?, ?, ?, ?, ?)",
            [
                .integer(claim.origin.site), .integer(claim.origin.seq), .text(claim.conflict), grant,
                .integer(claim.fromOrigin ? 1 : 0),
            ])
    }

    /// The claims kept for `conflict`, or made by transaction `origin` (one of the two given).
    static func claims(_ db: Connection, conflict: String? = nil, by origin: VersionStore.Origin? = nil) throws
        -> [Claim]
    {
        guard
            try db.first(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_liaison_pending_resolution'", [],
                { _ in true }) ?? false
        else { return [] }
        let (filter, arguments): (String, [CellValue]) =
            if let origin { ("sidx = ? AND seq = ?", [.integer(origin.site), .integer(origin.seq)]) } else {
                ("conflict = ?", [.text(conflict ?? "")])
            }
        return try db.query(
            "SELECT sidx, seq, conflict, grant, from_origin FROM _liaison_pending_resolution WHERE \(filter) ORDER BY sidx, seq, conflict",
            arguments
        ) {
            // A grant that does not read back counts as none (the claim is then judged outside it).
            Claim(
                origin: VersionStore.Origin(site: $0.int64(0), seq: $0.int64(1)), conflict: $0.text(2),
                writable: $0.optionalText(3).map { Set(ConflictStore.decodeIDs($0) ?? []) }, fromOrigin: $0.int64(4) != 0)
        }
    }

    static func forget(_ db: Connection, _ claim: Claim) throws {
        try db.run(
            "DELETE FROM _liaison_pending_resolution WHERE sidx = ? AND seq = ? AND conflict = ?",
            [.integer(claim.origin.site), .integer(claim.origin.seq), .text(claim.conflict)])
    }
}

extension TransactionApplier {
    /// Judges the claims kept for a conflict just recorded here for the first time, as `honour`
    /// would have judged them had the conflict been recorded when their transactions were applied.
    func honourEarlierClaims(on conflict: String) throws {
        for claim in try PendingResolution.claims(db, conflict: conflict) { try settle(claim) }
    }

    /// Judges again the kept claims of a transaction received again (its withheld changes, or a
    /// copy), under the grant of the peer that sent it now: a claim outside the grant of the relay
    /// it first came through counts once a peer that may write the row sends the transaction, as
    /// `honour` holds such a transaction until then.
    func honourLateClaims(of origin: VersionStore.Origin) throws {
        let claims = try PendingResolution.claims(db, by: origin)
        guard !claims.isEmpty else { return }
        let fromOrigin = try sentByOrigin(origin)
        for var claim in claims {
            (claim.writable, claim.fromOrigin) = (writableScopes, fromOrigin)
            try settle(claim)
        }
    }

    /// Closes the conflict, records the claim ignored, or keeps it for later.
    private func settle(_ claim: PendingResolution.Claim) throws {
        // A transaction compaction removed since cannot be judged; its claim lapses.
        guard let write = try? cellWrite(claim.origin) else { return try PendingResolution.forget(db, claim) }
        switch try judgeResolution(claim.conflict, by: claim.origin, write: write, writable: claim.writable) {
        case .unrecorded: return
        case .outsideGrant where !claim.fromOrigin:
            // `honour` would have held the transaction until a peer that may sends it.
            return
        case .honoured: try conflicts.resolve([claim.conflict], by: claim.origin)
        case .outsideGrant: try recordIgnored(claim.conflict, by: claim.origin, reason: "outside its sender's grant")
        case .unseen: try recordIgnored(claim.conflict, by: claim.origin, reason: "had not seen both sides")
        }
        try PendingResolution.forget(db, claim)
    }
}
