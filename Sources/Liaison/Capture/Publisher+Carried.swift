import Foundation

extension Publisher {
    /// The bases of the cells each move of one row carries without writing them, by `seq`:
    /// `=SITE_ID:SEQ` of the version the cell had when the move was made (the newest earlier
    /// change of this publish run that wrote it, else the version published before), or `=` for
    /// a cell without a version (`CellBases.carriedMark`).
    static func carriedBases(
        of changes: [(seq: Int64, columns: Int64, carried: Int64)], table: TableInfo, pk: String,
        sites: SiteDirectory, before: () throws -> VersionStore.RowVersions
    ) throws -> [Int64: [String: String]] {
        guard changes.contains(where: { $0.carried != 0 }) else { return [:] }
        let published = try before()
        var result: [Int64: [String: String]] = [:]
        for change in changes where change.carried != 0 {
            var bases: [String: String] = [:]
            for index in 1..<table.columns.count where change.carried & (1 << Int64(index)) != 0 {
                let name = table.columns[index].name
                let bit: Int64 = 1 << Int64(index)
                // Changes are newest first: the first older one that wrote the cell is its version.
                let local = changes.first { $0.seq < change.seq && $0.columns & bit != 0 }
                let version =
                    local.map { VersionStore.Origin(site: SiteIndex.local, seq: $0.seq) } ?? published.version(of: name)
                bases[name] = CellBases.carried(version, sites)
            }
            result[change.seq] = bases
        }
        return result
    }
}
