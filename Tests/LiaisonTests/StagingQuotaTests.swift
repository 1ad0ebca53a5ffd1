import Foundation
import Liaison
import LiaisonTesting
import Testing

/// Pieces of transactions that never complete cannot fill a replica: staging is bounded per
/// sender, held only for senders allowed to write, and stale pieces expire.
@Suite(.timeLimit(.minutes(2))) struct StagingQuotaTests {
    /// The first piece of each of `count` large transactions of `origin`, none of them complete.
    static func firstPieces(of origin: Replica, count: Int) throws -> [TransactionRecord] {
        for index in 0..<count {
            try origin.write(author: "karim") { editor in
                for row in 0..<20 {
                    try editor.set(
                        "topic", id: "topic-\(index)-\(row)",
                        ["name": "Junk", "description": .text(String(repeating: "x", count: 2_000))])
                }
            }
        }
        var pieces: [TransactionRecord] = []
        var cursor = SyncCursor.start
        while true {
            let page = try origin.changes(
                after: cursor, excluding: VersionVector(), limits: PageLimits(maxChanges: 4, maxBytes: 4_096))
            pieces += page.transactions.filter { $0.offset == 0 && !$0.isComplete }
            cursor = try SyncCursor(parsing: page.cursor)
            if !page.hasMore { break }
        }
        return pieces
    }

    static func stagedTransactions(_ path: String) async throws -> Int {
        let outcome = try await FaultTools.run(
            FaultTools.sqlite3, [path, "SELECT count(DISTINCT seq) FROM _liaison_staging"],
            in: URL(fileURLWithPath: path).deletingLastPathComponent())
        return Int(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    static func fileBytes(_ path: String) -> Int {
        ["", "-wal"].reduce(0) { total, suffix in
            total + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0)
        }
    }

    @Test func junkPiecesAreBoundedPerSenderAndHeldOnlyForWriters() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            try nl.pinKey(of: ma.identity)
            let pieces = try Self.firstPieces(of: ma, count: 12)
            try #require(pieces.count == 12, "expected one first piece per transaction, got \(pieces.count)")
            nl.stagingQuota.limits = StagingLimits(maxBytes: 1 << 20, maxTransactions: 3)

            // A peer with no write grant gets nothing staged.
            #expect {
                try nl.apply([pieces[0]], writableScopes: [], from: "MA-DGST")
            } throws: { ($0 as? LiaisonError)?.code == .forbiddenScope }
            #expect(try await Self.stagedTransactions(factory.path("NL-NCTV")) == 0)

            let before = Self.fileBytes(factory.path("NL-NCTV"))
            var refused = 0
            for piece in pieces {
                do {
                    _ = try nl.apply([piece], writableScopes: ["*"], from: "MA-DGST")
                } catch let error as LiaisonError {
                    #expect(error.message.contains("unfinished transactions"), "\(error)")
                    refused += 1
                }
            }
            #expect(refused == 9)
            #expect(try await Self.stagedTransactions(factory.path("NL-NCTV")) == 3)
            // Another sender has its own allowance.
            _ = try nl.apply([pieces[5]], writableScopes: ["*"], from: "TR-TNP")
            #expect(try await Self.stagedTransactions(factory.path("NL-NCTV")) == 4)
            let grown = Self.fileBytes(factory.path("NL-NCTV")) - before
            print("replica growth under 12 junk first pieces (~8 KB each) from one peer, limit 3: \(grown / 1024) KiB")
            #expect(grown < 1 << 20)

            // Stale pieces expire.
            nl.stagingQuota.limits = StagingLimits(maxBytes: 1 << 20, maxTransactions: 3, maxAge: .seconds(1))
            try await Task.sleep(for: .milliseconds(2_100))
            _ = try nl.apply([pieces[11]], writableScopes: ["*"], from: "MA-DGST")
            #expect(try await Self.stagedTransactions(factory.path("NL-NCTV")) == 1)
        }
    }
}
