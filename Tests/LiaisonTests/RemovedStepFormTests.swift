import Foundation
import Liaison
import LiaisonTesting
import Testing

/// Removed steps name sites by this replica's site index (`RemovedStepForm`, form 1); steps kept
/// by an earlier build name them by site id (form 0) and are converted in place when the replica
/// opens, with no replica format change, and walks read both.
@Suite(.timeLimit(.minutes(3))) struct RemovedStepFormTests {
    static func sql(_ replica: Replica, _ statement: String) async throws -> String {
        let folder = URL(fileURLWithPath: replica.path).deletingLastPathComponent()
        let outcome = try await FaultTools.run(FaultTools.sqlite3, [replica.path, statement], in: folder)
        #expect(outcome.status == 0, "\(outcome)")
        return outcome.stdout
    }

    /// Puts every step back in the form an earlier build kept: sites by id, `form` 0.
    static func toSiteIDs(_ replica: Replica) async throws {
        var statements: [String] = []
        for index in 1...4 {
            let id = "(SELECT site_id FROM _liaison_site WHERE sidx = \(index))"
            statements.append(
                """
                UPDATE _liaison_removed_step SET form = 0,
                    context = replace(context, '"\(index)":', '"' || \(id) || '":'),
                    bases = replace(replace(bases, '"\(index):', '"' || \(id) || ':'), '"=\(index):', '"=' || \(id) || ':')
                WHERE EXISTS \(id.replacingOccurrences(of: "site_id", with: "1"))
                """)
        }
        _ = try await sql(replica, statements.joined(separator: ";\n"))
    }

    @Test func stepsKeptBySiteIDAreConvertedWhenTheReplicaOpensAndStillWalked() async throws {
        try await withReplicas { factory in
            let (nl, tr) = try BundleTests.airGapped(factory)
            let row = "topic-form"
            try nl.write(author: "anna") {
                try $0.set("topic", id: row, ["name": "Form", "description": "first"])
            }
            _ = try nl.versionVector()
            // TR writes too, so NL's later contexts name a second site.
            try tr.write(author: "mehmet") { try $0.set("topic", id: "topic-tr", ["name": "From TR"]) }
            _ = try nl.importBundle(try tr.makeBundle(for: "NL-NCTV").data)
            for text in ["second", "third", "fourth"] {
                try nl.write(author: "anna") { try $0.set("topic", id: row, ["description": .text(text)]) }
                _ = try nl.versionVector()
            }
            _ = try tr.importBundle(try nl.makeBundle(for: "TR-TNP").data)
            _ = try nl.importBundle(try tr.makeAcknowledgementBundle(for: "NL-NCTV").data)
            let removal = try nl.compact(removingTransactions: true)
            #expect(removal.transactions >= 2, "\(removal)")

            let listing =
                "SELECT sidx, seq, tbl, pk, hlc, context, bases, lvls, scope, form FROM _liaison_removed_step ORDER BY 1, 2, 3, 4"
            let size = "SELECT sum(length(context) + ifnull(length(bases), 0)) FROM _liaison_removed_step"
            let indexed = try await Self.sql(nl, listing)
            #expect(!indexed.isEmpty && !indexed.contains(tr.siteID) && !indexed.contains(nl.siteID), "\(indexed)")
            #expect(try await Self.sql(nl, "SELECT count(*) FROM _liaison_removed_step WHERE form <> 1") == "0\n")
            let indexedBytes = Int(try await Self.sql(nl, size).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0

            // As an earlier build kept them: by site id.
            try await Self.toSiteIDs(nl)
            let byID = try await Self.sql(nl, listing)
            #expect(byID.contains(tr.siteID) && byID.contains(nl.siteID), "\(byID)")
            let byIDBytes = Int(try await Self.sql(nl, size).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(byIDBytes > 2 * indexedBytes, "\(byIDBytes) against \(indexedBytes)")
            print("removed steps' contexts and bases: \(byIDBytes) bytes by site id, \(indexedBytes) by site index")

            // Opening the replica converts them in place, to exactly what compaction keeps now.
            _ = try Replica.open(at: nl.path)
            #expect(try await Self.sql(nl, listing) == indexed)

            // And the walk reads them: TR's deletion, whose chain passes the removed rewrites, wins.
            #expect(try tr.write(author: "mehmet") { try $0.delete("topic", id: row) } == true)
            let back = try nl.importBundle(try tr.makeBundle(for: "NL-NCTV").data)
            #expect(back.held == 0 && back.missing.isEmpty)
            #expect(try nl.row("topic", id: row) == nil)
            #expect(try nl.conflicts(includeResolved: true).filter { $0.rowID == row }.isEmpty)
            #expect(try nl.verify().isIntact)
        }
    }
}
