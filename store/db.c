/* store/db.c: the generic half of the driver interface (store/db.h): choosing a driver from a
 * location, the per-connection statement cache, the dispatch through db->ops, and the small
 * step and copy helpers every query uses.
 *
 * DESIGN: the cache lives here so that a driver only prepares and finalizes. A statement by id
 * is prepared once and kept; statements by text (SQL built from a table description) share
 * DB_SQL_CACHE slots, the least recently used one replaced, which bounds what a connection
 * holds however many query shapes the API asks for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum db_dialect db_location_dialect(const char *location)
{
    static const char *const pg_prefixes[] = {"postgresql://", "postgres://", "host=", "dbname="};

    for (size_t i = 0; location && i < sizeof(pg_prefixes) / sizeof(pg_prefixes[0]); i++)
        if (has_prefix(location, pg_prefixes[i]))
            return DB_DIALECT_PG;
    return DB_DIALECT_SQLITE;
}

int db_driver_for(const char *location, const struct db_ops **ret_ops)
{
    if (db_location_dialect(location) == DB_DIALECT_SQLITE) {
        *ret_ops = &db_sqlite_ops;
        return 0;
    }
#ifdef STORE_WITH_PG
    *ret_ops = &db_pg_ops;
    return 0;
#else
    return -EPROTONOSUPPORT;
#endif
}

static _Thread_local char open_error[512];

const char *db_open_error(void)
{
    return open_error;
}

void db_set_open_error(const char *reason)
{
    (void)snprintf(open_error, sizeof(open_error), "%s", reason ? reason : "");
}

int db_open(const char *location, struct db **ret_db)
{
    const struct db_ops *ops;
    int r;

    open_error[0] = '\0';
    if (!location)
        return -EINVAL;
    r = db_driver_for(location, &ops);
    if (r < 0)
        return r;
    return ops->open(location, ret_db);
}

void db_init(struct db *db, const struct db_ops *ops)
{
    memset(db, 0, sizeof(*db));
    db->ops = ops;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < DB_STMT_IDS; i++) {
        db->ops->finalize(db->by_id[i]);
        db->by_id[i] = NULL;
    }
    for (size_t i = 0; i < DB_SQL_CACHE; i++) {
        db->ops->finalize(db->sql[i].stmt);
        free(db->sql[i].sql);
        db->sql[i].stmt = NULL;
        db->sql[i].sql = NULL;
    }
    db->ops->close(db);
}

/* ---- the statement cache ---------------------------------------------------------------- */

struct db_stmt *db_stmt_id(struct db *db, unsigned id, const char *sql, int *ret_err)
{
    int r;

    if (id >= DB_STMT_IDS) {
        *ret_err = -EINVAL;
        return NULL;
    }
    if (!db->by_id[id]) {
        r = db->ops->prepare(db, sql, &db->by_id[id]);
        if (r < 0) {
            *ret_err = r;
            return NULL;
        }
    }
    return db->by_id[id];
}

struct db_stmt *db_stmt_sql(struct db *db, const char *sql, int *ret_err)
{
    struct db_sql_slot *victim = &db->sql[0];
    int r;

    for (size_t i = 0; i < DB_SQL_CACHE; i++) {
        struct db_sql_slot *s = &db->sql[i];

        if (s->sql && strcmp(s->sql, sql) == 0) {
            s->used = ++db->clock;
            return s->stmt;
        }
        if (!s->sql || s->used < victim->used)
            victim = s;
        if (!s->sql)
            break;
    }
    db->ops->finalize(victim->stmt);
    free(victim->sql);
    victim->stmt = NULL;
    victim->sql = strdup(sql);
    if (!victim->sql) {
        *ret_err = -ENOMEM;
        return NULL;
    }
    r = db->ops->prepare(db, sql, &victim->stmt);
    if (r < 0) {
        free(victim->sql);
        victim->sql = NULL;
        victim->stmt = NULL;
        *ret_err = r;
        return NULL;
    }
    victim->used = ++db->clock;
    return victim->stmt;
}

void db_stmt_done(struct db_stmt *stmt)
{
    if (stmt)
        stmt->db->ops->reset(stmt);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

enum db_dialect db_dialect(const struct db *db)
{
    return db->ops->dialect;
}

int db_bind_null(struct db_stmt *stmt, int idx)
{
    return stmt->db->ops->bind_null(stmt, idx);
}

int db_bind_text(struct db_stmt *stmt, int idx, const char *s)
{
    if (!s)
        return stmt->db->ops->bind_null(stmt, idx);
    return stmt->db->ops->bind_text(stmt, idx, s);
}

int db_bind_opt_text(struct db_stmt *stmt, int idx, const char *s)
{
    return db_bind_text(stmt, idx, s && *s ? s : NULL);
}

int db_bind_int64(struct db_stmt *stmt, int idx, int64_t v)
{
    return stmt->db->ops->bind_int64(stmt, idx, v);
}

int db_bind_blob(struct db_stmt *stmt, int idx, const void *b, size_t len)
{
    return stmt->db->ops->bind_blob(stmt, idx, b, len);
}

int db_step(struct db_stmt *stmt)
{
    return stmt->db->ops->step(stmt);
}

int db_column_count(struct db_stmt *stmt)
{
    return stmt->db->ops->column_count(stmt);
}

bool db_column_is_null(struct db_stmt *stmt, int col)
{
    return stmt->db->ops->column_is_null(stmt, col);
}

const char *db_column_text(struct db_stmt *stmt, int col)
{
    return stmt->db->ops->column_text(stmt, col);
}

int64_t db_column_int64(struct db_stmt *stmt, int col)
{
    return stmt->db->ops->column_int64(stmt, col);
}

const void *db_column_blob(struct db_stmt *stmt, int col)
{
    return stmt->db->ops->column_blob(stmt, col);
}

size_t db_column_bytes(struct db_stmt *stmt, int col)
{
    return stmt->db->ops->column_bytes(stmt, col);
}

int64_t db_changes(struct db *db)
{
    return db->ops->changes(db);
}

int db_exec(struct db *db, const char *script)
{
    return db->ops->exec(db, script);
}

int db_begin(struct db *db, enum db_tx kind)
{
    return db->ops->begin(db, kind);
}

int db_commit(struct db *db)
{
    return db->ops->commit(db);
}

void db_rollback(struct db *db)
{
    db->ops->rollback(db);
}

bool db_in_transaction(struct db *db)
{
    return db->ops->in_transaction(db);
}

int db_schema_version(struct db *db, int *ret_version)
{
    return db->ops->schema_version(db, ret_version);
}

int db_set_schema_version(struct db *db, int version)
{
    return db->ops->set_schema_version(db, version);
}

int db_backup(struct db *db, const char *dest_path)
{
    if (!db->ops->backup)
        return -ENOTSUP;
    return db->ops->backup(db, dest_path);
}

/* ---- helpers ------------------------------------------------------------------------------- */

int db_step_one(struct db_stmt *stmt)
{
    int r = db_step(stmt);

    if (r == DB_ROW)
        return 0;
    return r == DB_DONE ? -ENOENT : r;
}

int db_step_done(struct db_stmt *stmt)
{
    int r = db_step(stmt);

    if (r == DB_DONE)
        return 0;
    return r == DB_ROW ? -EIO : r;
}

int db_step_count(struct db_stmt *stmt, size_t *ret_count)
{
    int64_t n;
    int r = db_step(stmt);

    if (r != DB_ROW)
        return r == DB_DONE ? -EIO : r;
    n = db_column_int64(stmt, 0);
    *ret_count = n > 0 ? (size_t)n : 0;
    return 0;
}

int db_copy_text(struct db_stmt *stmt, int col, char *dst, size_t n)
{
    const char *s = db_column_text(stmt, col);
    size_t len;

    if (!s) {
        dst[0] = '\0';
        return 0;
    }
    len = db_column_bytes(stmt, col);
    if (len >= n)
        return -EIO;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

const char *db_eq_nocase(const struct db *db, const char *col, const char *param, char *out,
                         size_t cap)
{
    int n;

    if (db_dialect(db) == DB_DIALECT_PG)
        n = snprintf(out, cap, "lower(%s) = lower(%s)", col, param);
    else
        n = snprintf(out, cap, "%s = %s COLLATE NOCASE", col, param);
    if (n < 0 || (size_t)n >= cap)
        out[0] = '\0';
    return out;
}

const char *db_like(const struct db *db)
{
    return db_dialect(db) == DB_DIALECT_PG ? "ILIKE" : "LIKE";
}
