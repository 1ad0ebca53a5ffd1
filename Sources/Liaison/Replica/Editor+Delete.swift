import Foundation

/// What a deletion does to rows that refer to the deleted row.
public enum ReferrerPolicy: String, Sendable, CaseIterable {
    /// Refuse the deletion, naming the referrers.
    case refuse
    /// Delete the referrers too, in the same transaction (and theirs, recursively).
    case cascade
    /// Keep the referrers, pointing at a row that is gone.
    case orphan
}

/// A row that refers to another through a reference column.
public struct Referrer: Hashable, Sendable, CustomStringConvertible {
    public var table: String
    public var id: String
    public var column: String

    public var description: String { "\(table) '\(id)' (\(column))" }
}

extension Editor {
    /// Deletes the row; `false` when there was none. Rows that refer to it are handled by
    /// `referrers`: `.refuse` throws `invalidInput` naming them, `.cascade` deletes them too,
    /// `.orphan` keeps them.
    @discardableResult
    public func delete(_ tableName: String, id: String, referrers policy: ReferrerPolicy) throws -> Bool {
        let table = try replica.table(named: tableName)
        guard try replica.readRow(db, table: table, id: id) != nil else { return false }
        let found = try referrers(of: tableName, id: id)
        switch policy {
        case .orphan:
            break
        case .refuse where !found.isEmpty:
            let shown = found.prefix(10).map(\.description).joined(separator: ", ")
            throw LiaisonError(
                .invalidInput,
                "\(tableName) '\(id)' is referred to by \(found.count) row\(found.count == 1 ? "" : "s"): \(shown)"
                    + "\(found.count > 10 ? ", …" : ""); delete with --cascade to delete them too, or --orphan to keep them"
            )
        case .refuse:
            break
        case .cascade:
            var visited: Set<String> = [tableName + "\u{1}" + id]
            var pending = found
            var order: [Referrer] = []
            while let next = pending.popLast() {
                guard visited.insert(next.table + "\u{1}" + next.id).inserted else { continue }
                order.append(next)
                pending += try referrers(of: next.table, id: next.id)
            }
            // Children first, so no row is ever left pointing at a deleted one.
            for referrer in order.reversed() { try delete(referrer.table, id: referrer.id) }
        }
        return try delete(tableName, id: id)
    }

    /// Every live row that refers to the row through a reference column.
    public func referrers(of tableName: String, id: String) throws -> [Referrer] {
        _ = try replica.table(named: tableName)
        var found: [Referrer] = []
        for table in replica.tables.values.sorted(by: { $0.index < $1.index }) {
            for column in table.columns where column.type == .reference(tableName) {
                let ids = try db.query(
                    "SELECT id FROM \(table.quotedName) WHERE \(CaptureTriggers.quoted(column.name)) = ? ORDER BY id",
                    [.text(id)]
                ) { $0.text(0) }
                found += ids.map { Referrer(table: table.name, id: $0, column: column.name) }
            }
        }
        return found
    }
}
