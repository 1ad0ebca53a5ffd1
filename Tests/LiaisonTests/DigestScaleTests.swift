import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

/// Digests on a large table: the cost of hashing every row once, of keeping the digests after one
/// write, and the round trips and bytes to name one altered row. 2,000 rows by default;
/// `LIAISON_DIGEST_ROWS=100000` for the figure in the docs (slow in a debug build).
@Suite(.timeLimit(.minutes(60))) struct DigestScaleTests {
    static var rows: Int { Int(ProcessInfo.processInfo.environment["LIAISON_DIGEST_ROWS"] ?? "") ?? 2_000 }

    @Test func oneAlteredRowAmongManyIsNamedInAFewRoundTrips() async throws {
        let count = Self.rows
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            let clock = ContinuousClock()
            var started = clock.now
            for batch in stride(from: 0, to: count, by: 5_000) {
                try nl.write(author: "seed") { editor in
                    for index in batch..<min(count, batch + 5_000) {
                        try editor.execute(
                            "INSERT INTO topic(id, scope, name, description) VALUES (?, 'public', ?, ?)",
                            [
                                .text(String(format: "topic-%06d", index)), .text("Topic \(index)"),
                                .text("row \(index)"),
                            ])
                    }
                }
            }
            try transfer(from: nl, to: ma)
            let setup = clock.now - started
            // What keeping digests costs an apply: the same batch size without, then with the triggers.
            func batch(_ tag: String) throws -> Duration {
                try nl.write(author: "seed") { editor in
                    for index in 0..<max(1, count / 20) {
                        try editor.execute(
                            "INSERT INTO topic(id, scope, name) VALUES (?, 'public', ?)",
                            [.text("topic-\(tag)-\(index)"), .text("Batch \(tag) \(index)")])
                    }
                }
                let begun = clock.now
                try transfer(from: nl, to: ma)
                return clock.now - begun
            }
            let applyWithout = try batch("a")
            started = clock.now
            let nlDigests = try nl.scopeDigests()
            let firstBuild = clock.now - started
            _ = try ma.scopeDigests()
            #expect(try ma.scopeDigests() == nlDigests)
            let applyWith = try batch("b")
            #expect(try ma.scopeDigests() == nl.scopeDigests())
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-000007", ["name": "Renamed"]) }
            started = clock.now
            _ = try nl.scopeDigests()
            let oneWrite = clock.now - started
            try transfer(from: nl, to: ma)

            let victim = String(format: "topic-%06d", count * 2 / 3)
            try await DigestTests.alterBehindTheEnginesBack(
                nl, "UPDATE topic SET description = 'altered' WHERE id = '\(victim)'")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                let client = try PeerClient(url: url, token: peer.token, from: ma.siteID, to: nl.siteID)
                let begun = clock.now
                let result = try await DigestComparer(replica: ma).compare(with: peer, client: client, full: true)
                let took = clock.now - begun
                #expect(
                    result.differences == [RowDifference(kind: "differs", table: "topic", scope: "public", id: victim)])
                #expect(result.roundTrips <= 6, "\(result)")
                print(
                    "digest scale: \(count) rows; setup \(setup); first hashing of every row \(firstBuild); "
                        + "refresh after one write \(oneWrite); applying \(max(1, count / 20)) rows without digests "
                        + "\(applyWithout), with \(applyWith); compare found \(result.differences.map(\.id)) in "
                        + "\(result.roundTrips) round trips, \(result.bytesSent) bytes sent, "
                        + "\(result.bytesReceived) received, \(took)")
            }
        }
    }
}
