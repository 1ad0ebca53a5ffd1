import Crypto
import Foundation
import Logging

/// One agency's local replica of the shared dataset: a SQLite file with the synced tables, the
/// change log, the version vector and the conflicts.
///
/// All access goes through one serial queue, so one `Replica` is safe to share between tasks; SQLite
/// calls never run on Swift's cooperative thread pool when you use the `async` methods.
public final class Replica: @unchecked Sendable {
    /// The file path.
    public let path: String
    /// This replica's random, permanent site id.
    public let siteID: String
    /// This replica's human site code.
    public let siteCode: SiteCode
    /// The synced tables, as schema changes applied here left them.
    public var schema: SchemaDefinition { schemaState.schema }
    /// The schema and its tables, replaced whole when a schema change applies.
    let schemaState: SchemaState
    /// The clock that stamps local transactions and checks remote ones.
    public let clock: HybridClock
    let logger: Logger
    let connection: Connection
    let queue: DispatchQueue
    /// The synced tables by name, the schema's change table included.
    var tables: [String: TableInfo] { schemaState.tables }
    /// The key file beside the replica: the signing key and the peers' tokens.
    let keys: KeyStore
    /// This replica's public key, base64.
    public let publicKey: String
    /// How much each sender may keep staged here (pieces of unfinished transactions).
    public let stagingQuota = StagingQuota()
    /// The bound on what one sender may have held in quarantine.
    public let quarantineQuota = QuarantineQuota()

    private init(connection: Connection, clock: HybridClock, logger: Logger) throws {
        self.connection = connection
        self.path = connection.path
        self.clock = clock
        self.logger = logger
        self.queue = DispatchQueue(label: "liaison.replica")
        let meta = try Self.readMeta(connection)
        guard let format = meta["format"].flatMap(Int.init) else {
            throw LiaisonError(.notAReplica, "'\(connection.path)' is not a Liaison replica (no format marker)")
        }
        guard format == ReplicaMigrator.replica.latest else {
            throw LiaisonError(
                .schemaMismatch,
                "'\(connection.path)' uses replica format \(format); this liaison reads format \(ReplicaMigrator.replica.latest)"
            )
        }
        guard let id = meta["site_id"], let code = meta["site_code"].flatMap(SiteCode.init),
            let schemaJSON = meta["schema"],
            let schema = try? JSONDecoder().decode(SchemaDefinition.self, from: Data(schemaJSON.utf8))
        else { throw LiaisonError(.notAReplica, "'\(connection.path)' has an incomplete Liaison header") }
        guard let publicKey = meta["public_key"] else {
            throw LiaisonError(.notAReplica, "'\(connection.path)' has no public key")
        }
        let keyPath = KeyFile.path(forReplica: connection.path)
        var keyFile = try KeyFile.read(at: keyPath)
        if let inFile = meta["private_key"] {
            // A replica of an earlier version keeps its secrets inside: move them out.
            keyFile = try Self.moveSecretsOut(
                connection, privateKey: inFile, siteID: id, existing: keyFile, to: keyPath)
        }
        if let keyFile, keyFile.siteID != id {
            throw LiaisonError(
                .storage,
                "the key file '\(keyPath)' belongs to site \(keyFile.siteID), not to this replica (\(id)); "
                    + "move it away and bring this replica's own with 'liaison import-key'")
        }
        let signingKey = try keyFile.map { try SiteKey.privateKey($0.privateKey) }
        if let signingKey, signingKey.publicKey.rawRepresentation.base64EncodedString() != publicKey {
            throw LiaisonError(
                .storage, "the key in '\(keyPath)' is not this replica's key (\(SiteKey.fingerprint(publicKey)))")
        }
        self.keys = KeyStore(path: keyPath, file: keyFile)
        self.publicKey = publicKey
        self.siteID = id
        self.siteCode = code
        self.schemaState = SchemaState(schema: schema, cookie: try SchemaState.cookie(connection))
    }

    /// Creates a new replica file with the given schema.
    ///
    /// - Throws: `LiaisonError` `.invalidInput` when the file exists already.
    public static func create(
        at path: String, site: SiteCode, schema: SchemaDefinition = .cooperation, siteID: String? = nil,
        clock: HybridClock = HybridClock(), logger: Logger = Logger(label: "liaison")
    ) throws -> Replica {
        if try FileProbe.exists(path) {
            throw LiaisonError(.invalidInput, "'\(path)' exists already; choose a new file name or remove it first")
        }
        let id = siteID ?? UUID().uuidString.lowercased()
        let keys = SiteKey.generate()
        // The secrets first, beside the file; then the file itself, readable by its owner only
        // (SQLite gives its -wal and -shm files the same mode).
        try KeyFile(siteID: id, privateKey: keys.privateKey).write(to: KeyFile.path(forReplica: path), exclusive: true)
        let connection: Connection
        do {
            try FileProbe.createPrivately(path)
            connection = try Connection(path: path, mode: .create)
        } catch {
            try? FileManager.default.removeItem(atPath: KeyFile.path(forReplica: path))
            throw error
        }
        do {
            try configure(connection)
            try connection.execute("BEGIN IMMEDIATE")
            try connection.execute(StorageLayout.createSQL)
            for (offset, table) in schema.tables.enumerated() {
                try connection.execute(CaptureTriggers.createSQL(for: table, index: offset + 1))
            }
            let schemaJSON = String(decoding: try JSONEncoder().encode(schema), as: UTF8.self)
            for (key, value) in [
                ("public_key", keys.publicKey),
                ("format", String(StorageLayout.formatVersion)), ("site_id", id), ("site_code", site.rawValue),
                ("schema", schemaJSON), ("schema_version", String(schema.version)),
            ] {
                try connection.run("INSERT INTO _liaison_meta VALUES (?, ?)", [.text(key), .text(value)])
            }
            try connection.run(
                "INSERT INTO _liaison_site(sidx, site_id, code, public_key) VALUES (\(SiteIndex.local), ?, ?, ?)",
                [.text(id), .text(site.rawValue), .text(keys.publicKey)])
            try connection.execute("COMMIT")
            // Format 1 as the first release wrote it, then every step since, as an old file gets them.
            try ReplicaMigrator.replica.migrate(connection, from: StorageLayout.formatVersion)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            for suffix in ["-wal", "-shm", ".keys"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw error
        }
        return try Replica(connection: connection, clock: clock, logger: logger)
    }

    /// Opens an existing replica.
    ///
    /// - Throws: `LiaisonError` `.notAReplica` when the file is missing or not a Liaison replica.
    public static func open(
        at path: String, clock: HybridClock = HybridClock(), logger: Logger = Logger(label: "liaison"),
        busyTimeout: Duration = .seconds(5)
    ) throws -> Replica {
        guard try FileProbe.exists(path) else {
            throw LiaisonError(
                .notAReplica, "no replica at '\(path)'; create one with 'liaison init \(path) --site CODE'")
        }
        var connection = try Connection(path: path, mode: .readWrite)
        if connection.isReadOnly, FileProbe.isOnReadOnlyFileSystem(path), !(try FileProbe.exists(path + "-wal")) {
            // Nothing can change the file, and SQLite could not create the -shm file a WAL
            // database needs even for reading: read it as an immutable file. Writes are refused.
            connection = try Connection(path: path, mode: .immutable)
        }
        connection.setBusyTimeout(busyTimeout)
        // Check that it is a replica before changing anything about the file (journal mode).
        do {
            _ = try readMeta(connection)
        } catch let error as LiaisonError where error.code == .notAReplica && !error.message.contains("_liaison_meta") {
            throw LiaisonError(.notAReplica, "'\(path)' is not a SQLite database, so not a Liaison replica")
        }
        if !connection.isReadOnly { try configure(connection) }
        // The engine's own tables, brought to this build's format in order (a read-only file of
        // an older format is refused with what to do).
        try ReplicaMigrator.replica.migrate(connection, from: try ReplicaMigrator.format(of: connection) ?? 0)
        try convertRemovedSteps(connection)
        let replica = try Replica(connection: connection, clock: clock, logger: logger)
        // Schema changes this build can apply now (a grant, or a newer build than the one that
        // received them).
        if !connection.isReadOnly { try replica.withConnection { try replica.evolveSchemaIfNeeded($0) } }
        return replica
    }

    private static func configure(_ connection: Connection) throws {
        do {
            try connection.execute(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32000;")
        } catch let error as LiaisonError where error.code == .notAReplica {
            throw LiaisonError(.notAReplica, "'\(connection.path)' is not a SQLite database, so not a Liaison replica")
        }
    }

    private static func readMeta(_ connection: Connection) throws -> [String: String] {
        let exists =
            try connection.first(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_liaison_meta'"
            ) { _ in true } ?? false
        guard exists else {
            throw LiaisonError(
                .notAReplica,
                "'\(connection.path)' is a SQLite database but not a Liaison replica (no _liaison_meta table)")
        }
        var meta: [String: String] = [:]
        for (key, value) in try connection.query(
            "SELECT key, value FROM _liaison_meta", [], { ($0.text(0), $0.text(1)) })
        {
            meta[key] = value
        }
        return meta
    }

    /// Site code, site id, public key and its fingerprint.
    public var identity: Identity {
        Identity(
            site: siteCode.rawValue, siteID: siteID, publicKey: publicKey, fingerprint: SiteKey.fingerprint(publicKey))
    }

    // MARK: - Access

    /// Runs `body` on the replica's queue with the raw connection.
    func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        try queue.sync { try body(connection) }
    }

    /// Runs `body` on the replica's queue without blocking the caller's thread.
    func withConnectionAsync<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(self.connection) })
            }
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: commits when it returns, rolls back when it throws.
    func transaction<T>(_ connection: Connection, _ body: () throws -> T) throws -> T {
        try connection.run("BEGIN IMMEDIATE")
        do {
            // Another process (the CLI beside a running server) may have changed the schema.
            try refreshSchemaIfChanged(connection)
            let result = try body()
            try connection.run("COMMIT")
            return result
        } catch {
            try? connection.run("ROLLBACK")
            throw error
        }
    }

    /// The table a received change names: a known one, or, for a well-formed name this replica does
    /// not know yet (a table another site added), an opaque one whose changes are only logged.
    func receivedTable(named name: String) throws -> TableInfo {
        if let table = tables[name] { return table }
        guard (try? SchemaNames.checkIdentifier(name, what: "table")) != nil else { return try table(named: name) }
        return .opaque(name)
    }

    func table(named name: String) throws -> TableInfo {
        if let table = tables[name] { return table }
        let suggestion = Suggestion.nearest(to: name, in: schema.tables.map(\.name))
        throw LiaisonError(
            .unknownTable,
            "no synced table '\(name)'\(suggestion.map { " (did you mean '\($0)'?)" } ?? ""); tables: "
                + schema.tables.map(\.name).joined(separator: ", "))
    }
}
