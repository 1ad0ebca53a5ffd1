import Crypto
import Foundation

/// Transaction headers of a batch whose origin's signature was checked, each with the key that
/// verified it.
///
/// `TransactionApplier.verifyAhead` plans a batch (`plan`): each signed header is a check, and each
/// unsigned one is tied to the check of the signed header that covers it through the hash links of
/// the records between (`SignedRuns`), or through the proof it carries. The checks start on other
/// cores and the call returns at once, so verification runs while the batch applies. `admit` asks
/// for the transaction it is admitting: a result ready is used; one in progress is waited for;
/// one not started yet is claimed and checked inline. Either way `admit` passes without its own
/// check only the very bytes it computes itself, under the very key it would use.
final class VerifiedHeaders: @unchecked Sendable {
    /// One signature to check.
    struct Check {
        var bytes: Data
        var signature: String
        var key: Curve25519.Signing.PublicKey
    }

    private let condition = NSCondition()
    private let checks: [Check]
    private var states: [State]
    private var results: [Bool]
    private var next = 0
    /// Signed headers by origin and seq: the check of that very header.
    private let positions: [Position: Int]
    /// Unsigned headers (signed bytes and key) and the check that covers each.
    private let covered: [Cover: Int]
    /// Per origin: the proof header of each whole record of the batch by seq, for the quarantine and seals.
    private let runs: [String: [Int64: ChainHeader]]
    /// Proofs carried by records, by origin and seq.
    private var carried: [String: [Int64: [ChainHeader]]]

    private enum State { case waiting, running, finished }

    /// A transaction by origin and seq (a key built without formatting a string).
    private struct Position: Hashable {
        var origin: String
        var seq: Int64
    }

    /// An unsigned header, by the digest of its signed bytes (SHA-256, the digest the hash chain
    /// names), under a key: hashing 64 hex digits instead of the whole header for each lookup.
    private struct Cover: Hashable {
        var digest: String
        var key: Data
    }

    /// Nothing verified ahead.
    convenience init() { self.init(checks: [], positions: [:], covered: [:], runs: [:], carried: [:]) }

    private init(
        checks: [Check], positions: [Position: Int], covered: [Cover: Int], runs: [String: [Int64: ChainHeader]],
        carried: [String: [Int64: [ChainHeader]]]
    ) {
        self.checks = checks
        self.states = Array(repeating: .waiting, count: checks.count)
        self.results = Array(repeating: false, count: checks.count)
        self.positions = positions
        self.covered = covered
        self.runs = runs
        self.carried = carried
    }

    /// What the planner needs to know of one whole record.
    struct Planned {
        var record: TransactionRecord
        var bytes: Data
        var root: String
        var key: Curve25519.Signing.PublicKey
        /// The header digest (SHA-256 of `bytes`, hex): the link the next record names.
        var digest: String
        /// `key.rawRepresentation`, made once (each call builds a new `Data`).
        var keyBytes: Data

        init(record: TransactionRecord, bytes: Data, root: String, key: Curve25519.Signing.PublicKey, digest: String) {
            (self.record, self.bytes, self.root, self.key, self.digest) = (record, bytes, root, key, digest)
            self.keyBytes = key.rawRepresentation
        }
    }

    /// Plans the checks of a batch's whole records (each with its signed bytes, root and the key
    /// valid at its seq, its left-out link restored) and starts `workers` threads on them.
    static func plan(_ planned: [Planned], workers: Int) -> VerifiedHeaders {
        var checks: [Check] = []
        var positions: [Position: Int] = [:]
        var covered: [Cover: Int] = [:]
        var runs: [String: [Int64: ChainHeader]] = [:]
        var carried: [String: [Int64: [ChainHeader]]] = [:]
        var byOrigin: [String: [Int64: Planned]] = [:]
        var ambiguous: Set<Position> = []
        covered.reserveCapacity(planned.count)
        positions.reserveCapacity(planned.count)
        for entry in planned {
            let name = Position(origin: entry.record.origin, seq: entry.record.seq)
            if let other = byOrigin[entry.record.origin]?[entry.record.seq] {
                // Two different copies of one transaction in a batch: neither covers nor is covered.
                if other.bytes != entry.bytes || other.record.signature != entry.record.signature {
                    ambiguous.insert(name)
                }
                continue
            }
            byOrigin[entry.record.origin, default: [:]][entry.record.seq] = entry
        }
        for (origin, records) in byOrigin {
            // From the newest down: each record is covered by its own signature, by its proof, or
            // by the record after it, if that one names this one's digest and is itself covered.
            var cover: [Int64: (check: Int, distance: Int64)] = [:]
            for seq in records.keys.sorted(by: >) where !ambiguous.contains(Position(origin: origin, seq: seq)) {
                let entry = records[seq]!
                let record = entry.record
                runs[origin, default: [:]][seq] = SignedRuns.header(of: record, root: entry.root)
                if let signature = record.signature {
                    checks.append(Check(bytes: entry.bytes, signature: signature, key: entry.key))
                    positions[Position(origin: origin, seq: seq)] = checks.count - 1
                    cover[seq] = (checks.count - 1, 0)
                    continue
                }
                let lookup = Cover(digest: entry.digest, key: entry.keyBytes)
                if let next = records[seq + 1], let nextCover = cover[seq + 1],
                    next.record.previous == entry.digest,
                    next.keyBytes == entry.keyBytes,
                    nextCover.distance < ChainProof.checkpointInterval
                {
                    covered[lookup] = nextCover.check
                    cover[seq] = (nextCover.check, nextCover.distance + 1)
                } else if let proof = record.proof,
                    let head = SignedRuns.head(
                        of: proof, after: entry.bytes, seq: seq, origin: origin, site: record.site)
                {
                    // The key valid at the head is checked by `admit` (`isProvenByItsProof`) when
                    // it differs; here the record's own key must have signed the head.
                    checks.append(Check(bytes: head.bytes, signature: head.signature, key: entry.key))
                    covered[lookup] = checks.count - 1
                    cover[seq] = (checks.count - 1, Int64(proof.count))
                    carried[origin, default: [:]][seq] = proof
                }
            }
        }
        let headers = VerifiedHeaders(
            checks: checks, positions: positions, covered: covered, runs: runs, carried: carried)
        // Small batches are checked inline, one by one, as `admit` asks.
        if checks.count >= 4 {
            for _ in 0..<max(1, workers) {
                DispatchQueue.global(qos: .userInitiated).async { headers.work() }
            }
        }
        return headers
    }

    private static func isValid(_ check: Check) -> Bool {
        TransactionDigest.isValid(signature: check.signature, header: check.bytes, key: check.key)
    }

    private func work() {
        while true {
            condition.lock()
            while next < states.count && states[next] != .waiting { next += 1 }
            guard next < states.count else {
                condition.unlock()
                return
            }
            let index = next
            states[index] = .running
            next += 1
            condition.unlock()
            let valid = Self.isValid(checks[index])
            condition.lock()
            results[index] = valid
            states[index] = .finished
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Stops the checks not started yet (the batch is over: applied, or refused). A refused batch
    /// leaves no verification running after its request has been answered.
    func cancel() {
        condition.lock()
        for index in states.indices where states[index] == .waiting { states[index] = .finished }
        condition.unlock()
    }

    /// Whether `header` was verified under `key`: its own signature, or the signature of the run
    /// that covers it (waiting for a check in progress, running one not started). `false` means
    /// the caller must check the signature itself. `digest` is the SHA-256 of `header` (hex),
    /// computed only when an unsigned header is looked up.
    func contains(
        _ header: Data, digest: @autoclosure () -> String, key: Curve25519.Signing.PublicKey, origin: String,
        seq: Int64
    ) -> Bool {
        let index: Int
        if let signed = positions[Position(origin: origin, seq: seq)] {
            guard checks[signed].bytes == header, checks[signed].key.rawRepresentation == key.rawRepresentation
            else { return false }
            index = signed
        } else if !covered.isEmpty, let run = covered[Cover(digest: digest(), key: key.rawRepresentation)] {
            index = run
        } else {
            return false
        }
        condition.lock()
        while states[index] == .running { condition.wait() }
        if states[index] == .waiting {
            states[index] = .running
            condition.unlock()
            let valid = Self.isValid(checks[index])
            condition.lock()
            results[index] = valid
            states[index] = .finished
            condition.broadcast()
        }
        let valid = results[index]
        condition.unlock()
        return valid
    }

    /// Notes the proof an unsigned record carried and passed with (for its seal).
    func noteProved(origin: String, seq: Int64, proof: [ChainHeader]) {
        condition.lock()
        carried[origin, default: [:]][seq] = proof
        condition.unlock()
    }

    /// The proof of unsigned `origin#seq` from this batch: the headers of the records after it up
    /// to a signed one (continuing into the proof the last of them carried), or its own proof.
    func proof(origin: String, seq: Int64) -> [ChainHeader]? {
        condition.lock()
        defer { condition.unlock() }
        if let own = carried[origin]?[seq] { return own }
        guard let run = runs[origin] else { return nil }
        var proof: [ChainHeader] = []
        var current = seq + 1
        while proof.count < Int(ChainProof.checkpointInterval), let header = run[current] {
            proof.append(header)
            if header.signature != nil { return proof }
            if let rest = carried[origin]?[current] {
                return proof.count + rest.count <= Int(ChainProof.checkpointInterval) ? proof + rest : nil
            }
            current += 1
        }
        return nil
    }
}
