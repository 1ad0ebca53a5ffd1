import Foundation

/// What a base-chain walk (`TransactionApplier.descent`) needs of a change that compaction removed
/// whole: its writer's clock and context (whether it had seen the walk's target, and the policy
/// check of the deletion walk), and the change's bases and owner levels (where the walk goes next).
///
/// A removed transaction is superseded, but it can still lie on a cell's base chain between a
/// later write and an older write the replica keeps (a row's insert, current in another column).
/// Without this record the walk stopped at the removed step (`.misses`): a deletion whose bases
/// went through it lost on the replica that compacted and won everywhere else (the compaction
/// simulation's seed 20). With it, the walk goes on exactly as on a replica that kept the history.
/// The values, digests and signatures stay gone; what is kept is about 100 bytes per removed
/// change of a row (docs/DECISIONS.md, "Removed steps of a base chain").
struct RemovedStep {
    var write: CellWrite
    var bases: [String: String]?
    var levels: [String: Int64]?

    /// `_liaison_removed_tx` keeps each removed transaction's header digest, so that another
    /// version of it signed by its origin is found as an equivocation anywhere in a removed run,
    /// not only at its ends (`TransactionApplier.appliedForComparison`).
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_removed_step(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, tbl TEXT NOT NULL, pk TEXT NOT NULL,
            hlc INTEGER NOT NULL, context TEXT NOT NULL, bases TEXT, lvls TEXT, scope TEXT,
            form INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (sidx, seq, tbl, pk)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _liaison_removed_tx(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, digest TEXT NOT NULL,
            PRIMARY KEY (sidx, seq)) WITHOUT ROWID
        """

    /// Keeps, before transactions `run` of site `site` go, what a walk reads of each of their
    /// changes (the last change of a row in a transaction, as `loggedBases` reads it), and each
    /// one's header digest.
    static func keep(_ db: Connection, site: Int64, run: ClosedRange<Int64>) throws {
        try ensureTables(db)
        try db.run(
            """
            INSERT OR REPLACE INTO _liaison_removed_tx(sidx, seq, digest)
            SELECT sidx, seq, digest FROM _liaison_tx WHERE sidx = ?1 AND seq BETWEEN ?2 AND ?3
            """, [.integer(site), .integer(run.lowerBound), .integer(run.upperBound)])
        try db.run(
            """
            INSERT OR REPLACE INTO _liaison_removed_step(sidx, seq, tbl, pk, hlc, context, bases, lvls, scope)
            SELECT c.sidx, c.seq, c.tbl, c.pk, t.hlc, t.context, c.bases, c.lvls, c.scope
            FROM _liaison_change c JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
            WHERE c.sidx = ?1 AND c.seq BETWEEN ?2 AND ?3 AND c.op <> 'delete'
            AND c.n = (SELECT max(d.n) FROM _liaison_change d
                WHERE d.sidx = c.sidx AND d.seq = c.seq AND d.tbl = c.tbl AND d.pk = c.pk)
            """, [.integer(site), .integer(run.lowerBound), .integer(run.upperBound)])
        // Copied as the log holds them (sites by id), then named by site index (`RemovedStepForm`).
        try RemovedStepForm.convert(db)
    }

    /// Creates the tables, and adds `scope` (the scope the removed change was made in, by which a
    /// snapshot filters steps as a pull filters changes) to a table made before it had one; steps
    /// kept before then have no scope and go only to readers of every scope.
    static func ensureTables(_ db: Connection) throws {
        try db.execute(createSQL)
        let columns = try db.query("PRAGMA table_info(_liaison_removed_step)") { $0.text(1) }
        if !columns.contains("scope") { try db.execute("ALTER TABLE _liaison_removed_step ADD COLUMN scope TEXT") }
        if !columns.contains("form") {
            try db.execute("ALTER TABLE _liaison_removed_step ADD COLUMN form INTEGER NOT NULL DEFAULT 0")
        }
        // Finds the steps still naming sites by id at once (`RemovedStepForm.convert`).
        try db.execute(
            "CREATE INDEX IF NOT EXISTS _liaison_removed_step_by_id ON _liaison_removed_step(sidx) WHERE form = 0")
    }

    static func hasTable(_ db: Connection) throws -> Bool {
        try db.first(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_liaison_removed_step'", [], { _ in true })
            ?? false
    }

    /// The removed change of row `pk` of `table` by `origin`, if compaction removed one.
    static func load(
        _ db: Connection, _ origin: VersionStore.Origin, table: String, pk: String, sites: SiteDirectory
    ) throws -> RemovedStep? {
        guard
            try db.first(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_liaison_removed_step'", [], { _ in true }
            )
                ?? false,
            let (hlc, context, bases, levels, form) = try db.first(
                "SELECT hlc, context, bases, lvls, form FROM _liaison_removed_step WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ?",
                [.integer(origin.site), .integer(origin.seq), .text(table), .text(pk)],
                { ($0.int64(0), $0.text(1), $0.optionalText(2), $0.optionalText(3), $0.int64(4)) })
        else { return nil }
        let site = sites.site(origin.site)
        let named = try RemovedStepForm.decode(context: context, bases: bases, form: form, sites: sites)
        return RemovedStep(
            write: CellWrite(
                site: site.id, code: site.code, seq: origin.seq, hlc: HybridTimestamp(rawValue: hlc),
                context: named.context),
            bases: named.bases, levels: try ChangeCodec.decodeLevels(levels))
    }
}

extension TransactionApplier {
    /// A step of a base chain as the walk reads it: logged here, or removed by compaction
    /// (`RemovedStep`), which the walk treats as logged; `nil` when neither (the walk misses).
    struct ChainStep {
        var write: CellWrite
        var logged: Bool
        var removed: RemovedStep?
    }

    func chainStep(_ step: VersionStore.Origin, table: String, pk: String) throws -> ChainStep? {
        if let write = try? cellWrite(step) {
            return ChainStep(write: write, logged: try isLogged(step, table: table, pk: pk), removed: nil)
        }
        guard let removed = try RemovedStep.load(db, step, table: table, pk: pk, sites: sites) else { return nil }
        return ChainStep(write: removed.write, logged: true, removed: removed)
    }
}

extension RemovedStep {
    /// The header digest of removed transaction `seq` of site `index`, if compaction kept it.
    static func removedDigest(_ db: Connection, site index: Int64, seq: Int64) throws -> String? {
        guard
            try db.first(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_liaison_removed_tx'", [], { _ in true })
                ?? false
        else { return nil }
        return try db.first(
            "SELECT digest FROM _liaison_removed_tx WHERE sidx = ? AND seq = ?", [.integer(index), .integer(seq)],
            { $0.text(0) })
    }
}
