import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// The `wanted` list (changes a peer withheld, asked for again) is capped; changes this replica
/// may never read must not keep it full and block later ones that a peer can send.
@Suite struct WantedTests {
    @Test func changesThisReplicaMayNeverReadDoNotBlockLaterWantedOnes() throws {
        try withTemporaryDirectorySync { directory in
            let factory = ReplicaFactory(directory: directory)
            let nl = try factory.make("NL-NCTV")
            let ma = try factory.make("MA-DGST")
            let relay = try factory.make("XX-RELAY")
            for index in 1...3 {
                try nl.write(author: "anne") {
                    try $0.set("topic", id: "topic-g\(index)", ["name": .text("GCTF \(index)"), "scope": "gctf"])
                }
            }
            // MA may read only `public` from NL: these three stay withheld for good.
            try transfer(from: nl, to: ma, readable: ["public"], writable: nil)
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-p", ["name": "Public"]) }
            // A relay passes the public change on as a digest only.
            try transfer(from: nl, to: relay)
            let stripped = try relay.changes(after: .start, excluding: try ma.versionVector(), readable: [])
            _ = try ma.apply(stripped.transactions, keys: stripped.keys)
            #expect(try ma.row("topic", id: "topic-p") == nil)
            // Asking NL for two withheld transactions a round: the public one comes within two rounds.
            var asked: [[String]] = []
            for _ in 0..<2 where try ma.row("topic", id: "topic-p") == nil {
                let wanted = try ma.wantedTransactions(limit: 2)
                asked.append(wanted.map { "\($0.seq)" })
                let page = try nl.changes(
                    after: .start, excluding: try ma.versionVector(), readable: ["public"], wanted: wanted)
                _ = try ma.apply(page.transactions, keys: page.keys, writableScopes: ["public"])
            }
            #expect(try ma.row("topic", id: "topic-p")?["name"] == "Public", "asked \(asked)")
            // The unreadable ones are still wanted (a wider grant later brings them), asked in turn.
            #expect(Set(try ma.wantedTransactions().map(\.seq)) == [1, 2, 3])
        }
    }

    /// NL creates `topic-x` in `public`, TR the same id in `eu`, later, so TR's wins. MA, which may
    /// read only `public`, gets TR's as a digest first (it held no row: no outline), then NL's,
    /// and holds the row. Asking NL again for TR's withheld change brings its outline: MA drops
    /// the row, as every replica that may read only `public` does.
    @Test func aRowThatLostToAConcurrentCreationInAnUnreadableScopeLeavesAPartialReplica() throws {
        try withTemporaryDirectorySync { directory in
            let factory = ReplicaFactory(directory: directory)
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TIB")
            let ma = try factory.make("MA-DGST")
            try trustEachOther([nl, tr, ma])
            try nl.write(author: "anne") { try $0.set("topic", id: "topic-x", ["name": "NL's"]) }
            Thread.sleep(forTimeInterval: 0.01)
            try tr.write(author: "emre") { try $0.set("topic", id: "topic-x", ["name": "TR's", "scope": "eu"]) }
            try transfer(from: tr, to: ma, readable: ["public"], writable: nil)
            try transfer(from: nl, to: ma, readable: ["public"], writable: nil)
            #expect(try ma.row("topic", id: "topic-x")?["name"] == "NL's")
            try transfer(from: tr, to: nl)
            #expect(try nl.row("topic", id: "topic-x")?["scope"] == "eu")
            try transfer(from: nl, to: ma, readable: ["public"], writable: nil)
            #expect(try ma.row("topic", id: "topic-x") == nil)
            #expect(try !ma.dump().contains("topic-x"))
        }
    }
}
