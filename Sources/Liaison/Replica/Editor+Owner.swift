import Foundation

extension Editor {
    /// The `owner` a new row of `table` gets: the owner it had if the id was held here before
    /// (deleted, or moved out of reach: `RowOwner`), else the one given, else this replica's site
    /// code. A re-creation that names another owner is refused unless this replica owned the row:
    /// deleting and re-creating a row never hands it over.
    func ownerOfNewRow(_ table: TableInfo, id: String, given: CellValue?) throws -> CellValue {
        guard let remembered = try RowOwner.remembered(db, table: table.name, pk: id) else {
            return given ?? .text(replica.siteCode.rawValue)
        }
        if let given, given != .text(remembered.owner), remembered.owner != replica.siteCode.rawValue {
            throw LiaisonError(
                .invalidInput,
                "row '\(id)' of '\(table.name)' was owned by \(remembered.owner) before it was deleted; a re-created row "
                    + "keeps its owner, and only \(remembered.owner) can hand it over")
        }
        return given ?? .text(remembered.owner)
    }
}
