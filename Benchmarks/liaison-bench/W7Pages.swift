import Foundation
import Liaison

/// W7's split per page, in process on A's file: for the pages an incremental sync carries (the
/// transactions after `vector`), the µs of Ed25519 verification (one signature per signed run), of
/// the hash links (each transaction's signed bytes and SHA-256, compared with the next one's
/// `previous`), and of scope filtering (a page built for a peer granted `public` against one
/// granted `*`).
enum W7Pages {
    static func run(_ a: Replica, after vector: VersionVector) throws -> [String: Double] {
        var scopedSeconds = 0.0
        var starSeconds = 0.0
        var pages: [PullResponse] = []
        // A first pass, untimed, so neither timed one reads a cold file.
        for (pass, readable) in [(0, nil), (1, Set(["public"])), (2, nil)] as [(Int, Set<String>?)] {
            var cursor = SyncCursor.start
            while true {
                var page: PullResponse?
                let seconds = try measure {
                    page = try a.changes(after: cursor, excluding: vector, readable: readable)
                }
                guard let page else { break }
                if pass == 2 {
                    starSeconds += seconds
                    pages.append(page)
                } else if pass == 1 {
                    scopedSeconds += seconds
                }
                cursor = try SyncCursor(parsing: page.cursor)
                if !page.hasMore { break }
            }
        }
        var linkSeconds = 0.0
        var verifySeconds = 0.0
        var signatures = 0
        var valid = 0
        var links = 0
        var changes = 0
        // The tables are indexed once, as the applier does per batch: indexing them for every
        // transaction (`signedBytes(of:schema:)`) was most of what this figure measured before.
        let maker = TransactionDigest.Maker(schema: a.schema)
        for page in pages {
            var digests: [String: String] = [:]
            for var record in page.transactions where record.isComplete {
                changes += record.changes.count
                var bytes = Data()
                linkSeconds += try measure {
                    let before = digests["\(record.origin)#\(record.seq - 1)"]
                    if record.previous == nil, let before { record.previous = before }
                    if let before, record.previous == before { links += 1 }
                    bytes = try maker.signedBytes(of: record)
                    digests["\(record.origin)#\(record.seq)"] = TransactionDigest.sha256(bytes)
                }
                guard let signature = record.signature, let key = page.keys?[record.origin]?.key else { continue }
                signatures += 1
                verifySeconds += measure {
                    if TransactionDigest.verify(signature: signature, of: bytes, publicKey: key) { valid += 1 }
                }
            }
        }
        // The same signed bytes with the tables indexed for every transaction, as this figure
        // was measured before (60.3 ms per page on 2026-12-01).
        var schemaSeconds = 0.0
        for page in pages {
            for record in page.transactions where record.isComplete {
                schemaSeconds += try measure { _ = try TransactionDigest.signedBytes(of: record, schema: a.schema) }
            }
        }
        let count = Double(max(1, pages.count))
        return [
            "w7_pages": Double(pages.count), "w7_page_changes": Double(changes) / count,
            "w7_page_signatures": Double(signatures) / count, "w7_page_signatures_valid": Double(valid) / count,
            "w7_page_links": Double(links) / count,
            "w7_page_verify_us": verifySeconds / count * 1e6, "w7_page_links_us": linkSeconds / count * 1e6,
            "w7_page_links_schema_each_us": schemaSeconds / count * 1e6,
            "w7_page_build_scoped_us": scopedSeconds / count * 1e6, "w7_page_build_star_us": starSeconds / count * 1e6,
            "w7_page_filter_us": (scopedSeconds - starSeconds) / count * 1e6,
        ]
    }
}
