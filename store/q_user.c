/* store/q_user.c: API users (name + password hash). Hashing is the caller's job
 * (api/http/auth.c).
 */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

/* Runs a write statement with up to two text parameters, in the caller's transaction or one of
 * its own; -ENOENT when no row changed. */
static int write2(struct store *st, enum store_stmt_id id, const char *sql, const char *a,
                  const char *b)
{
    struct db_stmt *stmt = NULL;
    bool own;
    int r = store_write_enter(st, &own);

    if (r == 0)
        stmt = store_stmt(st, id, sql, &r);
    if (stmt) {
        db_bind_text(stmt, 1, a);
        if (b)
            db_bind_text(stmt, 2, b);
        r = db_step_done(stmt);
        if (r == 0 && db_changes(st->db) == 0)
            r = -ENOENT;
        db_stmt_done(stmt);
    }
    return store_write_leave(st, own, r);
}

int store_user_add(struct store *st, const char *name, const char *hash)
{
    static const char sql[] = "INSERT INTO api_user (name, hash, created_ms) VALUES (?1, ?2, ?3)";
    struct db_stmt *stmt = NULL;
    bool own;
    int r = store_write_enter(st, &own);

    if (r == 0)
        stmt = store_stmt(st, STMT_USER_ADD, sql, &r);
    if (stmt) {
        db_bind_text(stmt, 1, name);
        db_bind_text(stmt, 2, hash);
        db_bind_int64(stmt, 3, store_now_ms());
        r = db_step_done(stmt);
        db_stmt_done(stmt);
    }
    return store_write_leave(st, own, r);
}

int store_user_set_hash(struct store *st, const char *name, const char *hash)
{
    return write2(st, STMT_USER_SET_HASH, "UPDATE api_user SET hash = ?2 WHERE name = ?1", name,
                  hash);
}

int store_user_delete(struct store *st, const char *name)
{
    return write2(st, STMT_USER_DELETE, "DELETE FROM api_user WHERE name = ?1", name, NULL);
}

int store_user_get_hash(struct store *st, const char *name, char *ret_hash)
{
    static const char sql[] = "SELECT hash FROM api_user WHERE name = ?1";
    char hash[STORE_HASH_MAX + 1];
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt(st, STMT_USER_GET_HASH, sql, &r);
    if (!stmt)
        return r;
    db_bind_text(stmt, 1, name);
    r = db_step_one(stmt);
    if (r == 0)
        r = db_copy_text(stmt, 0, hash, sizeof(hash));
    db_stmt_done(stmt);
    if (r == 0)
        memcpy(ret_hash, hash, strlen(hash) + 1);
    return r;
}

int store_user_count(struct store *st, size_t *ret_count)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt(st, STMT_USER_COUNT, "SELECT count(*) FROM api_user", &r);
    if (!stmt)
        return r;
    r = db_step_count(stmt, ret_count);
    db_stmt_done(stmt);
    return r;
}

int store_user_foreach(struct store *st, store_user_fn fn, void *userdata)
{
    static const char sql[] = "SELECT name, created_ms FROM api_user ORDER BY name";
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt(st, STMT_USER_LIST, sql, &r);
    if (!stmt)
        return r;
    while ((r = db_step(stmt)) == DB_ROW) {
        struct store_user u = {0};

        r = db_copy_text(stmt, 0, u.name, sizeof(u.name));
        if (r < 0)
            break;
        u.created_ms = db_column_int64(stmt, 1);
        r = fn(&u, userdata);
        if (r != 0)
            break;
    }
    if (r > 0) /* fn's own stop value, as the SQLite code always answered it */
        r = -EIO;
    db_stmt_done(stmt);
    return r;
}
