/* store/sqlite/sqlite.h: private to the SQLite driver (store/sqlite/) and to tests that reach
 * under the driver interface (a busy timeout, a progress handler). */
#ifndef STORE_SQLITE_SQLITE_H
#define STORE_SQLITE_SQLITE_H

#include <sqlite3.h>

#include "store/db.h"

/* The SQLite handle of a connection opened by db_sqlite_ops; NULL for another driver's. */
sqlite3 *db_sqlite_handle(struct db *db);

/* Maps a SQLite result code to the negative errno contract of store.h (0 for OK, ROW, DONE). */
int sqlite_err(int rc);

/* store/sqlite/backup.c: ops->backup (store_backup()'s contract) for the handle h. */
int sqlite_backup(sqlite3 *h, const char *dest_path);

#endif
