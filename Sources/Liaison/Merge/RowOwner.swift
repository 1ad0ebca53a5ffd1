import Foundation

/// The owner a row keeps when it is not held here: deleted, or moved out of this replica's reach.
///
/// The owner is fixed when a row is first created and is part of its identity. A deletion's
/// tombstone keeps it (the row's versions stay, and the change that wrote the owner stays in the
/// log: compaction keeps every change that writes `owner`), and a re-creation of the id keeps it
/// too, so deleting and re-creating a row never hands it over. Only the owner hands a row over,
/// by an update of `owner`.
enum RowOwner {
    /// The owner `table`/`pk` had when it was last held, and the transaction that wrote it; `nil`
    /// when the row has no history here (a first creation), or the change that wrote the owner is
    /// held only as a digest (a scope this replica may not read).
    /// `known`: the row's versions, when the caller has them already.
    static func remembered(
        _ db: Connection, table: String, pk: String, known: VersionStore.RowVersions? = nil
    ) throws -> (owner: String, version: VersionStore.Origin)? {
        guard let version = try (known ?? VersionStore(db: db).load(table: table, pk: pk)).version(of: "owner") else {
            return nil
        }
        let values = try db.query(
            "SELECT \(ChangeValues.sql()) FROM _liaison_change WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ? AND \(ChangeValues.present()) "
                + "ORDER BY n DESC",
            [.integer(version.site), .integer(version.seq), .text(table), .text(pk)]
        ) { $0.text(0) }
        for text in values {
            if case .text(let owner)? = try ChangeCodec.decodeValues(text)?["owner"], !owner.isEmpty {
                return (owner, version)
            }
        }
        return nil
    }
}
