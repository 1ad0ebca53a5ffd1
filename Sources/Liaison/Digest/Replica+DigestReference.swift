import Foundation

extension Replica {
    /// Each row's stored hash next to the one `RowDigest.hash` computes from the row read cell by
    /// cell (`table/id` to the wire form of each), after bringing the digests up to date: tests
    /// check that the hashes kept write by write follow the rule exactly.
    package func digestRowHashes() throws -> (stored: [String: String], reference: [String: String]) {
        try withDigests { store in
            var stored: [String: String] = [:]
            for (table, id, hash) in try store.db.query("SELECT tbl, pk, hash FROM _liaison_digest_hash", [], {
                ($0.text(0), $0.text(1), $0.blob(2))
            }) {
                stored["\(table)/\(id)"] = RowDigest.wireHash(hash)
            }
            let sites = try store.siteIDs()
            var reference: [String: String] = [:]
            for table in tables.values {
                let names = table.columns.map(\.name)
                let rows = try store.db.query(table.selectAllSQL) { row in
                    (0..<names.count).map { row.value(Int32($0)) }
                }
                for values in rows {
                    let id = values[0].displayText
                    var cells: [String: (String, Int64)] = [:]
                    for (column, site, seq) in try store.db.query(
                        "SELECT col, sidx, seq FROM _liaison_version WHERE tbl = ? AND pk = ?",
                        [.text(table.name), .text(id)], { ($0.text(0), $0.int64(1), $0.int64(2)) })
                    {
                        cells[column] = (sites[site] ?? "?", seq)
                    }
                    reference["\(table.name)/\(id)"] = RowDigest.wireHash(
                        RowDigest.hash(table: table.name, columns: names, values: values, versions: cells))
                }
            }
            return (stored, reference)
        }
    }
}
