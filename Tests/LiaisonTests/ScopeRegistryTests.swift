import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// The scope registry: declared scopes travel like data, typos are refused with the nearest
/// names, new child rows take their parent's scope, and `who-sees` answers who can read a row.
@Suite(.timeLimit(.minutes(2))) struct ScopeRegistryTests {
    @Test func anUndeclaredScopeIsRefusedWithTheNearestNames() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let error = try #require(throws: LiaisonError.self) {
                try nl.write(author: "anne") { try $0.set("topic", id: "topic-x", ["name": "X", "scope": "gcft"]) }
            }
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("did you mean 'gctf'"), "\(error)")
            #expect(try nl.row("topic", id: "topic-x") == nil)
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-x", ["name": "X", "scope": "bilateral:NL-TR"])
            }
        }
    }

    @Test func aDeclaredScopeTravelsOnlyToThoseWhoMayReadIt() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try nl.declareScope("ops-nl-ma", description: "NL and MA operations", author: "anne")
            try nl.write(author: "anne") {
                try $0.set("topic", id: "topic-ops", ["name": "Joint op", "scope": "ops-nl-ma"])
            }
            try await withServer(nl) { url in
                let maPeer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["public", "ops-nl-ma"], write: ["public", "ops-nl-ma"])
                let trPeer = try pair(tr, with: nl, url: url)
                try nl.grant(peer: "TR-TNP", read: ["public"], write: ["public"])
                try await SyncDriver(replica: ma).sync(with: maPeer)
                try await SyncDriver(replica: tr).sync(with: trPeer)
                #expect(
                    try ma.knownScopes().contains { $0.name == "ops-nl-ma" && $0.description == "NL and MA operations" }
                )
                #expect(try ma.row("topic", id: "topic-ops")?["name"] == "Joint op")
                #expect(try !tr.knownScopes().contains { $0.name == "ops-nl-ma" })
                // MA writes into the scope it now knows; NL takes it.
                try ma.write(author: "karim") {
                    try $0.set("topic", id: "topic-ops2", ["name": "Y", "scope": "ops-nl-ma"])
                }
                try await SyncDriver(replica: ma).sync(with: maPeer)
                #expect(try nl.row("topic", id: "topic-ops2")?["scope"] == "ops-nl-ma")
                let readers = try nl.whoSees("topic", id: "topic-ops")
                #expect(readers.scope == "ops-nl-ma")
                #expect(Set(readers.peers.keys) == ["MA-DGST"])
            }
        }
    }

    /// A hostile peer allowed to write anything still cannot write into a scope NL never declared.
    @Test func aSignedWriteIntoAnUndeclaredScopeIsRefused() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let hostile = try factory.make("XX-HOSTILE")
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-mine", ["name": "Mine"]) }
                var record = try #require(
                    try hostile.changes(after: .start, excluding: VersionVector()).transactions.first)
                record.changes = [
                    ChangeRecord(
                        table: "topic", id: "topic-lost", op: .insert, values: ["name": "Lost", "scope": "gcft"],
                        scope: "gcft")
                ]
                record.total = 1
                let before = try nl.dump()
                let answer = try await SignedHTTP.push(
                    url, token: "token-XX-HOSTILE-NL-NCTV", [try hostile.signedAsOrigin(record)])
                // Held (issue 12), not applied; the answer says why.
                #expect(answer.status == 200, "\(answer.text)")
                let held = try WireJSON.decode(PushResponse.self, from: Data(answer.text.utf8)).held?.first
                #expect(held?.error == "forbidden_scope" && held?.message.contains("not declared here") == true)
                #expect(try nl.dump() == before)
            }
        }
    }

    @Test func aNewChildRowTakesItsParentsScope() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            try nl.write(author: "anne") { editor in
                try editor.set("organisation", id: "org-forum", ["name": "Forum", "kind": "forum", "scope": "gctf"])
                try editor.set(
                    "organisation", id: "org-wg", ["name": "WG", "kind": "working_group", "parent_id": "org-forum"])
                try editor.set("organisation", id: "org-nl", ["name": "NL", "kind": "state"])
                try editor.set(
                    "membership", id: "mem-1", ["organisation_id": "org-nl", "body_id": "org-wg", "role": "member"])
                try editor.set(
                    "membership", id: "mem-2",
                    ["organisation_id": "org-nl", "body_id": "org-wg", "role": "chair", "scope": "public"])
            }
            #expect(try nl.row("organisation", id: "org-wg")?["scope"] == "gctf")
            #expect(try nl.row("membership", id: "mem-1")?["scope"] == "gctf")
            #expect(try nl.row("membership", id: "mem-2")?["scope"] == "public")
            #expect(try nl.row("organisation", id: "org-nl")?["scope"] == "public")
        }
    }

    @Test func theCommandLineDeclaresListsAndAnswersWhoSees() async throws {
        try await withCLI { cli in
            _ = try await cli("init", "nl.db", "--site", "NL-NCTV")
            let added = try await cli("scope", "add", "nl.db", "ops-nl-ma", "--description", "joint operations")
            #expect(added.status == 0 && added.stdout == "scope ops-nl-ma declared\n", "\(added)")
            let listed = try await cli("scope", "list", "nl.db")
            #expect(listed.stdout.contains("ops-nl-ma\tjoint operations\n"), "\(listed)")
            #expect(listed.stdout.contains("gctf\t(built in)\n"), "\(listed)")
            let typo = try await cli("set", "nl.db", "topic", "topic-x", "name=X", "scope=ops-nl-mа")
            #expect(typo.status == 64, "\(typo)")
            let wrong = try await cli("set", "nl.db", "topic", "topic-x", "name=X", "scope=ops-nl-mx")
            #expect(wrong.status == 64 && wrong.stderr.contains("did you mean 'ops-nl-ma'"), "\(wrong)")
            _ = try await cli("set", "nl.db", "topic", "topic-x", "name=X", "scope=ops-nl-ma")
            _ = try await cli(
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:9", "--token", "secret-token",
                "--read", "public,ops-nl-ma")
            _ = try await cli("peer", "add", "nl.db", "TR-TNP", "http://127.0.0.1:9", "--token", "secret-token2")
            let sees = try await cli("who-sees", "nl.db", "topic", "topic-x")
            #expect(sees.status == 0, "\(sees)")
            #expect(
                sees.stdout.hasPrefix("scope ops-nl-ma\nNL-NCTV\t(this replica)\nMA-DGST\treads ops-nl-ma,public\n"),
                "\(sees)")
            #expect(!sees.stdout.contains("TR-TNP"), "\(sees)")
        }
    }
}
