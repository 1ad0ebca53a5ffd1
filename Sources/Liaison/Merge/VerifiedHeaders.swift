import Crypto
import Foundation

/// Transaction headers whose signatures were verified, each with the key that verified it.
///
/// `TransactionApplier.verifyAhead` starts checking a batch's signatures on other cores and
/// returns at once, so verification runs while the batch applies instead of before it (Ed25519
/// verification is the largest single cost of applying one-row transactions). `apply` asks for
/// the transaction it is admitting: a result ready is used; one in progress is waited for; one
/// not started yet is claimed and checked inline by the caller. Either way `apply` skips the
/// signature check only for the very bytes it computes itself, under the very key it would use.
final class VerifiedHeaders: @unchecked Sendable {
    private let condition = NSCondition()
    private var entries: Set<Data> = []
    /// Work items by `origin#seq`.
    private var positions: [String: Int] = [:]
    private var states: [State]
    private var next = 0
    private let check: @Sendable (Int) -> Data?

    private enum State { case waiting, running, finished, claimed }

    /// Nothing verified ahead.
    convenience init() { self.init(count: 0, positions: [:]) { _ in nil } }

    /// `check(index)` verifies item `index` and returns its entry (signed bytes + key), or `nil`.
    private init(count: Int, positions: [String: Int], check: @escaping @Sendable (Int) -> Data?) {
        self.states = Array(repeating: .waiting, count: count)
        self.positions = positions
        self.check = check
    }

    /// Starts `workers` threads checking `records` in order.
    static func start(
        _ records: [(origin: String, seq: Int64)], workers: Int, check: @escaping @Sendable (Int) -> Data?
    ) -> VerifiedHeaders {
        var positions: [String: Int] = [:]
        for (index, record) in records.enumerated() where positions["\(record.origin)#\(record.seq)"] == nil {
            positions["\(record.origin)#\(record.seq)"] = index
        }
        let headers = VerifiedHeaders(count: records.count, positions: positions, check: check)
        for _ in 0..<max(1, workers) {
            DispatchQueue.global(qos: .userInitiated).async { headers.work() }
        }
        return headers
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
            let entry = check(index)
            condition.lock()
            if let entry { entries.insert(entry) }
            states[index] = .finished
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Whether `header` was verified under `key` ahead of the apply (waiting for a check in
    /// progress). `false` means the caller must check the signature itself.
    func contains(_ header: Data, key: Curve25519.Signing.PublicKey, origin: String, seq: Int64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if let index = positions["\(origin)#\(seq)"] {
            while states[index] == .running { condition.wait() }
            if states[index] == .waiting {
                states[index] = .claimed
                return false
            }
        }
        return !entries.isEmpty && entries.contains(header + key.rawRepresentation)
    }
}
