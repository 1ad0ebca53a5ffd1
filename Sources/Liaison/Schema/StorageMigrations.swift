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
        Step(format: 5, name: "change log in a rowid table") { db in
            // Same columns and keys; rows of ~600 bytes in a WITHOUT ROWID b-tree left a quarter of
            // each page empty and made publishing insert them in random key order (DECISIONS,
            // "Storage and publishing, second pass").
            try db.execute(StorageLayout.changeLogSQL(named: "_liaison_change_v5"))
            try db.execute(
                """
                INSERT INTO _liaison_change_v5(sidx, seq, n, tbl, pk, op, vals, lvls, scope, digest, bases)
                SELECT sidx, seq, n, tbl, pk, op, vals, lvls, scope, digest, bases FROM _liaison_change
                ORDER BY sidx, seq, n;
                DROP TABLE _liaison_change;
                ALTER TABLE _liaison_change_v5 RENAME TO _liaison_change;
                CREATE INDEX _liaison_change_row ON _liaison_change(tbl, pk);
                """)
        },
        Step(format: 6, name: "values only while current") { db in
            // A local change whose cells all still hold its values keeps none of its own (`live`,
            // `ChangeValues`); the triggers keep a row's earlier values until publishing copies
            // them (DECISIONS, "Values only while current"). Changes logged before keep theirs.
            try db.execute("ALTER TABLE _liaison_change ADD COLUMN live INTEGER")
            try CaptureTriggers.rebuildAll(db)
        },
        Step(format: 7, name: "earlier values in the journal row") { db in
            // One journal row per captured write holds the row as it was: no second table of
            // copies (DECISIONS, "One journal row per write: format 7"). Copies kept before move
            // into the journal, ahead of its rows.
            try JournalCopy.migrate(db)
        },
    ])
}
