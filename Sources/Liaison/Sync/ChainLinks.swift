import Foundation

/// The hash-chain link (`previous`) a page leaves out where the receiver computes it: when the
/// origin's transaction before is the whole record before it in the same page (the digest of its
/// header). 64 hex digits of a random hash, which no compression shrinks, are ~80 bytes of every
/// one-row transaction on the wire (docs/PROTOCOL.md, "The header, its digest and the hash chain").
///
/// The signature covers `previous`, so a link restored here is checked by the signature exactly
/// like one that travelled: a record that does not follow the one before it fails its check.
enum ChainLinks {
    /// `records` with every left-out link restored from the record before it in the batch (its
    /// digest computed only when needed), or, for the first of an origin's run, from `stored` (the
    /// digest this replica logged for it, when it has it). A link that cannot be restored stays
    /// absent; the applier fills it from the change log once the transaction before is applied
    /// (`TransactionApplier.linked`), and the signature decides in both cases.
    static func restore(
        _ records: [TransactionRecord], tables: [String: TableInfo], forms: BatchForms? = nil,
        stored: (_ origin: String, _ seq: Int64) throws -> String? = { _, _ in nil }
    ) -> [TransactionRecord] {
        guard records.contains(where: { $0.previous == nil && $0.seq > 1 }) else { return records }
        var restored = records
        var lastWhole: [String: Int] = [:]
        for index in restored.indices {
            let record = restored[index]
            if record.previous == nil, record.seq > 1 {
                if let before = lastWhole[record.origin], restored[before].seq == record.seq - 1 {
                    // Only a predecessor whose own link is known gives the right digest.
                    if restored[before].previous != nil || restored[before].seq == 1,
                        let digest = try? forms.map({ try $0.headerDigest(of: restored[before], at: before) })
                            ?? SiteKey.sha256Hex(
                                TransactionApplier.expectedSignedBytes(of: restored[before], tables: tables))
                    {
                        restored[index].previous = digest
                    }
                } else if let digest = try? stored(record.origin, record.seq - 1) {
                    restored[index].previous = digest
                }
            }
            if record.isComplete { lastWhole[record.origin] = index }
        }
        return restored
    }
}
