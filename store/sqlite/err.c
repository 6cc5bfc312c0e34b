/* store/sqlite/err.c: SQLite's result codes in store.h's errno contract, for the driver and the
 * backup alike (both under it). */
#include <errno.h>

#include "store/sqlite/sqlite.h"

int sqlite_err(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        return -EINVAL;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return -EEXIST;
        return -EINVAL;
    default:
        return -EIO;
    }
}
