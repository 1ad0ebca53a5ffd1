import Foundation
import Liaison
import LiaisonProtocol
import LiaisonTesting
import Testing

/// Rows of a table a replica does not know yet are kept as opaque data; once a schema change
/// makes the table known, they are shown under the same rules as on arrival. A hostile peer signs
/// its own transactions and pushes them over HTTP.
@Suite(.timeLimit(.minutes(3))) struct SchemaRevealTests {
    /// NL adds an `owner-wins` table and three rows of it.
    static func nlWithOfficers(_ factory: ReplicaFactory) throws -> Replica {
        let nl = try factory.make("NL-NCTV", sample: true)
        try nl.addTable(
            TableDefinition("liaison_officer", policy: .ownerWins, columns: [ColumnDefinition("name", required: true)]),
            author: "anne")
        try nl.write(author: "anne") {
            for index in 1...3 { try $0.set("liaison_officer", id: "lo-\(index)", ["name": .text("Officer \(index)")]) }
        }
        return nl
    }

    /// The hostile site's three transactions: an honest rename of `lo-3`, then renames of `lo-1`
    /// and `lo-2` altered to take `lo-1` over and to claim owner level 50 on `lo-2`, re-signed.
    static func hostileTransactions(_ hostile: Replica, excluding vector: VersionVector) throws -> PullResponse {
        for (id, name) in [("lo-3", "Renamed by XX"), ("lo-1", "Taken by XX"), ("lo-2", "Loud XX")] {
            try hostile.write(author: "mallory") { try $0.set("liaison_officer", id: id, ["name": .text(name)]) }
        }
        var page = try hostile.changes(after: .start, excluding: vector)
        var records = Array(page.transactions.suffix(3))
        try #require(records.count == 3 && records.allSatisfy { $0.site == "XX-HOSTILE" })
        // A page leaves out a link whose record is in the same page: re-signed, each names it.
        records[1].changes[0].values?["owner"] = "XX-HOSTILE"
        records[1].previous = try hostile.headerDigest(of: records[0])
        records[1] = try hostile.signedAsOrigin(records[1])
        records[2].changes[0].levels = ["name": 50]
        records[2].previous = try hostile.headerDigest(of: records[1])
        records[2] = try hostile.signedAsOrigin(records[2])
        page.transactions = records
        return page
    }

    /// Pushes `page` over HTTP to `receiver`, signed as `sender`, a peer granted `public`; returns
    /// the error codes of what the receiver holds of it.
    static func push(_ page: PullResponse, by sender: Replica, to receiver: Replica) async throws -> [String] {
        try await withServer(receiver) { url in
            _ = try pair(sender, with: receiver, url: url)
            try receiver.grant(peer: sender.siteCode.rawValue, read: ["public"], write: ["public"])
            let answer = try await SignedHTTP.push(
                url, token: "token-\(sender.siteCode)-\(receiver.siteCode)", page.transactions, keys: page.keys)
            #expect(answer.status == 200, "\(answer.text)")
            return try WireJSON.decode(PushResponse.self, from: Data(answer.text.utf8)).held?.map(\.error) ?? []
        }
    }

    @Test func rowsOfATableUnknownOnArrivalMeetTheOwnerRulesWhenShown() async throws {
        try await withReplicas { factory in
            let nl = try Self.nlWithOfficers(factory)
            let ma = try factory.make("MA-DGST")
            let hostile = try factory.make("XX-HOSTILE")
            try hostile.grantSchemaChanges(to: "NL-NCTV")
            try transfer(from: nl, to: hostile)
            // MA has NL's rows, but not the table: it has not let NL change its schema yet.
            try transfer(from: nl, to: ma)
            #expect(ma.schema == SchemaDefinition.cooperation)
            let page = try Self.hostileTransactions(hostile, excluding: try ma.versionVector())
            // Not checkable on arrival: the table has no rows here to own. Kept, not held.
            #expect(try await Self.push(page, by: hostile, to: ma).isEmpty)
            #expect(try ma.versionVector()[hostile.siteID] == 3)
            try ma.grantSchemaChanges(to: "NL-NCTV")
            // Shown now: the honest rename, not the takeover nor the loud claim.
            #expect(try ma.row("liaison_officer", id: "lo-3")?["name"] == "Renamed by XX")
            #expect(try ma.row("liaison_officer", id: "lo-1")?["owner"] == "NL-NCTV")
            #expect(try ma.row("liaison_officer", id: "lo-1")?["name"] == "Officer 1")
            #expect(try ma.row("liaison_officer", id: "lo-2")?["name"] == "Officer 2")
            #expect(try ma.verify().problems.isEmpty)
            let notShown = try ma.schemaReport().notShown
            #expect(notShown.map(\.transaction) == ["XX-HOSTILE#2", "XX-HOSTILE#3"], "\(notShown)")
            #expect(notShown.first?.reason.contains("only the owner hands a row over") == true, "\(notShown)")
            // NL, which knew the table on arrival, holds the two altered ones: the same rows.
            #expect(try await Self.push(page, by: hostile, to: nl) == ["forbidden_scope", "held_behind"])
            #expect(try ma.rows("liaison_officer") == nl.rows("liaison_officer"))
            // MA relays the kept transactions intact: a replica that knows the table holds them too.
            let de = try factory.make("DE-BFV")
            try de.grantSchemaChanges(to: "NL-NCTV")
            try transfer(from: ma, to: de)
            #expect(try de.quarantined().map(\.held.error).sorted() == ["forbidden_scope", "held_behind"])
            #expect(try de.rows("liaison_officer") == nl.rows("liaison_officer"))
        }
    }
}
