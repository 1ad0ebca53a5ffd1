import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Keys that change: a rotation signed by the old key is followed by peers and across a relay;
/// one not signed by it is an impostor; a revoked key's later transactions are refused while
/// earlier history stays verifiable.
@Suite(.timeLimit(.minutes(3))) struct KeyEventTests {
    @Test func aRotatedKeyIsFollowedByPeersAndAcrossARelay() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try transfer(from: nl, to: ma)
            try transfer(from: ma, to: tr)
            let old = try nl.currentIdentity()
            let rotated = try nl.rotateKey()
            #expect(rotated.publicKey != old.publicKey && rotated.siteID == old.siteID)
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-rotated", ["name": "After rotation"]) }
            try await withServer(nl) { nlURL in
                try await withServer(ma) { maURL in
                    let maToNL = try pair(ma, with: nl, url: nlURL)
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    #expect(try ma.row("topic", id: "topic-rotated")?["name"] == "After rotation")
                    #expect(try ma.trustedSites().first { $0.siteID == nl.siteID }?.publicKey == rotated.publicKey)
                    // TR never talks to NL: the rotation travels with NL's key in MA's pages.
                    let trToMA = try pair(tr, with: ma, url: maURL)
                    try await SyncDriver(replica: tr).sync(with: trToMA)
                    #expect(try tr.row("topic", id: "topic-rotated")?["name"] == "After rotation")
                }
            }
            for replica in [ma, tr] {
                let report = try replica.verify()
                #expect(report.isIntact, "\(report.problems)")
                #expect(try replica.alarms().isEmpty)
            }
            #expect(try nl.verify().isIntact)
        }
    }

    @Test func aRotationNotSignedByTheTrustedKeyIsAnImpostor() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            // A hostile replica with NL's site id rotates "NL's" key to its own, signing with its own.
            let fake = try Replica.create(at: factory.path("fake"), site: SiteCode("NL-NCTV")!, siteID: nl.siteID)
            try fake.rotateKey()
            let forged = try #require(try fake.keyRotations().first)
            let record = SiteKeyRecord(
                site: "NL-NCTV", key: forged.key, rotations: [forged])
            let error = try #require(throws: LiaisonError.self) { try ma.apply([], keys: [nl.siteID: record]) }
            #expect(error.code == .identityConflict, "\(error)")
            #expect(try ma.trustedSites().first { $0.siteID == nl.siteID }?.publicKey == nl.publicKey)
            #expect(try ma.alarms().count == 1)
        }
    }

    @Test func aRevokedKeysLaterTransactionsAreRefusedAndEarlierOnesStayVerifiable() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-before", ["name": "Before"]) }
            try transfer(from: nl, to: ma)
            let compromised = Int64(Date().timeIntervalSince1970 * 1000)
            try await Task.sleep(for: .milliseconds(5))
            try nl.write(author: "mallory") { try $0.set("topic", id: "topic-after", ["name": "After"]) }
            try ma.revokeKey(of: nl.siteCode, since: compromised)
            let page = try nl.changes(after: .start, excluding: try ma.versionVector())
            let held = try ma.apply(page.transactions, keys: page.keys)
            #expect(held.applied == 0, "\(held)")
            #expect(
                held.heldFromSource.contains { $0.error == "untrusted_key" && $0.message.contains("revoked") },
                "\(held)")
            #expect(try ma.row("topic", id: "topic-after") == nil)
            #expect(try ma.verify().isIntact, "history before the compromise stays verifiable")
            // A rotation signed by the revoked key is not followed: its thief could have made it.
            let stolen = try nl.rotateKey()
            let afterRotation = try nl.changes(after: .start, excluding: try ma.versionVector())
            #expect(throws: LiaisonError.self) { try ma.apply([], keys: afterRotation.keys) }
            #expect(try ma.trustedSites().first { $0.siteID == nl.siteID }?.publicKey != stolen.publicKey)
            // The operator confirms NL's new key out of band: it signs what comes after NL#2 here.
            try ma.pinKey(of: stolen)
            #expect(try ma.trustedSites().first { $0.siteID == nl.siteID }?.publicKey == stolen.publicKey)
            #expect(try ma.verify().isIntact)
            // Revoked from before NL#2: the log shows it for review.
            try ma.revokeKey(of: nl.siteCode, since: compromised - 60_000, key: nl.publicKey)
            let report = try ma.verify()
            #expect(report.problems.contains { $0.contains("revoked") }, "\(report.problems)")
        }
    }
}
