import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// A transaction that cannot be applied at a receiver is held aside with its reason, over real
/// HTTP: everything that does not depend on it applies, both sides are told, and it goes in when
/// its cause goes away. Forged or altered records are still refused whole.
@Suite(.timeLimit(.minutes(2))) struct QuarantineTests {
    @Test func aTransactionOutsideTheWriteGrantIsHeldAndTheRestApplies() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TIB")
            try transfer(from: nl, to: ma)
            try transfer(from: nl, to: tr)
            try await withServer(nl) { url in
                let maPeer = try pair(ma, with: nl, url: url)
                let trPeer = try pair(tr, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["*"], write: ["gctf"])
                try ma.write(author: "karim") { try $0.set("organisation", id: "org-gctf", ["description": "ok"]) }
                try ma.write(author: "karim") {
                    try $0.set("action", id: "act-roadmap-early-detection", ["status": "done"])
                }
                try ma.write(author: "karim") {
                    try $0.set("organisation", id: "org-gctf-ftf-wg", ["description": "after"])
                }
                try tr.write(author: "emre") { try $0.set("topic", id: "topic-tr", ["name": "Returnees"]) }

                let report = try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(report.heldThere.map(\.id) == ["MA-DGST#2", "MA-DGST#3"])
                #expect(report.heldThere.first?.error == "forbidden_scope")
                #expect(report.heldThere.first?.message.contains("writes outside the scopes") == true)
                #expect(report.heldThere.first?.message.contains("nothing of the batch") == false)
                #expect(report.heldThere.last?.error == "held_behind")
                #expect(report.heldThere.last?.waitsFor == "MA-DGST#2")
                #expect(try nl.row("organisation", id: "org-gctf")?["description"] == "ok")
                #expect(try nl.row("action", id: "act-roadmap-early-detection")?["status"] != "done")
                #expect(try nl.row("organisation", id: "org-gctf-ftf-wg")?["description"] != "after")
                #expect(try nl.versionVector()[ma.siteID] == 1)
                // Another agency's link is not affected.
                try await SyncDriver(replica: tr).sync(with: trPeer)
                #expect(try nl.row("topic", id: "topic-tr") != nil)
                // Both sides show what is held and why.
                #expect(try nl.status().quarantined.map(\.id) == ["MA-DGST#2", "MA-DGST#3"])
                #expect(try ma.status().heldByPeers["NL-NCTV"]?.map(\.id) == ["MA-DGST#2", "MA-DGST#3"])
                // Rounds go on without failing, and nothing of it is lost.
                let again = try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(again.error == nil && again.heldThere.count == 2)
                // A wider grant lets them in, in order.
                try nl.grant(peer: "MA-DGST", read: ["*"], write: ["*"])
                #expect(try nl.status().quarantined.isEmpty)
                #expect(try nl.row("action", id: "act-roadmap-early-detection")?["status"] == "done")
                #expect(try nl.row("organisation", id: "org-gctf-ftf-wg")?["description"] == "after")
                #expect(try nl.versionVector()[ma.siteID] == 3)
                let cleared = try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(cleared.heldThere.isEmpty)
                #expect(try ma.status().heldByPeers["NL-NCTV"] ?? [] == [])
                #expect(try nl.verify().isIntact)
            }
        }
    }

    @Test func aHostilePeerGetsItsOwnTransactionHeldButCannotForgeOrAlterIntoQuarantine() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let hostile = try factory.make("XX-HOSTILE")
            try transfer(from: nl, to: hostile)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                let token = "token-XX-HOSTILE-NL-NCTV"
                try hostile.write(author: "mallory") {
                    try $0.set("topic", id: "topic-planted", ["name": "Planted", "scope": "gctf"])
                }
                try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-next", ["name": "Next"]) }
                let page = try hostile.changes(after: .start, excluding: try nl.versionVector())
                #expect(page.transactions.count == 2)
                let before = try nl.dump()
                // The second, altered after signing, refuses the batch: nothing is held or applied.
                var altered = page.transactions
                altered[1].changes[0].values?["name"] = "Altered"
                let refused = try await SignedHTTP.push(url, token: token, altered, keys: page.keys)
                #expect(refused.status == 422, "\(refused.text)")
                #expect(try nl.dump() == before)
                #expect(try nl.quarantined().isEmpty)
                // A forged transaction in NL's name writing a scope it may not is refused, not held.
                var forged = page.transactions[0]
                forged.origin = nl.siteID
                forged.site = "NL-NCTV"
                forged.seq = try nl.versionVector()[nl.siteID] + 1
                let forgedAnswer = try await SignedHTTP.push(url, token: token, [forged])
                #expect(forgedAnswer.status == 422 || forgedAnswer.status == 403, "\(forgedAnswer.text)")
                #expect(try nl.quarantined().isEmpty)
                // Its own genuine transactions: the gctf one is held, the next waits behind it.
                let honest = try await SignedHTTP.push(url, token: token, page.transactions, keys: page.keys)
                #expect(honest.status == 200, "\(honest.text)")
                let answer = try WireJSON.decode(PushResponse.self, from: Data(honest.text.utf8))
                #expect(answer.applied == 0)
                #expect(answer.held?.map(\.id) == ["XX-HOSTILE#1", "XX-HOSTILE#2"])
                #expect(answer.held?.first?.error == "forbidden_scope")
                #expect(try nl.dump() == before)
                #expect(try nl.row("topic", id: "topic-planted") == nil)
                // The operator releases it (vouching for the sender): it applies, and so does the next.
                #expect(try nl.releaseQuarantined("XX-HOSTILE#1") == nil)
                #expect(try nl.row("topic", id: "topic-planted")?["scope"] == "gctf")
                #expect(try nl.row("topic", id: "topic-next") != nil)
                #expect(try nl.quarantined().isEmpty)
                #expect(try nl.verify().isIntact)
            }
        }
    }

    @Test func aValueThisReplicasRulesRejectIsHeldAndNeverApplied() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            // A peer whose rules are laxer (or wrong): it signs a status the cooperation schema lacks.
            let lax = try factory.make("XX-LAX", schema: Self.laxSchema)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: lax)
            try transfer(from: nl, to: ma)
            try await withServer(nl) { url in
                let laxPeer = try pair(lax, with: nl, url: url)
                let maPeer = try pair(ma, with: nl, url: url)
                try lax.write(author: "lax") {
                    try $0.set("action", id: "act-roadmap-early-detection", ["status": "finished"])
                }
                try lax.write(author: "lax") { try $0.set("topic", id: "topic-lax", ["name": "After"]) }
                try ma.write(author: "karim") { try $0.set("topic", id: "topic-ma", ["name": "Returnees"]) }
                let report = try await SyncDriver(replica: lax).sync(with: laxPeer)
                #expect(report.heldThere.map(\.error) == ["type_mismatch", "held_behind"])
                #expect(report.heldThere.first?.message.contains("action.status") == true)
                #expect(try nl.row("action", id: "act-roadmap-early-detection")?["status"] != "finished")
                #expect(try nl.row("topic", id: "topic-lax") == nil)
                try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(try nl.row("topic", id: "topic-ma") != nil)
                // Releasing cannot override the rules: it stays held, with its reason.
                let still = try nl.releaseQuarantined("XX-LAX#1")
                #expect(still?.error == "type_mismatch")
                // Dropped, it is gone; what came after it keeps waiting until it arrives again.
                try nl.dropQuarantined("XX-LAX#1")
                #expect(try nl.quarantined().map(\.held.id) == ["XX-LAX#2"])
                #expect(try nl.row("topic", id: "topic-lax") == nil)
                // The receiver's own clone from NL carries nothing of it.
                let fresh = try factory.make("TR-TIB")
                try transfer(from: nl, to: fresh)
                #expect(try fresh.dump() == nl.dump())
            }
        }
    }

    @Test func aStockReplicaGrantedOnlyPublicKeepsSyncingWhenARowMovesIntoPublic() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                _ = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                try ma.grant(peer: "NL-NCTV", read: ["public"], write: ["public"])
                let peer = try #require(try ma.peers().first { $0.name == "NL-NCTV" })
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("organisation", id: "org-gctf") == nil)
                try nl.write(author: "anne") { try $0.set("organisation", id: "org-gctf", ["scope": "public"]) }
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-later", ["name": "Later"]) }
                let report = try await SyncDriver(replica: ma).sync(with: peer)
                #expect(report.error == nil)
                #expect(try ma.row("topic", id: "topic-later") != nil)
                // The row lands in `public`, which NL may write at MA: it arrives whole, nothing is held.
                #expect(try ma.row("organisation", id: "org-gctf") == nl.row("organisation", id: "org-gctf"))
                #expect(report.heldHere.isEmpty && report.heldThere.isEmpty, "\(report)")
                #expect(try ma.status().quarantined.isEmpty)
                // Later rounds go on, and NL's later edits of the row arrive.
                try nl.write(author: "anne") {
                    try $0.set("organisation", id: "org-gctf", ["description": "Now public"])
                }
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("organisation", id: "org-gctf")?["description"] == "Now public")
                #expect(try nl.status().heldByPeers["MA-DGST"] ?? [] == [])
            }
        }
    }

    /// The cooperation schema with one more `action.status` word than the real one.
    static var laxSchema: SchemaDefinition {
        var schema = SchemaDefinition.cooperation
        for (t, table) in schema.tables.enumerated() where table.name == "action" {
            for (c, column) in table.columns.enumerated() where column.name == "status" {
                schema.tables[t].columns[c].type = .choice(["open", "in_progress", "done", "cancelled", "finished"])
            }
        }
        return schema
    }
}

extension QuarantineTests {
    /// `liaison quarantine` and `liaison status` on the built binary.
    @Test(.timeLimit(.minutes(2))) func theQuarantineCommandListsShowsReleasesAndDrops() async throws {
        try await withSampleReplica { cli in
            let ahead = HybridClock(maximumDrift: .seconds(60)) {
                Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
            }
            let fast = try Replica.create(at: cli.url("fast.db").path, site: SiteCode("XX-FAST")!, clock: ahead)
            try fast.write(author: "f") { try $0.set("topic", id: "topic-fast", ["name": "\u{1B}[31mEarly"]) }
            let nl = try Replica.open(at: cli.url("nl.db").path)
            let page = try fast.changes(after: .start, excluding: try nl.versionVector())
            #expect(try nl.apply(page.transactions, keys: page.keys).held == 1)

            let list = try await cli("quarantine", "nl.db", "list")
            #expect(list.status == 0 && list.stdout.hasPrefix("XX-FAST#1"), "\(list)")
            #expect(list.stdout.contains("clock_drift"))
            let show = try await cli("quarantine", "nl.db", "show", "XX-FAST#1")
            #expect(show.status == 0 && show.stdout.contains("insert topic topic-fast in public"), "\(show)")
            let status = try await cli("status", "nl.db")
            #expect(status.stdout.contains("held here: 1") && status.stdout.contains("XX-FAST#1 clock_drift"))
            let release = try await cli("quarantine", "nl.db", "release", "XX-FAST#1")
            #expect(release.status == 1 && release.stderr.contains("still held"), "\(release)")
            try await cli.expectRefused("quarantine", "nl.db", "show", "XX-FAST#9", mentioning: "nothing held")
            try await cli.expectRefused("quarantine", "nl.db", "drop", mentioning: "needs an ID")
            #expect(try await cli("quarantine", "nl.db", "drop", "XX-FAST#1").stdout == "XX-FAST#1 dropped\n")
            #expect(try await cli("quarantine", "nl.db").stdout == "nothing held\n")
            #expect(try nl.row("topic", id: "topic-fast") == nil)
        }
    }
}
