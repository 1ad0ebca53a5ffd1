import Foundation

extension PageBuilder {
    /// Gives each unsigned record of the page that the records after it do not prove (its
    /// origin's next transaction is not a whole record later in the page) the proof the log holds:
    /// the headers after it up to a signed one (`SignedRuns.proof`). A piece of an unsigned
    /// transaction always carries it, since its pieces may end in another page.
    func attachProofs(_ records: inout [TransactionRecord], _ sites: SiteDirectory) throws {
        guard records.contains(where: { $0.signature == nil }) else { return }
        var lastWhole: [String: Int] = [:]
        for (index, record) in records.enumerated() where record.isComplete {
            lastWhole["\(record.origin)#\(record.seq)"] = index
        }
        for index in records.indices where records[index].signature == nil && records[index].proof == nil {
            let record = records[index]
            if record.isComplete, let next = lastWhole["\(record.origin)#\(record.seq + 1)"], next > index { continue }
            guard let sidx = sites.existingIndex(of: record.origin) else { continue }
            records[index].proof = try SignedRuns.proof(db, sidx: sidx, seq: record.seq)
        }
    }
}
