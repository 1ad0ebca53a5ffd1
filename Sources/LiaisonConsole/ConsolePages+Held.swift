import Foundation
import Hummingbird
import Liaison

/// The quarantine in the console: what is held here and why, what waits behind it, and the
/// actions of `liaison quarantine` (release, drop). Every field of a held transaction came from
/// another agency: the templates escape it all.
extension ConsoleController {
    func heldList(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let flash = await takeFlash(context)
        let (held, byPeers) = try await replica.perform { (try $0.quarantined(), try $0.heldByPeers()) }
        let values: [String: Any] = [
            "held": held.map { Self.heldValues($0, among: held) },
            "hasHeld": !held.isEmpty,
            "byPeers": byPeers.keys.sorted().filter { !(byPeers[$0] ?? []).isEmpty }.map { peer -> [String: Any] in
                [
                    "peer": peer,
                    "items": (byPeers[peer] ?? []).map { item -> [String: Any] in
                        [
                            "id": item.id, "error": item.error, "message": item.message,
                            "waitsFor": Show.optional(item.waitsFor),
                        ]
                    },
                ]
            },
        ]
        return try pages.render("held", title: "Held transactions", values, context: context, flash: flash)
    }

    /// One held transaction with the rows it changes (`liaison quarantine show`).
    func heldItem(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let id = FormData(request.uri.query)["id"] ?? ""
        let flash = await takeFlash(context)
        let (item, all) = try await replica.perform { (try $0.quarantined(id), try $0.quarantined()) }
        var values = Self.heldValues(item, among: all)
        values["changes"] = item.changes.map { change -> [String: Any] in
            [
                "op": change.op, "table": change.table, "id": change.id, "idQuery": FormData.component(change.id),
                "scope": change.scope ?? "?", "known": replica.schema.tables.contains { $0.name == change.table },
            ]
        }
        return try pages.render("heldItem", title: "Held \(item.held.id)", values, context: context, flash: flash)
    }

    /// Releases one held transaction (`liaison quarantine release`): applied whatever the sender's
    /// write grant, every other check still applies; what waited behind it is retried too.
    func releaseHeld(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let id = FormData(request.uri.query)["id"] ?? ""
        let message: String
        do {
            message = try await replica.perform { replica -> String in
                if let still = try replica.releaseQuarantined(id) {
                    return "\(id) is still held: \(still.error): \(still.message)"
                }
                return "\(id) applied. What waited behind it was tried again."
            }
        } catch let error as LiaisonError {
            message = "Not released: \(error.message)"
        }
        if let session = context.sessionID { await sessions.flash(session, message) }
        return Pages.redirect("/held")
    }

    /// Forgets one held transaction (`liaison quarantine drop`); those behind it stay held.
    func dropHeld(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let id = FormData(request.uri.query)["id"] ?? ""
        let message: String
        do {
            try await replica.perform { try $0.dropQuarantined(id) }
            message = "\(id) dropped. It is taken again if a peer sends it again."
        } catch let error as LiaisonError {
            message = "Not dropped: \(error.message)"
        }
        if let session = context.sessionID { await sessions.flash(session, message) }
        return Pages.redirect("/held")
    }

    /// A held transaction as template values: who sent it, why, since when, and what waits behind it.
    static func heldValues(_ item: QuarantinedTransaction, among all: [QuarantinedTransaction]) -> [String: Any] {
        let behind = all.filter { $0.held.waitsFor == item.held.id }.map(\.held.id)
        let tables = Set(item.changes.map(\.table)).sorted().joined(separator: ", ")
        return [
            "id": item.held.id, "idQuery": FormData.component(item.held.id),
            "source": item.source.isEmpty ? "a local apply" : item.source, "author": item.author,
            "error": item.held.error, "message": item.held.message, "waitsFor": Show.optional(item.held.waitsFor),
            "waitsForQuery": item.held.waitsFor.map(FormData.component) ?? "",
            "heldAt": item.heldAt, "attempts": item.attempts,
            "behind": behind.map { ["id": $0, "idQuery": FormData.component($0)] },
            "hasBehind": !behind.isEmpty,
            "behindText": behind.isEmpty ? "nothing" : behind.joined(separator: ", "),
            "summary": "\(item.changes.count) change\(item.changes.count == 1 ? "" : "s")"
                + (tables.isEmpty ? "" : " in \(tables)"),
        ]
    }
}
