import Foundation

extension Replica {
    /// The last applied transaction of every origin: its sequence number and header digest.
    public func heads() throws -> [String: SiteHead] {
        try withConnection { db in
            try publishIfNeeded(db)
            var heads: [String: SiteHead] = [:]
            for (id, seq, digest) in try db.query(
                """
                SELECT s.site_id, s.seq, t.digest FROM _liaison_site s
                JOIN _liaison_tx t ON t.sidx = s.sidx AND t.seq = s.seq WHERE s.seq > 0
                """, [], { ($0.text(0), $0.int64(1), $0.text(2)) })
            {
                heads[id] = SiteHead(seq: seq, digest: digest)
            }
            return heads
        }
    }

    /// Compares a peer's heads with this replica's log: where this replica holds the transaction a
    /// head names, its digest must be the same. A difference means the origin signed two versions
    /// of one transaction (or one of the two logs was altered): an alarm, and the sync stops.
    public func compareHeads(_ heads: [String: SiteHead], from peer: String) throws {
        try withConnection { db in
            for (siteID, head) in heads.sorted(by: { $0.key < $1.key }) where head.seq > 0 {
                guard head.digest.utf8.count == 64,
                    head.digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
                else {
                    throw LiaisonError(
                        .malformedRequest, "a head from \(peer) has a digest that is not a SHA-256 in lower-case hex")
                }
                guard
                    let (code, mine) = try db.first(
                        """
                        SELECT s.code, t.digest FROM _liaison_site s JOIN _liaison_tx t ON t.sidx = s.sidx
                        WHERE s.site_id = ? AND t.seq = ?
                        """, [.text(siteID), .integer(head.seq)], { ($0.text(0), $0.text(1)) })
                else { continue }
                guard mine != head.digest else { continue }
                let name = "\(code)#\(head.seq)"
                let error = LiaisonError(
                    .equivocation,
                    "peer \(peer) holds another version of \(name) (\(head.digest)) than this replica (\(mine)): "
                        + "\(code) forked its log, or one copy was altered; see 'liaison status'",
                    cause: TrustNotice(
                        kind: .alarm(.equivocation, "\(name): applied \(mine), peer \(peer) holds \(head.digest)"),
                        siteID: siteID, code: code, via: peer, digests: [mine, head.digest]))
                recordNotice(of: error, db)
                throw error
            }
        }
    }
}
