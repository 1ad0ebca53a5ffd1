import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// A write supersedes a change only if its writer had seen that change's value, not merely the
/// transaction's digest: relays that lack a scope (or withhold on purpose) cannot make an
/// overwrite look causal. Over real HTTP.
@Suite(.timeLimit(.minutes(2))) struct CausalityTests {
    /// NL grants MA `public` and TR everything. NL edits an `eu` row; MA relays NL's transaction
    /// to TR with that change withheld; TR edits the same cell. Every replica that holds the row
    /// records the conflict, with both values.
    @Test func anEditRelayedWithoutItsScopeIsNotClaimedAsSeen() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TIB")
            try await withServer(nl) { nlURL in
                try await withServer(ma) { maURL in
                    let maToNL = try pair(ma, with: nl, url: nlURL)
                    let trToNL = try pair(tr, with: nl, url: nlURL)
                    let trToMA = try pair(tr, with: ma, url: maURL)
                    try nl.grant(peer: "MA-DGST", read: ["public"], write: ["public"])
                    try await SyncDriver(replica: tr).sync(with: trToNL)
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    #expect(try tr.row("organisation", id: "org-europol") != nil)
                    #expect(try ma.row("organisation", id: "org-europol") == nil)

                    try nl.write(author: "anne") {
                        try $0.set("organisation", id: "org-europol", ["description": "NL's edit"])
                    }
                    let nlSeq = try nl.versionVector()[nl.siteID]
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    try await SyncDriver(replica: tr).sync(with: trToMA)
                    // TR has NL's transaction (its vector says so) but not the eu change's value.
                    #expect(try tr.versionVector()[nl.siteID] == nlSeq)
                    #expect(try tr.row("organisation", id: "org-europol")?["description"] != "NL's edit")
                    try tr.write(author: "emre") {
                        try $0.set("organisation", id: "org-europol", ["description": "TR's edit"])
                    }
                    try await SyncDriver(replica: tr).sync(with: trToNL)
                    try await SyncDriver(replica: tr).sync(with: trToNL)

                    for replica in [nl, tr] {
                        let conflicts = try replica.conflicts().filter {
                            $0.rowID == "org-europol" && $0.column == "description"
                        }
                        #expect(conflicts.count == 1, "\(replica.siteCode): \(conflicts)")
                        let values = Set(conflicts.flatMap { [$0.winner.value, $0.loser.value] })
                        #expect(values == [.text("NL's edit"), .text("TR's edit")], "\(replica.siteCode)")
                    }
                    #expect(try nl.conflicts().map(\.id) == tr.conflicts().map(\.id))
                    #expect(
                        try nl.row("organisation", id: "org-europol") == tr.row("organisation", id: "org-europol"))
                    // MA never held the row, so it has nothing to record.
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    #expect(try ma.row("organisation", id: "org-europol") == nil)
                    #expect(try ma.conflicts().isEmpty)
                }
            }
        }
    }

    /// The same through a hostile relay that could read the change but strips it on purpose
    /// (sending the digest only) and pushes over the real protocol: still a conflict on both sides.
    @Test func aRelayWithholdingOnPurposeCannotHideAnEdit() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let relay = try factory.make("XX-RELAY")
            let tr = try factory.make("TR-TIB")
            try transfer(from: nl, to: relay)
            try transfer(from: nl, to: tr)
            try nl.write(author: "anne") {
                try $0.set("organisation", id: "org-europol", ["description": "NL's edit"])
            }
            try transfer(from: nl, to: relay)
            try await withServer(tr) { trURL in
                _ = try pair(relay, with: tr, url: trURL)
                let stripped = try relay.changes(
                    after: .start, excluding: try tr.versionVector(), readable: ["public"])
                #expect(stripped.transactions.count == 1 && stripped.transactions[0].changes.isEmpty)
                let answer = try await SignedHTTP.push(
                    trURL, token: "token-XX-RELAY-TR-TIB", stripped.transactions, keys: stripped.keys)
                #expect(answer.status == 200, "\(answer.text)")
                #expect(try tr.versionVector()[nl.siteID] == nl.versionVector()[nl.siteID])
            }
            try tr.write(author: "emre") {
                try $0.set("organisation", id: "org-europol", ["description": "TR's edit"])
            }
            try await withServer(nl) { nlURL in
                let peer = try pair(tr, with: nl, url: nlURL)
                try await SyncDriver(replica: tr).sync(with: peer)
                try await SyncDriver(replica: tr).sync(with: peer)
            }
            for replica in [nl, tr] {
                let conflict = try #require(
                    try replica.conflicts().first { $0.rowID == "org-europol" && $0.column == "description" },
                    "\(replica.siteCode)")
                #expect(
                    Set([conflict.winner.value, conflict.loser.value]) == [.text("NL's edit"), .text("TR's edit")])
            }
            #expect(try nl.row("organisation", id: "org-europol") == tr.row("organisation", id: "org-europol"))
        }
    }

    /// A write that had seen the value it replaces still wins without a conflict, everywhere.
    @Test func aWriteThatSawTheValueSupersedesItWithoutConflict() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try await withServer(nl) { url in
                let peer = try pair(tr, with: nl, url: url)
                try await SyncDriver(replica: tr).sync(with: peer)
                try nl.write(author: "anne") {
                    try $0.set("organisation", id: "org-europol", ["description": "NL's edit"])
                }
                try await SyncDriver(replica: tr).sync(with: peer)
                try tr.write(author: "emre") {
                    try $0.set("organisation", id: "org-europol", ["description": "TR's edit"])
                }
                try await SyncDriver(replica: tr).sync(with: peer)
                #expect(try nl.row("organisation", id: "org-europol")?["description"] == "TR's edit")
                #expect(try nl.conflicts().isEmpty)
                #expect(try tr.conflicts().isEmpty)
                #expect(try nl.verify().isIntact && tr.verify().isIntact)
            }
        }
    }
}
