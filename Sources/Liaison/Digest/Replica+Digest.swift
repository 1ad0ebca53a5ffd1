import Foundation

/// A row that two replicas hold differently, as a comparison names it.
public struct RowDifference: Sendable, Codable, Hashable {
    /// `only_here`, `only_there` or `differs` (same id, other cells or versions).
    public var kind: String
    public var table: String
    public var scope: String
    public var id: String

    public init(kind: String, table: String, scope: String, id: String) {
        self.kind = kind
        self.table = table
        self.scope = scope
        self.id = id
    }
}

/// Which side of a digest exchange this replica plays.
public enum DigestRole: Sendable {
    /// Answers a peer's request (`POST /v1/digest`): replies with its items where they differ.
    case server
    /// Drives the comparison: names the differences when items arrive.
    case client
}

extension Replica {
    /// A range holding at most this many rows is sent as items rather than split.
    public static let digestItemThreshold = 32
    /// A differing range is split into this many parts.
    public static let digestFanOut = 16
    /// The most items sent for one range (beyond, it is split even when the other side sent items).
    static let digestMaxItems = 1_000
    /// The most rows one digest request may make a server read (id ranges, items, deep nodes).
    package static let digestMaxRowsRead = 200_000

    /// Brings the digests up to date (hashing only rows written since the last time) and returns
    /// the fingerprint of each table and scope with rows, those `readable` allows (`nil`: all).
    public func scopeDigests(readable: Set<String>? = nil) throws -> [ScopeDigest] {
        try withDigests { store in
            try store.scopes().filter { Scope.allows(readable, $0.scope) }.map {
                ScopeDigest(table: $0.table, scope: $0.scope, count: $0.sum.count, fingerprint: $0.sum.fingerprint)
            }
        }
    }

    /// Every stored node of the digest tree, `table/scope/node` to `count:fingerprint` (tests compare
    /// the sums kept write by write with a full rehash).
    package func digestTreeNodes() throws -> [String: String] {
        try withDigests { store in try store.nodes() }
    }

    /// Hashes every row again from the file (for writes that bypassed the triggers); returns how many rows.
    @discardableResult
    public func rehashDigests() throws -> Int {
        try withDigests { store in
            for table in tables.values { try store.rebuild(table) }
            return try store.scopes().reduce(0) { $0 + $1.sum.count }
        }
    }

    /// The fingerprint this replica has for `range` (count and fingerprint filled, no items).
    public func digest(of range: DigestRange) throws -> DigestRange {
        try withDigests { store in
            let sum = try Self.sum(of: range, store)
            var mine = range
            mine.count = sum.count
            mine.fingerprint = sum.fingerprint
            mine.items = nil
            return mine
        }
    }

    /// One step of range reconciliation: compares each incoming range with this replica's rows and
    /// returns the ranges to send back (where they differ) and the rows found different.
    ///
    /// - Parameter readable: the scopes the other side may learn digests of (`nil`: all).
    /// - Throws: `LiaisonError` `.forbiddenScope` for a range in a scope the other side may not read.
    public func reconcileDigests(_ incoming: [DigestRange], role: DigestRole, readable: Set<String>? = nil) throws
        -> (reply: [DigestRange], differences: [RowDifference])
    {
        if incoming.contains(where: { !Scope.allows(readable, $0.scope) }) {
            throw LiaisonError(.forbiddenScope, "digests are answered only for scopes this peer may read")
        }
        if let node = incoming.lazy.compactMap(\.node).first(where: { !DigestTree.isNode($0) }) {
            throw LiaisonError(
                .invalidInput, "'\(node.prefix(40))' is not a digest tree node (up to 16 lower-case hex digits)")
        }
        return try withDigests { store in
            var reply: [DigestRange] = []
            var differences: [RowDifference] = []
            // A hostile requester could name the same large range many times: bound the rows one
            // request makes the server read (stored tree nodes read none).
            var scanned = 0
            func count(_ rows: Int) throws {
                scanned += rows
                if role == .server, scanned > Self.digestMaxRowsRead {
                    throw LiaisonError(
                        .malformedRequest,
                        "this digest request would read more than \(Self.digestMaxRowsRead) rows here; send fewer "
                            + "or smaller ranges (tree nodes cost nothing to answer)")
                }
            }
            for range in incoming {
                guard tables[range.table] != nil else {
                    throw LiaisonError(.unknownTable, "no synced table '\(range.table)' here")
                }
                // An id range (older clients) is read from the scope's rows in key order: it
                // costs the whole scope, whatever its bounds.
                let scopeRows = range.node == nil ? try store.stored(table: range.table, scope: range.scope, node: "").count : 0
                if let theirs = range.items {
                    let mine = try Self.items(of: range, store)
                    try count(range.node == nil ? max(scopeRows, mine.count) : mine.count)
                    let found = Self.differences(mine: mine, theirs: theirs, range: range)
                    if found.isEmpty { continue }
                    switch role {
                    case .client: differences += found
                    case .server:
                        if let node = range.node, mine.count > Self.digestMaxItems {
                            reply += try Self.split(range, node: node, count: mine.count, store: store)
                        } else {
                            reply += try Self.describe(range, mine: mine, store: store, asItems: true)
                        }
                    }
                    continue
                }
                if range.node == nil, !range.lower.isEmpty || range.upper != nil { try count(scopeRows) }
                let sum = try Self.sum(of: range, store)
                if let node = range.node, node.utf8.count > DigestTree.storedDepth { try count(sum.count) }
                if sum.count == range.count, sum.fingerprint == range.fingerprint { continue }
                if let node = range.node {
                    // A tree node: its children's sums are stored, so no row is read unless few
                    // (its items) or the node is at the stored depth or below (its children).
                    let readsRows = node.utf8.count >= DigestTree.storedDepth || sum.count <= Self.digestItemThreshold
                    try count(readsRows ? sum.count : 0)
                    reply += try Self.split(range, node: node, count: sum.count, store: store)
                    continue
                }
                let mine = try Self.items(of: range, store)
                try count(max(scopeRows, mine.count))
                reply += try Self.describe(
                    range, mine: mine, store: store, asItems: mine.count <= Self.digestItemThreshold)
            }
            return (reply, differences)
        }
    }

    /// The sum of a range: a tree node's, or an id range's.
    private static func sum(of range: DigestRange, _ store: DigestStore) throws -> DigestSum {
        if let node = range.node { return try store.sum(table: range.table, scope: range.scope, node: node) }
        return try store.sum(table: range.table, scope: range.scope, lower: range.lower, upper: range.upper)
    }

    /// The rows of a range: under a tree node, or in an id range.
    private static func items(of range: DigestRange, _ store: DigestStore) throws -> [(id: String, hash: [UInt8])] {
        if let node = range.node { return try store.items(table: range.table, scope: range.scope, node: node) }
        return try store.items(table: range.table, scope: range.scope, lower: range.lower, upper: range.upper)
    }

    /// A differing tree node as this replica sends it: its items when it holds few rows there (or
    /// the node cannot split further), else its 16 children with their fingerprints, empty ones too
    /// (the other side may hold rows there).
    private static func split(_ range: DigestRange, node: String, count: Int, store: DigestStore) throws
        -> [DigestRange]
    {
        if count <= digestItemThreshold || node.utf8.count >= DigestTree.keyDigits {
            let mine = try store.items(table: range.table, scope: range.scope, node: node)
            return try describe(range, mine: mine, store: store, asItems: true)
        }
        return try DigestTree.children(of: node).map { child in
            let sum = try store.sum(table: range.table, scope: range.scope, node: child)
            return DigestRange(
                table: range.table, scope: range.scope, count: sum.count, fingerprint: sum.fingerprint, node: child)
        }
    }

    /// A differing range as this replica sends it: its items, or split into parts with fingerprints.
    private static func describe(
        _ range: DigestRange, mine: [(id: String, hash: [UInt8])], store: DigestStore, asItems: Bool
    ) throws -> [DigestRange] {
        if asItems, mine.count <= digestMaxItems || (range.node?.utf8.count ?? 0) >= DigestTree.keyDigits {
            var answer = DigestRange(
                table: range.table, scope: range.scope, lower: range.lower, upper: range.upper, node: range.node)
            answer.items = mine.map { DigestItem(id: $0.id, hash: RowDigest.wireHash($0.hash)) }
            return [answer]
        }
        // Split at this side's own ids: each part holds about the same number of rows here.
        var parts: [DigestRange] = []
        let size = max(1, (mine.count + digestFanOut - 1) / digestFanOut)
        var start = 0
        var lower = range.lower
        while start < mine.count {
            let end = min(mine.count, start + size)
            let upper = end < mine.count ? mine[end].id : range.upper
            var sum = DigestSum()
            for item in mine[start..<end] { sum.add(item.hash) }
            parts.append(
                DigestRange(
                    table: range.table, scope: range.scope, lower: lower, upper: upper, count: sum.count,
                    fingerprint: sum.fingerprint))
            lower = upper ?? lower
            start = end
        }
        return parts
    }

    /// The rows that differ between this side's items and the other's, for one range.
    static func differences(mine: [(id: String, hash: [UInt8])], theirs: [DigestItem], range: DigestRange)
        -> [RowDifference]
    {
        var other: [String: String] = [:]
        for item in theirs { other[item.id] = item.hash }
        var found: [RowDifference] = []
        for item in mine {
            switch other.removeValue(forKey: item.id) {
            case nil:
                found.append(RowDifference(kind: "only_here", table: range.table, scope: range.scope, id: item.id))
            case let hash? where hash != RowDigest.wireHash(item.hash):
                found.append(RowDifference(kind: "differs", table: range.table, scope: range.scope, id: item.id))
            default: break
            }
        }
        for id in other.keys.sorted() {
            found.append(RowDifference(kind: "only_there", table: range.table, scope: range.scope, id: id))
        }
        return found
    }

    /// Runs `body` with the digests installed and refreshed, in one write transaction.
    func withDigests<T>(_ body: (DigestStore) throws -> T) throws -> T {
        try withConnection { db in
            guard !db.isReadOnly else {
                throw LiaisonError(.invalidInput, "'\(path)' is read-only: digests are kept in the replica file")
            }
            try publishIfNeeded(db)
            return try transaction(db) {
                let store = DigestStore(db: db, tables: tables)
                try store.install()
                try store.refresh()
                return try body(store)
            }
        }
    }
}
