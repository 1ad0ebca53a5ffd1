import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Runs of whole transactions apply in one savepoint (`BatchApplication+Groups`): a transaction of
/// the group that cannot be applied sends the whole group back to one savepoint per transaction,
/// so the quarantine holds exactly what it held before, and the applied seqs and apply order,
/// written once per group, are what one write per transaction left.
@Suite(.timeLimit(.minutes(2))) struct GroupApplyTests {
    /// A hostile peer (its own key, the real HTTP protocol) pushes six transactions in one batch;
    /// the fourth writes outside its grant.
    @Test func aTransactionHeldInsideAGroupLeavesTheOthersAppliedAndTheRestHeldBehind() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let hostile = try factory.make("XX-HOSTILE")
            try transfer(from: nl, to: hostile)
            try await withServer(nl) { url in
                _ = try pair(hostile, with: nl, url: url)
                try nl.grant(peer: "XX-HOSTILE", read: ["public"], write: ["public"])
                for index in 1...6 {
                    let scope = index == 4 ? "gctf" : "public"
                    try hostile.write(author: "mallory") {
                        try $0.set(
                            "topic", id: "topic-group-\(index)",
                            ["name": .text("Group \(index)"), "scope": .text(scope)])
                    }
                }
                let page = try hostile.changes(after: .start, excluding: try nl.versionVector())
                #expect(page.transactions.count == 6)
                let answer = try await SignedHTTP.push(
                    url, token: "token-XX-HOSTILE-NL-NCTV", page.transactions, keys: page.keys)
                #expect(answer.status == 200, "\(answer.text)")
                let pushed = try WireJSON.decode(PushResponse.self, from: Data(answer.text.utf8))
                #expect(pushed.applied == 3)
                #expect(pushed.held?.map(\.id) == ["XX-HOSTILE#4", "XX-HOSTILE#5", "XX-HOSTILE#6"])
                #expect(pushed.held?.first?.error == "forbidden_scope")
                #expect(pushed.held?.last?.error == "held_behind")
                for index in 1...3 {
                    #expect(try nl.row("topic", id: "topic-group-\(index)")?["name"] == .text("Group \(index)"))
                }
                for index in 4...6 { #expect(try nl.row("topic", id: "topic-group-\(index)") == nil) }
                #expect(try nl.versionVector()[hostile.siteID] == 3)

                // An altered copy of a later transaction in the same batch refuses the whole batch:
                // the group is rolled back and nothing of it stays.
                try hostile.write(author: "mallory") { try $0.set("topic", id: "topic-group-7", ["name": "Seven"]) }
                let more = try hostile.changes(after: .start, excluding: try nl.versionVector())
                var altered = more.transactions.filter { $0.seq != 4 && $0.seq != 5 && $0.seq != 6 }
                altered[altered.count - 1].changes[0].values?["name"] = "Altered"
                let before = try nl.dump()
                let refused = try await SignedHTTP.push(
                    url, token: "token-XX-HOSTILE-NL-NCTV", altered, keys: more.keys)
                #expect(refused.status == 422, "\(refused.text)")
                #expect(try nl.dump() == before)
                #expect(try nl.versionVector()[hostile.siteID] == 3)
                #expect(try nl.verify().isIntact)
            }
        }
    }

    /// Two origins' transactions interleaved in one batch: each origin's applied seq and the apply
    /// order are written at the group's end, and hold after the replica is opened again.
    @Test func aGroupLeavesTheAppliedSeqsAndTheApplyOrderAsOneWriteEachWould() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TIB")
            try transfer(from: nl, to: ma)
            try transfer(from: nl, to: tr)
            for index in 0..<5 {
                try ma.write(author: "karim") {
                    try $0.set("topic", id: "topic-ma-\(index)", ["name": .text("MA \(index)")])
                }
                try tr.write(author: "emre") {
                    try $0.set("topic", id: "topic-tr-\(index)", ["name": .text("TR \(index)")])
                }
            }
            try transfer(from: tr, to: ma)
            #expect(try ma.versionVector()[tr.siteID] == 5)
            // One batch with both origins' transactions.
            let page = try ma.changes(after: .start, excluding: try nl.versionVector())
            #expect(page.transactions.count == 10)
            try nl.pinKey(of: ma.identity)
            try nl.pinKey(of: tr.identity)
            let result = try nl.apply(page.transactions, keys: page.keys, from: "MA-DGST")
            #expect(result.applied == 10)
            // The apply order written once at the group's end is past every applied transaction, and a
            // local write after the batch is published after them.
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-nl-after", ["name": "After"]) }
            #expect(try nl.versionVector()[nl.siteID] >= 1)
            let order = try await FaultTools.run(
                FaultTools.sqlite3,
                [
                    factory.path("NL-NCTV"),
                    "SELECT (SELECT next_ord FROM _liaison_state) > (SELECT max(ord) FROM _liaison_tx), "
                        + "(SELECT count(DISTINCT ord) = count(*) FROM _liaison_tx)",
                ], in: URL(fileURLWithPath: factory.path("NL-NCTV")).deletingLastPathComponent())
            #expect(order.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1|1", "\(order.stdout)")
            let reopened = try Replica.open(at: factory.path("NL-NCTV"))
            #expect(try reopened.versionVector()[ma.siteID] == 5)
            #expect(try reopened.versionVector()[tr.siteID] == 5)
            #expect(try reopened.verify().isIntact)
            // The next batch from the same origins follows on from the written seqs.
            try ma.write(author: "karim") { try $0.set("topic", id: "topic-ma-5", ["name": "MA 5"]) }
            try transfer(from: ma, to: reopened)
            #expect(try reopened.versionVector()[ma.siteID] == 6)
            #expect(try reopened.row("topic", id: "topic-ma-5")?["name"] == "MA 5")
        }
    }
}
