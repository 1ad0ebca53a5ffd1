import Foundation
import Liaison
import LiaisonClient
import LiaisonConsole
import LiaisonServer
import LiaisonTesting
import Prometheus
import Testing

/// What the console stands on: resolution notes, conflict id prefixes, peer health, peer
/// administration, reverts and `/metrics`, through the engine's public API.
@Suite struct ConsoleEngineTests {
    let action = "act-roadmap-early-detection"

    func conflicted(_ factory: ReplicaFactory) throws -> (TwoAgencies, Conflict) {
        let pair = try TwoAgencies(factory)
        try pair.nl.write(author: "anne") { try $0.set("action", id: action, ["status": "in_progress"]) }
        try pair.ma.write(author: "karim") { try $0.set("action", id: action, ["status": "done"]) }
        try pair.syncBothWays()
        return (pair, try #require(try pair.nl.conflicts().first))
    }

    @Test func aResolutionNoteTravelsSignedWithTheResolvingTransaction() async throws {
        try await withReplicas { factory in
            let (pair, conflict) = try conflicted(factory)
            let id = try pair.nl.conflictID(matching: String(conflict.id.prefix(6)))
            #expect(id == conflict.id)
            let note = "MA's report of 28 Nov <b>closes</b> it;\nchecked with karim"
            try pair.nl.resolve(id, .keepLoser, author: "reviewer", note: note)
            try pair.syncBothWays()
            for replica in [pair.nl, pair.ma] {
                let resolution = try #require(try replica.resolution(of: id))
                #expect(resolution.author == "reviewer" && resolution.site == "NL-NCTV")
                #expect(resolution.note == note)
                #expect(try replica.conflicts().isEmpty)
                #expect(try replica.verify().isIntact, "the note is part of the signed header")
            }
            #expect(try pair.ma.row("action", id: action)?["status"] == conflict.loser.value)
            let logged = try #require(try pair.ma.log().last?.resolves)
            #expect(ResolutionNote.conflictIDs(logged) == [id])
        }
    }

    @Test func openConflictsShowInMetricsByTableAndAge() async throws {
        try await withReplicas { factory in
            let (pair, _) = try conflicted(factory)
            let metrics = ConsoleMetrics(replica: pair.nl, registry: PrometheusCollectorRegistry())
            let samples = try PrometheusText.parse(try await metrics.render())
            #expect(samples["liaison_open_conflicts", ["table": "action"]] == 1)
            #expect(samples["liaison_open_conflicts", ["table": "topic"]] == 0)
            let age = try #require(samples["liaison_oldest_open_conflict_age_seconds", ["table": "action"]])
            #expect(age >= 0 && age < 60)
        }
    }

    @Test func conflictPrefixesMustNameOneConflictAndNotesAreChecked() async throws {
        try await withReplicas { factory in
            let (pair, conflict) = try conflicted(factory)
            #expect(throws: LiaisonError.self) { try pair.nl.conflictID(matching: "c") }
            #expect(throws: LiaisonError.self) { try pair.nl.conflictID(matching: "cfffffffffffffffff") }
            let before = try pair.nl.log().count
            for bad in ["", "bell \u{07}", String(repeating: "x", count: 1_001)] {
                #expect(throws: LiaisonError.self) {
                    try pair.nl.resolve(conflict.id, .keepWinner, author: "reviewer", note: bad)
                }
            }
            #expect(try pair.nl.log().count == before, "a refused note writes nothing")
            #expect(try pair.nl.conflicts().count == 1)
        }
    }

    @Test func peerHealthCountsWhatEachSideLacksOverRealHTTP() async throws {
        try await withReplicas { factory in
            let server = try factory.make("MA-DGST", sample: true)
            let client = try factory.make("NL-NCTV")
            try await withServer(server) { url in
                let peer = try pair(client, with: server, url: url)
                try client.addPeer(name: "FR-DGSI", url: "http://127.0.0.1:1", token: "token-down-peer")
                try await SyncDriver(replica: client).sync(with: peer)
                await #expect(throws: (any Error).self) {
                    try await SyncDriver(replica: client).sync(with: try client.peers().first { $0.name == "FR-DGSI" }!)
                }
                let seen = try #require(try server.peerHealth().first { $0.peer == "NL-NCTV" })
                #expect(seen.lastInbound?.ok == true && seen.peerLacks == 0 && seen.weLack == 0)
                let mine = try client.peerHealth()
                #expect(mine.first { $0.peer == "MA-DGST" }?.state == "ok")
                let down = try #require(mine.first { $0.peer == "FR-DGSI" })
                #expect(down.state == "failing" && down.lastOutbound?.result.contains("connection refused") == true)

                try server.write(author: "karim") { try $0.set("action", id: action, ["status": "done"]) }
                try server.write(author: "karim") { try $0.set("action", id: action, ["due": "2027-01"]) }
                let behind = try #require(try server.peerHealth().first { $0.peer == "NL-NCTV" })
                #expect(behind.peerLacks == 2 && behind.state == "behind" && behind.peerLacksSince != nil)
                try await SyncDriver(replica: client).sync(with: peer)
                let caughtUp = try #require(try server.peerHealth().first { $0.peer == "NL-NCTV" })
                #expect(caughtUp.peerLacks == 0)
                #expect(try client.peerHealth().first { $0.peer == "MA-DGST" }?.weLack == 0)

                let metrics = ConsoleMetrics(replica: client, registry: PrometheusCollectorRegistry())
                let samples = try PrometheusText.parse(try await metrics.render())
                #expect(samples["liaison_peer_last_round_ok", ["peer": "MA-DGST", "direction": "out"]] == 1)
                #expect(samples["liaison_peer_last_round_ok", ["peer": "FR-DGSI", "direction": "out"]] == 0)
                #expect(samples["liaison_open_conflicts", ["table": "action"]] == 0)
                #expect(samples.labelNames.isSubset(of: ["peer", "direction", "table", "reason"]))
            }
        }
    }

    @Test func peersCanBeRenamedRemovedAndReaddedWithNewGrants() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            try nl.addPeer(name: "MA", url: "http://127.0.0.1:9", token: "secret-token")
            try nl.addPeer(name: "MA", url: "http://127.0.0.1:9", token: "secret-token", read: ["*"], write: ["eu"])
            #expect(try nl.peers().first?.readScopes == ["*"] && nl.peers().first?.writeScopes == ["eu"])
            try nl.renamePeer("MA", to: "MA-DGST")
            #expect(try nl.peers().map(\.name) == ["MA-DGST"])
            #expect(throws: LiaisonError.self) { try nl.renamePeer("MA", to: "X") }
            #expect(throws: LiaisonError.self) { try nl.renamePeer("MA-DGST", to: "bad name") }
            try nl.removePeer("MA-DGST")
            #expect(try nl.peers().isEmpty)
            #expect(throws: LiaisonError.self) { try nl.removePeer("MA-DGST") }
        }
    }

    @Test func revertWritesTheInverseAsANewTransaction() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let original = try #require(try nl.row("action", id: action))
            _ = try nl.versionVector()  // publishes the sample as its own transaction, as any next command would
            try nl.write(author: "anne") {
                try $0.set("action", id: action, ["status": "cancelled", "due": "2030-01"])
                try $0.set("topic", id: "topic-new", ["name": "New topic"])
            }
            let edit = try #require(try nl.log().last)
            #expect(try nl.revert(site: "NL-NCTV", seq: edit.seq, author: "bert") == 2)
            #expect(try nl.row("action", id: action) == original)
            #expect(try nl.row("topic", id: "topic-new") == nil)
            #expect(try nl.log().last?.author == "bert")
            #expect(throws: LiaisonError.self) { try nl.revert(site: "NL-NCTV", seq: 99, author: "bert") }
        }
    }
}

/// Prometheus text exposition, parsed: `name{label="value",…} number` lines; `#` lines are
/// checked to be HELP or TYPE.
struct PrometheusText {
    var samples: [(name: String, labels: [String: String], value: Double)] = []

    subscript(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    var labelNames: Set<String> { Set(samples.filter { !$0.name.hasSuffix("_bucket") }.flatMap(\.labels.keys)) }

    static func parse(_ text: String) throws -> PrometheusText {
        var parsed = PrometheusText()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("#") {
                try #require(line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE "), "\(line)")
                continue
            }
            var name = Substring(line)
            var labels: [String: String] = [:]
            if let open = line.firstIndex(of: "{") {
                let close = try #require(line.lastIndex(of: "}"), "\(line)")
                name = line[..<open]
                for pair in line[line.index(after: open)..<close].split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    try #require(parts.count == 2 && parts[1].hasPrefix("\"") && parts[1].hasSuffix("\""), "\(line)")
                    labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
                let value = try #require(Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)))
                parsed.samples.append((String(name), labels, value))
            } else {
                let parts = line.split(separator: " ")
                try #require(parts.count == 2, "\(line)")
                parsed.samples.append((String(parts[0]), [:], try #require(Double(parts[1]))))
            }
            try #require(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }, "\(line)")
        }
        return parsed
    }
}
