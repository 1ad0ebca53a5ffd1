import Crypto
import Foundation

/// Transaction headers whose signatures were verified, each with the key that verified it.
///
/// `TransactionApplier.verifyAhead` fills it on every core; `apply` then skips the signature
/// check only for the very bytes it computes itself, under the very key it would use.
struct VerifiedHeaders {
    private var entries: Set<Data> = []

    func contains(_ header: Data, key: Curve25519.Signing.PublicKey) -> Bool {
        !entries.isEmpty && entries.contains(header + key.rawRepresentation)
    }

    /// Gathers verified entries from concurrent workers, one slot each.
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Data?]

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func set(_ index: Int, _ entry: Data) { lock.withLock { slots[index] = entry } }

        var headers: VerifiedHeaders {
            lock.withLock { VerifiedHeaders(entries: Set(slots.compactMap { $0 })) }
        }
    }
}
