/* store/q_meta.c: what the database keeps about itself: the check value of the secrets key
 * (schema 0004). Backups are the driver's (store/sqlite/backup.c, store_backup()). */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

int store_secret_check_get(struct store *st, unsigned char *ret_blob, size_t cap, size_t *ret_len)
{
    struct db_stmt *stmt;
    size_t len;
    int r = 0;

    stmt = store_stmt_sql(st, "SELECT value FROM secret_check WHERE id = 1", &r);
    if (!stmt)
        return r;
    r = db_step_one(stmt);
    if (r == 0) {
        const void *b = db_column_blob(stmt, 0);

        len = db_column_bytes(stmt, 0);
        if (len > cap) {
            r = -EIO;
        } else {
            if (len)
                memcpy(ret_blob, b, len);
            *ret_len = len;
        }
    }
    db_stmt_done(stmt);
    return r;
}

int store_secret_check_add(struct store *st, const unsigned char *blob, size_t len)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, "INSERT INTO secret_check (id, value) VALUES (1, ?1)", &r);
    if (!stmt)
        return r;
    r = db_bind_blob(stmt, 1, blob, len);
    if (r == 0)
        r = db_step_done(stmt);
    db_stmt_done(stmt);
    return r;
}
