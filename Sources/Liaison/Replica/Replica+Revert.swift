import Foundation

extension Replica {
    /// Writes the inverse of transaction `seq` of `site` (a site code or id) as a new local
    /// transaction: inserted rows are deleted, updated columns get the values they had before,
    /// deleted rows come back. The edits go through `Editor`, so they are checked and sync as usual.
    ///
    /// - Returns: how many row edits the inverse made.
    @discardableResult
    public func revert(site: String, seq: Int64, author: String) throws -> Int {
        guard let target = try log().first(where: { ($0.site == site || $0.origin == site) && $0.seq == seq }) else {
            throw LiaisonError(.notFound, "no transaction \(site)#\(seq) in this replica; see 'liaison log DB'")
        }
        guard !target.changes.isEmpty else {
            throw LiaisonError(.invalidInput, "\(site)#\(seq) changed no rows here (its changes may be withheld)")
        }
        // The state of each row just before the transaction, from the row's history.
        var before: [String: [String: CellValue]?] = [:]
        for change in target.changes where before["\(change.table)\u{0}\(change.id)"] == nil {
            var state: [String: CellValue]? = nil
            for version in try history(change.table, id: change.id) {
                if version.siteID == target.origin && version.seq == target.seq { break }
                switch version.op {
                case .insert: state = version.values ?? [:]
                case .update: state = (state ?? [:]).merging(version.values ?? [:]) { $1 }
                case .delete: state = nil
                }
            }
            before["\(change.table)\u{0}\(change.id)"] = .some(state)
        }
        return try write(author: author) { editor in
            var edits = 0
            for change in target.changes.reversed() {
                let prior = before["\(change.table)\u{0}\(change.id)"] ?? nil
                switch change.op {
                case .insert:
                    if try editor.delete(change.table, id: change.id) { edits += 1 }
                case .update:
                    guard try editor.row(change.table, id: change.id) != nil else { continue }
                    var values: [String: CellValue] = [:]
                    for column in (change.values ?? [:]).keys where column != "id" {
                        values[column] = prior?[column] ?? .null
                    }
                    if !values.isEmpty {
                        try editor.set(change.table, id: change.id, values)
                        edits += 1
                    }
                case .delete:
                    guard var values = prior, try editor.row(change.table, id: change.id) == nil else { continue }
                    values["id"] = nil
                    try editor.set(change.table, id: change.id, values)
                    edits += 1
                }
            }
            return edits
        }
    }
}
