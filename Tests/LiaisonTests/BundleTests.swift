import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Signed change bundles carried on a disk between replicas that never meet on a network: what a
/// pull would carry under the recipient's read grant, applied as a push from the sender would be,
/// once, with an acknowledgement for the way back. The file is hostile until proven otherwise.
@Suite(.timeLimit(.minutes(2))) struct BundleTests {
    /// NL-NCTV and TR-TNP, each registering the other for bundles only (no URL is ever called):
    /// TR may read `public` and `gctf` from NL, NL accepts TR's writes to `public`.
    static func airGapped(_ factory: ReplicaFactory) throws -> (nl: Replica, tr: Replica) {
        let nl = try factory.make("NL-NCTV", sample: true)
        let tr = try factory.make("TR-TNP")
        try nl.addPeer(
            name: "TR-TNP", url: "http://air-gapped.invalid", token: "bundles-only-token", siteID: tr.siteID,
            read: ["public", "gctf"], write: ["public"], publicKey: tr.publicKey)
        try tr.addPeer(
            name: "NL-NCTV", url: "http://air-gapped.invalid", token: "bundles-only-token", siteID: nl.siteID,
            read: ["public"], write: ["*"], publicKey: nl.publicKey)
        return (nl, tr)
    }

    /// Every row of every table at `replica` lies in one of `scopes`.
    static func scopes(of replica: Replica) throws -> Set<String> {
        var seen: Set<String> = []
        for table in replica.schema.tables.map(\.name) {
            for row in try replica.rows(table) { if case .text(let scope)? = row["scope"] { seen.insert(scope) } }
        }
        return seen
    }

    @Test func nlToTrByBundleRespectsScopesAppliesOnceAndAcknowledgesBack() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try Self.airGapped(factory)
            try nl.write(author: "anna") { try $0.set("topic", id: "topic-bundled", ["name": "Returnees"]) }
            try nl.write(author: "anna") {
                try $0.set("topic", id: "topic-eu-only", ["name": "EU eyes only", "scope": "eu"])
            }
            let (data, summary) = try nl.makeBundle(for: "TR-TNP")
            #expect(!summary.sealed && !summary.sinceAcknowledged)
            #expect(summary.transactions == Int(try nl.versionVector()[nl.siteID]))

            // The bundle carries exactly what a pull under TR's read grant carries.
            var pulled: [TransactionRecord] = []
            var cursor = SyncCursor.start
            while true {
                let page = try nl.changes(after: cursor, excluding: VersionVector(), readable: ["public", "gctf"])
                pulled += page.transactions
                cursor = try SyncCursor(parsing: page.cursor)
                if !page.hasMore { break }
            }
            #expect(try tr.openBundle(data).body.transactions == pulled)
            #expect(!String(decoding: data, as: UTF8.self).contains("EU eyes only"))

            let report = try tr.importBundle(data)
            #expect(report.applied == summary.transactions && report.held == 0 && report.missing.isEmpty)
            #expect(try tr.versionVector() == nl.versionVector())
            #expect(try tr.row("topic", id: "topic-bundled")?["name"] == .text("Returnees"))
            #expect(try tr.row("topic", id: "topic-eu-only") == nil)
            #expect(try Self.scopes(of: tr) == ["public", "gctf"])
            #expect(try tr.verify().isIntact)

            // A replica fed by pull pages under the same grant ends with the same rows.
            let pulling = try factory.make("TR-PULL")
            try pulling.pinKey(of: nl.identity)
            _ = try pulling.apply(pulled, keys: try tr.openBundle(data).body.keys)
            #expect(try pulling.dump() == tr.dump())

            // Importing it again changes nothing.
            let dump = try tr.dump()
            let again = try tr.importBundle(data)
            #expect(again.applied == 0 && again.skipped == summary.transactions && again.importedBefore != nil)
            #expect(try tr.dump() == dump)

            // The acknowledgement goes back (sealed to NL, whose key came with its bundle).
            let (ack, ackSummary) = try tr.makeAcknowledgementBundle(for: "NL-NCTV", answering: report.id)
            #expect(ackSummary.sealed)
            let back = try nl.importBundle(ack)
            #expect(back.kind == .acknowledgement && back.acknowledgementRecorded)
            #expect(try nl.acknowledgements()["TR-TNP"]?.vector == tr.versionVector())
            #expect(try !nl.importBundle(ack).acknowledgementRecorded)

            // The next bundle holds only what TR lacks, sealed to TR's key from its acknowledgement.
            try nl.write(author: "anna") { try $0.set("topic", id: "topic-sealed", ["name": "Sealed value"]) }
            let (next, nextSummary) = try nl.makeBundle(for: "TR-TNP")
            #expect(nextSummary.sealed && nextSummary.sinceAcknowledged && nextSummary.transactions == 1)
            #expect(!String(decoding: next, as: UTF8.self).contains("Sealed value"))
            let nextReport = try tr.importBundle(next)
            #expect(nextReport.sealed && nextReport.applied == 1)
            #expect(try tr.row("topic", id: "topic-sealed")?["name"] == .text("Sealed value"))
            // A sealed bundle opens only with its recipient's key.
            let other = try factory.make("MA-DGST")
            try other.pinKey(of: nl.identity)
            #expect(throws: LiaisonError.self) { try other.importBundle(next) }
        }
    }

    @Test func aTamperedBundleIsRefusedWholeAndChangesNothing() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try Self.airGapped(factory)
            try nl.write(author: "anna") { try $0.set("topic", id: "topic-bundled", ["name": "Returnees"]) }
            let (plain, _) = try nl.makeBundle(for: "TR-TNP")
            let before = try tr.dump()
            func refused(_ data: Data, _ words: String) {
                let error = #expect(throws: LiaisonError.self) { try tr.importBundle(data) }
                #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
                #expect(error?.code == .invalidInput)
            }
            // A value changed in place (the body is compressed: inflated, altered, deflated again).
            let text = String(decoding: try Replica.bundlePlaintext(of: plain), as: UTF8.self)
            #expect(text.contains("Returnees") && !String(decoding: plain, as: UTF8.self).contains("Returnees"))
            let altered = Data(text.replacingOccurrences(of: "Returnees", with: "Returnerz").utf8)
            refused(try Replica.bundleReplacingPayload(of: plain, with: altered), "does not match its digest")
            // The compressed stream damaged, cut inside, or a bomb past the bound.
            let stream = try BundleCompression.compress(altered)
            refused(try Replica.bundleReplacingPayload(of: plain, with: altered, compressed: false), "deflate stream")
            refused(
                try Replica.bundleReplacingPayload(of: plain, with: stream.prefix(stream.count / 2), compressed: false),
                "cut short")
            refused(
                try Replica.bundleReplacingPayload(of: plain, with: stream + Data("junk".utf8), compressed: false),
                "after the end")
            let bomb = try BundleCompression.compress(Data(count: 8 << 20))
            #expect(bomb.count < 64 * 1024)
            let inflated = #expect(throws: LiaisonError.self) {
                try BundleCompression.decompress(bomb, limit: 1 << 20)
            }
            #expect(inflated?.message.contains("inflates past 1 MiB") == true)
            var otherMethod = plain
            let method = try #require(otherMethod.range(of: Data("\"compression\":\"deflate\"".utf8)))
            otherMethod.replaceSubrange(method, with: Data("\"compression\":\"zstd\"".utf8))
            refused(otherMethod, "unknown method")
            // Cut short, padded, or not a bundle at all.
            refused(plain.prefix(plain.count - 10), "payload has")
            refused(plain + Data("x".utf8), "payload has")
            refused(Data("hello".utf8), "does not start with")
            // The body re-signed by someone else under NL's name.
            let attacker = try factory.make("XX-HOSTILE")
            var body = try tr.openBundle(plain).body
            body.transactions[body.transactions.count - 1].changes[0].values?["name"] = .text("Planted")
            let forged = try attacker.assembleBundle(
                try Replica.encodeBundleBody(body), kind: .changes, sender: nl.siteID, senderSite: "NL-NCTV",
                recipient: tr.siteID, recipientSite: "TR-TNP", sealTo: nil)
            refused(forged, "not signed by NL-NCTV's trusted key")
            // A sealed bundle altered in transit.
            _ = try nl.importBundle(try tr.makeAcknowledgementBundle(for: "NL-NCTV").data)
            let (sealed, summary) = try nl.makeBundle(for: "TR-TNP")
            #expect(summary.sealed)
            var flipped = sealed
            flipped[flipped.count - 20] ^= 0x01
            refused(flipped, "does not open")
            // Verifying the genuine one writes nothing either.
            let dryRun = try tr.importBundle(sealed, dryRun: true)
            #expect(dryRun.dryRun && dryRun.applied == summary.transactions)
            #expect(try tr.dump() == before && tr.versionVector().entries.isEmpty)
            #expect(try tr.importBundle(sealed).applied == summary.transactions)
        }
    }

    @Test func anAttackerSignedBundleIsHeldOrRefusedAsItsPushWouldBe() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try Self.airGapped(factory)
            let attacker = try factory.make("XX-HOSTILE")
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            try transfer(from: tr, to: attacker)
            // TR knows the attacker as a peer that may write `public` only.
            try tr.addPeer(
                name: "XX-HOSTILE", url: "http://air-gapped.invalid", token: "bundles-only-token",
                siteID: attacker.siteID, read: ["public"], write: ["public"], publicKey: attacker.publicKey)
            try attacker.addPeer(
                name: "TR-TNP", url: "http://air-gapped.invalid", token: "bundles-only-token", siteID: tr.siteID,
                read: ["*"], write: ["*"], publicKey: tr.publicKey)
            try attacker.write(author: "mallory") {
                try $0.set("topic", id: "topic-planted", ["name": "Planted", "scope": "gctf"])
            }
            try attacker.write(author: "mallory") { try $0.set("topic", id: "topic-next", ["name": "Next"]) }
            try attacker.write(author: "mallory") { try $0.set("topic", id: "topic-own", ["name": "Own"]) }

            // Its write outside its grant is held, with what waits behind it, as a push would be.
            let (bundle, _) = try attacker.makeBundle(for: "TR-TNP", since: try tr.versionVector())
            let report = try tr.importBundle(bundle)
            #expect(report.applied == 0 && report.held == 3)
            #expect(report.heldHere.map(\.id) == ["XX-HOSTILE#1", "XX-HOSTILE#2", "XX-HOSTILE#3"])
            #expect(report.heldHere.first?.error == "forbidden_scope")
            #expect(try tr.row("topic", id: "topic-planted") == nil)
            #expect(try tr.status().quarantined.count == 3)
            // The attacker's acknowledgement says what TR holds of it.
            let (ack, _) = try tr.makeAcknowledgementBundle(for: "XX-HOSTILE")
            #expect(try attacker.importBundle(ack).heldThere.map(\.id) == report.heldHere.map(\.id))

            // NL's transactions altered and relayed in the attacker's own signed bundle: refused whole.
            try nl.write(author: "anna") { try $0.set("topic", id: "topic-relayed", ["name": "Genuine"]) }
            var relayed = try tr.openBundle(try nl.makeBundle(for: "TR-TNP").data).body
            relayed.transactions[relayed.transactions.count - 1].changes[0].values?["name"] = .text("Altered")
            let vector = try tr.versionVector()
            let own = try attacker.makeBundle(for: "TR-TNP", since: try tr.versionVector()).data
            var body = try tr.openBundle(own).body
            body.transactions = relayed.transactions
            body.keys = relayed.keys
            let altered = try attacker.assembleBundle(
                try Replica.encodeBundleBody(body), kind: .changes, sender: attacker.siteID, senderSite: "XX-HOSTILE",
                recipient: tr.siteID, recipientSite: "TR-TNP", sealTo: nil)
            let error = #expect(throws: LiaisonError.self) { try tr.importBundle(altered) }
            #expect(error?.code == .invalidTransaction)
            #expect(try tr.versionVector() == vector && tr.row("topic", id: "topic-relayed") == nil)

            // A bundle for someone else, and one from a site whose key is not trusted here.
            let ma = try factory.make("MA-DGST")
            try ma.pinKey(of: nl.identity)
            try ma.addPeer(name: "NL-NCTV", url: "http://air-gapped.invalid", token: "bundles-only-token")
            #expect(throws: LiaisonError.self) { try ma.importBundle(try nl.makeBundle(for: "TR-TNP").data) }
            let stranger = try factory.make("YY-UNKNOWN")
            try stranger.addPeer(
                name: "TR-TNP", url: "http://air-gapped.invalid", token: "bundles-only-token", siteID: tr.siteID,
                read: ["*"], write: ["*"], publicKey: tr.publicKey)
            let untrusted = #expect(throws: LiaisonError.self) {
                try tr.importBundle(try stranger.makeBundle(for: "TR-TNP").data)
            }
            #expect(untrusted?.code == .untrustedKey)
        }
    }

    @Test func aBundleThatBuildsOnAnEarlierOneWaitsForItAndNamesWhatIsMissing() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try Self.airGapped(factory)
            try nl.write(author: "anna") { try $0.set("topic", id: "topic-earlier", ["name": "Earlier"]) }
            let (first, _) = try nl.makeBundle(for: "TR-TNP")
            let sent = try nl.versionVector()
            try nl.write(author: "anna") { try $0.set("topic", id: "topic-later", ["name": "Later"]) }
            let (second, summary) = try nl.makeBundle(for: "TR-TNP", since: sent)
            #expect(summary.transactions == 1)
            let early = try tr.importBundle(second)
            #expect(early.missing == ["NL-NCTV#1-\(sent[nl.siteID])"] && early.applied == 0, "\(early.missing)")
            #expect(try tr.versionVector().entries.isEmpty)
            #expect(try tr.importBundle(second, dryRun: true).missing == early.missing)
            #expect(try tr.importBundle(first).applied == Int(sent[nl.siteID]))
            #expect(try tr.importBundle(second).applied == 1)
            #expect(try tr.row("topic", id: "topic-later") != nil)
        }
    }

    /// The acknowledgement example of docs/PROTOCOL.md is exactly what the code signs.
    @Test func theAcknowledgementExampleOfTheProtocolIsWhatTheCodeSigns() throws {
        let marker = "<!-- example: acknowledgement-signed-bytes -->\n```\n"
        let document = DocumentationExampleTests.document
        let start = try #require(document.range(of: marker), "no acknowledgement example in PROTOCOL.md")
        let end = try #require(document.range(of: "\n```", range: start.upperBound..<document.endIndex))
        let ack = Acknowledgement(
            site: "tr-1", siteCode: "TR-TNP", peer: "nl-1", vector: VersionVector(["nl-1": 12, "ma-1": 3, "be-1": 0]),
            at: "2026-11-30T16:51:32.632Z", signature: "")
        #expect(String(decoding: ack.signedBytes, as: UTF8.self) == String(document[start.upperBound..<end.lowerBound]))
    }

    /// The figure for issue 17: bytes of a bundle per carried change, 1,000 one-change transactions.
    @Test func bundleSizePerChange() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try Self.airGapped(factory)
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            _ = try nl.importBundle(try tr.makeAcknowledgementBundle(for: "NL-NCTV").data)
            for index in 0..<1_000 {
                try nl.write(author: "anna") {
                    try $0.set("topic", id: "topic-\(index)", ["name": .text("Topic number \(index)")])
                }
            }
            let (data, summary) = try nl.makeBundle(for: "TR-TNP")
            #expect(summary.changes == 1_000 && summary.sealed)
            let perChange = Double(data.count) / Double(summary.changes)
            print(
                "bundle size per change: \(Int(perChange)) bytes (\(data.count) bytes, \(summary.changes) changes, sealed)"
            )
            #expect(perChange < 2_000)
            #expect(try tr.importBundle(data).applied == 1_000)
        }
    }
}
