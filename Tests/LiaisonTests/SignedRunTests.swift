import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Signed runs: an origin signs the last transaction of each publish run and every 64th of its
/// sequence; the others are proved by the hash links up to a signed one, in the same page or in
/// the proof a record carries. Every transaction stays checkable on its own: relayed, cut from its
/// page, held, logged, audited.
@Suite(.timeLimit(.minutes(3))) struct SignedRunTests {
    /// NL publishes 150 one-row transactions in one run.
    static func longRun(_ factory: ReplicaFactory, count: Int = 150) throws -> Replica {
        let nl = try factory.make("NL-NCTV")
        for index in 0..<count {
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-run-\(index)", ["name": .text("N\(index)")]) }
        }
        return nl
    }

    @Test func aRunIsSignedAtItsCheckpointsAndHeadAndEveryTransactionVerifiesThroughCutPagesAndARelay() async throws {
        try await withReplicas { factory in
            let nl = try Self.longRun(factory)
            let page = try nl.changes(after: .start, excluding: VersionVector())
            #expect(page.transactions.count == 150)
            let signed = page.transactions.filter { $0.signature != nil }.map(\.seq)
            // The checkpoints 64 and 128, and the run's head.
            #expect(signed == [64, 128, 150])
            // The whole log in one page needs no proof: each record is proved by those after it.
            #expect(page.transactions.allSatisfy { $0.proof == nil })
            // A page cut inside the run: its last record carries the headers up to seq 64.
            let cut = try nl.changes(after: .start, excluding: VersionVector(), limits: PageLimits(maxChanges: 12))
            let tail = try #require(cut.transactions.last)
            #expect(
                cut.transactions.map(\.seq) == Array(1...12),
                "\(cut.transactions.map(\.seq)) \(cut.transactions.map(\.changes.count))")
            #expect(tail.signature == nil)
            let proof = try #require(tail.proof)
            #expect(proof.first?.seq == tail.seq + 1, "\(tail.seq) \(proof.map(\.seq))")
            #expect(
                proof.last?.seq == 64 && proof.last?.signature != nil,
                "\(proof.map { "\($0.seq):\($0.signature != nil)" })")
            #expect(proof.dropLast().allSatisfy { $0.signature == nil })

            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try trustKeys(of: nl, at: ma)
            try trustKeys(of: nl, at: tr)
            // MA receives the run in pages of 12 and 5 changes, TR through MA in pages of 7.
            #expect(try transfer(from: nl, to: ma, limits: PageLimits(maxChanges: 12)) == 150)
            let maAudit = try ma.verify()
            #expect(maAudit.isIntact, "\(maAudit.problems)")
            #expect(try transfer(from: ma, to: tr, limits: PageLimits(maxChanges: 7)) == 150)
            #expect(try tr.dump() == nl.dump())
            let audit = try tr.verify()
            #expect(audit.isIntact, "\(audit.problems)")
            #expect(audit.transactions == 150)
            #expect(try tr.history("topic", id: "topic-run-3").allSatisfy { $0.signature == "verified" })
        }
    }

    @Test func aReceiverKeepsTheProofOfAnUnsignedTailAndItsAuditFollowsIt() async throws {
        try await withReplicas { factory in
            let nl = try Self.longRun(factory, count: 20)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try trustKeys(of: nl, at: ma)
            try trustKeys(of: nl, at: tr)
            // Only the first page: MA's last NL transaction is unsigned, proved by the seal it kept.
            let first = try nl.changes(after: .start, excluding: VersionVector(), limits: PageLimits(maxChanges: 8))
            #expect(first.transactions.last?.signature == nil && first.transactions.last?.proof != nil)
            #expect(try ma.apply(first.transactions, keys: first.keys).applied == first.transactions.count)
            let sealed = try ma.verify()
            #expect(sealed.isIntact, "\(sealed.problems)")
            // MA relays what it has: its page's tail carries the proof MA kept, and TR checks it.
            let relayed = try ma.changes(after: .start, excluding: VersionVector())
            #expect(relayed.transactions.last?.proof?.last?.signature != nil)
            #expect(try tr.apply(relayed.transactions, keys: relayed.keys).applied == first.transactions.count)
            #expect(try tr.verify().isIntact)
            // The proof of a relayed tail altered on the way: refused, nothing applied.
            let other = try factory.make("BE-OCAM")
            try trustKeys(of: nl, at: other)
            var altered = relayed.transactions
            var proof = try #require(altered[altered.count - 1].proof)
            proof[0].author = "mallory"
            altered[altered.count - 1].proof = proof
            #expect(throws: LiaisonError.self) { try other.apply(altered, keys: relayed.keys) }
            #expect(try other.versionVector()[nl.siteID] == 0)
            // A tail without its proof is refused too: nothing signed covers it.
            var bare = relayed.transactions
            bare[bare.count - 1].proof = nil
            #expect(throws: LiaisonError.self) { try other.apply(bare, keys: relayed.keys) }
            // The rest arrives; the audit then follows the log up to the run's head.
            #expect(try transfer(from: nl, to: ma) > 0)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().isIntact)
        }
    }

    @Test func aHostilePeerSigningItsOwnRunsCannotAlterOrReorderInsideThemOverHTTP() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let hostile = try factory.make("XX-HOSTILE")
            try transfer(from: nl, to: hostile)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                let token = "token-XX-HOSTILE-NL-NCTV"
                for index in 0..<6 {
                    try hostile.write(author: "mallory") {
                        try $0.set("topic", id: "topic-x\(index)", ["name": .text("X\(index)")])
                    }
                }
                let page = try hostile.changes(after: .start, excluding: try nl.versionVector())
                #expect(page.transactions.count == 6)
                #expect(page.transactions.filter { $0.signature != nil }.count == 1)
                let before = try nl.dump()
                func refused(_ records: [TransactionRecord], _ label: String) async throws {
                    let answer = try await SignedHTTP.push(url, token: token, records, keys: page.keys)
                    #expect(answer.status == 422, "\(label): \(answer.text)")
                    #expect(try nl.dump() == before, "\(label)")
                    #expect(try nl.quarantined().isEmpty, "\(label)")
                }
                // A value changed inside the run (the head's signature covers it through the links).
                var altered = page.transactions
                altered[2].changes[0].values?["name"] = "Altered"
                try await refused(altered, "altered")
                // Two transactions of the run swap their contents, or their order.
                var swapped = page.transactions
                (swapped[1].changes, swapped[2].changes) = (swapped[2].changes, swapped[1].changes)
                try await refused(swapped, "swapped")
                var reordered = page.transactions
                reordered.swapAt(1, 2)
                (reordered[1].seq, reordered[2].seq) = (reordered[2].seq, reordered[1].seq)
                for index in reordered.indices { reordered[index].previous = nil }
                try await refused(reordered, "reordered")
                // A transaction inserted into the run, made up by the sender.
                var inserted = page.transactions
                var extra = inserted[3]
                extra.changes[0].id = "topic-planted"
                inserted.insert(extra, at: 4)
                try await refused(inserted, "inserted")
                // The run without its signed head: nothing covers the rest.
                try await refused(Array(page.transactions.dropLast()), "headless")
                // A signature moved from the head to an unsigned record.
                var moved = page.transactions
                moved[2].signature = moved[5].signature
                try await refused(moved, "moved signature")
                // Unaltered, the run applies and the log verifies.
                let honest = try await SignedHTTP.push(url, token: token, page.transactions, keys: page.keys)
                #expect(honest.status == 200, "\(honest.text)")
                #expect(try nl.row("topic", id: "topic-x5")?["name"] == "X5")
                #expect(try nl.verify().isIntact)
            }
        }
    }

    @Test func anUnsignedTransactionHeldInQuarantineKeepsItsProofAndIsReleasedAlone() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try nl.grant(peer: "MA-DGST", read: ["*"], write: ["gctf"])
                try ma.write(author: "karim") { try $0.set("organisation", id: "org-gctf", ["description": "a"]) }
                try ma.write(author: "karim") {
                    try $0.set("action", id: "act-roadmap-early-detection", ["status": "done"])
                }
                for index in 0..<3 {
                    try ma.write(author: "karim") {
                        try $0.set("organisation", id: "org-gctf", ["description": .text("after \(index)")])
                    }
                }
                let report = try await SyncDriver(replica: ma).sync(with: peer)
                #expect(report.heldThere.map(\.id) == ["MA-DGST#2", "MA-DGST#3", "MA-DGST#4", "MA-DGST#5"])
                // MA#1 applied unsigned: NL keeps the proof of its run (the held ones are not logged).
                #expect(try nl.versionVector()[ma.siteID] == 1)
                let audit = try nl.verify()
                #expect(audit.isIntact, "\(audit.problems)")
                // The held, unsigned MA#2 carries its proof: released alone, later, by the operator.
                #expect(try nl.quarantined().count == 4)
                #expect(try nl.releaseQuarantined("MA-DGST#2") == nil)
                #expect(try nl.versionVector()[ma.siteID] == 5)
                #expect(try nl.row("organisation", id: "org-gctf")?["description"] == "after 2")
                #expect(try nl.verify().isIntact)
            }
        }
    }

    @Test func transactionsSignedOneByOneAsThePreviousReleaseDidStillApplyAndVerify() async throws {
        try await withReplicas { factory in
            let nl = try Self.longRun(factory, count: 5)
            let ma = try factory.make("MA-DGST")
            try trustKeys(of: nl, at: ma)
            var records = try nl.changes(after: .start, excluding: VersionVector()).transactions
            // Every header names its link and carries its own signature, as before signed runs.
            for index in records.indices {
                if index > 0 { records[index].previous = try nl.headerDigest(of: records[index - 1]) }
                records[index] = try nl.signedAsOrigin(records[index])
            }
            #expect(records.allSatisfy { $0.signature != nil && $0.proof == nil })
            let keys = try nl.changes(after: .start, excluding: VersionVector()).keys
            #expect(try ma.apply(records, keys: keys).applied == records.count)
            #expect(try ma.dump() == nl.dump())
            #expect(try ma.verify().isIntact)
        }
    }

    @Test func theAuditFindsAnUnsignedTransactionOrItsRunEditedInTheLog() async throws {
        try await withReplicas { factory in
            let nl = try Self.longRun(factory, count: 10)
            #expect(try nl.verify().isIntact)
            let path = factory.path("NL-NCTV")
            // seq 5 is unsigned: its header edited, the head that covers it no longer does.
            try await runSQLite(path, "UPDATE _liaison_tx SET author = 'mallory' WHERE sidx = 1 AND seq = 5;")
            let edited = try nl.verify()
            #expect(edited.problems.contains { $0.contains("#5: its header was edited") })
            #expect(
                edited.problems.contains {
                    $0.contains("#4: no signed transaction") || $0.contains("#4: the signature of its run")
                })
            // A signature cut from the run's head leaves the whole run unproved.
            try await runSQLite(path, "UPDATE _liaison_tx SET author = 'anne' WHERE sidx = 1 AND seq = 5;")
            #expect(try nl.verify().isIntact)
            try await runSQLite(path, "UPDATE _liaison_tx SET signature = '' WHERE sidx = 1 AND seq = 10;")
            #expect(try nl.verify().problems.contains { $0.contains("#3: no signed transaction") })
        }
    }
}
