import Foundation
import Liaison
import LiaisonClient
import LiaisonConsole
import LiaisonTesting
import Testing

/// The quarantine in the console over real HTTP: held transactions on the overview and their own
/// page (sender, id, reason, since when, what waits behind), release and drop behind CSRF, and
/// another agency's text escaped.
@Suite(.timeLimit(.minutes(2))) struct ConsoleHeldTests {
    @Test func heldTransactionsAreShownReleasedAndDroppedFromTheConsole() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            try await withServer(nl) { url in
                let maPeer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["*"], write: ["gctf"])
                // MA#1 writes outside what NL lets MA write: held. MA#2 waits behind it.
                try ma.write(author: "<b>karim</b>") {
                    try $0.set("action", id: "act-roadmap-early-detection", ["status": "done"])
                }
                try ma.write(author: "karim") {
                    try $0.set("organisation", id: "org-gctf-ftf-wg", ["description": "after"])
                }
                let report = try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(report.heldThere.map(\.id) == ["MA-DGST#1", "MA-DGST#2"])
                // What NL holds of MA's traffic, as MA learnt it: shown on MA's console.
                try await withConsole(ma) { port, token in
                    let console = try await ConsoleBrowser.logIn(port: port, token: token)
                    let page = try await console.get("/held")
                    #expect(page.status == 200)
                    #expect(page.text.contains("Held by NL-NCTV") && page.text.contains("MA-DGST#1"))
                    let peers = try await console.get("/peers")
                    #expect(peers.text.contains("<td id=\"peer-held-NL-NCTV\">0 / 2</td>"), "health counts both ways")
                }
            }
            try await withConsole(nl) { port, token in
                let console = try await ConsoleBrowser.logIn(port: port, token: token)
                let overview = try await console.get("/")
                #expect(overview.status == 200)
                #expect(overview.text.contains("<span class=\"badge\">2</span>"), "the nav shows how many are held")
                #expect(overview.text.contains("from MA-DGST 2"))
                #expect(overview.text.contains("<code>forbidden_scope</code>"))
                #expect(try await console.get("/peers").text.contains("<td id=\"peer-held-MA-DGST\">2 / 0</td>"))
                let samples = try PrometheusText.parse(try await console.get("/metrics").text)
                #expect(samples["liaison_peer_held_here_transactions", ["peer": "MA-DGST"]] == 2)
                #expect(
                    try nl.peerHealth().first { $0.peer == "MA-DGST" }?.heldHere == 2, "status --json says the same")

                let list = try await console.get("/held")
                #expect(list.status == 200)
                #expect(list.text.contains("by &lt;b&gt;karim&lt;/b&gt;") && !list.text.contains("<b>karim"))
                let first = try #require(
                    list.text.firstMatch(of: /<tr id="held-MA-DGST%231">(.*?)<\/tr>/.dotMatchesNewlines()))
                #expect(first.1.contains("MA-DGST") && first.1.contains("writes outside the scopes"))
                #expect(first.1.contains("<td>MA-DGST#2</td>"), "what waits behind it")
                let second = try #require(
                    list.text.firstMatch(of: /<tr id="held-MA-DGST%232">(.*?)<\/tr>/.dotMatchesNewlines()))
                #expect(second.1.contains("held_behind") && second.1.contains(">MA-DGST#1</a>"))

                let item = try await console.get("/held/item?id=MA-DGST%231")
                #expect(item.status == 200 && item.text.contains("action act-roadmap-early-detection"))
                #expect(item.text.contains("id=\"held-behind\"><a href=\"/held/item?id=MA-DGST%232\">MA-DGST#2</a>"))
                #expect(try await console.get("/held/item?id=MA-DGST%239").status == 404)

                // Every action needs the session's CSRF token.
                let forged = try await console.post(
                    "/held/release?id=MA-DGST%231", "csrf=\(String(repeating: "0", count: 64))")
                #expect(forged.status == 403)
                #expect(try await console.post("/held/drop?id=MA-DGST%232", "").status == 403)
                #expect(try nl.quarantined().count == 2)

                let dropped = try await console.post("/held/drop?id=MA-DGST%232", "csrf=\(console.csrf)")
                #expect(dropped.status == 303 && dropped.headers["location"] == "/held")
                #expect(try nl.quarantined().map(\.held.id) == ["MA-DGST#1"])
                #expect(try await console.get("/held").text.contains("MA-DGST#2 dropped."))

                let released = try await console.post("/held/release?id=MA-DGST%231", "csrf=\(console.csrf)")
                #expect(released.status == 303)
                #expect(try nl.quarantined().isEmpty)
                #expect(try nl.row("action", id: "act-roadmap-early-detection")?["status"] == "done")
                let after = try await console.get("/held")
                #expect(after.text.contains("MA-DGST#1 applied.") && after.text.contains("Nothing is held here."))

                let unknown = try await console.post("/held/release?id=XX%231", "csrf=\(console.csrf)")
                #expect(unknown.status == 303)
                #expect(
                    try await console.get("/held").text.contains("Not released: nothing held with id &#39;XX#1&#39;"))
            }
        }
    }
}

/// A logged-in console session over raw HTTP: its cookie and CSRF token.
struct ConsoleBrowser {
    let port: Int
    let cookie: String
    let csrf: String

    static func logIn(port: Int, token: String) async throws -> ConsoleBrowser {
        let login = try #require(try await FaultHTTP.get("/?login=\(token)", port: port, token: nil))
        let cookie = try #require(login.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
        let partial = ConsoleBrowser(port: port, cookie: cookie, csrf: "")
        let page = try await partial.get("/")
        let csrf = try #require(page.text.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/).map { String($0.1) })
        return ConsoleBrowser(port: port, cookie: cookie, csrf: csrf)
    }

    func get(_ path: String) async throws -> FaultHTTPAnswer {
        try #require(
            try await FaultHTTP.exchange(
                port: port,
                request: FaultHTTP.request("GET", path, port: port, token: nil, headers: [("Cookie", cookie)])))
    }

    func post(_ path: String, _ form: String) async throws -> FaultHTTPAnswer {
        try #require(
            try await FaultHTTP.exchange(
                port: port,
                request: FaultHTTP.request(
                    "POST", path, port: port, token: nil, body: Data(form.utf8),
                    headers: [("Cookie", cookie), ("Content-Type", "application/x-www-form-urlencoded")])))
    }
}
