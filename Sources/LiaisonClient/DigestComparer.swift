import Foundation
import Liaison
import Logging

/// Compares this replica's digests with a peer's over `POST /v1/digest`, for the tables and scopes
/// both may read of each other, and records the outcome (`status`, the console). With `full`, the
/// differing ranges are split until the differing rows are named. Nothing is repaired: a difference
/// is an alarm for the operators.
public struct DigestComparer: Sendable {
    public let replica: Replica
    public var logger: Logger
    /// The most request/answer exchanges of one comparison.
    public var maxRoundTrips = 32

    public init(replica: Replica, logger: Logger = Logger(label: "liaison.compare")) {
        self.replica = replica
        self.logger = logger
    }

    /// Compares with `peer` through `client` (whose `to` names the peer's site) and records the result.
    @discardableResult
    public func compare(with peer: PeerRecord, client: PeerClient, full: Bool) async throws -> PeerComparison {
        let counter = ByteCounter()
        var client = client
        client.onExchange = { exchange in counter.add(sent: exchange.sent, received: exchange.receivedOnWire) }
        let vector = try await replica.perform { try $0.versionVector() }
        // This side's digests are brought up to date while the peer computes its own.
        let replica = replica
        async let ownDigests = replica.perform { try $0.scopeDigests() }
        let summary = try await client.digest(DigestRequest(vector: vector))
        var rounds = 1
        func finish(_ comparison: PeerComparison) async throws -> PeerComparison {
            var comparison = comparison
            comparison.roundTrips = rounds
            (comparison.bytesSent, comparison.bytesReceived) = counter.totals
            try await replica.perform { [comparison] in try $0.recordComparison(comparison) }
            logger.debug(
                "digests compared", metadata: ["sync.peer": "\(peer.name)", "compare.result": "\(comparison.result)"])
            return comparison
        }
        let (theyLack, weLack) = Self.gap(ours: vector, theirs: summary.vector)
        guard theyLack == 0, weLack == 0 else {
            return try await finish(
                PeerComparison(
                    peer: peer.name, result: "not_comparable",
                    message: "the replicas hold different transactions (\(peer.name) lacks \(theyLack), this replica "
                        + "lacks \(weLack)); sync, then compare again", full: full))
        }
        // The scopes both may read of each other: the peer's grant to us, and ours to it.
        let theirGrant = Set(summary.readable ?? [])
        let shared = { (scope: String) in Scope.allows(theirGrant, scope) && Scope.allows(peer.readScopes, scope) }
        let mine = try await ownDigests.filter { shared($0.scope) }
        let theirs = (summary.scopes ?? []).filter { shared($0.scope) }
        var byKey: [String: (mine: ScopeDigest?, theirs: ScopeDigest?)] = [:]
        for digest in mine { byKey["\(digest.table)/\(digest.scope)", default: (nil, nil)].mine = digest }
        for digest in theirs { byKey["\(digest.table)/\(digest.scope)", default: (nil, nil)].theirs = digest }
        let differing = byKey.keys.sorted().filter { key in
            let pair = byKey[key]!
            return pair.mine?.count != pair.theirs?.count || pair.mine?.fingerprint != pair.theirs?.fingerprint
        }
        let rows = mine.reduce(0) { $0 + $1.count }
        var result = PeerComparison(
            peer: peer.name, result: "in_step", message: "in step: \(byKey.count) tables and scopes, \(rows) rows",
            full: full, scopes: byKey.count, rows: rows, differingScopes: differing)
        if differing.isEmpty { return try await finish(result) }
        result.result = "differ"
        result.message =
            "\(differing.count) of \(byKey.count) tables and scopes differ: \(differing.prefix(10).joined(separator: ", "))"
        guard full else {
            result.message += "; run 'liaison compare DB --peer \(peer.name)' to name the rows"
            return try await finish(result)
        }
        let starts = differing.map { key in
            let digest = (byKey[key]!.mine ?? byKey[key]!.theirs)!
            return DigestRange(table: digest.table, scope: digest.scope, node: "")
        }
        var pending = try await replica.perform { replica in try starts.map { try replica.digest(of: $0) } }
        var differences: [RowDifference] = []
        while !pending.isEmpty, rounds < maxRoundTrips {
            let answer = try await client.digest(DigestRequest(vector: vector, ranges: pending))
            rounds += 1
            let (reply, found) = try await replica.perform {
                try $0.reconcileDigests(answer.ranges ?? [], role: .client)
            }
            differences += found
            pending = reply
        }
        result.differences = differences.sorted { ($0.table, $0.id) < ($1.table, $1.id) }
        if !pending.isEmpty {
            result.message += "; stopped after \(rounds) round trips with ranges still open"
        } else if differences.isEmpty {
            result.result = "in_step"
            result.message = "in step after reconciliation (the rows changed while comparing)"
        } else {
            result.message =
                "\(differences.count) row(s) differ: "
                + differences.prefix(5).map {
                    "\($0.table) \($0.id) (\($0.kind.replacingOccurrences(of: "_", with: " ")))"
                }
                .joined(separator: ", ")
        }
        return try await finish(result)
    }

    /// How many transactions each side lacks of the other's.
    static func gap(ours: VersionVector, theirs: VersionVector) -> (theyLack: Int64, weLack: Int64) {
        var theyLack: Int64 = 0
        var weLack: Int64 = 0
        for (site, seq) in ours.entries where seq > theirs[site] { theyLack += seq - theirs[site] }
        for (site, seq) in theirs.entries where seq > ours[site] { weLack += seq - ours[site] }
        return (theyLack, weLack)
    }
}

/// Bytes sent and received over the exchanges of one comparison.
private final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var sent = 0
    private var received = 0

    func add(sent: Int, received: Int) {
        lock.withLock {
            self.sent += sent
            self.received += received
        }
    }

    var totals: (Int, Int) { lock.withLock { (sent, received) } }
}
