import Foundation

/// Who settled a conflict, when and why: read from the signed transaction that resolves it.
public struct ConflictResolution: Sendable, Codable, Hashable {
    /// The site code of the replica where the conflict was resolved.
    public var site: String
    public var seq: Int64
    public var author: String
    public var hlc: HybridTimestamp
    public var time: String
    /// The reviewer's note, when one was given.
    public var note: String?
}

/// A reviewer's note travels inside the resolving transaction's signed `resolves` list, as the entry
/// `note:<conflict id>:<text>` beside the conflict id itself (docs/DECISIONS.md, 2026-11-30). A
/// replica that does not know the convention matches no conflict with it and ignores it.
public enum ResolutionNote {
    static let prefix = "note:"
    /// The longest note accepted, in characters.
    public static let maxLength = 1_000

    /// Checks a note: 1 to 1,000 characters, no control characters but newlines and tabs.
    public static func check(_ note: String) throws {
        guard !note.isEmpty, note.count <= maxLength else {
            throw LiaisonError(.invalidInput, "a resolution note takes 1 to \(maxLength) characters")
        }
        guard
            note.unicodeScalars.allSatisfy({
                $0 == "\n" || $0 == "\t" || !($0.properties.generalCategory == .control)
            })
        else {
            throw LiaisonError(.invalidInput, "a resolution note cannot hold control characters")
        }
    }

    static func entry(conflict: String, note: String) -> String { prefix + conflict + ":" + note }

    /// The note for `conflict` among a transaction's `resolves` entries.
    static func note(for conflict: String, in entries: [String]) -> String? {
        let head = prefix + conflict + ":"
        return entries.first { $0.hasPrefix(head) }.map { String($0.dropFirst(head.count)) }
    }

    /// The note text of one `resolves` entry, `nil` for a plain conflict id.
    public static func noteText(of entry: String) -> String? {
        guard entry.hasPrefix(prefix) else { return nil }
        let rest = entry.dropFirst(prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        return String(rest[rest.index(after: colon)...])
    }

    /// The conflict ids among `resolves` entries, without notes.
    public static func conflictIDs(_ entries: [String]) -> [String] { entries.filter { !$0.hasPrefix(prefix) } }
}

extension Replica {
    /// The id of the one conflict whose id starts with `prefix` (at least 4 characters).
    ///
    /// - Throws: `.conflict` when none or several match, naming them.
    public func conflictID(matching prefix: String) throws -> String {
        guard prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw LiaisonError(.conflict, "no conflict '\(prefix)'; list them with 'liaison conflicts DB'")
        }
        guard prefix.count >= 4 else {
            throw LiaisonError(
                .invalidInput, "a conflict id is 'c' and 16 hex digits; give at least its first 4 characters")
        }
        let matches = try withConnection { db in
            try publishIfNeeded(db)
            return try db.query(
                "SELECT id FROM _liaison_conflict WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6",
                [.integer(Int64(prefix.count)), .text(prefix.lowercased())]
            ) { $0.text(0) }
        }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw LiaisonError(.conflict, "no conflict '\(prefix)'; list them with 'liaison conflicts DB'")
        default:
            throw LiaisonError(
                .conflict,
                "'\(prefix)' names several conflicts (\(matches.prefix(5).joined(separator: ", "))); give more characters"
            )
        }
    }

    /// Who resolved `conflictID`, when and with which note; `nil` while it is open here.
    public func resolution(of conflictID: String) throws -> ConflictResolution? {
        try withConnection { db in
            try publishIfNeeded(db)
            let sites = try SiteDirectory(db: db)
            // The transaction this replica honoured (a resolution outside its sender's authority
            // lists the id too, but leaves the conflict open); a local one has no seq stored.
            guard
                let (state, resolvedSite, resolvedSeq) = try db.first(
                    "SELECT state, resolved_sidx, resolved_seq FROM _liaison_conflict WHERE id = ?",
                    [.text(conflictID)],
                    { ($0.text(0), $0.isNull(1) ? nil : $0.int64(1), $0.isNull(2) ? nil : $0.int64(2)) }),
                state == "resolved"
            else { return nil }
            let candidates = try db.query(
                "SELECT sidx, seq, author, hlc, resolves FROM _liaison_tx WHERE resolves LIKE ? ORDER BY ord",
                [.text("%\"\(conflictID)%")]
            ) { ($0.int64(0), $0.int64(1), $0.text(2), $0.int64(3), $0.optionalText(4)) }
            for (sidx, seq, author, hlc, resolves) in candidates
            where (resolvedSite == nil || resolvedSite == sidx) && (resolvedSeq == nil || resolvedSeq == seq) {
                guard let entries = ConflictStore.decodeIDs(resolves), entries.contains(conflictID) else { continue }
                let stamp = HybridTimestamp(rawValue: hlc)
                return ConflictResolution(
                    site: sites.site(sidx).code, seq: seq, author: author, hlc: stamp, time: stamp.description,
                    note: ResolutionNote.note(for: conflictID, in: entries))
            }
            return nil
        }
    }

    /// `verified`, `invalid` or `unknown key` for transaction `seq` of site `siteID`.
    public func signatureStatus(siteID: String, seq: Int64) throws -> String {
        try withConnection { db in
            guard let sidx = try SiteDirectory(db: db).existingIndex(of: siteID) else { return "unknown key" }
            return try AuditCheck(db: db).signatureStatus(VersionStore.Origin(site: sidx, seq: seq))
        }
    }
}
