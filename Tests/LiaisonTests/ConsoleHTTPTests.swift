import Foundation
import Liaison
import LiaisonConsole
import LiaisonTesting
import Logging
import Prometheus
import ServiceLifecycle
import Testing

/// The console over real HTTP on 127.0.0.1 (raw sockets, so every header is seen as sent): the
/// one-time login and its cookie, the security headers, CSRF, escaping of another agency's text,
/// edits through the engine, and `/metrics`.
@Suite(.timeLimit(.minutes(3))) struct ConsoleHTTPTests {
    @Test func loginOnceThenEveryFormNeedsTheSessionsToken() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            _ = try transfer(from: nl, to: ma)
            try ma.write(author: "karim") {
                try $0.set("topic", id: "topic-x", ["name": "<script>alert(1)</script> & \"quotes\""])
            }
            _ = try transfer(from: ma, to: nl)
            try await withConsole(nl) { port, token in
                let stranger = try #require(try await FaultHTTP.get("/", port: port, token: nil))
                #expect(stranger.status == 401)
                #expect(
                    stranger.headers["content-security-policy"]?.hasPrefix("default-src 'none'; script-src 'self'")
                        == true)
                #expect(
                    stranger.headers["x-frame-options"] == "DENY"
                        && stranger.headers["referrer-policy"] == "no-referrer")

                let login = try #require(try await FaultHTTP.get("/?login=\(token)", port: port, token: nil))
                #expect(login.status == 303 && login.headers["location"] == "/")
                let setCookie = try #require(login.headers["set-cookie"])
                #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), "\(setCookie)")
                let cookie = try #require(setCookie.split(separator: ";").first.map(String.init))
                let again = try #require(try await FaultHTTP.get("/?login=\(token)", port: port, token: nil))
                #expect(again.status == 401, "the login link works once")

                func get(_ path: String) async throws -> FaultHTTPAnswer {
                    try #require(
                        try await FaultHTTP.exchange(
                            port: port,
                            request: FaultHTTP.request(
                                "GET", path, port: port, token: nil, headers: [("Cookie", cookie)])))
                }
                func post(_ path: String, _ form: String) async throws -> FaultHTTPAnswer {
                    try #require(
                        try await FaultHTTP.exchange(
                            port: port,
                            request: FaultHTTP.request(
                                "POST", path, port: port, token: nil, body: Data(form.utf8),
                                headers: [("Cookie", cookie), ("Content-Type", "application/x-www-form-urlencoded")])))
                }
                let overview = try await get("/")
                #expect(overview.status == 200 && overview.text.contains("NL-NCTV"))
                let csrf = try #require(
                    overview.text.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/).map { String($0.1) })

                let table = try await get("/table?name=topic&q=script")
                #expect(table.status == 200)
                #expect(table.text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"))
                #expect(!table.text.contains("<script>alert"), "another agency's text is escaped")

                let before = try nl.log().count
                let forged = try await post(
                    "/row?table=topic&id=topic-x", "csrf=\(String(repeating: "0", count: 64))&col.name=Forged")
                #expect(forged.status == 403)
                let missing = try await post("/row?table=topic&id=topic-x", "col.name=Forged")
                #expect(missing.status == 403)
                let typo = try await post(
                    "/row?table=action&id=act-roadmap-early-detection", "csrf=\(csrf)&col.status=dnoe")
                #expect(typo.status == 422 && typo.text.contains("(did you mean &#39;done&#39;?)"), "\(typo)")
                #expect(try nl.log().count == before, "refused forms write nothing")

                let saved = try await post("/row?table=topic&id=topic-x", "csrf=\(csrf)&col.name=Agreed+name")
                #expect(saved.status == 303)
                #expect(try nl.row("topic", id: "topic-x")?["name"] == "Agreed name")
                #expect(try nl.log().last?.author == "console-tester")

                let metrics = try await get("/metrics")
                #expect(metrics.status == 200 && metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
                let samples = try PrometheusText.parse(metrics.text)
                #expect(samples["liaison_open_conflicts", ["table": "topic"]] == 0)
            }
        }
    }
}

extension ConsoleHTTPTests {
    @Test func aConflictIsResolvedWithAnotherValueOnlyWhenTheValueFits() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            let action = "act-roadmap-early-detection"
            try pair.nl.write(author: "anne") { try $0.set("action", id: action, ["status": "in_progress"]) }
            try pair.ma.write(author: "karim") { try $0.set("action", id: action, ["status": "done"]) }
            try pair.syncBothWays()
            let conflict = try #require(try pair.nl.conflicts().first)
            try await withConsole(pair.nl) { port, token in
                let login = try #require(try await FaultHTTP.get("/?login=\(token)", port: port, token: nil))
                let cookie = try #require(login.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
                func send(_ method: String, _ path: String, _ form: String? = nil) async throws -> FaultHTTPAnswer {
                    var headers = [("Cookie", cookie)]
                    if form != nil { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
                    return try #require(
                        try await FaultHTTP.exchange(
                            port: port,
                            request: FaultHTTP.request(
                                method, path, port: port, token: nil, body: form.map { Data($0.utf8) }, headers: headers
                            )))
                }
                let page = try await send("GET", "/conflict?id=\(conflict.id.prefix(7))")
                #expect(page.status == 200 && page.text.contains("anne") && page.text.contains("karim"))
                let csrf = try #require(
                    page.text.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/).map { String($0.1) })
                let before = try pair.nl.log().count

                let typo = try await send(
                    "POST", "/conflict?id=\(conflict.id)", "csrf=\(csrf)&choice=value&value=cancled")
                #expect(typo.status == 303)
                let refused = try await send("GET", "/conflict?id=\(conflict.id)")
                #expect(
                    refused.text.contains("Not resolved:") && refused.text.contains("did you mean &#39;cancelled&#39;?")
                )
                #expect(try pair.nl.log().count == before && pair.nl.conflicts().count == 1)

                let written = try await send(
                    "POST", "/conflict?id=\(conflict.id)",
                    "csrf=\(csrf)&choice=value&value=cancelled&note=Both+were+wrong")
                #expect(written.status == 303)
                #expect(try pair.nl.conflicts().isEmpty)
                #expect(try pair.nl.row("action", id: action)?["status"] == "cancelled")
                let resolution = try #require(try pair.nl.resolution(of: conflict.id))
                #expect(resolution.author == "console-tester" && resolution.note == "Both were wrong")
                let shown = try await send("GET", "/conflict?id=\(conflict.id)")
                #expect(shown.text.contains("id=\"conflict-state\">resolved") && shown.text.contains("Both were wrong"))
            }
        }
    }
}

/// Serves `replica`'s console on 127.0.0.1 with an ephemeral port while `body` runs.
func withConsole(_ replica: Replica, _ body: @Sendable (Int, String) async throws -> Void) async throws {
    var logger = Logger(label: "liaison.test-console")
    logger.logLevel = .critical
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let configuration = ConsoleConfiguration(author: "console-tester")
    let app = try LiaisonConsole.buildApplication(
        replica: replica, configuration: configuration,
        metrics: ConsoleMetrics(replica: replica, registry: PrometheusCollectorRegistry()), logger: logger
    ) { port in
        continuation.yield(port)
        continuation.finish()
    }
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        do {
            try await body(port, configuration.loginToken)
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
