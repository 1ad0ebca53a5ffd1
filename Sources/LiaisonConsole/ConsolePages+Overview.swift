import Foundation
import Hummingbird
import Liaison
import LiaisonClient

extension ConsoleController {
    func overview(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let flash = await takeFlash(context)
        let (status, health, byTable, recent) = try await replica.perform { replica in
            (
                try replica.status(), try replica.peerHealth(), try replica.openConflictsByTable(),
                try replica.log(limit: 10)
            )
        }
        let values: [String: Any] = [
            "siteID": status.siteID, "fingerprint": replica.identity.fingerprint, "transactions": status.transactions,
            "openConflicts": status.openConflicts,
            "conflictTables": byTable.keys.sorted().map { ["table": $0, "count": byTable[$0]!] as [String: Any] },
            "hasPeers": !health.isEmpty, "peers": health.map(Show.health),
            "recent": recent.reversed().map { entry -> [String: Any] in
                let tables = Set(entry.changes.map(\.table)).sorted().joined(separator: ", ")
                return [
                    "site": entry.site, "seq": entry.seq, "time": entry.time, "author": entry.author,
                    "summary": "\(entry.changes.count) changes\(tables.isEmpty ? "" : " in \(tables)")"
                        + (entry.resolves.map { " · resolves \(ResolutionNote.conflictIDs($0).count)" } ?? ""),
                ]
            },
        ]
        return try pages.render("overview", title: "Overview", values, context: context, flash: flash)
    }

    func peers(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let flash = await takeFlash(context)
        let health = try await replica.perform { try $0.peerHealth() }
        return try pages.render(
            "peers", title: "Peers", ["peers": health.map(Show.health)], context: context, flash: flash)
    }

    func log(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let query = FormData(request.uri.query)
        let table = query["table"].flatMap { $0.isEmpty ? nil : $0 }
        let author = query["author"] ?? ""
        let site = query["site"] ?? ""
        let entries = try await replica.perform { try $0.log(limit: 2_000) }
            .filter { entry in
                (table == nil || entry.changes.contains { $0.table == table })
                    && (author.isEmpty || entry.author.localizedCaseInsensitiveContains(author))
                    && (site.isEmpty || entry.site.localizedCaseInsensitiveContains(site))
            }
            .suffix(200).reversed()
        let values: [String: Any] = [
            "author": author, "siteFilter": site,
            "tableOptions": replica.schema.tables.map {
                ["name": $0.name, "selected": $0.name == table] as [String: Any]
            },
            "entries": entries.map { entry -> [String: Any] in
                [
                    "site": entry.site, "seq": entry.seq, "time": entry.time, "author": entry.author,
                    "changes": entry.changes.prefix(20).map { change -> [String: Any] in
                        [
                            "op": change.op.rawValue, "table": change.table, "id": change.id,
                            "idQuery": FormData.component(change.id), "values": Show.values(change.values),
                        ]
                    },
                    "resolves": ResolutionNote.conflictIDs(entry.resolves ?? []),
                    "notes": (entry.resolves ?? []).compactMap { ResolutionNote.noteText(of: $0) },
                ]
            },
        ]
        return try pages.render("log", title: "Log", values, context: context, flash: nil)
    }

    /// Syncs with every peer now, one after another, and reports each outcome on the next page.
    func syncNow(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let peers = try await replica.perform { try $0.peers() }
        var lines: [String] = []
        if peers.isEmpty { lines.append("No peers registered: add one with 'liaison peer add'.") }
        let driver = SyncDriver(replica: replica, logger: logger)
        for peer in peers {
            do {
                let report = try await driver.sync(with: peer)
                lines.append(
                    "\(peer.name): pulled \(report.pulledTransactions), pushed \(report.pushedTransactions) transactions"
                )
            } catch {
                lines.append("\(peer.name): failed: \((error as? LiaisonError)?.message ?? "\(error)")")
            }
        }
        if let id = context.sessionID { await sessions.flash(id, lines.joined(separator: " · ")) }
        let back = FormData(request.uri.query)["back"].flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") ? $0 : nil }
        return Pages.redirect(back ?? "/")
    }
}
