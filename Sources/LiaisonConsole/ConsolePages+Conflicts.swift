import Foundation
import Hummingbird
import Liaison

extension ConsoleController {
    func conflicts(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let all = FormData(request.uri.query)["all"] == "1"
        let flash = await takeFlash(context)
        let conflicts = try await replica.perform { try $0.conflicts(includeResolved: all) }
        let values: [String: Any] = [
            "all": all,
            "conflicts": conflicts.map { conflict -> [String: Any] in
                [
                    "id": conflict.id, "shortID": String(conflict.id.prefix(9)), "table": conflict.table,
                    "rowID": conflict.rowID, "column": Show.optional(conflict.column), "kind": conflict.kind.rawValue,
                    "winnerValue": Self.sideValue(conflict, winner: true), "winnerSite": conflict.winner.site,
                    "winnerAuthor": conflict.winner.author, "loserValue": Self.sideValue(conflict, winner: false),
                    "loserSite": conflict.loser.site, "loserAuthor": conflict.loser.author, "state": conflict.state,
                ]
            },
        ]
        return try pages.render("conflicts", title: "Conflicts", values, context: context, flash: flash)
    }

    /// One conflict: both sides with agency, author, time and signature; who resolved it and why.
    func conflict(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let given = FormData(request.uri.query)["id"] ?? ""
        let flash = await takeFlash(context)
        let (conflict, resolution, winnerSignature, loserSignature, base, onCell) = try await replica.perform {
            replica in
            let id = try replica.conflictID(matching: given)
            guard let conflict = try replica.conflicts(includeResolved: true).first(where: { $0.id == id }) else {
                throw LiaisonError(.conflict, "no conflict '\(given)'")
            }
            return (
                conflict, try replica.resolution(of: id),
                try replica.signatureStatus(siteID: conflict.winner.siteID, seq: conflict.winner.seq),
                try replica.signatureStatus(siteID: conflict.loser.siteID, seq: conflict.loser.seq),
                try Self.base(of: conflict, in: replica.history(conflict.table, id: conflict.rowID)),
                conflict.state == "open" ? try replica.openConflictsOnCell(of: id) : []
            )
        }
        func side(_ side: Conflict.Side, winner: Bool, signature: String) -> [String: Any] {
            [
                "value": Self.sideValue(conflict, winner: winner), "site": side.site, "author": side.author,
                "time": side.hlc.description, "seq": side.seq, "signature": signature,
                "signatureClass": Show.signatureClass(signature),
            ]
        }
        var values: [String: Any] = [
            "id": conflict.id, "kind": conflict.kind.rawValue, "table": conflict.table, "rowID": conflict.rowID,
            "idQuery": FormData.component(conflict.rowID), "column": Show.optional(conflict.column),
            "policy": conflict.policy.rawValue, "state": conflict.state, "open": conflict.state == "open",
            "winner": side(conflict.winner, winner: true, signature: winnerSignature),
            "loser": side(conflict.loser, winner: false, signature: loserSignature),
            "valueWord": conflict.kind == .value ? "value" : "side",
            "base": base.map { version -> [String: Any] in
                [
                    "value": Show.value(version.values?[conflict.column ?? ""] ?? .null), "site": version.site,
                    "author": version.author, "time": version.time, "seq": version.seq,
                    "signature": version.signature, "signatureClass": Show.signatureClass(version.signature),
                ]
            } ?? false,
        ]
        values["merge"] = mergeValues(conflict, onCell: onCell, base: base)
        if let resolution {
            values["resolution"] =
                [
                    "author": resolution.author, "site": resolution.site, "seq": resolution.seq,
                    "time": resolution.time,
                    "note": Show.optional(resolution.note),
                ] as [String: Any]
        } else if conflict.state == "resolved" {
            values["resolution"] = ["author": "another replica", "site": "?", "seq": 0, "time": "?"] as [String: Any]
        }
        return try pages.render(
            "conflict", title: "Conflict \(conflict.id)", values, context: context, flash: flash)
    }

    /// Resolves through `Replica.resolve`, as `liaison resolve` does, with the reviewer's note.
    func resolve(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let given = FormData(request.uri.query)["id"] ?? ""
        let body = try await request.body.collect(upTo: 1 << 20)
        let form = FormData(Substring(String(buffer: body)))
        let note = (form["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let author = self.author
        let message: String
        do {
            message = try await replica.perform { replica -> String in
                let id = try replica.conflictID(matching: given)
                let choice: ConflictChoice
                switch form["choice"] {
                case "winner": choice = .keepWinner
                case "loser": choice = .keepLoser
                case "value": choice = .value(try replica.parseConflictValue(id, form["value"] ?? ""))
                case "merge":
                    let text = (form["merged"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
                    let merged = try replica.resolveMerged(
                        id, value: try replica.parseConflictValue(id, text), author: author,
                        note: note.isEmpty ? nil : note)
                    return "Merged \(merged.count) conflict(s) on this cell (\(merged.joined(separator: ", "))) as \(author). "
                        + "It reaches the peers at the next sync."
                default: throw LiaisonError(.invalidInput, "choose which value to keep")
                }
                try replica.resolve(id, choice, author: author, note: note.isEmpty ? nil : note)
                return "Resolved \(id) as \(author). It reaches the peers at the next sync."
            }
        } catch let error as LiaisonError {
            message = "Not resolved: \(error.message)"
        }
        if let session = context.sessionID { await sessions.flash(session, message) }
        return Pages.redirect("/conflict?id=\(FormData.component(given))")
    }

    /// The version that last wrote the conflict's column before either side did: the common base
    /// of a three-way view (`nil` when the history does not reach back that far).
    static func base(of conflict: Conflict, in history: [RowVersion]) -> RowVersion? {
        guard conflict.kind == .value, let column = conflict.column else { return nil }
        var base: RowVersion?
        for version in history {
            let isSide = [conflict.winner, conflict.loser].contains {
                $0.siteID == version.siteID && $0.seq == version.seq
            }
            if isSide { break }
            if version.values?[column] != nil { base = version }
        }
        return base
    }

    static func sideValue(_ conflict: Conflict, winner: Bool) -> String {
        let side = winner ? conflict.winner : conflict.loser
        switch conflict.kind {
        case .value: return Show.value(side.value ?? .null)
        case .duplicate: return "keep row \(Show.value(side.value))"
        case .delete, .orphan: return winner ? "row kept" : "row deleted"
        }
    }
}
