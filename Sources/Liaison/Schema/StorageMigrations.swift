import Foundation

extension ReplicaMigrator {
    /// The replica format's history. Format 1 is `StorageLayout.createSQL`; each later step brings
    /// a file from the format before it. Never edit a step that shipped: add the next one.
    static let replica = ReplicaMigrator(steps: [
        Step(format: 2, name: "engine tables once created on first use") { db in
            // Each was created with CREATE TABLE IF NOT EXISTS when first needed; a file of
            // format 1 may hold any subset of them.
            try db.execute(TrustStore.createSQL)
            try db.execute(QuarantineStore.createSQL)
            try CellBases.migrate(db)
            try db.execute(Replica.replayTableSQL)
            try db.execute(Replica.securityTableSQL)
            try db.execute(StagingQuota.ageTableSQL)
            try db.execute(TransactionApplier.ignoredResolutionSQL)
            try db.execute(PageBuilder.outlineTableSQL)
            try db.execute(Replica.healthTableSQL)
        },
        Step(format: 3, name: "schema changes as signed data") { db in
            // The synced change table, the rights, and the schema the file was made with (the
            // base every change applies to).
            try db.execute(SchemaLog.createSQL)
            try db.run(
                "INSERT OR IGNORE INTO _liaison_meta(key, value) SELECT 'schema_base', value FROM _liaison_meta WHERE key = 'schema'"
            )
        },
        Step(format: 4, name: "revocations that travel") { db in
            try db.execute(TrustStore.revocationSQL)
        },
    ])
}
