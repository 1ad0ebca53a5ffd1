import Foundation

/// Cells a move carries without writing them (`CellBases.carriedMark`): a move sends the whole
/// row so that a peer of the new scope gets it whole, but only its written cells are writes. A
/// carried cell is the value of its base version; it never overwrites a cell here that had moved
/// on (a concurrent edit of another column survives the move, without a conflict) and it fills a
/// cell this replica lacks, or holds at an older version, with that version.
extension TransactionApplier {
    /// The version a carried cell takes here, or `nil` when the cell keeps what it has.
    ///
    /// - the row is not held here, or the cell has no version: it takes the carried value at its
    ///   base version (the move's own version when the mover had none);
    /// - the cell's version here is the base, or an older one the base had seen (through its
    ///   bases, as any write is judged): it takes the base's value and version;
    /// - the base is concurrent with the cell's version here and wins by the table's policy: the
    ///   same, and the conflict between the two is recorded (`recordCarriedRival`);
    /// - otherwise (the cell here is a later write, or the concurrent winner: the base's own
    ///   change, when it arrives, meets it as any late write does) nothing changes.
    ///
    /// A carried value must be its base's value: where this replica holds the base's change, a
    /// different value refuses the transaction (a hostile mover cannot rewrite a cell silently,
    /// keeping its version).
    func carriedVersion(
        of column: String, value: CellValue, base text: String?, level: Int64, row: [String: CellValue]?,
        versions known: VersionStore.RowVersions, table: TableInfo, pk: String, mover: VersionStore.Origin
    ) throws -> VersionStore.Origin? {
        let base = text.flatMap(CellBases.carriedBase).flatMap(origin(named:))
        if let base, let logged = try loggedValue(of: base, column: column, table: table, pk: pk), logged != value {
            throw LiaisonError(
                .invalidTransaction,
                "a move of '\(table.name)' '\(pk)' carries a value of '\(column)' that is not the value of the version "
                    + "it names; the transaction was altered or forged")
        }
        guard row != nil, let local = known.version(of: column) else { return base ?? mover }
        guard let base, let baseWrite = try? cellWrite(base).at(level: level) else { return nil }
        if base == local { return base }
        if try descent(base: base, from: local, table: table.name, pk: pk, column: column) == .reaches { return base }
        let localWrite = try cellWrite(local).at(level: known.level(of: column))
        guard !baseWrite.hasSeen(localWrite), !localWrite.hasSeen(baseWrite),
            MergeRule.wins(baseWrite, over: localWrite, policy: table.definition.policy)
        else { return nil }
        try recordCarriedRival(
            column: column, table: table, pk: pk, base: (base, baseWrite, value),
            local: (local, localWrite, row?[column] ?? .null))
        return base
    }

    /// The value `origin`'s logged change of a row wrote to `column`, normalized as merged
    /// (`nil`: not held here, or not written by it).
    private func loggedValue(of origin: VersionStore.Origin, column: String, table: TableInfo, pk: String) throws
        -> CellValue?
    {
        guard let position = table.columnIndex[column] else { return nil }
        let rows = try db.query(
            "SELECT \(ChangeValues.sql()), bases FROM _liaison_change WHERE sidx = ? AND seq = ? AND tbl = ? AND pk = ? AND \(ChangeValues.present())",
            [.integer(origin.site), .integer(origin.seq), .text(table.name), .text(pk)]
        ) { ($0.text(0), $0.optionalText(1)) }
        for (values, bases) in rows {
            guard let value = try ChangeCodec.decodeValues(values)?[column],
                !CellBases.isCarried(try CellBases.decode(bases)?[column])
            else { continue }
            return Validation.normalized(value, for: table.columns[position])
        }
        return nil
    }
}
