import Foundation
import Liaison

/// The merge of a text cell: every side written concurrently to the cell (all its open
/// conflicts), the base before them, and a first draft combining them for the reviewer to edit.
extension ConsoleController {
    /// Template values of the merge choice, or `false` when the cell cannot be merged (not an open
    /// value conflict, or not a text column: a choice, number or date takes one value).
    func mergeValues(_ conflict: Conflict, onCell: [Conflict], base: RowVersion?) -> Any {
        guard conflict.state == "open", conflict.kind == .value, let column = conflict.column,
            let definition = replica.schema.tables.first(where: { $0.name == conflict.table }),
            definition.columns.first(where: { $0.name == column })?.type == .text
        else { return false }
        var sides: [Conflict.Side] = []
        for each in onCell.isEmpty ? [conflict] : onCell {
            for side in [each.winner, each.loser]
            where !sides.contains(where: { $0.siteID == side.siteID && $0.seq == side.seq }) {
                sides.append(side)
            }
        }
        let baseText = base?.values?[column].flatMap { $0 == .null ? nil : $0.displayText }
        let texts = sides.compactMap { side in side.value.flatMap { $0 == .null ? nil : $0.displayText } }
        return [
            "draft": MergeDraft.text(base: baseText, sides: texts),
            "count": max(onCell.count, 1),
            "several": onCell.count > 1,
            "conflictIDs": onCell.map(\.id).joined(separator: ", "),
            "sides": sides.map { side -> [String: Any] in
                [
                    "site": side.site, "author": side.author, "time": side.hlc.description,
                    "value": Show.value(side.value ?? .null),
                ]
            },
        ] as [String: Any]
    }
}
