import Foundation

/// One write of one cell as the merge rule sees it: who wrote it, when, and what its writer had seen.
public struct CellWrite: Hashable, Sendable {
    /// The origin's site id.
    public var site: String
    /// The origin's site code.
    public var code: String
    public var seq: Int64
    public var hlc: HybridTimestamp
    /// What the origin had applied when it committed (its own earlier transactions are implied).
    public var context: VersionVector
    /// The owner level of the written cell (see `ChangeRecord.levels`); 0 outside `owner-wins` tables.
    public var level: Int64

    public init(site: String, code: String, seq: Int64, hlc: HybridTimestamp, context: VersionVector, level: Int64 = 0)
    {
        self.site = site
        self.code = code
        self.seq = seq
        self.hlc = hlc
        self.context = context
        self.level = level
    }

    /// The same write, as it wrote a cell of the given owner level.
    public func at(level: Int64) -> CellWrite {
        var copy = self
        copy.level = level
        return copy
    }

    /// Whether this write's origin had applied `other` when it committed.
    public func hasSeen(site otherSite: String, seq otherSeq: Int64) -> Bool {
        otherSite == site ? otherSeq < seq : context[otherSite] >= otherSeq
    }

    public func hasSeen(_ other: CellWrite) -> Bool { hasSeen(site: other.site, seq: other.seq) }
}

/// The decision between the local and a remote write of the same cell.
public struct Resolution: Hashable, Sendable {
    /// Whether the remote write becomes the cell's value.
    public var takesRemote: Bool
    /// Whether the two writes were concurrent, so the loser must be kept in a conflict record.
    public var isConflict: Bool
}

/// The merge rule: decides between two writes of the same column. Pure: no SQL, no clock reads.
public enum MergeRule {
    /// Causality first: a write that had seen the other wins without conflict. Concurrent writes are
    /// decided by `policy` the same way on every replica, whatever the order they arrive in.
    public static func resolve(
        local: CellWrite, remote: CellWrite, policy: ConflictPolicy
    ) -> Resolution {
        resolve(
            local: local, remote: remote, policy: policy, remoteHasSeenLocal: remote.hasSeen(local),
            localHasSeenRemote: local.hasSeen(remote))
    }

    /// The same decision, with what each write had actually seen of the other given (the engine
    /// narrows the version vectors' claims with the writes' cell bases).
    public static func resolve(
        local: CellWrite, remote: CellWrite, policy: ConflictPolicy, remoteHasSeenLocal: Bool,
        localHasSeenRemote: Bool
    ) -> Resolution {
        if local.site == remote.site && local.seq == remote.seq {
            return Resolution(takesRemote: false, isConflict: false)
        }
        if remoteHasSeenLocal { return Resolution(takesRemote: true, isConflict: false) }
        if localHasSeenRemote { return Resolution(takesRemote: false, isConflict: false) }
        return Resolution(takesRemote: wins(remote, over: local, policy: policy), isConflict: true)
    }

    /// Whether `a` beats the concurrent write `b` under `policy`. Antisymmetric for distinct writes.
    ///
    /// Both policies are total orders in which a causally later write always ranks higher (its
    /// timestamp is later and its owner level no lower), so every replica settles on the same value
    /// whatever the delivery order.
    public static func wins(_ a: CellWrite, over b: CellWrite, policy: ConflictPolicy) -> Bool {
        if policy == .ownerWins, a.level != b.level { return a.level > b.level }
        if a.hlc != b.hlc { return a.hlc > b.hlc }
        if a.site != b.site { return a.site > b.site }
        return a.seq > b.seq
    }
}
