import Foundation

/// The record of the snapshot a replica was cloned from: what its source signed of the removed
/// runs, so `verify` can prove every gap in the log was the source's deliberate act.
enum SnapshotRecord {
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_snapshot(
            id INTEGER PRIMARY KEY, format TEXT NOT NULL, signer TEXT NOT NULL, at TEXT NOT NULL,
            gaps TEXT NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL);
        """

    /// Records `manifest` (in the caller's transaction).
    static func record(_ manifest: SnapshotManifest, _ db: Connection) throws {
        try db.execute(createSQL)
        try db.run(
            "INSERT INTO _liaison_snapshot(format, signer, at, gaps, body, signature) VALUES (?, ?, ?, ?, '', ?)",
            [
                .text(manifest.format), .text(manifest.signer), .text(manifest.at),
                .text(SnapshotManifest.gapsText(manifest.gaps)), .text(manifest.signature),
            ])
    }

    /// The bytes a recorded snapshot's signature covers: a manifest's (`liaison-snapshot-v2`), or
    /// the one-answer envelope's of earlier clones (`liaison-snapshot-v1`, which signed the body's hash).
    static func signedBytes(format: String, signer: String, at: String, gaps: String, body: String) -> Data {
        guard format == "liaison-snapshot-v1" else {
            return SnapshotManifest.signedBytes(format: format, signer: signer, at: at, gaps: gaps)
        }
        return Data("\(format)\n\(signer)\n\(at)\n\(gaps)\n\(body)".utf8)
    }

    /// Problems with the gaps a snapshot brought (`checkpoint` 0): each must be one the recorded
    /// snapshot's signer signed, under the key this replica trusts for it.
    static func problems(_ db: Connection) throws -> [String] {
        guard try ChainBase.hasTable(db) else { return [] }
        let sites = try SiteDirectory(db: db)
        let taken = try ChainBase.all(db).values.joined().filter { $0.checkpoint == 0 }
        guard !taken.isEmpty else { return [] }
        guard try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_snapshot'") { _ in true } ?? false,
            let (format, signer, at, gaps, body, signature) = try db.first(
                "SELECT format, signer, at, gaps, body, signature FROM _liaison_snapshot ORDER BY id DESC LIMIT 1", [],
                { ($0.text(0), $0.text(1), $0.text(2), $0.text(3), $0.text(4), $0.text(5)) })
        else {
            return [
                "\(taken.count) runs of the log are missing and no snapshot this replica was cloned from names them"
            ]
        }
        var problems: [String] = []
        let bytes = signedBytes(format: format, signer: signer, at: at, gaps: gaps, body: body)
        let key = try TrustStore(db: db).trustedKey(of: signer).flatMap { try? SiteKey.publicKey($0) }
        if key.map({ !TransactionDigest.isValid(signature: signature, header: bytes, key: $0) }) ?? true {
            problems.append(
                "the snapshot of \(at) this replica was cloned from is not signed by its source's trusted key")
        }
        let held = SnapshotManifest.gapsText(
            taken.map {
                SnapshotGap(
                    origin: sites.site($0.site).id, site: sites.site($0.site).code, first: $0.first,
                    through: $0.through, head: $0.head)
            })
        if held != gaps {
            problems.append(
                "the log lacks runs other than those the snapshot of \(at) it was cloned from signed (history was cut after it)"
            )
        }
        return problems
    }
}
