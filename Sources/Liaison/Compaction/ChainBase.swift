import Foundation

/// A run of an origin's chain that compaction removed whole: the headers and change rows of
/// `first…through` are gone, and `head` (the digest of `through`'s header, which the hash links
/// commit to) stands for them, signed by checkpoint `checkpoint` of this replica. The origin's
/// transaction `through + 1` names `head` as its `previous`, so its signature still proves the
/// chain from there. Called a chain base where `first` is 1.
struct ChainBase: Hashable {
    var site: Int64
    var first: Int64
    var through: Int64
    var head: String
    var checkpoint: Int64

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_chain_gap(
            sidx INTEGER NOT NULL, first INTEGER NOT NULL, through INTEGER NOT NULL, head TEXT NOT NULL,
            checkpoint INTEGER NOT NULL, PRIMARY KEY (sidx, through)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_checkpoint_folded(
            checkpoint INTEGER PRIMARY KEY, folded_into INTEGER NOT NULL);
        """

    static func hasTable(_ db: Connection) throws -> Bool {
        try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_chain_gap'") { _ in true } ?? false
    }

    /// Every removed run, by site index, in chain order.
    static func all(_ db: Connection) throws -> [Int64: [ChainBase]] {
        guard try hasTable(db) else { return [:] }
        let rows = try db.query(
            "SELECT sidx, first, through, head, checkpoint FROM _liaison_chain_gap ORDER BY sidx, through"
        ) {
            ChainBase(
                site: $0.int64(0), first: $0.int64(1), through: $0.int64(2), head: $0.text(3), checkpoint: $0.int64(4))
        }
        return Dictionary(grouping: rows, by: \.site)
    }

    /// The highest removed seq of each site.
    static func highest(_ db: Connection) throws -> [Int64: Int64] {
        try all(db).mapValues { $0.map(\.through).max() ?? 0 }
    }

    /// The header digest of transaction `seq` of site `index` as this replica knows it: from the
    /// change log, or the head of a removed run that ends at `seq`.
    static func digest(_ db: Connection, site index: Int64, seq: Int64) throws -> String? {
        if let logged = try db.first(
            "SELECT digest FROM _liaison_tx WHERE sidx = ? AND seq = ?", [.integer(index), .integer(seq)],
            { $0.text(0) })
        {
            return logged
        }
        guard try hasTable(db) else { return nil }
        return try db.first(
            "SELECT head FROM _liaison_chain_gap WHERE sidx = ? AND through = ?", [.integer(index), .integer(seq)],
            { $0.text(0) })
    }

    /// Removed runs by site id (`SITE_ID=FIRST-THROUGH:HEAD`, sorted), as a checkpoint signs them.
    static func signedText(_ gaps: [(site: String, first: Int64, through: Int64, head: String)]) -> String {
        gaps.sorted { ($0.site, $0.through) < ($1.site, $1.through) }
            .map { "\($0.site)=\($0.first)-\($0.through):\($0.head)" }.joined(separator: ",")
    }

    /// Refuses to page for a requester that lacks transactions below a chain base: they are no
    /// longer here, so a sync from this log could never complete. The requester clones from a
    /// snapshot instead (`liaison clone`), or syncs with a peer that kept the history.
    static func refuseBehind(_ db: Connection, vector: VersionVector) throws {
        let highest = try highest(db)
        guard !highest.isEmpty else { return }
        let sites = try SiteDirectory(db: db)
        for (index, through) in highest.sorted(by: { $0.key < $1.key }) {
            let site = sites.site(index)
            guard vector[site.id] < through else { continue }
            throw LiaisonError(
                .compactedHistory,
                "this replica compacted the history of \(site.code) up to #\(through) and the requester "
                    + "holds only #\(vector[site.id]): clone from a snapshot of this replica ('liaison clone') "
                    + "or sync with a peer that kept the whole history")
        }
    }
}

extension TransactionApplier {
    /// Holds a transaction written without having seen a removed run (design step 4): its
    /// context is behind a chain base, so it is concurrent with writes this replica no longer
    /// holds, and a deletion or owner check judged here without them could decide otherwise than
    /// on a replica that kept them. It waits in quarantine (`behind_checkpoint`) until an operator
    /// releases it (`liaison quarantine release`), as writes of a stale peer do.
    func checkAboveChainBases(_ header: TransactionRecord) throws {
        guard !admitsBehindCheckpoint else { return }
        let highest = try runsRemoved().mapValues { $0.map(\.through).max() ?? 0 }
        guard !highest.isEmpty else { return }
        for (index, through) in highest.sorted(by: { $0.key < $1.key }) {
            let site = sites.site(index)
            guard site.id != header.origin, header.context[site.id] < through else { continue }
            throw LiaisonError(
                .behindCheckpoint,
                "transaction \(header.site)#\(header.seq) was written without having seen \(site.code) up to "
                    + "#\(through), history this replica compacted away; it waits for an operator "
                    + "('liaison quarantine release' to apply it anyway, 'liaison quarantine drop' to refuse it)")
        }
    }
}

extension TransactionApplier {
    /// The removed runs, read once per applier.
    func runsRemoved() throws -> [Int64: [ChainBase]] {
        if let removedRuns { return removedRuns }
        let runs = try ChainBase.all(db)
        removedRuns = runs
        return runs
    }

    /// `applied` moved past every removed run that starts right after it: on a replica cloned from
    /// a snapshot, a run the source removed counts as applied once the log reaches it, so the
    /// origin's next transaction (whose `previous` is the run's head) and transactions whose
    /// context names seqs inside it are admitted. Where compaction ran here, runs lie below
    /// `applied` and nothing moves.
    func steppedOverRemovedRuns(_ index: Int64, _ applied: Int64) throws -> Int64 {
        guard let runs = try runsRemoved()[index] else { return applied }
        var seq = applied
        for run in runs where run.first == seq + 1 { seq = run.through }
        return seq
    }

    func steppedOverRemovedRuns(_ vector: VersionVector) throws -> VersionVector {
        let runs = try runsRemoved()
        guard !runs.isEmpty else { return vector }
        var stepped = vector
        for index in runs.keys {
            let site = sites.site(index).id
            stepped[site] = try steppedOverRemovedRuns(index, vector[site])
        }
        return stepped
    }
}

extension TransactionApplier {
    /// What a copy of transaction `seq` of site `index`, arriving again, must match here: the
    /// digest of the applied header, or, where compaction removed it, the head of the run that
    /// ends at `seq` (`digest`); for the first seq of a removed run, the digest of the transaction
    /// before it, which its `previous` names (`previous`). Inside a run, the header digest
    /// compaction kept of it (`_liaison_removed_tx`); a replica cloned from a snapshot has none
    /// there, and a copy inside a run is not checked (its chain cannot reach the kept log).
    func appliedForComparison(_ index: Int64, seq: Int64) throws -> (
        digest: String?, previous: String?, removed: Bool
    ) {
        if let logged = try db.first(
            "SELECT digest FROM _liaison_tx WHERE sidx = ? AND seq = ?", [.integer(index), .integer(seq)],
            { $0.text(0) })
        {
            return (logged, nil, false)
        }
        guard let runs = try runsRemoved()[index] else { return (nil, nil, false) }
        if let run = runs.first(where: { $0.through == seq }) { return (run.head, nil, true) }
        if let kept = try RemovedStep.removedDigest(db, site: index, seq: seq) { return (kept, nil, true) }
        guard seq > 1, runs.contains(where: { $0.first == seq }) else { return (nil, nil, true) }
        return (nil, try ChainBase.digest(db, site: index, seq: seq - 1), true)
    }
}
