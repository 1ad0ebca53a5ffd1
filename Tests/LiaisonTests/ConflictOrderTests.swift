import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

/// The same transactions delivered in both orders give the same conflict records (issue 12, the
/// plain simulation at 150 steps). Each receiver gets one side directly and the other either
/// directly or through MA, a relay that may read only `public`, so as a digest first.
@Suite(.timeLimit(.minutes(2))) struct ConflictOrderTests {
    /// Syncs `client` with `server` over HTTP; `server` grants `client` `read`, and `client`
    /// accepts `server`'s writes within `write`.
    static func sync(
        _ client: Replica, with server: Replica, read: Set<String> = ["*"], write: Set<String> = ["*"]
    ) async throws {
        try await withServer(server) { url in
            _ = try pair(client, with: server, url: url)
            try server.grant(peer: client.siteCode.rawValue, read: read, write: read)
            try client.grant(peer: server.siteCode.rawValue, read: ["*"], write: write)
            let peer = try #require(try client.peers().first { $0.name == server.siteCode.rawValue })
            _ = try await SyncDriver(replica: client).sync(with: peer)
        }
    }

    /// Every replica trusts every other's key, so a relayed transaction is applied, not held.
    static func trustAll(_ replicas: [Replica]) throws {
        for replica in replicas {
            for other in replicas where other !== replica { try replica.pinKey(of: other.identity) }
        }
    }

    /// What each replica records, to compare: id, kind, loser, winner and state.
    static func records(_ replica: Replica) throws -> [String] {
        try replica.conflicts(includeResolved: true).map {
            "\($0.id) \($0.kind) \($0.rowID).\($0.column ?? "-") winner \($0.winner.site)#\($0.winner.seq) "
                + "loser \($0.loser.site)#\($0.loser.seq) \($0.state)"
        }.sorted()
    }

    /// Seed 4: NL (the owner) sets an `owner-wins` agreement's status and moves the row to `gctf`
    /// (one publishing run: the status change is declared in `gctf`), then moves it back to
    /// `public`, the move carrying the status; TR sets the status
    /// concurrently. BE reads NL's write first; FR reads TR's first and NL's through MA (the status
    /// change withheld, carried by the move). Before, FR recorded no conflict: the carried owner's
    /// write took the cell, and its own change, arriving later, found itself there.
    @Test func aCarriedOwnerWriteMeetsAConcurrentEditAsInEveryOrder() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            let be = try factory.make("BE-OCAM")
            let fr = try factory.make("FR-SGAE")
            try Self.trustAll([nl, tr, ma, be, fr])
            try nl.write(author: "anne") {
                try $0.set("agreement", id: "agr-o", ["title": "Roadmap", "kind": "roadmap"])
            }
            for replica in [tr, be, fr] { try await Self.sync(replica, with: nl) }
            // Published in one run, the status change is declared in the row's scope then: `gctf`.
            try nl.write(author: "anne") { try $0.set("agreement", id: "agr-o", ["status": "in_force"]) }
            try nl.write(author: "anne") { try $0.set("agreement", id: "agr-o", ["scope": "gctf"]) }
            try await Self.sync(ma, with: nl, read: ["public"])
            try nl.write(author: "anne") { try $0.set("agreement", id: "agr-o", ["scope": "public"]) }
            try tr.write(author: "emre") { try $0.set("agreement", id: "agr-o", ["status": "agreed"]) }
            try await Self.sync(ma, with: nl, read: ["public"])
            // BE: NL's writes first, whole (TR's come later). A sync goes both ways, so the order
            // of the syncs keeps each replica from carrying the other side early.
            try await Self.sync(be, with: nl)
            // FR: TR's write first; then NL's through MA (the status change withheld), then from NL.
            try await Self.sync(fr, with: tr)
            try await Self.sync(fr, with: ma, write: ["public"])
            #expect(try !fr.wantedTransactions().isEmpty, "FR holds NL's status change only as a digest")
            try await Self.sync(be, with: tr)
            try await Self.sync(fr, with: nl)
            #expect(try fr.wantedTransactions().isEmpty)
            try await Self.sync(tr, with: nl)
            try await Self.sync(nl, with: tr)
            let conflicts = try Self.records(be)
            #expect(conflicts.contains { $0.contains("agr-o.status winner NL-NCTV#2 loser TR-TNP#1 open") }, "\(conflicts)")
            #expect(try Self.records(fr) == conflicts)
            #expect(try Self.records(nl) == conflicts && Self.records(tr) == conflicts)
            #expect(try fr.dump() == be.dump() && nl.dump() == be.dump())
        }
    }

    /// Seed 17: TR deletes a `gctf` topic while NL edits it; TR then receives NL's edit (the row
    /// comes back with a `delete` conflict) and resolves it by deleting again (`keep loser`), the
    /// deletion naming the conflict in `resolves`. BE reads NL's edit, then TR's deletions; FR reads
    /// NL's edit, then TR's deletions through MA (their changes withheld: FR applies the resolving
    /// transaction before it can record the conflict), then from TR. Before, the claim counted for
    /// nothing on FR and the conflict stayed open there; it is closed on every replica now.
    @Test func aResolutionAppliedBeforeItsConflictIsRecordedClosesItWhenRecorded() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            let be = try factory.make("BE-OCAM")
            let fr = try factory.make("FR-SGAE")
            try Self.trustAll([nl, tr, ma, be, fr])
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-r", ["name": "Reviewed", "scope": "gctf"])
            }
            for replica in [tr, be, fr] { try await Self.sync(replica, with: nl) }
            try await Self.sync(ma, with: nl, read: ["public"])
            try tr.write(author: "emre") { try $0.delete("topic", id: "topic-r") }
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-r", ["description": "NL text"]) }
            // BE and FR read NL's edit first (a sync goes both ways: before NL holds TR's deletions).
            try await Self.sync(be, with: nl)
            try await Self.sync(fr, with: nl)
            try await Self.sync(tr, with: nl)
            let conflict = try #require(try tr.conflicts().first { $0.kind == .delete && $0.rowID == "topic-r" })
            try tr.resolve(conflict.id, .keepLoser, author: "emre")
            #expect(try tr.row("topic", id: "topic-r") == nil)
            // FR: TR's deletions through MA (withheld), then from TR itself.
            try await Self.sync(ma, with: tr, read: ["public"])
            try await Self.sync(fr, with: ma, write: ["public"])
            #expect(try !fr.wantedTransactions().isEmpty, "FR holds TR's deletions only as digests")
            #expect(try fr.conflicts(includeResolved: true).isEmpty, "FR has not recorded the conflict yet")
            // BE: TR's deletions whole.
            try await Self.sync(be, with: tr)
            try await Self.sync(fr, with: tr)
            #expect(try fr.wantedTransactions().isEmpty && fr.quarantined().isEmpty)
            try await Self.sync(nl, with: tr)
            let records = try Self.records(be)
            #expect(records.count == 1 && records[0].hasPrefix("\(conflict.id) delete") && records[0].hasSuffix("resolved"), "\(records)")
            #expect(try Self.records(fr) == records, "FR recorded it after the claim arrived")
            #expect(try Self.records(nl) == records && Self.records(tr) == records)
            #expect(try fr.dump() == be.dump() && nl.dump() == be.dump() && tr.dump() == be.dump())
        }
    }

    /// Compaction seed 186: TR receives NL's edit of a `gctf` topic's name through MA, so as a
    /// digest, and renames the topic: its vector covers NL's edit, its base for the name does not,
    /// so the two are concurrent (TR's rename wins by policy, NL's is its loser, recorded once
    /// NL's change reaches TR). TR then deletes the topic, its base for the name being its own
    /// rename. Before, TR removed the row and every replica that received the deletion counted
    /// NL's edit as unseen by it (the chain from the rename misses it) and kept the row with a
    /// `delete` conflict: a deleter that held the winner of a conflict held its loser too.
    @Test func aDeletionBasedOnAConflictsWinnerRemovesTheRowEverywhere() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let ma = try factory.make("MA-DGST")
            let be = try factory.make("BE-OCAM")
            let fr = try factory.make("FR-SGAE")
            try Self.trustAll([nl, tr, ma, be, fr])
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-d", ["name": "Start", "scope": "gctf"])
            }
            for replica in [tr, be, fr] { try await Self.sync(replica, with: nl) }
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-d", ["name": "NL name"]) }
            try await Self.sync(ma, with: nl, read: ["public"])
            try await Self.sync(tr, with: ma, write: ["public"])
            #expect(try !tr.wantedTransactions().isEmpty, "TR holds NL's edit only as a digest")
            try tr.write(author: "emre") { try $0.set("topic", id: "topic-d", ["name": "TR name"]) }
            try await Self.sync(tr, with: nl)
            let conflict = try #require(try tr.conflicts().first { $0.rowID == "topic-d" && $0.kind == .value })
            #expect(conflict.loser.site == "NL-NCTV" && conflict.winner.site == "TR-TNP")
            try tr.write(author: "emre") { try $0.delete("topic", id: "topic-d") }
            // BE: everything from TR; FR: NL's edit and TR's rename from NL, then the deletion from TR.
            try await Self.sync(be, with: tr)
            try await Self.sync(fr, with: nl)
            try await Self.sync(fr, with: tr)
            try await Self.sync(nl, with: tr)
            for replica in [nl, tr, be, fr] {
                #expect(try replica.row("topic", id: "topic-d") == nil, "\(replica.siteCode) kept the row")
                #expect(try !replica.conflicts(includeResolved: true).contains { $0.kind == .delete })
            }
            let records = try Self.records(tr)
            #expect(try Self.records(nl) == records && Self.records(be) == records && Self.records(fr) == records)
            #expect(try fr.dump() == tr.dump() && be.dump() == tr.dump() && nl.dump() == tr.dump())
        }
    }
}
