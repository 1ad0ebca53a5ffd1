import Foundation

/// Brings a replica file's engine tables to the format this build writes, one numbered step at a
/// time, in order, each step in its own transaction that also records the format it reaches.
///
/// The idea is GRDB's `DatabaseMigrator`: migrations are an ordered list, each applied once, and
/// a file remembers how far it got, so a crash between two steps resumes at the next one. Here the
/// marker is `_liaison_meta.format` (what older builds already check) and each applied step is also
/// logged in `_liaison_migration` with the time it ran.
struct ReplicaMigrator: Sendable {
    /// One step: the format a file has once `apply` ran, and a short name for the log.
    struct Step: Sendable {
        let format: Int
        let name: String
        let apply: @Sendable (Connection) throws -> Void
    }

    let steps: [Step]

    /// The format a file has once every step ran.
    var latest: Int { steps.last?.format ?? 1 }

    /// The steps a file at `format` still needs, in order.
    func pending(from format: Int) -> [Step] { steps.filter { $0.format > format } }

    /// Applies the steps a file at `format` needs; returns their names. A file written by a newer
    /// build (a format above `latest`) is refused with what to do, and nothing is changed.
    @discardableResult
    func migrate(_ db: Connection, from format: Int) throws -> [String] {
        guard format <= latest else {
            throw LiaisonError(
                .schemaMismatch,
                "'\(db.path)' uses replica format \(format), written by a newer liaison; this liaison reads formats "
                    + "up to \(latest). Upgrade liaison to open it")
        }
        let todo = pending(from: format)
        guard !todo.isEmpty else { return [] }
        guard !db.isReadOnly else {
            throw LiaisonError(
                .schemaMismatch,
                "'\(db.path)' uses replica format \(format) and is read-only here; open it once where it can be "
                    + "written so liaison upgrades it to format \(latest)")
        }
        for step in todo {
            try db.execute("BEGIN IMMEDIATE")
            do {
                // A step that another process applied meanwhile is not applied twice.
                let now = try Self.format(of: db) ?? 0
                if now < step.format {
                    try step.apply(db)
                    try db.execute(Self.logSQL)
                    try db.run(
                        "INSERT OR REPLACE INTO _liaison_migration(format, name, applied) VALUES (?, ?, ?)",
                        [.integer(Int64(step.format)), .text(step.name), .text(Date().formatted(.iso8601))])
                    try db.run(
                        "UPDATE _liaison_meta SET value = ? WHERE key = 'format'", [.text(String(step.format))])
                }
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw LiaisonError(
                    .storage,
                    "could not upgrade '\(db.path)' to replica format \(step.format) (\(step.name)): "
                        + "\((error as? LiaisonError)?.message ?? "\(error)"); the file is unchanged from format "
                        + "\(step.format - 1) on. Free disk space or fix permissions and open it again",
                    cause: error)
            }
        }
        return todo.map(\.name)
    }

    /// The format recorded in the file, `nil` when it has none.
    static func format(of db: Connection) throws -> Int? {
        try db.first("SELECT value FROM _liaison_meta WHERE key = 'format'") { Int($0.text(0)) } ?? nil
    }

    /// The log of applied steps.
    static let logSQL = """
        CREATE TABLE IF NOT EXISTS _liaison_migration(
            format INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL);
        """
}
