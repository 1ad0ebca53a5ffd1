import Foundation
import Liaison

/// The apply path without HTTP: publish on A, pages read and applied in process on B.
enum Local {
    static func run(directory: String, updates: Int) throws -> [String: Double] {
        let a = try Replica.create(at: directory + "/la.db", site: SiteCode("BENCH-A")!, schema: Workload.schema)
        let b = try Replica.create(at: directory + "/lb.db", site: SiteCode("BENCH-B")!, schema: Workload.schema)
        // B's operator trusts A's key (without it every transaction would be held in quarantine,
        // and this would measure holding, not applying).
        for site in try a.trustedSites() where site.siteID == a.siteID {
            try b.trust(site: SiteCode(site.site)!, siteID: site.siteID, key: site.publicKey)
        }
        let sql =
            "INSERT INTO organisation(id, name, kind, country, updated_at, email, phone, address, city, postcode, notes, scope, owner) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'public', 'BENCH-A')"
        let rows = Workload.rows(updates)
        for row in rows {
            try a.write(author: "bench") { try $0.execute(sql, row.map { .text($0) }) }
        }
        var result: [String: Double] = [:]
        result["publish_seconds"] = try measure { _ = try a.versionVector() }
        var pages: [PullResponse] = []
        result["read_seconds"] = try measure {
            var cursor = SyncCursor.start
            while true {
                let page = try a.changes(after: cursor, excluding: VersionVector())
                pages.append(page)
                cursor = try SyncCursor(parsing: page.cursor)
                if !page.hasMore { break }
            }
        }
        var encoded: [Data] = []
        result["encode_seconds"] = try measure { encoded = try pages.map { try WireJSON.encode($0) } }
        var decoded: [PullResponse] = []
        result["decode_seconds"] = try measure {
            decoded = try encoded.map { try WireJSON.decode(PullResponse.self, from: $0) }
        }
        var applied = 0
        result["apply_seconds"] = try measure {
            for page in decoded { applied += try b.apply(page.transactions, keys: page.keys).applied }
        }
        guard applied == updates else {
            throw LiaisonError(.storage, "local bench: B applied \(applied) of \(updates) transactions")
        }
        result["transactions"] = Double(updates)
        return result
    }
}
