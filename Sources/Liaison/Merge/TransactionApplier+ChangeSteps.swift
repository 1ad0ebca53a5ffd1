/// What a transaction's changes declared, gathered as each one is applied (`applyChange`).
struct AppliedChanges {
    /// The scopes the changes write; each must be declared (`checkDeclared`).
    var scopes: Set<String> = []
    /// Whether a change writes the schema's table (the schema evolves after the transaction).
    var carriesSchema = false
}

extension TransactionApplier {
    /// The steps every received change goes through, in this order, on every apply path (`apply`
    /// and `applyInOnePass`): its row read once (`RowMemo`), the write rule, the owner rules, a
    /// schema change's rules, the change log, the merge. A rule added here holds on both paths.
    func applyChange(
        _ change: ChangeRecord, _ form: SignedForm, position: Int, of origin: VersionStore.Origin, write: CellWrite,
        name: String, into seen: inout AppliedChanges
    ) throws {
        try armRowMemo(table: form.table, pk: change.id)
        seen.scopes.insert(form.scope)
        seen.carriesSchema = seen.carriesSchema || change.table == SchemaLog.table
        try writeRule.check(change, table: form.table, declared: form.scope, name: name)
        try checkOwnership(change, table: form.table, write: write, name: name)
        try checkSchemaChange(change, write: write, name: name)
        try log(change, form, of: origin, position: position)
        try merge(change, from: origin, write: write)
    }
}
