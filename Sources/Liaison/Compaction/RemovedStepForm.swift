import Foundation

/// How `_liaison_removed_step` names sites in a step's context and bases. Form 1 (`form` = 1) by
/// this replica's site index, as the rest of the log names sites in its keys (`{"2":14}`,
/// `"2:14"`); form 0, the steps kept before, by site id as the change log's own text does
/// (`{"SITE_ID":14}`, `"SITE_ID:14"`), 36 bytes and more a site instead of one or two. Both are
/// read; form 0 rows are converted where they are found (`convert`: when the replica opens, after
/// a compaction, at the end of a snapshot), and a step naming a site this replica does not know yet
/// stays in form 0 until it does. No replica format change: the column is added where missing.
enum RemovedStepForm {
    static let indexed: Int64 = 1

    /// The stored context and bases of a step in form 1, `nil` when a site is not known here.
    static func encode(context: VersionVector, bases: [String: String]?, sites: SiteDirectory) -> (
        context: String, bases: String?
    )? {
        var entries: [String] = []
        for (site, seq) in context.entries where seq > 0 {
            guard let index = sites.existingIndex(of: site) else { return nil }
            entries.append("\"\(index)\":\(seq)")
        }
        var stored: [String: String] = [:]
        for (column, base) in bases ?? [:] {
            guard let mapped = mapBase(base, { sites.existingIndex(of: $0).map(String.init) }) else { return nil }
            stored[column] = mapped
        }
        return ("{" + entries.sorted().joined(separator: ",") + "}", bases == nil ? nil : CellBases.encode(stored))
    }

    /// A step's context and bases by site id, whatever its form.
    static func decode(context: String, bases: String?, form: Int64, sites: SiteDirectory) throws -> (
        context: VersionVector, bases: [String: String]?
    ) {
        let vector = try ChangeCodec.decodeContext(context)
        let decoded = try CellBases.decode(bases)
        guard form == indexed else { return (vector, decoded) }
        func id(_ text: String) throws -> String {
            guard let index = Int64(text), case let site = sites.site(index), site.id != "?" else {
                throw LiaisonError(.invalidInput, "a removed step names site index \(text.prefix(20)), unknown here")
            }
            return site.id
        }
        var byID = VersionVector()
        for (key, seq) in vector.entries { byID[try id(key)] = seq }
        var basesByID: [String: String]?
        if let decoded {
            basesByID = [:]
            for (column, base) in decoded {
                guard let mapped = try mapBase(base, { try id($0) }) else {
                    throw LiaisonError(.invalidInput, "a removed step's base is malformed")
                }
                basesByID?[column] = mapped
            }
        }
        return (byID, basesByID)
    }

    /// A base (`SITE:SEQ`, `=SITE:SEQ`, `=` or empty) with its site renamed by `rename`.
    private static func mapBase(_ base: String, _ rename: (String) throws -> String?) rethrows -> String? {
        let carried = CellBases.isCarried(base)
        let rest = carried ? String(base.dropFirst(CellBases.carriedMark.count)) : base
        guard !rest.isEmpty else { return base }
        guard let colon = rest.lastIndex(of: ":"), let site = try rename(String(rest[..<colon])) else { return nil }
        return (carried ? CellBases.carriedMark : "") + site + String(rest[colon...])
    }

    /// Converts the steps still in form 0 whose sites are all known here.
    static func convert(_ db: Connection) throws {
        guard try RemovedStep.hasTable(db) else { return }
        try RemovedStep.ensureTables(db)
        let old = try db.query(
            "SELECT sidx, seq, tbl, pk, context, bases FROM _liaison_removed_step WHERE form = 0"
        ) { ($0.int64(0), $0.int64(1), $0.text(2), $0.text(3), $0.text(4), $0.optionalText(5)) }
        guard !old.isEmpty else { return }
        let sites = try SiteDirectory(db: db)
        for (index, seq, table, pk, context, bases) in old {
            guard
                let stored = encode(
                    context: try ChangeCodec.decodeContext(context), bases: try CellBases.decode(bases), sites: sites)
            else { continue }
            try db.run(
                "UPDATE _liaison_removed_step SET context = ?, bases = ?, form = 1 WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ?",
                [
                    .text(stored.context), stored.bases.map { .text($0) } ?? .null, .integer(index), .integer(seq),
                    .text(table), .text(pk),
                ])
        }
    }
}

extension Replica {
    /// Brings removed steps kept in form 0 to form 1 when a writable replica opens (`RemovedStepForm`).
    static func convertRemovedSteps(_ db: Connection) throws {
        guard !db.isReadOnly, try RemovedStep.hasTable(db) else { return }
        // Nothing to do, read without the write lock: the columns are there and no row names sites by id.
        let columns = try db.query("PRAGMA table_info(_liaison_removed_step)") { $0.text(1) }
        if columns.contains("form"), columns.contains("scope"),
            try db.first("SELECT 1 FROM _liaison_removed_step WHERE form = 0 LIMIT 1", [], { _ in true }) == nil
        {
            return
        }
        try db.execute("BEGIN IMMEDIATE")
        do {
            try RemovedStepForm.convert(db)
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }
}
