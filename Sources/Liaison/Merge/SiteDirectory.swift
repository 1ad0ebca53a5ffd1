import Foundation

/// The sites a replica knows, by compact local number (`sidx`); 1 is this replica.
final class SiteDirectory {
    let db: Connection
    private var byID: [String: Int64] = [:]
    private var byIndex: [Int64: (id: String, code: String)] = [:]
    private var keys: [Int64: String] = [:]

    init(db: Connection) throws {
        self.db = db
        for (index, id, code, key) in try db.query(
            "SELECT sidx, site_id, code, public_key FROM _liaison_site", [],
            {
                ($0.int64(0), $0.text(1), $0.text(2), $0.optionalText(3))
            })
        {
            byID[id] = index
            byIndex[index] = (id, code)
            keys[index] = key
        }
    }

    /// The number of a site, registering it when new.
    func index(of id: String, code: String) throws -> Int64 {
        if let index = byID[id] { return index }
        try db.run("INSERT INTO _liaison_site(site_id, code) VALUES (?, ?)", [.text(id), .text(code)])
        let index = try db.first("SELECT sidx FROM _liaison_site WHERE site_id = ?", [.text(id)]) { $0.int64(0) } ?? 0
        byID[id] = index
        byIndex[index] = (id, code)
        return index
    }

    func existingIndex(of id: String) -> Int64? { byID[id] }

    func site(_ index: Int64) -> (id: String, code: String) { byIndex[index] ?? ("?", "?") }

    /// The short fingerprint of a site's trusted key (`nil` when none is trusted).
    func fingerprint(_ index: Int64) -> String? { keys[index].map(SiteKey.shortFingerprint) }

    /// The highest applied sequence number of every site.
    func versionVector() throws -> VersionVector {
        var vector = VersionVector()
        for (id, seq) in try db.query(
            "SELECT site_id, seq FROM _liaison_site WHERE seq > 0", [], { ($0.text(0), $0.int64(1)) })
        {
            vector[id] = seq
        }
        return vector
    }
}
