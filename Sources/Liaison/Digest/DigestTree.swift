import Crypto
import Foundation

/// The digest tree: each row sits under the node named by the hex digits of its key, a hash of its
/// id. A node's children add one digit (16 of them), and the sums of the nodes down to
/// `storedDepth` digits are kept, so the fingerprint of any node is one lookup (or a sum of the
/// few rows below the stored depth) instead of a scan of its rows. The key is a hash, so nodes
/// split the rows evenly whatever the ids look like.
enum DigestTree {
    /// Nodes of up to this many digits have their sums stored (1 + 16 + 256 + 4,096 per scope).
    static let storedDepth = 3
    /// The longest node: the key's length in hex digits.
    static let keyDigits = 16

    /// A row's key: the first 8 bytes, in hex, of SHA-256 over `liaison-digest-key-v1\0` and its id.
    static func key(of id: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("liaison-digest-key-v1\u{0}".utf8))
        hasher.update(data: Array(id.utf8))
        return RowDigest.hex(hasher.finalize().prefix(8))
    }

    /// Whether `node` is a node name: at most `keyDigits` lower-case hex digits.
    static func isNode(_ node: String) -> Bool {
        node.utf8.count <= keyDigits
            && node.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The 16 children of `node`.
    static func children(of node: String) -> [String] {
        "0123456789abcdef".map { node + String($0) }
    }
}

/// Sums of tree nodes being updated: loaded on first use, saved together.
struct NodeSums {
    private struct Key: Hashable {
        var table: String
        var scope: String
        var node: String
    }

    private var sums: [Key: DigestSum] = [:]
    /// The nodes changed since loading, the only ones `save` writes.
    private var touched: Set<Key> = []
    /// Tables whose stored sums were all read (`load`): a node not among them has no row.
    private var loaded: Set<String> = []
    private let db: Connection?

    /// Sums for a table whose nodes were all cleared (a rebuild): nothing to load.
    init() { db = nil }

    /// Sums that start from what `db` stores.
    init(loadingFrom db: Connection) { self.db = db }

    mutating func add(_ hash: [UInt8], table: String, scope: String, key: String) throws {
        for depth in 0...DigestTree.storedDepth {
            let node = Key(table: table, scope: scope, node: String(key.prefix(depth)))
            var sum = try current(node)
            sum.add(hash)
            sums[node] = sum
            touched.insert(node)
        }
    }

    mutating func remove(_ hash: [UInt8], table: String, scope: String, key: String) throws {
        for depth in 0...DigestTree.storedDepth {
            let node = Key(table: table, scope: scope, node: String(key.prefix(depth)))
            var sum = try current(node)
            sum.remove(hash)
            sums[node] = sum
            touched.insert(node)
        }
    }

    /// Reads every stored sum of `table` at once (a refresh of many rows touches most of them).
    mutating func load(_ db: Connection, table: String) throws {
        let stored = try db.query(
            "SELECT scope, node, sum, count FROM _liaison_digest_node WHERE tbl = ?", [.text(table)]
        ) { (Key(table: table, scope: $0.text(0), node: $0.text(1)), DigestSum(hex: $0.text(2), count: $0.int(3))) }
        for (key, sum) in stored where sums[key] == nil { sums[key] = sum ?? DigestSum() }
        loaded.insert(table)
    }

    /// Adds a row to its deepest stored node only; `rollUp()` then fills the nodes above (a
    /// rebuild: one sum per row instead of one per level).
    mutating func addLeaf(_ hash: [UInt8], table: String, scope: String, key: String) {
        let leaf = Key(table: table, scope: scope, node: String(key.prefix(DigestTree.storedDepth)))
        sums[leaf, default: DigestSum()].add(hash)
        touched.insert(leaf)
    }

    /// Fills every node above the leaves `addLeaf` filled with the sum of its leaves.
    mutating func rollUp() {
        let leaves = sums.filter { $0.key.node.utf8.count == DigestTree.storedDepth }
        for (leaf, sum) in leaves {
            for depth in 0..<DigestTree.storedDepth {
                let node = Key(table: leaf.table, scope: leaf.scope, node: String(leaf.node.prefix(depth)))
                sums[node, default: DigestSum()].add(sum)
                touched.insert(node)
            }
        }
    }

    private func current(_ key: Key) throws -> DigestSum {
        if let known = sums[key] { return known }
        guard let db, !loaded.contains(key.table) else { return DigestSum() }
        return try Self.stored(db, table: key.table, scope: key.scope, node: key.node)
    }

    /// Writes every sum touched (a node left with no row is removed).
    func save(_ db: Connection) throws {
        let upsert = try db.prepare(
            "INSERT OR REPLACE INTO _liaison_digest_node(tbl, scope, node, count, sum) VALUES (?, ?, ?, ?, ?)")
        let delete = try db.prepare("DELETE FROM _liaison_digest_node WHERE tbl = ? AND scope = ? AND node = ?")
        for key in touched {
            guard let sum = sums[key] else { continue }
            if sum.count <= 0 {
                try delete.execute([.text(key.table), .text(key.scope), .text(key.node)])
            } else {
                try upsert.execute([
                    .text(key.table), .text(key.scope), .text(key.node), .integer(Int64(sum.count)), .text(sum.hex),
                ])
            }
        }
    }

    static func stored(_ db: Connection, table: String, scope: String, node: String) throws -> DigestSum {
        let found = try db.first(
            "SELECT sum, count FROM _liaison_digest_node WHERE tbl = ? AND scope = ? AND node = ?",
            [.text(table), .text(scope), .text(node)], { DigestSum(hex: $0.text(0), count: $0.int(1)) })
        return (found ?? nil) ?? DigestSum()
    }
}
