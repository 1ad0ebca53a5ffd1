import Crypto
import Foundation

/// Signs the headers of one publish run on every core. Ed25519 signing is most of the cost of
/// publishing a one-row transaction, and the headers of a run are independent once each names its
/// predecessor's digest (a digest covers the header, never a signature).
enum HeaderSigner {
    /// The signatures of a publish run whose headers are `headers` (with their seqs, in order):
    /// only the run's last transaction and every `ChainProof.checkpointInterval`th seq are signed,
    /// the others are covered through the hash chain (`SignedRuns`) and get `""`.
    static func signRun(_ headers: [(header: Data, seq: Int64)], with key: Curve25519.Signing.PrivateKey) throws
        -> [String]
    {
        guard let last = headers.last?.seq else { return [] }
        let signed = headers.indices.filter { ChainProof.isSigned(seq: headers[$0].seq, last: last) }
        let signatures = try sign(signed.map { headers[$0].header }, with: key)
        var all = [String](repeating: "", count: headers.count)
        for (index, signature) in zip(signed, signatures) { all[index] = signature }
        return all
    }

    /// The base64 signature of each header, in order; the same bytes as signing one by one
    /// (Ed25519 signatures are deterministic).
    static func sign(_ headers: [Data], with key: Curve25519.Signing.PrivateKey) throws -> [String] {
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, headers.count / 16)
        guard workers > 1 else { return try headers.map { try TransactionDigest.sign($0, with: key) } }
        let slots = Slots(count: headers.count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var signed: [(Int, String)] = []
            for index in stride(from: worker, to: headers.count, by: workers) {
                if let signature = try? TransactionDigest.sign(headers[index], with: key) {
                    signed.append((index, signature))
                }
            }
            slots.set(signed)
        }
        // A signature that failed on a worker is made again here, where its error is thrown.
        return try slots.values.enumerated().map { index, signature in
            try signature ?? TransactionDigest.sign(headers[index], with: key)
        }
    }

    private final class Slots: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [String?]

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func set(_ signed: [(Int, String)]) { lock.withLock { for (index, value) in signed { slots[index] = value } } }

        var values: [String?] { lock.withLock { slots } }
    }
}
