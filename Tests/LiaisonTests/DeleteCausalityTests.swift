import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Deletions decide by what their writer held, not by its version vector: a replica that had an
/// update only as a digest (a relay withheld it) cannot delete it silently. Over real HTTP.
@Suite(.timeLimit(.minutes(2))) struct DeleteCausalityTests {
    @Test func aDeleteByAReplicaThatHeldTheUpdateOnlyAsADigestDoesNotRemoveIt() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let relay = try factory.make("XX-RELAY")
            let tr = try factory.make("TR-TIB")
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-eu", ["name": "EU topic", "scope": "eu"]) }
            try transfer(from: nl, to: relay)
            try transfer(from: nl, to: tr)
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-eu", ["description": "NL's edit"]) }
            try transfer(from: nl, to: relay)
            try await withServer(tr) { trURL in
                // The relay passes NL's edit on as a digest only, over the protocol.
                _ = try pair(relay, with: tr, url: trURL)
                let stripped = try relay.changes(after: .start, excluding: try tr.versionVector(), readable: ["public"])
                let answer = try await SignedHTTP.push(
                    trURL, token: "token-XX-RELAY-TR-TIB", stripped.transactions, keys: stripped.keys)
                #expect(answer.status == 200, "\(answer.text)")
            }
            #expect(try tr.versionVector()[nl.siteID] == nl.versionVector()[nl.siteID])
            #expect(try tr.row("topic", id: "topic-eu")?["description"] == .null)
            // TR deletes the row it holds, never having seen NL's edit.
            try tr.write(author: "emre") { try $0.delete("topic", id: "topic-eu") }
            try await withServer(nl) { nlURL in
                let peer = try pair(tr, with: nl, url: nlURL)
                try await SyncDriver(replica: tr).sync(with: peer)
                try await SyncDriver(replica: tr).sync(with: peer)
            }
            // The row survives with NL's edit on both, and both record the same delete conflict.
            for replica in [nl, tr] {
                #expect(try replica.row("topic", id: "topic-eu")?["description"] == "NL's edit", "\(replica.siteCode)")
                let deletes = try replica.conflicts().filter { $0.rowID == "topic-eu" && $0.kind == .delete }
                #expect(deletes.count == 1, "\(replica.siteCode): \(deletes)")
                #expect(deletes.first?.loser.site == "TR-TIB")
            }
            #expect(try nl.conflicts().map(\.id) == tr.conflicts().map(\.id))
            #expect(try nl.dump() == tr.dump())
        }
    }

    @Test func aDeleteThatHeldTheUpdateStillWinsEverywhere() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TIB")
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-eu", ["name": "EU topic", "scope": "eu"]) }
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-eu", ["description": "NL's edit"]) }
            try await withServer(nl) { nlURL in
                let peer = try pair(tr, with: nl, url: nlURL)
                try await SyncDriver(replica: tr).sync(with: peer)
                try tr.write(author: "emre") { try $0.delete("topic", id: "topic-eu") }
                try await SyncDriver(replica: tr).sync(with: peer)
            }
            for replica in [nl, tr] {
                #expect(try replica.row("topic", id: "topic-eu") == nil, "\(replica.siteCode)")
                #expect(try replica.conflicts().isEmpty, "\(replica.siteCode)")
            }
            let deletion = try #require(try tr.log().last?.changes.first)
            #expect(deletion.op == .delete && deletion.bases?["description"] != nil)
        }
    }
}
