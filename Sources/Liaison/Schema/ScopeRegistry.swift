import Foundation

/// The sharing scopes a replica knows: the built-in ones (`public`, `eu`, `gctf`, `coalition` and
/// every `bilateral:AA-BB`) and those declared in the synced `sharing_scope` table, which travels
/// like any data. A write into a scope that is neither is refused with the nearest known names.
///
/// A replica whose schema has no `sharing_scope` table (one made before the registry, or another
/// schema) accepts every valid scope name.
struct ScopeRegistry {
    static let table = "sharing_scope"
    static let builtIn: [String] = ["coalition", "eu", "gctf", "public"]

    let db: Connection
    let tables: [String: TableInfo]

    /// Whether `scope` is built in or declared here.
    func isKnown(_ scope: String) throws -> Bool {
        guard let info = tables[Self.table] else { return true }
        if Self.builtIn.contains(scope) || Self.isBilateral(scope) { return true }
        return try db.first("SELECT 1 FROM \(info.quotedName) WHERE id = ?", [.text(scope)]) { _ in true } ?? false
    }

    /// Refuses an unknown scope, naming the nearest known ones.
    func check(_ scope: String) throws {
        guard try !isKnown(scope) else { return }
        let near = try known().map(\.name).filter { Self.distance($0, scope) <= 2 }
        let hint = near.isEmpty ? "" : " (did you mean \(near.map { "'\($0)'" }.joined(separator: " or "))?)"
        throw LiaisonError(
            .invalidInput,
            "unknown scope '\(scope)'\(hint); declare it first with 'liaison scope add DB \(scope) --description …' "
                + "or see 'liaison scope list DB'")
    }

    /// Built-in and declared scopes, sorted by name, with their descriptions (`nil` for built-ins).
    func known() throws -> [(name: String, description: String?)] {
        var result: [String: String?] = Dictionary(uniqueKeysWithValues: Self.builtIn.map { ($0, nil) })
        if let info = tables[Self.table] {
            for (name, description) in try db.query(
                "SELECT id, description FROM \(info.quotedName)", [], { ($0.text(0), $0.optionalText(1)) })
            {
                result[name] = description
            }
        }
        return result.map { ($0.key, $0.value) }.sorted { $0.name < $1.name }
    }

    /// `bilateral:` followed by two site codes joined by `-`... or any `bilateral:` name of two parts.
    static func isBilateral(_ scope: String) -> Bool {
        guard scope.hasPrefix("bilateral:") else { return false }
        let parties = scope.dropFirst("bilateral:".count)
        return !parties.isEmpty && parties.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "-" }
    }

    /// Levenshtein distance, for "did you mean".
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// The column naming a new row's parent, whose scope the row takes unless told otherwise.
    static let parentColumn: [String: String] = [
        "membership": "body_id", "agenda_item": "body_id", "action": "agreement_id", "organisation": "parent_id",
        "agreement": "body_id",
    ]
}

/// A sharing scope this replica knows, as `liaison scope list` shows it.
public struct KnownScope: Sendable, Hashable, Codable {
    public var name: String
    /// The declared description; `nil` for a built-in scope.
    public var description: String?
}

/// Who this replica lets read a row, as far as it knows: itself and the peers whose read grant
/// holds the row's scope.
public struct RowReaders: Sendable, Hashable, Codable {
    public var scope: String
    /// This replica's site code.
    public var site: String
    /// Registered peers granted the scope, by name, with their read grants.
    public var peers: [String: [String]]
}

extension Replica {
    /// Declares a sharing scope: a synced row of `sharing_scope`, shared in that scope itself.
    public func declareScope(_ name: String, description: String, author: String) throws {
        guard Scope.isValid(name) else {
            throw LiaisonError(
                .invalidInput, "invalid scope '\(name)': use lower-case words such as public, eu, bilateral:NL-MA")
        }
        guard tables[ScopeRegistry.table] != nil else {
            throw LiaisonError(
                .schemaMismatch, "this replica's schema has no scope registry; every valid scope name is accepted")
        }
        try write(author: author) {
            try $0.set(ScopeRegistry.table, id: name, ["description": .text(description), "scope": .text(name)])
        }
    }

    /// The built-in and declared scopes.
    public func knownScopes() throws -> [KnownScope] {
        try withConnection { db in
            try ScopeRegistry(db: db, tables: tables).known().map {
                KnownScope(name: $0.name, description: $0.description)
            }
        }
    }

    /// Who may read row `id` of `table` from this replica.
    public func whoSees(_ table: String, id: String) throws -> RowReaders {
        let info = try self.table(named: table)
        let row = try withConnection { db in try readRow(db, table: info, id: id) }
        guard case .text(let scope)? = row?["scope"] else {
            throw LiaisonError(.notFound, "no row '\(id)' in '\(table)'; list them with 'liaison list DB \(table)'")
        }
        var peers: [String: [String]] = [:]
        for peer in try self.peers() where Scope.allows(peer.readScopes, scope) {
            peers[peer.name] = peer.readScopes.sorted()
        }
        return RowReaders(scope: scope, site: siteCode.rawValue, peers: peers)
    }
}
