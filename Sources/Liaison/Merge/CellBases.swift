import Foundation

/// The version each written cell replaced at its writer (a change's `bases`), and what a write
/// had actually seen of a cell.
///
/// A version vector says which transactions a writer had applied, not whether it held their
/// values: a relay that lacks a scope passes a transaction on with that change as a digest only.
/// So a write supersedes a cell's version without conflict only when its vector covers that
/// version *and* its base chain reaches it (docs/DECISIONS.md, 2026-11-30).
enum CellBases {
    /// Adds the `bases` column to change logs written before it existed.
    static func migrate(_ db: Connection) throws {
        let columns = try db.query("PRAGMA table_info(_liaison_change)") { $0.text(1) }
        if !columns.contains("bases") { try db.execute("ALTER TABLE _liaison_change ADD COLUMN bases TEXT") }
    }

    /// `SITE_ID:SEQ` of a version.
    static func text(_ origin: VersionStore.Origin, _ sites: SiteDirectory) -> String {
        "\(sites.site(origin.site).id):\(origin.seq)"
    }

    /// The canonical JSON of a change's bases (`nil` when it has none).
    static func encode(_ bases: [String: String]?) -> String? {
        guard let bases, !bases.isEmpty else { return nil }
        return CanonicalJSON.object(bases.mapValues { .text($0) })
    }

    static func decode(_ text: String?) throws -> [String: String]? {
        guard let text else { return nil }
        return try WireJSON.decode([String: String].self, from: text)
    }
}

extension TransactionApplier {
    /// What two writes of one cell had seen of each other: by vector, and for a write that names
    /// its bases, also through them. `remoteBases` are those of the arriving change (`nil` for a
    /// change without bases: an insert, or one made before bases existed).
    func knowledge(
        table: String, pk: String, column: String, local: VersionStore.Origin, localWrite: CellWrite,
        remote: VersionStore.Origin, remoteWrite: CellWrite, remoteBases: [String: String]?
    ) throws -> (remoteSawLocal: Bool, localSawRemote: Bool) {
        var remoteSaw = remoteWrite.hasSeen(localWrite)
        if remoteSaw, let remoteBases {
            let base = remoteBases[column].flatMap(origin(named:))
            remoteSaw = try descends(base: base, from: local, table: table, pk: pk, column: column)
        }
        var localSaw = localWrite.hasSeen(remoteWrite)
        if localSaw, let localBases = try loggedBases(of: local, table: table, pk: pk) {
            let base = localBases[column].flatMap(origin(named:))
            localSaw = try descends(base: base, from: remote, table: table, pk: pk, column: column)
        }
        return (remoteSaw, localSaw)
    }

    /// Whether a write whose base for `column` was `base` descends from `target`: the base is the
    /// target, or a version that had seen it and whose own base descends from it. A step whose
    /// change this replica holds only as a digest (withheld here: a scope it may not read) had seen
    /// the target by its context, and its value could never be a conflict's side here: the walk
    /// ends proven. Without this, a replica lacking a scope recorded conflicts that replicas
    /// holding the whole history did not (the simulation's partial replicas, seeds 4, 6, 12).
    private func descends(
        base: VersionStore.Origin?, from target: VersionStore.Origin, table: String, pk: String, column: String
    ) throws -> Bool {
        guard let targetWrite = try? cellWrite(target) else { return false }
        var current = base
        for _ in 0..<64 {
            guard let step = current else { return false }
            if step == target { return true }
            guard let stepWrite = try? cellWrite(step), stepWrite.hasSeen(targetWrite) else { return false }
            guard try isLogged(step, table: table, pk: pk) else { return true }
            current = try loggedBases(of: step, table: table, pk: pk)?[column].flatMap(origin(named:))
        }
        return false
    }

    /// Whether this replica holds the change a transaction made to a row (not only its digest).
    private func isLogged(_ origin: VersionStore.Origin, table: String, pk: String) throws -> Bool {
        try db.first(
            "SELECT 1 FROM _liaison_change WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ? LIMIT 1",
            [.integer(origin.site), .integer(origin.seq), .text(table), .text(pk)]
        ) { _ in true } ?? false
    }

    /// The bases of the logged change of a row by a transaction (`nil`: none, or not held here).
    private func loggedBases(of origin: VersionStore.Origin, table: String, pk: String) throws -> [String: String]? {
        let text = try db.first(
            "SELECT bases FROM _liaison_change WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ? ORDER BY n DESC LIMIT 1",
            [.integer(origin.site), .integer(origin.seq), .text(table), .text(pk)]
        ) { $0.optionalText(0) }
        return try CellBases.decode(text ?? nil)
    }

    /// The version a `SITE_ID:SEQ` base names, if this replica knows the site.
    private func origin(named text: String) -> VersionStore.Origin? {
        guard let colon = text.lastIndex(of: ":"), let seq = Int64(text[text.index(after: colon)...]),
            let site = sites.existingIndex(of: String(text[..<colon]))
        else { return nil }
        return VersionStore.Origin(site: site, seq: seq)
    }
}
