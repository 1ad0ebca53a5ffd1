import Foundation

/// How much one sender may have held in this replica's quarantine.
public struct QuarantineLimits: Sendable, Hashable {
    /// The most transactions held per sender (those waiting behind a held one included).
    public var maxTransactions: Int
    /// The most bytes of held transactions per sender (as stored: the whole JSON record).
    public var maxBytes: Int

    public init(maxTransactions: Int = 1_000, maxBytes: Int = 32 << 20) {
        self.maxTransactions = maxTransactions
        self.maxBytes = maxBytes
    }
}

/// Keeps the quarantine bounded per sender. A batch that would hold more than a sender's bound is
/// refused whole (`quarantine_full`, nothing of it applied), and what the sender already has held
/// stays: a peer cannot fill this replica's disk with transactions it signed for a scope it may
/// not write, for invented origins, or behind one of its own held transactions.
public final class QuarantineQuota: @unchecked Sendable {
    private let lock = NSLock()
    private var current = QuarantineLimits()

    public init() {}

    /// The limits in force (settable: tests and operators change them).
    public var limits: QuarantineLimits {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    /// Refuses to hold `bytes` more of a new transaction from `source` past its bound.
    func check(adding bytes: Int, from source: String, id: String, store: QuarantineStore) throws {
        let limits = self.limits
        let (count, held) = try store.usage(of: source)
        let who = source.isEmpty ? "this sender" : "peer \(source)"
        let next =
            "; nothing of this batch was applied and what is held stays. Its operator sees why with "
            + "'liaison quarantine DB list' and releases or drops what is held; the sender then syncs again"
        if count + 1 > limits.maxTransactions {
            throw LiaisonError(
                .quarantineFull,
                "\(who) already has \(count) transactions held here, the most allowed (\(limits.maxTransactions)), "
                    + "so \(id) cannot be held" + next)
        }
        if held + bytes > limits.maxBytes {
            throw LiaisonError(
                .quarantineFull,
                "\(who) has \(held) bytes held here; holding \(id) (\(bytes) bytes) would pass the \(limits.maxBytes) "
                    + "allowed" + next)
        }
    }
}
