import CSQLite

extension Connection {
    /// Runs `body` with capture off on this connection: remote changes merged inside it do not fire
    /// the capture triggers, so the journal holds only local edits (as sqlite-data's triggers check
    /// `isSynchronizingChanges()` and cr-sqlite sets a sync bit).
    ///
    /// The switch is SQLite's own (`SQLITE_DBCONFIG_ENABLE_TRIGGER`) and belongs to this connection
    /// only: another SQLite client writing the file meanwhile (the `sqlite3` shell) is still captured,
    /// and SQLite re-prepares this connection's statements when it flips, so a statement prepared
    /// while capture was off captures again afterwards. Called inside the apply transaction, which
    /// holds the write lock; the journal rows an apply would have written were discarded anyway
    /// (`TransactionApplier.finish`), so capture off changes what is stored in no way.
    func withCaptureOff<T>(_ body: () throws -> T) throws -> T {
        guard liaison_sqlite3_enable_triggers(handle, 0) == SQLITE_OK else {
            throw LiaisonError(.storage, "cannot turn capture off for a merge: \(String(cString: sqlite3_errmsg(handle)))")
        }
        defer { _ = liaison_sqlite3_enable_triggers(handle, 1) }
        return try body()
    }
}
