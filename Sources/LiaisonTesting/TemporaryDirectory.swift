import Foundation
import Liaison

/// Runs `body` with a fresh temporary directory, removed afterwards.
public func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async rethrows -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer {
        try? FileManager.default.removeItem(at: url)
        // The output files of the processes it ran (FaultProcess).
        try? FileManager.default.removeItem(
            at: url.deletingLastPathComponent().appendingPathComponent(".fault-logs-\(url.lastPathComponent)"))
    }
    return try await body(url)
}

/// Creates replicas in one temporary directory for a test.
public struct ReplicaFactory: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// A new replica `CODE.db`, optionally with the sample data.
    public func make(
        _ code: String, sample: Bool = false, schema: SchemaDefinition = .cooperation,
        clock: HybridClock = HybridClock()
    )
        throws -> Replica
    {
        let replica = try Replica.create(
            at: path(code), site: SiteCode(code)!, schema: schema, clock: clock)
        if sample { try replica.loadSample() }
        return replica
    }

    public func path(_ name: String) -> String { directory.appendingPathComponent("\(name).db").path }
}

/// Runs `body` with a factory of replicas in a fresh temporary directory.
public func withReplicas<T>(_ body: (ReplicaFactory) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { try await body(ReplicaFactory(directory: $0)) }
}

/// Copies every transaction `from` has and `to` lacks, through the same pull pages the HTTP
/// protocol uses, without a network (for fast simulations).
///
/// The test stands for `target`'s operator: it trusts the keys `source` trusts first (as the
/// operator would after comparing fingerprints), since keys are never trusted because a page says so.
@discardableResult
public func transfer(from source: Replica, to target: Replica, limits: PageLimits = PageLimits()) throws -> Int {
    try trustKeys(of: source, at: target)
    var cursor = SyncCursor.start
    var moved = 0
    while true {
        let page = try source.changes(after: cursor, excluding: try target.versionVector(), limits: limits)
        let result = try target.apply(page.transactions, keys: page.keys)
        moved += result.applied
        cursor = try SyncCursor(parsing: page.cursor)
        if !page.hasMore { return moved }
    }
}

/// Runs blocking work (SQLite loops, waiting on processes) on a thread of its own, so it never
/// holds one of Swift's few cooperative threads while servers in the same process need them.
///
/// Not on Dispatch's global queue: it has one thread per core too, and the simulations hold
/// theirs for minutes; with two of them running, everything else that needed that queue (child
/// process reaping, other blocking work) waited for them and tests hit their time limits.
public func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.name = "liaison-test-blocking"
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// Runs `body` with a fresh temporary directory, removed afterwards (synchronous form).
public func withTemporaryDirectorySync<T>(_ body: (URL) throws -> T) rethrows -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer {
        try? FileManager.default.removeItem(at: url)
        // The output files of the processes it ran (FaultProcess).
        try? FileManager.default.removeItem(
            at: url.deletingLastPathComponent().appendingPathComponent(".fault-logs-\(url.lastPathComponent)"))
    }
    return try body(url)
}

/// Each replica trusts every other's key, as their operators do after comparing fingerprints.
public func trustEachOther(_ replicas: [Replica]) throws {
    for replica in replicas {
        for other in replicas where other !== replica { try replica.pinKey(of: other.identity) }
    }
}

/// `target` trusts the keys `source` trusts (the test acting as `target`'s operator).
public func trustKeys(of source: Replica, at target: Replica) throws {
    for site in try source.trustedSites() where site.siteID != target.siteID {
        try target.trust(site: SiteCode(site.site)!, siteID: site.siteID, key: site.publicKey)
    }
}
