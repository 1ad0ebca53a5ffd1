import Foundation

extension PageBuilder {
    /// Gives each unsigned record of the page that the records after it do not prove the proof the
    /// log holds (`SignedRuns.attachLogProofs`).
    func attachProofs(_ records: inout [TransactionRecord], _ sites: SiteDirectory) throws {
        try SignedRuns.attachLogProofs(&records, db: db, sites: sites)
    }
}

extension SignedRuns {
    /// Gives each unsigned record of `records` whose origin's next transaction is not a whole
    /// record later in `records` the proof the log holds: the headers after it up to a signed one
    /// (`proof(_:sidx:seq:)`). A piece of an unsigned transaction always carries it, since its
    /// pieces may end in another page.
    static func attachLogProofs(_ records: inout [TransactionRecord], db: Connection, sites: SiteDirectory) throws {
        guard records.contains(where: { $0.signature == nil }) else { return }
        // Keyed by value, not by a formatted string (5,000 records a page).
        struct Position: Hashable {
            var origin: String
            var seq: Int64
        }
        var lastWhole: [Position: Int] = [:]
        lastWhole.reserveCapacity(records.count)
        for (index, record) in records.enumerated() where record.isComplete {
            lastWhole[Position(origin: record.origin, seq: record.seq)] = index
        }
        for index in records.indices where records[index].signature == nil && records[index].proof == nil {
            let record = records[index]
            if record.isComplete, let next = lastWhole[Position(origin: record.origin, seq: record.seq + 1)], next > index { continue }
            guard let sidx = sites.existingIndex(of: record.origin) else { continue }
            records[index].proof = try proof(db, sidx: sidx, seq: record.seq)
        }
    }

    /// Gives the last whole record of each origin in `chunk`, when unsigned and without a proof,
    /// the proof the records of `following` give (the rest of a batch applied in chunks: a bundle).
    static func attachProofs(
        to chunk: inout [TransactionRecord], from following: ArraySlice<TransactionRecord>, tables: [String: TableInfo]
    ) {
        var tails: [String: Int] = [:]
        for (index, record) in chunk.enumerated() where record.isComplete { tails[record.origin] = index }
        for (origin, index) in tails where chunk[index].signature == nil && chunk[index].proof == nil {
            var proof: [ChainHeader] = []
            var next = chunk[index].seq + 1
            var complete = false
            for record in following where record.origin == origin && record.isComplete && record.seq == next {
                guard proof.count < Int(ChainProof.checkpointInterval),
                    let root = try? root(of: record, tables: tables)
                else { break }
                proof.append(header(of: record, root: root))
                if record.signature != nil {
                    complete = true
                } else if let rest = record.proof {
                    proof += rest
                    complete = true
                }
                if complete { break }
                next += 1
            }
            if complete, proof.count <= Int(ChainProof.checkpointInterval) { chunk[index].proof = proof }
        }
    }
}
