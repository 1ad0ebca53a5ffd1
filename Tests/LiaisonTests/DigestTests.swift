import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

/// Divergence digests over real HTTP: replicas in step compare equal on every sync; a row altered
/// behind the engine's back (a raw SQLite write that is never published) is found and named in a
/// few round trips; nothing is repaired; a peer learns digests only of scopes it may read.
@Suite(.timeLimit(.minutes(3))) struct DigestTests {
    static let topic = "topic-cve"

    /// Writes `sql` with the sqlite3 shell and erases what the capture triggers recorded, so the
    /// engine never publishes it: the file now differs from what was signed and synced.
    static func alterBehindTheEnginesBack(_ replica: Replica, _ sql: String) async throws {
        let folder = URL(fileURLWithPath: replica.path).deletingLastPathComponent()
        let outcome = try await FaultTools.run(
            FaultTools.sqlite3, [replica.path, sql + "; DELETE FROM _liaison_journal;"], in: folder)
        #expect(outcome.status == 0, "\(outcome)")
    }

    @Test func aRowAlteredBehindTheEnginesBackIsFoundAndNamedAndNotRepaired() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try await SyncDriver(replica: ma).sync(with: peer)
                let first = try #require(try ma.status().comparisons.first)
                #expect(first.peer == "NL-NCTV" && first.result == "in_step" && !first.full, "\(first)")
                #expect(first.scopes > 3 && first.rows > 20 && first.roundTrips == 1)
                #expect(try nl.dump() == ma.dump())

                try await Self.alterBehindTheEnginesBack(
                    nl,
                    "UPDATE topic SET name = 'Tampered' WHERE id = '\(Self.topic)'; "
                        + "INSERT INTO topic(id, scope, name) VALUES ('topic-ghost', 'public', 'Ghost')")
                let client = try PeerClient(url: url, token: peer.token, from: ma.siteID, to: nl.siteID)
                let found = try await DigestComparer(replica: ma).compare(with: peer, client: client, full: true)
                #expect(found.result == "differ" && found.isAlarm)
                #expect(
                    found.differences == [
                        RowDifference(kind: "differs", table: "topic", scope: "public", id: Self.topic),
                        RowDifference(kind: "only_there", table: "topic", scope: "public", id: "topic-ghost"),
                    ], "\(found.differences)")
                #expect(found.differingScopes == ["topic/public"])
                #expect(found.roundTrips <= 3 && found.bytesSent > 0 && found.bytesReceived > 0, "\(found)")

                // The next sync round raises the alarm again and keeps the rows named; nothing is repaired.
                try await SyncDriver(replica: ma).sync(with: peer)
                let kept = try #require(try ma.status().comparisons.first)
                #expect(kept.isAlarm && !kept.full && kept.differences.map(\.id) == [Self.topic, "topic-ghost"])
                #expect(try nl.row("topic", id: Self.topic)?["name"] == "Tampered")
                #expect(try ma.row("topic", id: Self.topic)?["name"] != "Tampered")
                #expect(try ma.row("topic", id: "topic-ghost") == nil)
                // The console raises the alarm with the rows; `status` says it in one line.
                try await withConsole(ma) { port, token in
                    let console = try await ConsoleBrowser.logIn(port: port, token: token)
                    let overview = try await console.get("/")
                    #expect(overview.text.contains("ALARM: this replica and NL-NCTV do not hold the same rows"))
                    #expect(overview.text.contains("differs: <a href=\"/row?table=topic&amp;id=\(Self.topic)\">"))
                    #expect(overview.text.contains("only there: <a href=\"/row?table=topic&amp;id=topic-ghost\">"))
                    let peers = try await console.get("/peers")
                    #expect(peers.text.contains("<td id=\"compare-NL-NCTV\"><span class=\"state failing\">NOT in step"))
                }

                // Put back as it was signed, the replicas are in step again.
                try await Self.alterBehindTheEnginesBack(
                    nl,
                    "UPDATE topic SET name = \(try Self.sqlText(ma.row("topic", id: Self.topic)?["name"])) "
                        + "WHERE id = '\(Self.topic)'; DELETE FROM topic WHERE id = 'topic-ghost'")
                let again = try await DigestComparer(replica: ma).compare(with: peer, client: client, full: true)
                #expect(again.result == "in_step", "\(again)")
            }
        }
    }

    @Test func aPeerLearnsDigestsOnlyOfScopesItMayRead() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                try await SyncDriver(replica: ma).sync(with: peer)
                // MA signs its own requests over real HTTP and asks for what it may not read.
                let client = try PeerClient(url: url, token: peer.token, from: ma.siteID, to: nl.siteID)
                let summary = try await client.digest(DigestRequest(vector: try ma.versionVector()))
                #expect(summary.readable == ["public"])
                #expect(!(summary.scopes ?? []).isEmpty && (summary.scopes ?? []).allSatisfy { $0.scope == "public" })
                for range in [
                    DigestRange(table: "action", scope: "eu", count: 0, fingerprint: ""),
                    DigestRange(table: "action", scope: "eu", items: []),
                    DigestRange(
                        table: "action", scope: "no-such-scope", lower: "a", upper: "b", count: 1, fingerprint: "x"),
                    DigestRange(table: "action", scope: "eu", count: 0, fingerprint: "", node: ""),
                    DigestRange(table: "action", scope: "eu", items: [], node: "3f"),
                ] {
                    let refused = await #expect(throws: LiaisonError.self) {
                        try await client.digest(DigestRequest(vector: try ma.versionVector(), ranges: [range]))
                    }
                    #expect(refused?.code == .forbiddenScope, "\(range)")
                    #expect(refused?.message.contains("scopes this peer may read") == true)
                }
                // A tree node that is not one (not hex, too long) is refused; a genuine one in a
                // readable scope answers only where the sides differ.
                for node in ["zz", "'; DROP TABLE topic; --", String(repeating: "a", count: 17)] {
                    let refused = await #expect(throws: LiaisonError.self) {
                        try await client.digest(
                            DigestRequest(
                                vector: try ma.versionVector(),
                                ranges: [
                                    DigestRange(table: "topic", scope: "public", count: 0, fingerprint: "", node: node)
                                ]))
                    }
                    #expect(refused?.message.contains("not a digest tree node") == true, "\(refused?.message ?? "")")
                }
                let root = try ma.digest(of: DigestRange(table: "topic", scope: "public", node: ""))
                #expect((root.count ?? 0) > 0)
                let same = try await client.digest(DigestRequest(vector: try ma.versionVector(), ranges: [root]))
                #expect(same.ranges == [])
                var wrong = root
                wrong.fingerprint = String(repeating: "0", count: 32)
                let answer = try await client.digest(DigestRequest(vector: try ma.versionVector(), ranges: [wrong]))
                // The sample's public topics are few: the server answers with its items for the node.
                #expect(answer.ranges?.count == 1 && answer.ranges?.first?.items?.count == root.count)
                // The comparison covers the scopes both may read of each other, and they are in step.
                let result = try await DigestComparer(replica: ma).compare(with: peer, client: client, full: true)
                #expect(result.result == "in_step", "\(result)")
                let public_ = try nl.scopeDigests().filter { $0.scope == "public" }
                #expect(result.scopes == public_.count && result.rows == public_.reduce(0) { $0 + $1.count })
            }
        }
    }

    @Test func aReplicaThatReadsOneScopeIsInStepAfterARowMovesIntoIt() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                try await SyncDriver(replica: ma).sync(with: peer)
                // An eu row, edited while MA could not read it, then moved into public: it arrives whole.
                try nl.write(author: "anne") {
                    try $0.set("action", id: "act-roadmap-early-detection", ["status": "done"])
                }
                try nl.write(author: "anne") {
                    try $0.set("action", id: "act-roadmap-early-detection", ["scope": "public"])
                }
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("action", id: "act-roadmap-early-detection")?["status"] == "done")
                let client = try PeerClient(url: url, token: peer.token, from: ma.siteID, to: nl.siteID)
                let result = try await DigestComparer(replica: ma).compare(with: peer, client: client, full: true)
                #expect(result.result == "in_step", "\(result)")
            }
        }
    }

    @Test func digestsFollowEveryWriteAndARehashFindsNothingNew() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let before = try nl.scopeDigests()
            try nl.write(author: "anne") { try $0.set("topic", id: Self.topic, ["name": "Renamed"]) }
            let after = try nl.scopeDigests()
            #expect(before.filter { $0.table != "topic" } == after.filter { $0.table != "topic" })
            #expect(before.first { $0.table == "topic" } != after.first { $0.table == "topic" })
            // Moving a row to another scope moves its hash; the incremental sums equal a full rehash.
            try nl.write(author: "anne") { try $0.set("topic", id: Self.topic, ["scope": "eu"]) }
            // Deleted and created rows too, then every node of the tree, not only the roots.
            try nl.write(author: "anne") {
                for index in 0..<40 { try $0.set("topic", id: "topic-tree-\(index)", ["name": .text("Tree \(index)")]) }
            }
            try nl.write(author: "anne") { try $0.delete("topic", id: "topic-tree-7") }
            let moved = try nl.scopeDigests()
            #expect(moved.first { $0.table == "topic" && $0.scope == "eu" }?.count == 1)
            let nodes = try nl.digestTreeNodes()
            #expect(nodes.count > moved.count + 16, "\(nodes.count)")
            let total = try nl.rehashDigests()
            #expect(try nl.scopeDigests() == moved)
            #expect(try nl.digestTreeNodes() == nodes)
            #expect(total == moved.reduce(0) { $0 + $1.count })
        }
    }

    /// A peer speaking the real protocol cannot make the server read its table thousands of times
    /// in one request (the same whole-scope range repeated, as an id range or with items); tree
    /// nodes cost the server nothing and are still answered.
    @Test func aDigestRequestThatWouldReadTooManyRowsIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try nl.write(author: "seed") { editor in
                for index in 0..<100 {
                    try editor.set("topic", id: "topic-bulk-\(index)", ["name": .text("Bulk \(index)")])
                }
            }
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try await SyncDriver(replica: ma).sync(with: peer)
                let client = try PeerClient(url: url, token: peer.token, from: ma.siteID, to: nl.siteID)
                let vector = try ma.versionVector()
                let rows = try #require(try nl.scopeDigests().first { $0.table == "topic" && $0.scope == "public" })
                    .count
                let copies = Replica.digestMaxRowsRead / rows + 1
                #expect(copies <= 4_096)
                for range in [
                    DigestRange(table: "topic", scope: "public", lower: "", upper: "~", count: 0, fingerprint: "x"),
                    DigestRange(table: "topic", scope: "public", items: [], node: ""),
                ] {
                    let refused = await #expect(throws: LiaisonError.self) {
                        try await client.digest(
                            DigestRequest(vector: vector, ranges: Array(repeating: range, count: copies)))
                    }
                    #expect(refused?.message.contains("would read more than") == true, "\(refused?.message ?? "")")
                }
                let cheap = try await client.digest(
                    DigestRequest(
                        vector: vector,
                        ranges: Array(
                            repeating: DigestRange(
                                table: "topic", scope: "public", count: 0, fingerprint: "x", node: ""),
                            count: 256)))
                #expect(cheap.ranges?.count == 256 * 16)
            }
        }
    }

    /// A replica whose digests were kept before the tree (per-scope sums only) drops them and
    /// hashes again under the tree on its next use, with the same fingerprints.
    @Test func digestsKeptBeforeTheTreeAreHashedAgain() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let expected = try nl.scopeDigests()
            try nl.write(author: "operator") {
                try $0.execute("DROP TABLE _liaison_digest_hash")
                try $0.execute("DROP TABLE _liaison_digest_node")
                try $0.execute(
                    "CREATE TABLE _liaison_row_digest(tbl TEXT NOT NULL, pk TEXT NOT NULL, scope TEXT NOT NULL, "
                        + "hash TEXT NOT NULL, PRIMARY KEY (tbl, pk)) WITHOUT ROWID")
                try $0.execute(
                    "CREATE TABLE _liaison_scope_digest(tbl TEXT NOT NULL, scope TEXT NOT NULL, count INTEGER NOT NULL, "
                        + "sum TEXT NOT NULL, PRIMARY KEY (tbl, scope)) WITHOUT ROWID")
            }
            #expect(try nl.scopeDigests() == expected)
            #expect(try nl.digestTreeNodes().count > expected.count)
            let left = try await FaultTools.run(
                FaultTools.sqlite3,
                [nl.path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '_liaison_%_digest'"],
                in: URL(fileURLWithPath: nl.path).deletingLastPathComponent())
            #expect(left.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(left)")
        }
    }

    @Test func theCompareCommandSaysInStepOrNamesTheRowsAndStatusShowsIt() async throws {
        try await withSampleReplica { cli in
            let nl = try Replica.open(at: cli.url("nl.db").path)
            let ma = try Replica.create(at: cli.url("ma.db").path, site: SiteCode("MA-DGST")!)
            try await withServer(ma) { url in
                _ = try pair(nl, with: ma, url: url)
                try await cli.expectRefused(
                    "compare", "nl.db", "--peer", "MA-DGST", mentioning: "liaison sync nl.db --peer MA-DGST")
                try await cli.expectRefused("compare", "nl.db", "--peer", "MA-DGTS", mentioning: "no peer 'MA-DGTS'")
                #expect(try await cli("sync", "nl.db", "--peer", "MA-DGST").status == 0)
                let same = try await cli("compare", "nl.db", "--peer", "MA-DGST")
                #expect(same.status == 0 && same.stdout.contains(": in step ("), "\(same)")
                try await Self.alterBehindTheEnginesBack(
                    ma,
                    "UPDATE topic SET name = 'x' WHERE id = '\(Self.topic)'; "
                        + "INSERT INTO topic(id, scope, name) VALUES ('topic-\u{1B}[31mred', 'public', 'Ghost')")
                let differ = try await cli("compare", "nl.db", "--peer", "MA-DGST")
                #expect(differ.status == 1 && differ.stdout.hasPrefix("ALARM compared with MA-DGST"), "\(differ)")
                #expect(differ.stdout.contains("  differs: topic \(Self.topic) (scope public)"))
                #expect(differ.stdout.contains("  only there: topic topic-"), "\(differ)")
                #expect(!differ.stdout.contains("\u{1B}"), "another agency's row id is escaped on the terminal")
                let status = try await cli("status", "nl.db")
                #expect(status.stdout.contains("ALARM compared with MA-DGST"), "\(status)")
                let json = try await cli("compare", "nl.db", "--peer", "MA-DGST", "--summary", "--json")
                #expect(json.status == 1 && json.stdout.contains("\"differingScopes\""))
            }
        }
    }

    /// A text value as an SQL literal.
    static func sqlText(_ value: CellValue?) throws -> String {
        let text = try #require(value?.displayText)
        return "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
