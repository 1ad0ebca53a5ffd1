import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A hostile registered peer, granted `public` only, signs its own transactions with its own key
/// and speaks the real HTTP protocol, directly and through a relay. Every attempt on another scope
/// is refused or harmless: nothing is written or leaked, and honest peers still converge.
@Suite(.timeLimit(.minutes(2))) struct ScopeAttackTests {
    /// NL's rows the attacks aim at: one public, one `gctf`, one `bilateral:NL-TR` row deleted since.
    static func seed(_ nl: Replica) throws {
        try nl.write(author: "anne") { editor in
            try editor.set("topic", id: "topic-open", ["name": "Open topic"])
            try editor.set("topic", id: "topic-secret", ["name": "Secret topic", "scope": "gctf"])
            try editor.set("topic", id: "topic-bil", ["name": "Bilateral topic", "scope": "bilateral:NL-TR"])
        }
        try nl.write(author: "anne") { try $0.delete("topic", id: "topic-bil") }
    }

    /// The hostile peer's first transaction with its changes replaced by `changes`, signed by it.
    static func forged(_ hostile: Replica, _ changes: [ChangeRecord]) throws -> TransactionRecord {
        var record = try #require(try hostile.changes(after: .start, excluding: VersionVector()).transactions.first)
        record.changes = changes
        record.total = changes.count
        record.digests = nil
        record.span = nil
        return try hostile.signedAsOrigin(record)
    }

    static func change(
        _ id: String, _ op: ChangeRecord.Operation = .insert, declares scope: String, _ values: [String: CellValue]
    ) -> ChangeRecord {
        ChangeRecord(table: "topic", id: id, op: op, values: values, scope: scope)
    }

    @Test func writesOutsideTheSendersGrantAreRefusedWithOneAnswer() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let hostile = try factory.make("XX-HOSTILE")
            try Self.seed(nl)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-mine", ["name": "Mine"]) }
                let token = "token-XX-HOSTILE-NL-NCTV"
                let before = try nl.dump()
                // The values set a scope other than the one the change declares.
                let mislabelled: [[ChangeRecord]] = [
                    [Self.change("topic-planted", declares: "public", ["name": "Planted", "scope": "gctf"])],
                    [Self.change("topic-open", .update, declares: "public", ["scope": "bilateral:NL-TR"])],
                ]
                for changes in mislabelled {
                    let answer = try await SignedHTTP.push(url, token: token, [try Self.forged(hostile, changes)])
                    #expect(answer.status == 403, "\(answer.text)")
                    #expect(answer.text.contains("other than the one it declares"), "\(answer.text)")
                }
                // Declared scope, the row's scope here, a deleted row's last scope: one answer for all,
                // naming neither row nor scope.
                let outside: [[ChangeRecord]] = [
                    [Self.change("topic-new", declares: "gctf", ["name": "New", "scope": "gctf"])],
                    [Self.change("topic-secret", .update, declares: "public", ["name": "Renamed"])],
                    [Self.change("topic-bil", declares: "public", ["name": "Reborn", "scope": "public"])],
                ]
                var answers: Set<String> = []
                for changes in outside {
                    let answer = try await SignedHTTP.push(url, token: token, [try Self.forged(hostile, changes)])
                    #expect(answer.status == 403, "\(answer.text)")
                    #expect(!answer.text.contains("topic-") && !answer.text.contains("gctf"), "\(answer.text)")
                    answers.insert(answer.text)
                }
                #expect(answers.count == 1, "\(answers)")
                #expect(try nl.dump() == before)
                #expect(try nl.versionVector()[hostile.siteID] == 0)
                // The hostile peer's honest public write still goes through.
                let honest = try hostile.changes(after: .start, excluding: try nl.versionVector())
                let answer = try await SignedHTTP.push(url, token: token, honest.transactions, keys: honest.keys)
                #expect(answer.status == 200, "\(answer.text)")
                #expect(try nl.row("topic", id: "topic-mine")?["name"] == "Mine")
                #expect(try nl.row("topic", id: "topic-secret")?["name"] == "Secret topic")
                #expect(try nl.row("topic", id: "topic-bil") == nil)
            }
        }
    }

    /// Nothing about rows is learnt before the signature and the grant hold: a stranger, and a
    /// registered peer sending a transaction its key did not sign, get the same answer whether the
    /// row they name exists in a secret scope or not at all.
    @Test func noAnswerTellsWhetherASecretRowExists() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let hostile = try factory.make("XX-HOSTILE")
            try Self.seed(nl)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-mine", ["name": "Mine"]) }
                let before = try nl.dump()
                var strangers: Set<String> = []
                var unsigned: Set<String> = []
                for id in ["topic-secret", "topic-bil", "topic-none"] {
                    var record = try Self.forged(
                        hostile, [Self.change(id, .update, declares: "public", ["name": "Probe"])])
                    let stranger = try await SignedHTTP.push(url, token: "not-a-registered-token", [record])
                    #expect(stranger.status == 401)
                    strangers.insert(stranger.text)
                    record.signature = try Self.forged(hostile, [Self.change(id, declares: "public", ["name": "X"])])
                        .signature
                    let forged = try await SignedHTTP.push(url, token: "token-XX-HOSTILE-NL-NCTV", [record])
                    #expect(forged.status == 422, "\(forged.text)")
                    unsigned.insert(forged.text)
                }
                #expect(strangers.count == 1, "\(strangers)")
                #expect(unsigned.count == 1, "\(unsigned)")
                #expect(try nl.dump() == before)
            }
        }
    }

    /// Through a careless relay that lets the hostile peer write anything: the relay's own grant
    /// at NL is what NL checks, and NL refuses; an honest peer still converges with NL.
    @Test func throughARelayTheRelaysGrantIsChecked() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let relay = try factory.make("RR-RELAY")
            let hostile = try factory.make("XX-HOSTILE")
            let ma = try factory.make("MA-DGST")
            try Self.seed(nl)
            try await withServer(nl) { nlURL in
                try await withServer(relay) { relayURL in
                    let relayToNL = try pair(relay, with: nl, url: nlURL)
                    try nl.grant(peer: "RR-RELAY", read: ["public"], write: ["public"])
                    _ = try pair(hostile, with: relay, url: relayURL)
                    // NL's operator has met the hostile agency: what is tested is its grant, not its key.
                    try nl.pinKey(of: hostile.identity)
                    try await SyncDriver(replica: relay).sync(with: relayToNL)
                    try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-mine", ["name": "Mine"]) }
                    let token = "token-XX-HOSTILE-RR-RELAY"
                    // A mislabelled change is refused by the relay already.
                    let mislabelled = try Self.forged(
                        hostile, [Self.change("topic-open", .update, declares: "public", ["scope": "gctf"])])
                    let refused = try await SignedHTTP.push(relayURL, token: token, [mislabelled])
                    #expect(refused.status == 403, "\(refused.text)")
                    // A write into a row the relay cannot see passes the relay, not NL.
                    let intoSecret = try Self.forged(
                        hostile, [Self.change("topic-secret", .update, declares: "public", ["name": "Renamed"])])
                    let relayed = try await SignedHTTP.push(relayURL, token: token, [intoSecret])
                    #expect(relayed.status == 200, "\(relayed.text)")
                    let before = try nl.dump()
                    await #expect {
                        try await SyncDriver(replica: relay).sync(with: relayToNL)
                    } throws: { ($0 as? LiaisonError)?.code == .forbiddenScope }
                    #expect(try nl.dump() == before)
                    #expect(try nl.row("topic", id: "topic-secret")?["name"] == "Secret topic")
                    #expect(try nl.versionVector()[hostile.siteID] == 0)
                    // An honest peer is not held up.
                    let maToNL = try pair(ma, with: nl, url: nlURL)
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    try nl.write(author: "anne") { try $0.set("topic", id: "topic-open", ["description": "later"]) }
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    #expect(try ma.dump() == nl.dump())
                }
            }
        }
    }

    /// A pulled page is checked as a push is: NL pulling from the hostile peer's own server
    /// refuses its write into `gctf` and into a row NL holds in `gctf`.
    @Test func aPulledPageIsCheckedAsAPushIs() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let hostile = try factory.make("XX-HOSTILE")
            try Self.seed(nl)
            try await withServer(hostile) { url in
                _ = try pair(nl, with: hostile, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                let peer = try #require(try nl.peers().first { $0.name == "XX-HOSTILE" })
                try hostile.write(author: "mallory") {
                    try $0.set("topic", id: "topic-secret", ["name": "Taken over", "scope": "public"])
                }
                let before = try nl.dump()
                await #expect {
                    try await SyncDriver(replica: nl).sync(with: peer)
                } throws: { ($0 as? LiaisonError)?.code == .forbiddenScope }
                #expect(try nl.dump() == before)
                #expect(try nl.row("topic", id: "topic-secret")?["scope"] == "gctf")
            }
        }
    }
}
