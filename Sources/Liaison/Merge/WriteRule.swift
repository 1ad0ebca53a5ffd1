import Foundation

/// The write rule, checked where every received change lands (push, pulled page, relayed or late
/// change): the scope a change declares, the scope its values set, and the row's scope here (for a
/// row not held here, the scope of its last logged change, which for a deleted row is the scope it
/// was deleted in) must all be within the sender's write grant. A change whose values set a scope
/// other than the one it declares is refused whoever sends it.
///
/// It runs only after the transaction's signature was checked, and its refusal names no row and no
/// scope, so a request learns nothing about rows it may not see (docs/PROTOCOL.md, "Scopes").
struct WriteRule {
    let db: Connection
    /// Scopes the sender may write here; `nil` for any.
    let writable: Set<String>?

    /// Refuses `change` of transaction `name` when it breaks the rule.
    func check(_ change: ChangeRecord, table: TableInfo, declared: String, name: String) throws {
        // A value that is no scope at all is refused as a type mismatch when merged.
        if case .text(let set)? = change.values?["scope"], Scope.isValid(set), set != declared {
            throw LiaisonError(
                .forbiddenScope,
                "transaction \(name) has a change whose values set a scope other than the one it declares; "
                    + "nothing of the batch was applied")
        }
        guard let writable, !writable.contains("*") else { return }
        guard writable.contains(declared) else { throw Self.refusal(name) }
        if let current = try scopeHere(table: table, id: change.id), !writable.contains(current) {
            throw Self.refusal(name)
        }
    }

    /// The one refusal text for a change outside the sender's grant: the same whatever the row.
    static func refusal(_ name: String) -> LiaisonError {
        LiaisonError(
            .forbiddenScope,
            "transaction \(name) writes outside the scopes its sender may write here; nothing of the batch was "
                + "applied. Ask this replica's operator for a wider grant ('liaison grant') or leave the change out")
    }

    /// The row's scope here; for a row not held, the scope of its last logged change (`nil` when
    /// this replica never logged a change of it).
    func scopeHere(table: TableInfo, id: String) throws -> String? {
        if table.isKnown,
            let scope = try db.first(
                "SELECT scope FROM \(table.quotedName) WHERE id = ?", [.text(id)], { $0.text(0) })
        {
            return scope
        }
        return try db.first(
            """
            SELECT c.scope FROM _liaison_change c JOIN _liaison_tx t ON t.sidx = c.sidx AND t.seq = c.seq
            WHERE c.tbl = ? AND c.pk = ? ORDER BY t.ord DESC LIMIT 1
            """, [.text(table.name), .text(id)], { $0.text(0) })
    }
}

extension TransactionApplier {
    /// Refuses a transaction writing into a scope neither built in nor declared here once its own
    /// changes are merged (a declaration may travel in the same transaction as its first rows).
    func checkDeclared(_ scopes: Set<String>, name: String) throws {
        let registry = ScopeRegistry(db: db, tables: replica.tables)
        for scope in scopes.sorted() where try !registry.isKnown(scope) {
            throw LiaisonError(
                .forbiddenScope,
                "transaction \(name) writes into scope '\(scope)', which is not declared here; nothing of the batch "
                    + "was applied. The scope's declaration ('liaison scope add') must reach this replica first")
        }
    }
}
