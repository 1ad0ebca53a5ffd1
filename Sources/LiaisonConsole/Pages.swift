import Foundation
import Hummingbird
import Liaison
import Mustache
import NIOCore

/// Renders the console's pages: a body template inside the layout.
struct Pages: Sendable {
    let library: MustacheLibrary
    let replica: Replica

    init(replica: Replica) throws {
        var library = MustacheLibrary()
        for (name, text) in Templates.all { try library.register(text, named: name) }
        self.library = library
        self.replica = replica
    }

    /// The page `template` with `values`, inside the layout with the session's CSRF token and message.
    func render(
        _ template: String, title: String, _ values: [String: Any], context: ConsoleContext, flash: String?,
        status: HTTPResponse.Status = .ok
    ) throws -> Response {
        var values = values
        let csrf = context.session?.csrf ?? ""
        values["csrf"] = csrf
        values["site"] = replica.siteCode.rawValue
        let body = library.render(values, withTemplate: template) ?? ""
        let replicaStatus = try? replica.status()
        let openConflicts = replicaStatus?.openConflicts ?? 0
        let held = replicaStatus?.quarantined.count ?? 0
        let page: [String: Any] = [
            "title": title, "site": replica.siteCode.rawValue, "csrf": csrf, "flash": Show.optional(flash),
            "body": body,
            "tables": replica.schema.tables.map(\.name), "openConflicts": openConflicts > 0 ? openConflicts : false,
            "heldCount": held > 0 ? held : false,
            "stamp": "\(replicaStatus?.transactions ?? 0):\(openConflicts):\(held)",
        ]
        let html = library.render(page, withTemplate: "layout") ?? ""
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A short plain-text answer (login refused, CSRF failure).
    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    /// A redirect after a form (303, so the browser fetches the page with GET).
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

/// How values look on a page.
enum Show {
    /// A template value that is absent (false) when `nil`: Mustache would print an optional as "nil".
    static func optional(_ text: String?) -> Any { text.map { $0 as Any } ?? false }

    static func value(_ value: CellValue?) -> String {
        guard let value else { return "(deleted)" }
        return value == .null ? "—" : value.displayText
    }

    static func formValue(_ value: CellValue?) -> String {
        guard let value, value != .null else { return "" }
        return value.displayText
    }

    static func values(_ values: [String: CellValue]?) -> String {
        guard let values else { return "" }
        return values.keys.sorted().filter { $0 != "id" }.map { "\($0)=\(value(values[$0]))" }.joined(separator: ", ")
    }

    static func round(_ round: SyncRound?) -> String {
        guard let round else { return "never" }
        return round.ok ? "\(round.at) ok" : "\(round.at) failed: \(round.result)"
    }

    static func lag(_ count: Int?, since: String?) -> String {
        guard let count else { return "unknown" }
        if count == 0 { return "0" }
        return since.map { "\(count) since \($0)" } ?? "\(count)"
    }

    static func signatureClass(_ status: String) -> String {
        status == "verified" ? "ok" : status == "invalid" ? "bad" : "unknown"
    }

    /// The last digest comparison with a peer as template values.
    static func comparison(_ comparison: PeerComparison?) -> [String: Any] {
        guard let comparison else { return ["compareText": "never", "compareClass": "unknown"] }
        let text: String
        switch comparison.result {
        case "in_step": text = "in step (\(comparison.rows) rows) at \(comparison.at)"
        case "differ": text = "NOT in step at \(comparison.at): \(comparison.message)"
        default: text = "not comparable at \(comparison.at): \(comparison.message)"
        }
        return [
            "compareText": text,
            "compareClass": comparison.result == "in_step"
                ? "ok" : comparison.result == "differ" ? "failing" : "behind",
        ]
    }

    /// A peer's health (and last comparison) as template values.
    static func health(_ health: PeerHealth, comparison: PeerComparison? = nil) -> [String: Any] {
        self.comparison(comparison).merging([
            "peer": health.peer, "url": health.url, "fingerprintText": health.fingerprint ?? "not pinned yet",
            "readScopes": health.readScopes, "writeScopes": health.writeScopes, "state": health.state,
            "peerLacksText": lag(health.peerLacks, since: health.peerLacksSince),
            "weLackText": lag(health.weLack, since: health.weLackSince),
            "lastOutboundText": round(health.lastOutbound), "lastInboundText": round(health.lastInbound),
            "authFailures": health.authFailures, "heldHere": health.heldHere, "heldThere": health.heldThere,
            "refusedText": refused(health.refused),
        ]) { $1 }
    }

    /// Refused requests by kind, in the one vocabulary (`PeerRefusalKind`): "push refused 2, …" or "none".
    static func refused(_ counts: [String: Int]) -> String {
        let known = PeerRefusalKind.all.filter { counts[$0, default: 0] > 0 }
        let other = counts.keys.filter { !PeerRefusalKind.all.contains($0) && counts[$0, default: 0] > 0 }.sorted()
        let parts = (known + other).map { "\($0.replacingOccurrences(of: "_", with: " ")) \(counts[$0]!)" }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    /// Comparisons that found a difference, for the overview's alarm.
    static func alarms(_ comparisons: [PeerComparison]) -> [[String: Any]] {
        comparisons.filter(\.isAlarm).map { comparison in
            [
                "peer": comparison.peer, "at": comparison.at, "message": comparison.message,
                "rows": comparison.differences.prefix(20).map { difference -> [String: Any] in
                    [
                        "kind": difference.kind.replacingOccurrences(of: "_", with: " "), "table": difference.table,
                        "id": difference.id, "idQuery": FormData.component(difference.id), "scope": difference.scope,
                    ]
                },
            ]
        }
    }
}
