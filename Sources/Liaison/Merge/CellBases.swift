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

    /// The mark of a carried cell's base: a move sends every column of the row (so a peer of the
    /// new scope gets it whole), but writes only the cells it changed. Each other cell is carried:
    /// its base reads `=SITE_ID:SEQ` (or `=` when the cell had no version), and the cell keeps
    /// that version wherever it is merged, so a concurrent edit of it is not overwritten and no
    /// conflict is recorded (docs/DECISIONS.md, "A move writes only the cells it changed").
    static let carriedMark = "="

    /// The base text of a carried cell whose version at the mover was `origin`.
    static func carried(_ origin: VersionStore.Origin?, _ sites: SiteDirectory) -> String {
        carriedMark + (origin.map { text($0, sites) } ?? "")
    }

    /// Whether a base marks its cell as carried, not written.
    static func isCarried(_ base: String?) -> Bool { base?.hasPrefix(carriedMark) ?? false }

    /// The columns a change carries without writing them.
    static func carriedColumns(_ bases: [String: String]?) -> Set<String> {
        Set((bases ?? [:]).filter { isCarried($0.value) }.keys)
    }

    /// The `SITE_ID:SEQ` a carried cell's base names (`nil`: the cell had no version at the mover).
    static func carriedBase(_ base: String) -> String? {
        let rest = String(base.dropFirst(carriedMark.count))
        return rest.isEmpty ? nil : rest
    }

    /// The key under which an insert names the deletion it replaced (`""`: none). Every insert
    /// written since inserts name bases carries it, so a receiver tells such an insert (judged
    /// per cell by its bases, like an update) from one written before (judged by its vector).
    static let insertMark = VersionStore.deletion

    /// The bases of an insert: for each written column, the version it replaced at its writer, and
    /// under `insertMark` the deletion it replaced. A first creation names none of either (`{"#":""}`),
    /// so it is concurrent with any creation of the id its writer held only as a digest.
    static func insertBases(
        replacing versions: VersionStore.RowVersions, columns: [String], _ sites: SiteDirectory
    ) -> [String: String] {
        var bases = [insertMark: versions.deletion.map { text($0, sites) } ?? ""]
        for column in columns {
            if let origin = versions.version(of: column) { bases[column] = text(origin, sites) }
        }
        return bases
    }

    /// Whether a change's bases are an insert's that names what it replaced: a column missing from
    /// them had no version at the writer (it replaced nothing there).
    static func namesReplaced(_ bases: [String: String]?) -> Bool { bases?[insertMark] != nil }
}

extension TransactionApplier {
    /// What two writes of one cell had seen of each other.
    struct CellKnowledge {
        var remoteSawLocal: Bool
        var localSawRemote: Bool
        /// A write this replica holds only as a digest, on the remote write's base chain and
        /// concurrent with the local version: the local version's real rival, which replicas
        /// holding it compared with the local version when it arrived.
        var hiddenRivalOfLocal: VersionStore.Origin?
        /// The same, on the local version's chain and concurrent with the remote write.
        var hiddenRivalOfRemote: VersionStore.Origin?
    }

    /// What two writes of one cell had seen of each other: by vector, and for a write that names
    /// its bases, also through them. `remoteBases` are those of the arriving change (`nil` for a
    /// change without bases: an insert, or one made before bases existed).
    func knowledge(
        table: String, pk: String, column: String, local: VersionStore.Origin, localWrite: CellWrite,
        remote: VersionStore.Origin, remoteWrite: CellWrite, remoteBases: [String: String]?
    ) throws -> CellKnowledge {
        var result = CellKnowledge(
            remoteSawLocal: remoteWrite.hasSeen(localWrite), localSawRemote: localWrite.hasSeen(remoteWrite))
        if result.remoteSawLocal, let remoteBases {
            let base = remoteBases[column].flatMap(origin(named:))
            switch try descent(base: base, from: local, table: table, pk: pk, column: column) {
            case .reaches: break
            case .misses: result.remoteSawLocal = false
            case .hidden(let step):
                result.remoteSawLocal = false
                result.hiddenRivalOfLocal = step
            }
        }
        if result.localSawRemote, let localBases = try loggedBases(of: local, table: table, pk: pk) {
            let base = localBases[column].flatMap(origin(named:))
            switch try descent(base: base, from: remote, table: table, pk: pk, column: column) {
            case .reaches: break
            case .misses: result.localSawRemote = false
            case .hidden(let step):
                result.localSawRemote = false
                result.hiddenRivalOfRemote = step
            }
        }
        return result
    }

    /// Settles a cell whose claiming side passed through a hidden rival (see `CellKnowledge`).
    /// Where the rival beats the other side by policy, replicas holding the rival recorded the
    /// other side as its loser when it arrived, and the claiming side then superseded the rival
    /// without conflict: the same conflict (same id, same loser) is recorded here and the claiming
    /// side wins. Otherwise (`nil`) the two writes are decided as concurrent, as those replicas
    /// decided them too. The rival's value is not held here; the conflict shows the value that
    /// superseded it (simulation seed 52: partial replicas recorded a conflict the full ones had
    /// recorded against another winner, and so ignored the resolution that closed it there).
    func settleHiddenRival(
        _ seen: CellKnowledge, table: TableInfo, pk: String, column: String,
        local: (origin: VersionStore.Origin, write: CellWrite, value: CellValue),
        remote: (origin: VersionStore.Origin, write: CellWrite, value: CellValue)
    ) throws -> Resolution? {
        // The rival beats the side it hid from: that side loses to it, as the full replicas recorded.
        func settle(
            _ rival: VersionStore.Origin?,
            beats loser: (origin: VersionStore.Origin, write: CellWrite, value: CellValue),
            kept: (write: CellWrite, value: CellValue), takesRemote: Bool
        ) throws -> Resolution? {
            guard let rival else { return nil }
            let policy = table.definition.policy
            let rivalWrite = try cellWrite(rival).at(level: kept.write.level)
            guard MergeRule.wins(rivalWrite, over: loser.write, policy: policy) else { return nil }
            try record(
                .init(
                    kind: .value, table: table.name, pk: pk, column: column, policy: policy, winner: rival,
                    winnerValue: kept.value, loser: loser.origin, loserValue: loser.value),
                loserWrite: loser.write)
            return Resolution(takesRemote: takesRemote, isConflict: false)
        }
        if seen.hiddenRivalOfLocal != nil {
            return try settle(
                seen.hiddenRivalOfLocal, beats: local, kept: (remote.write, remote.value), takesRemote: true)
        }
        return try settle(seen.hiddenRivalOfRemote, beats: remote, kept: (local.write, local.value), takesRemote: false)
    }

    /// How a base chain relates to a target version.
    enum Descent: Equatable {
        /// The chain reaches the target: the write had seen its value.
        case reaches
        /// The chain passes beside the target: the write had not seen its value.
        case misses
        /// The chain passes through a write held here only as a digest that had not seen the
        /// target: that write, not the one at the chain's head, was the target's rival.
        case hidden(VersionStore.Origin)
    }

    /// Whether a write whose base for `column` was `base` descends from `target`: the base is the
    /// target, or a version that had seen it and whose own base descends from it.
    ///
    /// A step whose change this replica holds only as a digest (withheld here: a scope it may not
    /// read) had seen the target by its context, and its value could never be a conflict's side
    /// here: the walk ends proven. Without this, a replica lacking a scope recorded conflicts that
    /// replicas holding the whole history did not (the simulation's partial replicas, seeds 4, 6,
    /// 12). A held step that names no base for the column (an insert written before inserts named
    /// bases, or a change made before bases existed) is judged by its vector, as the same write is
    /// judged when it arrives itself (the simulation's seed 58: a re-created row's later edit
    /// conflicted with a change its insert had seen). An insert that names what it replaced
    /// (`CellBases.namesReplaced`) and no base for the column had held no version of it: the walk
    /// misses.
    ///
    /// `overLosers` (for deletions, given the table's policy): a step concurrent with the target
    /// that beats it by policy also ends the walk proven. The target lost that cell to the step
    /// in a conflict recorded wherever both are held; a deleter whose base descends from the step
    /// had held the target's value as that conflict's loser, as its vector claims (simulation
    /// seed 380: a deletion removed the row where it was made, and lost to such a write elsewhere).
    /// So does a step that claimed the target by its vector, beats it by policy, and whose chain
    /// misses it: its bases made it concurrent with the target, as the merge judged it (compaction
    /// simulation seed 186: a deletion based on the winner of such a conflict removed the row where
    /// it was made and lost to the conflict's loser on a replica that received it).
    func descent(
        base: VersionStore.Origin?, from target: VersionStore.Origin, table: String, pk: String, column: String,
        overLosers policy: ConflictPolicy? = nil
    ) throws -> Descent {
        guard let targetWrite = try? cellWrite(target) else { return .misses }
        // Whether a step passed so far claimed the target by its vector and beats it by policy: if
        // the chain then misses the target, that step was concurrent with it in fact (its writer
        // had not held the target's value), its merge recorded the target as its loser, and a
        // deleter below it held the target's value as that conflict's loser (`overLosers`).
        var passedWinner = false
        var current = base
        for _ in 0..<64 {
            guard let step = current else { return passedWinner ? .reaches : .misses }
            if step == target { return .reaches }
            // A step compaction removed whole is read from what it kept (`RemovedStep`).
            guard let read = try chainStep(step, table: table, pk: pk) else { return passedWinner ? .reaches : .misses }
            let (stepWrite, logged) = (read.write, read.logged)
            func beatsTarget() throws -> Bool {
                try MergeRule.wins(
                    stepWrite.at(
                        level: read.removed.map { $0.levels?[column] ?? 0 }
                            ?? loggedLevel(of: step, table: table, pk: pk, column: column)),
                    over: targetWrite.at(level: loggedLevel(of: target, table: table, pk: pk, column: column)),
                    policy: policy ?? .lww)
            }
            if policy != nil, logged, !stepWrite.hasSeen(targetWrite), !targetWrite.hasSeen(stepWrite),
                try beatsTarget()
            {
                return .reaches
            }
            guard stepWrite.hasSeen(targetWrite) else {
                return logged ? (passedWinner ? .reaches : .misses) : .hidden(step)
            }
            guard logged else { return .reaches }
            if policy != nil, !passedWinner { passedWinner = try beatsTarget() }
            let stepBases = try read.removed.map(\.bases) ?? loggedBases(of: step, table: table, pk: pk)
            // An insert that names what it replaced and no base here held no version of the cell.
            guard let next = stepBases?[column] else {
                return CellBases.namesReplaced(stepBases) && !passedWinner ? .misses : .reaches
            }
            current = origin(named: next)
        }
        return .misses
    }

    /// Whether the writer of `change` had seen `version` of `column`: by its vector and, for a
    /// change that names what it replaced (an insert since inserts name bases), through its base
    /// chain. A creation over a row its writer held only as a digest had not seen its cells.
    func sawCell(
        _ change: ChangeRecord, write: CellWrite, column: String, version: VersionStore.Origin, table: String
    ) throws -> Bool {
        guard write.hasSeen(try cellWrite(version)) else { return false }
        guard CellBases.namesReplaced(change.bases) else { return true }
        let base = change.bases?[column].flatMap(origin(named:))
        return try descent(base: base, from: version, table: table, pk: change.id, column: column) == .reaches
    }

    /// The owner level a logged change of a row gave `column` (0 when none is named).
    private func loggedLevel(of origin: VersionStore.Origin, table: String, pk: String, column: String) throws -> Int64
    {
        let text = try db.first(
            "SELECT lvls FROM _liaison_change WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ? ORDER BY n DESC LIMIT 1",
            [.integer(origin.site), .integer(origin.seq), .text(table), .text(pk)]
        ) { $0.optionalText(0) }
        return try ChangeCodec.decodeLevels(text ?? nil)?[column] ?? 0
    }

    /// Whether this replica holds the change a transaction made to a row (not only its digest).
    func isLogged(_ origin: VersionStore.Origin, table: String, pk: String) throws -> Bool {
        try db.first(
            "SELECT 1 FROM _liaison_change WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ? LIMIT 1",
            [.integer(origin.site), .integer(origin.seq), .text(table), .text(pk)]
        ) { _ in true } ?? false
    }

    /// The bases of the logged change of a row by a transaction (`nil`: none, or not held here).
    func loggedBases(of origin: VersionStore.Origin, table: String, pk: String) throws -> [String: String]? {
        let text = try db.first(
            "SELECT bases FROM _liaison_change WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ? ORDER BY n DESC LIMIT 1",
            [.integer(origin.site), .integer(origin.seq), .text(table), .text(pk)]
        ) { $0.optionalText(0) }
        return try CellBases.decode(text ?? nil)
    }

    /// The version a `SITE_ID:SEQ` base names, if this replica knows the site.
    func origin(named text: String) -> VersionStore.Origin? {
        guard let colon = text.lastIndex(of: ":"), let seq = Int64(text[text.index(after: colon)...]),
            let site = sites.existingIndex(of: String(text[..<colon]))
        else { return nil }
        return VersionStore.Origin(site: site, seq: seq)
    }
}
