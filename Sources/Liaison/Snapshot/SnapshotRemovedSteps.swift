import Foundation

/// What a snapshot carries of one change the source's compaction removed whole (`RemovedStep`):
/// the row it changed, its writer's clock and context, its bases and owner levels, and the scope it
/// was made in. A clone walks base chains through it exactly as the source does, so a later
/// deletion whose bases pass through a removed run is judged there as on a replica that kept the
/// history (docs/PROTOCOL.md, "Snapshots"; docs/DECISIONS.md, "Removed steps travel in snapshots").
///
/// A step goes only to a reader of its scope: everything in it is what a pull of the uncompacted
/// log would have sent that reader with the change itself (header clock and context, the change's
/// bases, levels and scope), and nothing of a change the reader may not read, nor that one exists.
public struct SnapshotRemovedStep: Sendable, Codable, Hashable {
    /// The removed transaction: its origin's site id and code, and its seq.
    public var origin: String
    public var site: String
    public var seq: Int64
    /// The row it changed.
    public var table: String
    public var id: String
    /// The transaction's clock and context, as its header had them.
    public var hlc: HybridTimestamp
    public var context: VersionVector
    /// The change's bases (`SITE_ID:SEQ` by column, as in `ChangeRecord`) and owner levels.
    public var bases: [String: String]?
    public var levels: [String: Int64]?
    /// The scope the change was made in.
    public var scope: String?
}

/// The removed steps of a snapshot, read page by page by the source (`page`) and landed and
/// checked by the receiver (`land`, `verify`).
enum SnapshotRemovedSteps {
    /// A steps cursor: `removed:SIDX:SEQ`, after every step of transaction SEQ of the source's site
    /// index SIDX (opaque to the receiver, which only sends it back).
    static let cursorPrefix = "removed:"

    static func isCursor(_ text: String) -> Bool { text.hasPrefix(cursorPrefix) }

    static func parseCursor(_ text: String) throws -> (site: Int64, seq: Int64) {
        let parts = text.dropFirst(cursorPrefix.count).split(separator: ":").map { Int64($0) }
        guard isCursor(text), parts.count == 2, let site = parts[0], let seq = parts[1], site >= 0, seq >= 0 else {
            throw LiaisonError(
                .malformedRequest, "invalid snapshot cursor '\(text.prefix(64))': expected one a snapshot page returned"
            )
        }
        return (site, seq)
    }

    /// The steps the reader may read after `after` (`nil`: from the first), whole transactions at a
    /// time, until `limits` are reached; `next` is the cursor to go on from, `nil` when none are left.
    static func page(_ db: Connection, readable: Set<String>?, after: (site: Int64, seq: Int64)?, limits: PageLimits)
        throws -> (steps: [SnapshotRemovedStep], next: String?)
    {
        guard try RemovedStep.hasTable(db) else { return ([], nil) }
        try RemovedStep.ensureTables(db)
        let sites = try SiteDirectory(db: db)
        let everyScope = readable.map { $0.contains("*") } ?? true
        let statement = try db.prepare(
            """
            SELECT sidx, seq, tbl, pk, hlc, context, bases, lvls, scope, form FROM _liaison_removed_step
            WHERE sidx > ?1 OR (sidx = ?1 AND seq > ?2) ORDER BY sidx, seq, tbl, pk
            """)
        try statement.bind([.integer(after?.site ?? -1), .integer(after?.seq ?? 0)])
        var steps: [SnapshotRemovedStep] = []
        var bytes = 0
        var last: (site: Int64, seq: Int64)?
        while try statement.step() {
            let (index, seq) = (statement.int64(0), statement.int64(1))
            if let last, last != (index, seq), steps.count >= limits.maxChanges || bytes >= limits.maxBytes {
                return (steps, "\(cursorPrefix)\(last.site):\(last.seq)")
            }
            last = (index, seq)
            let scope = statement.optionalText(8)
            // Filtered as a pull filters changes: by the scope the change was made in. A step kept
            // before steps recorded their scope goes only to a reader of every scope.
            guard everyScope || scope.map({ Scope.allows(readable, $0) }) == true else { continue }
            let site = sites.site(index)
            let (table, id, context, bases) = (
                statement.text(2), statement.text(3), statement.text(5), statement.optionalText(6)
            )
            let named = try RemovedStepForm.decode(
                context: context, bases: bases, form: statement.int64(9), sites: sites)
            steps.append(
                SnapshotRemovedStep(
                    origin: site.id, site: site.code, seq: seq, table: table, id: id,
                    hlc: HybridTimestamp(rawValue: statement.int64(4)), context: named.context, bases: named.bases,
                    levels: try ChangeCodec.decodeLevels(statement.optionalText(7)), scope: scope))
            let sitesNamed = named.context.entries.count + (named.bases?.count ?? 0)
            bytes += 120 + table.utf8.count + id.utf8.count + 40 * sitesNamed
        }
        return (steps, nil)
    }

    /// Records the steps of one page where they land, each inside a run `gaps` says the source
    /// removed (in the installation's transaction; `verify` checks them against the log once it
    /// is applied).
    static func land(
        _ steps: [SnapshotRemovedStep], gaps: [SnapshotGap], _ db: Connection, refuse: (String) -> LiaisonError
    ) throws {
        guard !steps.isEmpty else { return }
        try RemovedStep.ensureTables(db)
        let sites = try SiteDirectory(db: db)
        let insert = try db.prepare(
            """
            INSERT OR REPLACE INTO _liaison_removed_step(sidx, seq, tbl, pk, hlc, context, bases, lvls, scope, form)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for step in steps {
            guard
                let gap = gaps.first(where: {
                    $0.origin == step.origin && $0.site == step.site && ($0.first...$0.through).contains(step.seq)
                })
            else {
                throw refuse("it sends a removed step (#\(step.seq)) outside every run it says it removed")
            }
            guard !step.table.isEmpty, !step.id.isEmpty else { throw refuse("a removed step names no row") }
            // By site index where every site it names is known here, else by id until it is.
            let indexed = RemovedStepForm.encode(context: step.context, bases: step.bases, sites: sites)
            insert.reset()
            try insert.bind([
                .integer(try sites.index(of: gap.origin, code: gap.site)), .integer(step.seq), .text(step.table),
                .text(step.id), .integer(step.hlc.rawValue),
                .text(indexed?.context ?? ChangeCodec.encodeContext(step.context)),
                (indexed.map { $0.bases } ?? CellBases.encode(step.bases)).map { .text($0) } ?? .null,
                ChangeCodec.encodeLevels(step.levels), step.scope.map { .text($0) } ?? .null,
                .integer(indexed == nil ? 0 : RemovedStepForm.indexed),
            ])
            _ = try insert.step()
        }
    }
}

extension SnapshotRemovedSteps {
    /// Checks every landed step against the signed log once the whole was applied, before the
    /// installation commits. The source's word decides what no signature covers (a removed change's
    /// values, digest and bases are gone), but a step may only say what its origin's signed
    /// transactions allow: its table is one the log gives; its context and clock lie between those
    /// of the origin's kept transactions before and after it (a site's vector and clock only grow),
    /// so it cannot claim to have seen more than its origin's next signed transaction had seen; and
    /// each base names a version its own context covers.
    static func verify(_ db: Connection, tables: [String: TableInfo], refuse: (String) -> LiaisonError) throws {
        guard try RemovedStep.hasTable(db) else { return }
        let sites = try SiteDirectory(db: db)
        let steps = try db.query("SELECT sidx, seq, tbl, hlc, context, bases, form FROM _liaison_removed_step") {
            ($0.int64(0), $0.int64(1), $0.text(2), $0.int64(3), $0.text(4), $0.optionalText(5), $0.int64(6))
        }
        for (index, seq, table, hlc, contextText, basesText, form) in steps {
            let origin = sites.site(index)
            let name = "#\(seq) of \(origin.code)"
            guard tables[table]?.isKnown == true else {
                throw refuse("removed step \(name) names a table its log does not give")
            }
            let (context, bases) = try RemovedStepForm.decode(
                context: contextText, bases: basesText, form: form, sites: sites)
            let neighbour = { (sql: String) in
                try db.first(sql, [.integer(index), .integer(seq)]) {
                    ($0.int64(0), try ChangeCodec.decodeContext($0.text(1)))
                }
            }
            guard
                let after = try neighbour(
                    "SELECT hlc, context FROM _liaison_tx WHERE sidx = ? AND seq > ? ORDER BY seq LIMIT 1")
            else { throw refuse("removed step \(name) has no later signed transaction of its origin to bound it") }
            let before = try neighbour(
                "SELECT hlc, context FROM _liaison_tx WHERE sidx = ? AND seq < ? ORDER BY seq DESC LIMIT 1")
            let (low, lowContext) = before ?? (Int64.min, VersionVector())
            guard context[origin.id] == 0, context.entries.allSatisfy({ after.1[$0.key] >= $0.value }),
                lowContext.entries.allSatisfy({ context[$0.key] >= $0.value }), low <= hlc, hlc <= after.0
            else {
                throw refuse(
                    "removed step \(name) claims a clock or context outside those of its origin's signed "
                        + "transactions around it")
            }
            for base in (bases ?? [:]).values {
                let text = CellBases.isCarried(base) ? CellBases.carriedBase(base) ?? "" : base
                guard !text.isEmpty else { continue }
                guard let colon = text.lastIndex(of: ":"), let version = Int64(text[text.index(after: colon)...]) else {
                    throw refuse("removed step \(name) names a malformed base")
                }
                let site = String(text[..<colon])
                guard site == origin.id ? version < seq : context[site] >= version else {
                    throw refuse("removed step \(name) names a base its own context had not seen")
                }
            }
        }
    }
}
