import Crypto

/// What admitting a transaction and applying it in one pass both do first.
struct OpenedTransaction {
    let key: Curve25519.Signing.PublicKey
    let index: Int64
    /// The header with its hash link restored.
    let header: TransactionRecord
    let origin: VersionStore.Origin
    let write: CellWrite
    /// `SITE#seq`, for messages.
    let name: String
}

extension TransactionApplier {
    /// Reads the signer's key and the origin's site index, restores the header's hash link, records
    /// the write it makes, and refuses a digest list that does not fit the change count.
    func open(_ header: TransactionRecord) throws -> OpenedTransaction {
        let key = try publicKey(of: header.origin, site: header.site, seq: header.seq, hlc: header.hlc)
        let index = try sites.index(of: header.origin, code: header.site)
        let header = try linked(header)
        let origin = VersionStore.Origin(site: index, seq: header.seq)
        let write = CellWrite(
            site: header.origin, code: header.site, seq: header.seq, hlc: header.hlc, context: header.context)
        writes[origin] = write
        let name = "\(header.site)#\(header.seq)"
        guard header.total >= 0, header.digests.map({ $0.count == header.total }) ?? true else {
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(name) lists \(header.digests?.count ?? 0) digests for \(header.total) changes")
        }
        return OpenedTransaction(key: key, index: index, header: header, origin: origin, write: write, name: name)
    }
}
