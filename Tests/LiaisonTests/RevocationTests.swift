import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Revocations and rotations that travel (issue 11, point 3): a key stolen from NL-NCTV is
/// revoked by NL itself (with its new key) or by an introducer; the revocation reaches replicas
/// that never talk to NL, through a relay, over HTTP; the thief, signing its own transactions with
/// the stolen key and pushing them with a stolen token, is refused or held everywhere. A key lost
/// with its machine is replaced through an introducer's vouching.
@Suite(.timeLimit(.minutes(3))) struct RevocationTests {
    /// What a thief who took NL's machine holds: a copy of its replica and of its key file.
    static func steal(_ victim: Replica, to path: String) throws -> Replica {
        for suffix in ["", "-wal", ".keys"] where FileManager.default.fileExists(atPath: victim.path + suffix) {
            try FileManager.default.copyItem(atPath: victim.path + suffix, toPath: path + suffix)
        }
        return try Replica.open(at: path)
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The thief registers as a peer of `replica` (a token it stole, or one it was given) and pushes
    /// everything it holds of NL over HTTP.
    static func thiefPushes(_ thief: Replica, to replica: Replica, url: String) async throws -> SignedHTTP.Answer {
        let token = "token-XX-THIEF-\(replica.siteCode)"
        try replica.addPeer(name: "XX-THIEF", url: "http://127.0.0.1:1", token: token, read: ["*"], write: ["*"])
        let page = try thief.changes(after: .start, excluding: VersionVector())
        return try await SignedHTTP.push(url, token: token, page.transactions, keys: page.keys)
    }

    @Test func anAgencysOwnRevocationTravelsAcrossARelayAndItsThiefIsRefusedEverywhere() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try transfer(from: nl, to: ma)
            try transfer(from: ma, to: tr)
            let stolenAt = Self.now
            try await Task.sleep(for: .milliseconds(5))
            let thief = try Self.steal(nl, to: factory.path("thief"))
            try thief.write(author: "mallory") { try $0.set("topic", id: "topic-thief", ["name": "Forged"]) }
            // NL's operator learns of the theft: a new key, and the old one revoked since the theft.
            let old = try nl.currentIdentity()
            let rotated = try nl.rotateKey(compromisedSince: stolenAt)
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-genuine", ["name": "After the theft"]) }
            try await withServer(nl) { nlURL in
                try await withServer(ma) { maURL in
                    try await withServer(tr) { trURL in
                        try await SyncDriver(replica: ma).sync(with: try pair(ma, with: nl, url: nlURL))
                        // TR never talks to NL: the rotation and the revocation travel through MA.
                        try await SyncDriver(replica: tr).sync(with: try pair(tr, with: ma, url: maURL))
                        for replica in [ma, tr] {
                            #expect(try replica.row("topic", id: "topic-genuine")?["name"] == "After the theft")
                            #expect(
                                try replica.trustedSites().first { $0.siteID == nl.siteID }?.publicKey
                                    == rotated.publicKey)
                            let revocations = try replica.keyRevocations(of: nl.siteID)
                            #expect(
                                revocations.contains {
                                    $0.key == old.publicKey && $0.since == stolenAt && $0.by == nl.siteID
                                }, "\(replica.siteCode): \(revocations)")
                            #expect(
                                try replica.status().alarms.contains { $0.kind == .revocation && $0.site == "NL-NCTV" },
                                "\(replica.siteCode) shows no revocation alarm")
                        }
                        // The thief pushes NL's next transaction, signed with the stolen key after the
                        // theft, to the relay and to TR: not NL's key for it, refused as a forgery.
                        for (replica, url) in [(ma, maURL), (tr, trURL)] {
                            let answer = try await Self.thiefPushes(thief, to: replica, url: url)
                            #expect(
                                answer.status == 422 && answer.text.contains("not signed by NL-NCTV's key"),
                                "\(replica.siteCode): \(answer)")
                            #expect(try replica.row("topic", id: "topic-thief") == nil)
                        }
                    }
                }
            }
            for replica in [ma, tr] {
                let report = try replica.verify()
                #expect(report.isIntact, "\(replica.siteCode): \(report.problems)")
            }
        }
    }

    /// NL's machine is gone with its key. The coordinator BE-OCAM, an introducer for MA and TR,
    /// revokes the stolen key; a thief's transaction signed with it after the theft is held at TR
    /// for review. NL makes a new key, BE-OCAM vouches for it after a phone call, and NL's new
    /// transactions apply at MA and TR, which never talked to NL about it.
    @Test func anIntroducersRevocationAndVouchedKeyTravelAcrossARelay() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let co = try factory.make("BE-OCAM")
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try transfer(from: nl, to: co)
            try transfer(from: co, to: ma)
            try transfer(from: ma, to: tr)
            for replica in [ma, tr] { try replica.setIntroducer(site: co.siteCode, true) }
            let applied = try nl.versionVector()[nl.siteID]
            let stolenAt = Self.now
            try await Task.sleep(for: .milliseconds(5))
            let thief = try Self.steal(nl, to: factory.path("thief"))
            try thief.write(author: "mallory") { try $0.set("topic", id: "topic-thief", ["name": "Forged"]) }
            try co.revokeKey(of: nl.siteCode, since: stolenAt)
            try await withServer(co) { coURL in
                try await withServer(ma) { maURL in
                    try await withServer(tr) { trURL in
                        try await SyncDriver(replica: ma).sync(with: try pair(ma, with: co, url: coURL))
                        try await SyncDriver(replica: tr).sync(with: try pair(tr, with: ma, url: maURL))
                        for replica in [ma, tr] {
                            #expect(
                                try replica.keyRevocations(of: nl.siteID).contains {
                                    $0.by == co.siteID && $0.since == stolenAt
                                }, "\(replica.siteCode) did not get BE-OCAM's revocation")
                            #expect(try replica.alarms().contains { $0.kind == .revocation })
                        }
                        // The thief's transaction is genuine NL-signed: held for review, not applied.
                        let held = try await Self.thiefPushes(thief, to: tr, url: trURL)
                        #expect(held.status == 200, "\(held)")
                        let answer = try JSONDecoder().decode(PushResponse.self, from: Data(held.text.utf8))
                        #expect(
                            answer.held?.contains { $0.error == "untrusted_key" && $0.message.contains("revoked") }
                                == true, "\(held)")
                        #expect(try tr.row("topic", id: "topic-thief") == nil)
                        #expect(try tr.quarantined().contains { $0.held.seq == applied + 1 })

                        // NL makes a new key; BE-OCAM vouches for it, from NL's next transaction on.
                        let (fresh, fromSeq) = try nl.replaceLostKey()
                        #expect(fromSeq == applied + 1)
                        try nl.write(author: "anne") { try $0.set("topic", id: "topic-genuine", ["name": "New key"]) }
                        try co.vouchForKey(of: nl.siteCode, key: fresh.publicKey, fromSeq: fromSeq)
                        try trustKeys(of: co, at: nl)
                        try co.addPeer(
                            name: "NL-NCTV", url: "http://127.0.0.1:1", token: "token-NL-NCTV-BE-OCAM", read: ["*"],
                            write: ["*"])
                        try nl.addPeer(
                            name: "BE-OCAM", url: coURL, token: "token-NL-NCTV-BE-OCAM", read: ["*"], write: ["*"])
                        try await SyncDriver(replica: nl).sync(with: try nl.peers().first { $0.name == "BE-OCAM" }!)
                        #expect(try co.row("topic", id: "topic-genuine")?["name"] == "New key")
                        try await SyncDriver(replica: ma).sync(with: try ma.peers().first { $0.name == "BE-OCAM" }!)
                        try await SyncDriver(replica: tr).sync(with: try tr.peers().first { $0.name == "MA-DGST" }!)
                        for replica in [ma, tr] {
                            #expect(
                                try replica.row("topic", id: "topic-genuine")?["name"] == "New key",
                                "\(replica.siteCode)")
                            #expect(
                                try replica.trustedSites().first { $0.siteID == nl.siteID }?.publicKey
                                    == fresh.publicKey)
                            #expect(try replica.row("topic", id: "topic-thief") == nil)
                        }
                        // Once NL's transaction took its place, the thief's is no longer NL's at all.
                        let again = try await SignedHTTP.push(
                            trURL, token: "token-XX-THIEF-TR-TNP",
                            try thief.changes(after: .start, excluding: VersionVector()).transactions)
                        #expect(again.status == 422 && again.text.contains("not signed by NL-NCTV's key"), "\(again)")
                    }
                }
            }
            for replica in [ma, tr] {
                let report = try replica.verify()
                #expect(report.isIntact, "\(replica.siteCode): \(report.problems)")
            }
        }
    }

    /// A revocation signed by the thief's stolen (old) key of the key that replaced it, or by a
    /// site that is not an introducer here, is not believed.
    @Test func aRevocationFromSomeoneNotBelievedIsIgnored() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let xx = try factory.make("XX-HOSTILE")
            try transfer(from: nl, to: ma)
            try ma.trust(site: xx.siteCode, siteID: xx.siteID, key: xx.publicKey)
            let thief = try Self.steal(nl, to: factory.path("thief"))
            let rotated = try nl.rotateKey()
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-rotated", ["name": "Rotated"]) }
            let page = try nl.changes(after: .start, excluding: try ma.versionVector())
            _ = try ma.apply(page.transactions, keys: page.keys)
            #expect(try ma.trustedSites().first { $0.siteID == nl.siteID }?.publicKey == rotated.publicKey)
            // The thief, with the old key, revokes NL's new key.
            var record = SiteKeyRecord(site: "NL-NCTV", key: rotated.publicKey)
            record.revocations = [
                try Self.revocation(of: rotated.publicKey, by: nl.siteID, signer: thief),
                // XX-HOSTILE is trusted here, but not an introducer.
                try Self.revocation(of: rotated.publicKey, by: xx.siteID, signer: xx, of: nl.siteID),
            ]
            _ = try ma.apply([], keys: [nl.siteID: record])
            #expect(try ma.keyRevocations(of: nl.siteID).isEmpty)
            #expect(try ma.alarms().isEmpty)
        }
    }

    /// A revocation signed with `signer`'s current key, as `Replica.revokeKey` makes them.
    static func revocation(of key: String, by: String, signer: Replica, of siteID: String? = nil) throws
        -> KeyRevocation
    {
        try signer.signRevocation(of: key, since: 0, by: by, siteID: siteID ?? by)
    }
}
