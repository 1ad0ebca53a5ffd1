import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Liaison

/// A logged-in browser: its CSRF token and the message to show on its next page.
struct ConsoleSession: Sendable {
    var csrf: String
    var flash: String?
}

/// The console's one-time login token and its sessions (in memory: a restarted console prints a new link).
actor SessionStore {
    private var loginToken: String?
    private var sessions: [String: ConsoleSession] = [:]

    init(loginToken: String) { self.loginToken = loginToken }

    /// 32 random bytes in hex.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Trades the one-time login token for a new session id; `nil` when the token is wrong or used.
    func logIn(with token: String) -> String? {
        guard let expected = loginToken, Self.equal(expected, token) else { return nil }
        loginToken = nil
        let id = Self.randomToken()
        sessions[id] = ConsoleSession(csrf: Self.randomToken())
        return id
    }

    func session(_ id: String?) -> ConsoleSession? {
        guard let id else { return nil }
        return sessions[id]
    }

    /// Sets the message the session's next page shows.
    func flash(_ id: String, _ message: String) { sessions[id]?.flash = message }

    /// Returns and clears the session's message.
    func takeFlash(_ id: String) -> String? {
        defer { sessions[id]?.flash = nil }
        return sessions[id]?.flash
    }

    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The console's request context: the session behind the cookie, if any.
struct ConsoleContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var sessionID: String?
    var session: ConsoleSession?

    init(source: Source) {
        self.coreContext = .init(source: source)
    }
}

/// Security headers on every answer: a strict Content-Security-Policy (no inline script or style,
/// nothing from elsewhere), no framing, no sniffing, no referrer (the login link carries a token).
struct SecurityHeaders: RouterMiddleware {
    static let policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response)
        async throws -> Response
    {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.policy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.frameOptions] = "DENY"
        response.headers[Self.referrerPolicy] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Lets in requests with a session cookie, the one-time login, the stylesheet, script and `/metrics`.
struct SessionGate: RouterMiddleware {
    static let cookieName = "liaison_console"
    let sessions: SessionStore

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response)
        async throws -> Response
    {
        let path = request.uri.path
        if path.hasPrefix("/static/") || path == "/metrics" { return try await next(request, context) }
        let query = FormData(request.uri.query)
        if let token = query["login"] {
            guard let id = await sessions.logIn(with: token) else {
                return Pages.plain(
                    .unauthorized,
                    "This login link was used already or is wrong. Restart 'liaison console' for a new link.")
            }
            var response = Response(status: .seeOther, headers: [.location: "/"])
            response.setCookie(
                Cookie(name: Self.cookieName, value: id, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        let id = request.cookies[Self.cookieName]?.value
        guard let session = await sessions.session(id) else {
            return Pages.plain(
                .unauthorized, "Not logged in. Open the link that 'liaison console' printed (it works once).")
        }
        var context = context
        context.sessionID = id
        context.session = session
        if request.method == .post {
            let body = try await request.body.collect(upTo: 1 << 20)
            let form = FormData(Substring(String(buffer: body)))
            guard let given = form["csrf"], SessionStore.equal(given, session.csrf) else {
                return Pages.plain(
                    .forbidden, "The form's security token is missing or stale: reload the page and try again.")
            }
            var request = request
            request.body = .init(buffer: body)
            return try await next(request, context)
        }
        return try await next(request, context)
    }
}
