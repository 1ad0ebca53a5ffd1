import Foundation
import Hummingbird
import Liaison
import NIOCore

/// Live refresh through server-sent events (`GET /events`): every second the console reads the
/// replica's stamp (transactions, open conflicts, held transactions) and sends it when it changed,
/// so a page offers a reload after a sync or an edit elsewhere. A stream ends after five minutes
/// (the browser's `EventSource` reconnects) or when the console stops.
extension ConsoleController {
    static let eventStreamLifetime: Duration = .seconds(300)

    func events(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let shown = FormData(request.uri.query)["stamp"] ?? ""
        let controller = self
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                var last = shown
                let ends = ContinuousClock.now + Self.eventStreamLifetime
                var quiet = 0
                try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
                while !Task.isCancelled, ContinuousClock.now < ends {
                    let stamp = try await controller.stamp()
                    if stamp != last {
                        try await writer.write(ByteBuffer(string: "data: \(stamp)\n\n"))
                        last = stamp
                        quiet = 0
                    } else {
                        quiet += 1
                        // A comment now and then keeps proxies and the browser from timing out.
                        if quiet % 15 == 0 { try await writer.write(ByteBuffer(string: ": still here\n\n")) }
                    }
                    try await Task.sleep(for: .seconds(1))
                }
                try await writer.finish(nil)
            })
    }

    /// What a page was rendered with: transactions, open conflicts and held transactions.
    func stamp() async throws -> String {
        let status = try await replica.perform { try $0.status() }
        return "\(status.transactions):\(status.openConflicts):\(status.quarantined.count)"
    }
}
