#ifndef LIAISON_CSQLITE_SHIM_H
#define LIAISON_CSQLITE_SHIM_H
#include <sqlite3.h>

/// Turns this connection's triggers on or off (sqlite3_db_config is variadic, which Swift cannot
/// call). SQLite re-prepares the connection's statements when the setting changes.
static inline int liaison_sqlite3_enable_triggers(sqlite3 *db, int enable) {
    int now = 0;
    return sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, enable, &now);
}
#endif
