import Foundation

/// The engine's own tables, kept apart from the synced data under the `_liaison_` prefix.
///
/// - `_liaison_journal`: what the capture triggers append, in commit order, until the next publish.
///   A row with `tbl > 0` is one captured row write (`mask` -1 insert, 0 delete, else the changed
///   columns); `tbl = 0` names a conflict that the transaction resolves (in `pk`). The last row of
///   each local transaction carries its `seq`, `hlc` and `author`.
/// - `_liaison_tx` and `_liaison_change`: the published change log, local and remote, in apply order
///   (`ord`), signed by each origin and hash-chained per origin (`previous`, `digest`).
/// - `_liaison_withheld`: digests of changes a peer withheld (outside this replica's scopes there).
///   Since format 5 `_liaison_change` is a rowid table (`changeLogSQL`): publishing appends its
///   rows in row order, and pages stay full.
///   Since format 6 a local change whose cells all still hold its values keeps none (`vals` NULL,
///   `live` the mask of its columns): they are read from the row (`ChangeValues`), and copied in
///   before anything overwrites them. Since format 7 the journal row of each update or deletion
///   also holds the row as it was (`JournalCopy`, copy columns `v1`…); format 6 kept those copies
///   in `_liaison_prior_<table>`.
/// - `_liaison_version`: which transaction wrote each cell (`col` '' is the row's insert, '#' its
///   deletion while it stays deleted), and the cell's owner level for `owner-wins` tables.
enum StorageLayout {
    /// The format `createSQL` writes; `ReplicaMigrator.replica` brings it to the latest.
    static let formatVersion = 1

    /// The change log as format 5 keeps it: a rowid table (its ~600-byte rows fill pages in
    /// append order) with its key as a unique index, under `name`.
    static func changeLogSQL(named name: String) -> String {
        """
        CREATE TABLE \(name)(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL,
            tbl TEXT NOT NULL, pk TEXT NOT NULL, op TEXT NOT NULL, vals TEXT, lvls TEXT,
            scope TEXT NOT NULL, digest TEXT NOT NULL, bases TEXT,
            PRIMARY KEY (sidx, seq, n));
        """
    }

    static let createSQL = """
        CREATE TABLE _liaison_meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE _liaison_site(
            sidx INTEGER PRIMARY KEY, site_id TEXT NOT NULL UNIQUE, code TEXT NOT NULL,
            seq INTEGER NOT NULL DEFAULT 0, public_key TEXT);
        CREATE TABLE _liaison_state(
            id INTEGER PRIMARY KEY CHECK (id = 1), last_hlc INTEGER NOT NULL, next_ord INTEGER NOT NULL);
        INSERT INTO _liaison_state VALUES (1, 0, 1);
        CREATE TABLE _liaison_journal(
            id INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, pk TEXT, mask INTEGER,
            seq INTEGER, hlc INTEGER, author TEXT, scope TEXT);
        CREATE TABLE _liaison_tx(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, hlc INTEGER NOT NULL, author TEXT NOT NULL,
            context TEXT NOT NULL, resolves TEXT, ord INTEGER NOT NULL UNIQUE, changes INTEGER NOT NULL,
            previous TEXT, root TEXT NOT NULL, signature TEXT NOT NULL, digest TEXT NOT NULL,
            PRIMARY KEY (sidx, seq)) WITHOUT ROWID;
        CREATE TABLE _liaison_change(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL,
            tbl TEXT NOT NULL, pk TEXT NOT NULL, op TEXT NOT NULL, vals TEXT, lvls TEXT,
            scope TEXT NOT NULL, digest TEXT NOT NULL,
            PRIMARY KEY (sidx, seq, n)) WITHOUT ROWID;
        CREATE TABLE _liaison_withheld(
            sidx INTEGER NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL, digest TEXT NOT NULL,
            PRIMARY KEY (sidx, seq, n)) WITHOUT ROWID;
        CREATE INDEX _liaison_change_row ON _liaison_change(tbl, pk);
        CREATE TABLE _liaison_version(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT NOT NULL, sidx INTEGER NOT NULL, seq INTEGER NOT NULL,
            lvl INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (tbl, pk, col)) WITHOUT ROWID;
        CREATE TABLE _liaison_conflict(
            id TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT,
            policy TEXT NOT NULL,
            winner_sidx INTEGER NOT NULL, winner_seq INTEGER NOT NULL, winner_value TEXT,
            loser_sidx INTEGER NOT NULL, loser_seq INTEGER NOT NULL, loser_value TEXT,
            state TEXT NOT NULL DEFAULT 'open', resolved_sidx INTEGER, resolved_seq INTEGER,
            detected_ord INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX _liaison_conflict_state ON _liaison_conflict(state, tbl, pk);
        CREATE TABLE _liaison_peer(
            name TEXT PRIMARY KEY NOT NULL, url TEXT NOT NULL, token TEXT NOT NULL, site_id TEXT,
            pull_cursor TEXT NOT NULL DEFAULT '0:0:0', push_cursor TEXT NOT NULL DEFAULT '0:0:0',
            last_sync TEXT, last_error TEXT, read_scopes TEXT NOT NULL DEFAULT 'public',
            write_scopes TEXT NOT NULL DEFAULT 'public', public_key TEXT) WITHOUT ROWID;
        CREATE TABLE _liaison_staging(
            source TEXT NOT NULL, origin TEXT NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL, header TEXT,
            change TEXT, progress INTEGER,
            PRIMARY KEY (source, origin, seq, n)) WITHOUT ROWID;
        """
}
