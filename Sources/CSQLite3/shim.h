// Debian's libsqlite3 (libsqlite3-dev). Only Sources/Shared/Store imports this module.
#ifndef SWITCHBOARD_CSQLITE3_SHIM_H
#define SWITCHBOARD_CSQLITE3_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT (a cast Swift cannot spell): SQLite copies a bound value before the call returns.
static inline sqlite3_destructor_type sb_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

#endif
