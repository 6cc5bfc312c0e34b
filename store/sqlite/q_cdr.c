/* store/sqlite/q_cdr.c: the CDR outbox: records appended in event order and numbered by
 * AUTOINCREMENT (an index is never given twice, so a receiver's delivered index stays
 * meaningful across a restart and an emptied outbox), read in order after a receiver's
 * delivered index, and deleted once every receiver has them. The receivers' rows are written
 * through the generic functions (api/res/cdr_receivers.c); this file only moves their
 * delivered index. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/store_int.h"

void store_cdr_record_done(struct store_cdr_record *r)
{
    free(r->body);
    r->body = NULL;
}

int store_cdr_append(struct store *st, const struct store_cdr_record *r, int64_t *ret_index)
{
    static const char sql[] = "INSERT INTO cdr_record (session, type, time, correlator, body) "
                              "VALUES (?1, ?2, ?3, ?4, ?5)";
    sqlite3_stmt *stmt;
    bool own;
    int err = store_write_enter(st, &own);

    if (err < 0)
        return err;
    stmt = store_stmt_sql(st, sql, &err);
    if (stmt) {
        sqlite3_bind_text(stmt, 1, r->session, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, r->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, r->time, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, r->correlator);
        sqlite3_bind_text(stmt, 5, r->body, -1, SQLITE_STATIC);
        err = store_step_err(sqlite3_step(stmt));
        store_stmt_done(stmt);
        if (err == 0 && ret_index)
            *ret_index = sqlite3_last_insert_rowid(st->db);
    }
    return store_write_leave(st, own, err);
}

int store_cdr_last_index(struct store *st, int64_t *ret_index)
{
    static const char sql[] = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = "
                              "'cdr_record'), 0)";
    sqlite3_stmt *stmt;
    size_t n = 0;
    int err = 0;

    stmt = store_stmt_sql(st, sql, &err);
    if (!stmt)
        return err;
    err = store_step_count(stmt, &n);
    store_stmt_done(stmt);
    if (err == 0)
        *ret_index = (int64_t)n;
    return err;
}

static int read_record(sqlite3_stmt *stmt, struct store_cdr_record *r)
{
    const unsigned char *body = sqlite3_column_text(stmt, 5);
    int e = 0;

    memset(r, 0, sizeof(*r));
    r->index = sqlite3_column_int64(stmt, 0);
    e |= store_copy_text(stmt, 1, r->session, sizeof(r->session));
    e |= store_copy_text(stmt, 2, r->type, sizeof(r->type));
    e |= store_copy_text(stmt, 3, r->time, sizeof(r->time));
    r->correlator = sqlite3_column_int64(stmt, 4);
    r->body = strdup(body ? (const char *)body : "");
    if (!r->body)
        return -ENOMEM;
    return e ? -EIO : 0;
}

int store_cdr_after(struct store *st, int64_t after, size_t limit, store_cdr_fn fn, void *userdata)
{
    static const char sql[] = "SELECT record_index, session, type, time, correlator, body "
                              "FROM cdr_record WHERE record_index > ?1 ORDER BY record_index "
                              "LIMIT ?2";
    struct store_cdr_record rec;
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    sqlite3_bind_int64(stmt, 1, after);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)limit);
    while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
        r = read_record(stmt, &rec);
        if (r == 0)
            r = fn(&rec, userdata);
        store_cdr_record_done(&rec);
        if (r < 0)
            break;
    }
    if (r > 0)
        r = store_step_err(r);
    store_stmt_done(stmt);
    return r;
}

/* Steps a count(*) statement, binding after to ?1 unless it is NULL. */
static int count(struct store *st, const char *sql, const int64_t *after, size_t *ret_count)
{
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    if (after)
        sqlite3_bind_int64(stmt, 1, *after);
    r = store_step_count(stmt, ret_count);
    store_stmt_done(stmt);
    return r;
}

int store_cdr_count_after(struct store *st, int64_t after, size_t *ret_count)
{
    return count(st, "SELECT count(*) FROM cdr_record WHERE record_index > ?1", &after, ret_count);
}

/* Runs one statement without results (inside the caller's transaction). */
static int exec(struct store *st, const char *sql, const char *id, int64_t index, bool *ret_hit)
{
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    if (id)
        sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    if (id)
        sqlite3_bind_int64(stmt, 2, index);
    r = store_step_err(sqlite3_step(stmt));
    if (r == 0 && ret_hit)
        *ret_hit = sqlite3_changes(st->db) > 0;
    store_stmt_done(stmt);
    return r;
}

static const char prune_sql[] =
    "DELETE FROM cdr_record WHERE record_index <= coalesce((SELECT min(delivered) FROM "
    "cdr_receiver WHERE uri IS NOT NULL), (SELECT max(record_index) FROM cdr_record))";

int store_cdr_delivered(struct store *st, const char *id, int64_t index)
{
    static const char sql[] = "UPDATE cdr_receiver SET delivered = ?2 WHERE id = ?1";
    bool own, hit = false;
    int r = store_write_enter(st, &own);

    if (r < 0)
        return r;
    r = exec(st, sql, id, index, &hit);
    if (r == 0 && !hit)
        r = -ENOENT;
    if (r == 0)
        r = exec(st, prune_sql, NULL, 0, NULL);
    return store_write_leave(st, own, r);
}

int store_cdr_prune(struct store *st)
{
    bool own;
    int r = store_write_enter(st, &own);

    if (r < 0)
        return r;
    r = exec(st, prune_sql, NULL, 0, NULL);
    return store_write_leave(st, own, r);
}

int store_cdr_receivers(struct store *st, size_t *ret_count)
{
    return count(st, "SELECT count(*) FROM cdr_receiver WHERE uri IS NOT NULL", NULL, ret_count);
}
