import Foundation
import Hummingbird
import Liaison
import LiaisonClient

extension ConsoleController {
    func overview(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let flash = await takeFlash(context)
        let (status, health, byTable, recent, held) = try await replica.perform { replica in
            (
                try replica.status(), try replica.peerHealth(), try replica.openConflictsByTable(),
                try replica.log(limit: 10), try replica.quarantined()
            )
        }
        let sources = Dictionary(grouping: held, by: { $0.source.isEmpty ? "a local apply" : $0.source })
        let values: [String: Any] = [
            "siteID": status.siteID, "fingerprint": replica.identity.fingerprint, "transactions": status.transactions,
            "openConflicts": status.openConflicts,
            "conflictTables": byTable.keys.sorted().map { ["table": $0, "count": byTable[$0]!] as [String: Any] },
            "heldCount": held.count, "hasHeld": !held.isEmpty,
            "heldBySource": sources.keys.sorted().map { ["source": $0, "count": sources[$0]!.count] as [String: Any] },
            "heldFirst": held.prefix(5).map { Self.heldValues($0, among: held) },
            "heldByPeers": status.heldByPeers.keys.sorted().filter { !(status.heldByPeers[$0] ?? []).isEmpty }.map {
                ["peer": $0, "count": status.heldByPeers[$0]!.count] as [String: Any]
            },
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
        let since = (query["since"] ?? "").trimmingCharacters(in: .whitespaces)
        let start = since.isEmpty ? nil : Self.start(since, now: Date())
        if !since.isEmpty, start == nil {
            throw LiaisonError(
                .invalidInput,
                "'since' takes a duration such as \(DurationText.examples), or a date such as 2026-11-30")
        }
        let startMilliseconds = start.map { Int64($0.timeIntervalSince1970 * 1000) }
        let entries = try await replica.perform { try $0.log(limit: 2_000) }
            .filter { entry in
                (table == nil || entry.changes.contains { $0.table == table })
                    && (startMilliseconds == nil || entry.hlc.milliseconds >= startMilliseconds!)
                    && (author.isEmpty || entry.author.localizedCaseInsensitiveContains(author))
                    && (site.isEmpty || entry.site.localizedCaseInsensitiveContains(site))
            }
            .suffix(200).reversed()
        let values: [String: Any] = [
            "author": author, "siteFilter": site, "since": since,
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

    /// The start of a `since` filter: a duration back from `now` (`DurationText`) or a date or ISO time.
    static func start(_ text: String, now: Date) -> Date? {
        if let seconds = DurationText.seconds(text) { return now.addingTimeInterval(-Double(seconds)) }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text + "T00:00:00Z", strategy: .iso8601)
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
