import Foundation

/// Conflict records in `_liaison_conflict`.
struct ConflictStore {
    let db: Connection

    /// A conflict about to be recorded, with sides given as transactions of this replica.
    struct Record {
        var kind: Conflict.Kind
        var table: String
        var pk: String
        var column: String?
        var policy: ConflictPolicy
        var winner: VersionStore.Origin
        var winnerValue: CellValue?
        var loser: VersionStore.Origin
        var loserValue: CellValue?
    }

    /// The id every replica gives the conflict in which `loser` lost on this cell.
    static func id(kind: Conflict.Kind, table: String, pk: String, column: String?, loserSite: String, loserSeq: Int64)
        -> String
    {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(kind.rawValue)|\(table)|\(pk)|\(column ?? "")|\(loserSite)|\(loserSeq)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "c" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Records the conflict once; a second recording of the same id updates only its winner, so
    /// the record settles on the same winner on every replica. `true` when the id is new here.
    @discardableResult
    func record(_ record: Record, id: String, order: Int64) throws -> Bool {
        let known = try db.first("SELECT 1 FROM _liaison_conflict WHERE id = ?", [.text(id)]) { _ in true } ?? false
        try db.run(
            """
            INSERT INTO _liaison_conflict(id, kind, tbl, pk, col, policy, winner_sidx, winner_seq, winner_value,
                loser_sidx, loser_seq, loser_value, detected_ord)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET winner_sidx = excluded.winner_sidx, winner_seq = excluded.winner_seq,
                winner_value = excluded.winner_value
            """,
            [
                .text(id), .text(record.kind.rawValue), .text(record.table), .text(record.pk),
                record.column.map { .text($0) } ?? .null, .text(record.policy.rawValue), .integer(record.winner.site),
                .integer(record.winner.seq), Self.encode(record.winnerValue), .integer(record.loser.site),
                .integer(record.loser.seq), Self.encode(record.loserValue), .integer(order),
            ])
        return !known
    }

    /// Marks conflicts resolved by transaction `by`; unknown ids are ignored (this replica never saw them).
    func resolve(_ ids: [String], by: VersionStore.Origin) throws {
        for id in ids {
            try db.run(
                "UPDATE _liaison_conflict SET state = 'resolved', resolved_sidx = ?, resolved_seq = ? WHERE id = ? AND state = 'open'",
                [.integer(by.site), .integer(by.seq), .text(id)])
        }
    }

    static func encode(_ value: CellValue?) -> CellValue {
        guard let value else { return .null }
        var out = ""
        CanonicalJSON.append(value, to: &out)
        return .text(out)
    }

    static func decodeValue(_ text: String?) -> CellValue? {
        guard let text else { return nil }
        return ChangeCodec.decodeValue(text)
    }

    static func encodeIDs(_ ids: [String]) -> String {
        "[" + ids.map(CanonicalJSON.string).joined(separator: ",") + "]"
    }

    static func decodeIDs(_ text: String?) -> [String]? {
        guard let text, let data = text.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode([String].self, from: data)
    }
}
