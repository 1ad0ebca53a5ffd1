import Foundation

extension Replica {
    /// `record` signed as this replica's own transaction, as its origin would sign it: the digests
    /// of its changes (a withheld position keeps its listed digest), their root and the header.
    ///
    /// For test peers that craft what an honest replica never publishes; the receiver's checks
    /// must hold against any transaction its origin really signed.
    package func signedAsOrigin(_ record: TransactionRecord) throws -> TransactionRecord {
        var record = record
        record.origin = siteID
        record.site = siteCode.rawValue
        var digests = record.digests ?? [String](repeating: "", count: record.total)
        for (count, change) in record.changes.enumerated() {
            let table = try table(named: change.table)
            let form = try TransactionApplier.signedForm(of: change, table: table, scope: change.scope ?? "")
            digests[change.index ?? count] = form.digest
        }
        if record.digests != nil { record.digests = digests }
        let bytes = TransactionApplier.signedBytes(
            of: record, context: ChangeCodec.encodeContext(record.context), root: TransactionDigest.root(digests))
        record.signature = try TransactionDigest.sign(bytes, with: try requireSigningKey())
        return record
    }

    /// The digest of a complete record's header: what the next transaction of its origin names
    /// as `previous`.
    package func headerDigest(of record: TransactionRecord) throws -> String {
        SiteKey.sha256Hex(try TransactionApplier.expectedSignedBytes(of: record, tables: tables))
    }
}

extension Replica {
    /// `records` (taken from this replica's pages) with the proof of their signed run attached to
    /// each unsigned one whose origin's next transaction is not later in `records`, read from the
    /// log: what a sender that sends part of a page must add (`SignedRuns`).
    public func withProofs(_ records: [TransactionRecord]) throws -> [TransactionRecord] {
        var records = records
        try withConnection { db in try SignedRuns.attachLogProofs(&records, db: db, sites: try SiteDirectory(db: db)) }
        return records
    }
}

extension Replica {
    /// The signed digest of `change` and the outline a receiver checks an eviction of it against.
    package func outline(of change: ChangeRecord, at index: Int) throws -> (digest: String, outline: ChangeOutline) {
        let scope = change.scope ?? ""
        let form = try TransactionApplier.signedForm(of: change, table: try table(named: change.table), scope: scope)
        return (
            form.digest,
            ChangeOutline(
                index: index, table: change.table, id: change.id, op: change.op, scope: scope,
                body: TransactionDigest.body(
                    values: form.values, levels: form.levels, bases: CellBases.encode(change.bases)))
        )
    }
}
