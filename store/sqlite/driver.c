/* store/sqlite/driver.c: the SQLite driver of store/db.h (db_sqlite_ops), the embedded default.
 *
 * DESIGN: one connection per struct store, used by one thread at a time, so SQLite's per-call
 * mutex only costs time (NOMUTEX). WAL mode lets readers run beside the single writer;
 * synchronous=FULL makes a commit durable before the API answers 200. busy_timeout bounds how
 * long a writer waits for the lock, after which callers get -EBUSY (the API answers 503).
 * Writers of this process queue on a mutex before BEGIN IMMEDIATE (write_lock below). A file
 * in a directory nobody can write is opened immutable and read-only. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite/sqlite.h"

#define BUSY_TIMEOUT_MS 1000

struct sqlite_db {
    struct db base; /* first: a struct db * is a struct sqlite_db * */
    sqlite3 *h;
    sqlite3_stmt *tx[4]; /* BEGIN, BEGIN IMMEDIATE, COMMIT, ROLLBACK, prepared on first use */
    bool writing;        /* holds the process's write lock (begin WRITE to commit or rollback) */
};

struct sqlite_stmt {
    struct db_stmt base; /* first */
    sqlite3_stmt *s;
};

enum { TX_BEGIN_READ, TX_BEGIN_WRITE, TX_COMMIT, TX_ROLLBACK };

static struct sqlite_db *conn(struct db *db)
{
    return (struct sqlite_db *)db;
}

static sqlite3_stmt *raw(struct db_stmt *stmt)
{
    return ((struct sqlite_stmt *)stmt)->s;
}

sqlite3 *db_sqlite_handle(struct db *db)
{
    return db && db->ops == &db_sqlite_ops ? conn(db)->h : NULL;
}

/* A failure's errno: never 0 (an unexpected code is -EIO). */
static int fail(int rc)
{
    int r = sqlite_err(rc);

    return r ? r : -EIO;
}

static int run(struct sqlite_db *c, const char *sql)
{
    int rc = sqlite3_exec(c->h, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : fail(rc);
}

/* True when the directory holding path cannot be written: a read-only mount (ReadOnlyPaths=,
 * a file system remounted read-only) or no write permission. */
static bool dir_read_only(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int n = slash ? snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path)
                  : snprintf(dir, sizeof(dir), ".");

    if (n < 0 || (size_t)n >= sizeof(dir))
        return false;
    if (!dir[0])
        dir[0] = '/', dir[1] = '\0';
    return access(dir, W_OK) < 0 && (errno == EROFS || errno == EACCES);
}

/* A WAL database in a directory nobody can write is read through "immutable=1": SQLite cannot
 * create the -shm file there, and nothing can change the file meanwhile. Every write then
 * fails with SQLITE_READONLY (-EROFS); store.c refuses a schema that would need a migration. */
static int open_read_only(struct sqlite_db *c, const char *path)
{
    char uri[4096 * 3 + 32];
    size_t n = (size_t)snprintf(uri, sizeof(uri), "file:");
    int rc;

    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        if (n + 4 >= sizeof(uri))
            return -ENAMETOOLONG;
        if (isalnum(*s) || strchr("/._-~", *s))
            uri[n++] = (char)*s;
        else
            n += (size_t)snprintf(uri + n, sizeof(uri) - n, "%%%02X", *s);
    }
    (void)snprintf(uri + n, sizeof(uri) - n, "?immutable=1");
    rc = sqlite3_open_v2(uri, &c->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                         NULL);
    if (rc != SQLITE_OK)
        return fail(rc);
    (void)sqlite3_extended_result_codes(c->h, 1);
    c->base.read_only = true;
    return run(c, "PRAGMA foreign_keys = ON;");
}

static int open_read_write(struct sqlite_db *c, const char *path)
{
    int rc = sqlite3_open_v2(
        path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK)
        return fail(rc);
    (void)sqlite3_extended_result_codes(c->h, 1);
    (void)sqlite3_busy_timeout(c->h, BUSY_TIMEOUT_MS);
    return run(c, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                  "PRAGMA foreign_keys = ON;");
}

static void sq_close(struct db *db);
static void write_done(struct sqlite_db *c);

static int sq_open(const char *path, struct db **ret_db)
{
    struct sqlite_db *c = calloc(1, sizeof(*c));
    int r;

    if (!c)
        return -ENOMEM;
    db_init(&c->base, &db_sqlite_ops);
    if (dir_read_only(path) && access(path, R_OK) == 0)
        r = open_read_only(c, path);
    else
        r = open_read_write(c, path);
    if (r < 0) {
        sq_close(&c->base);
        return r;
    }
    *ret_db = &c->base;
    return 0;
}

static void sq_close(struct db *db)
{
    struct sqlite_db *c = conn(db);

    if (!c)
        return;
    for (size_t i = 0; i < sizeof(c->tx) / sizeof(c->tx[0]); i++)
        sqlite3_finalize(c->tx[i]);
    sqlite3_close(c->h); /* an open transaction is rolled back */
    write_done(c);
    free(c);
}

/* ---- statements ------------------------------------------------------------------------- */

static int sq_prepare(struct db *db, const char *sql, struct db_stmt **ret_stmt)
{
    struct sqlite_stmt *s = calloc(1, sizeof(*s));
    int rc;

    if (!s)
        return -ENOMEM;
    rc = sqlite3_prepare_v3(conn(db)->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->s, NULL);
    if (rc != SQLITE_OK) {
        free(s);
        return fail(rc);
    }
    s->base.db = db;
    *ret_stmt = &s->base;
    return 0;
}

static void sq_finalize(struct db_stmt *stmt)
{
    if (stmt) {
        sqlite3_finalize(raw(stmt));
        free(stmt);
    }
}

static void sq_reset(struct db_stmt *stmt)
{
    (void)sqlite3_reset(raw(stmt));
    (void)sqlite3_clear_bindings(raw(stmt));
}

static int bound(int rc)
{
    return rc == SQLITE_OK ? 0 : fail(rc);
}

static int sq_bind_null(struct db_stmt *stmt, int idx)
{
    return bound(sqlite3_bind_null(raw(stmt), idx));
}

static int sq_bind_text(struct db_stmt *stmt, int idx, const char *s)
{
    return bound(sqlite3_bind_text(raw(stmt), idx, s, -1, SQLITE_TRANSIENT));
}

static int sq_bind_int64(struct db_stmt *stmt, int idx, int64_t v)
{
    return bound(sqlite3_bind_int64(raw(stmt), idx, v));
}

static int sq_bind_blob(struct db_stmt *stmt, int idx, const void *b, size_t len)
{
    if (len > INT_MAX)
        return -EINVAL;
    return bound(sqlite3_bind_blob(raw(stmt), idx, len ? b : "", (int)len, SQLITE_TRANSIENT));
}

static int sq_step(struct db_stmt *stmt)
{
    int rc = sqlite3_step(raw(stmt));

    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE)
        return DB_DONE;
    return fail(rc);
}

static int sq_column_count(struct db_stmt *stmt)
{
    return sqlite3_column_count(raw(stmt));
}

static bool sq_column_is_null(struct db_stmt *stmt, int col)
{
    return sqlite3_column_type(raw(stmt), col) == SQLITE_NULL;
}

static const char *sq_column_text(struct db_stmt *stmt, int col)
{
    return (const char *)sqlite3_column_text(raw(stmt), col);
}

static int64_t sq_column_int64(struct db_stmt *stmt, int col)
{
    return sqlite3_column_int64(raw(stmt), col);
}

static const void *sq_column_blob(struct db_stmt *stmt, int col)
{
    return sqlite3_column_blob(raw(stmt), col);
}

static size_t sq_column_bytes(struct db_stmt *stmt, int col)
{
    int n = sqlite3_column_bytes(raw(stmt), col);

    return n > 0 ? (size_t)n : 0;
}

static int64_t sq_changes(struct db *db)
{
    return sqlite3_changes64(conn(db)->h);
}

static int sq_exec(struct db *db, const char *script)
{
    return run(conn(db), script);
}

/* ---- transactions ------------------------------------------------------------------------ */

/* Runs one of the cached transaction-control statements. */
static int tx(struct sqlite_db *c, int which)
{
    static const char *const sql[] = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
    int rc;

    if (!c->tx[which]) {
        rc = sqlite3_prepare_v3(c->h, sql[which], -1, SQLITE_PREPARE_PERSISTENT, &c->tx[which],
                                NULL);
        if (rc != SQLITE_OK)
            return fail(rc);
    }
    rc = sqlite3_step(c->tx[which]);
    (void)sqlite3_reset(c->tx[which]);
    return rc == SQLITE_DONE ? 0 : fail(rc);
}

/* Writers of this process queue here before BEGIN IMMEDIATE. Waiting in SQLite's busy handler
 * instead means sleeping and polling (up to 100 ms a time), so under a write load a writer can
 * sleep through the moments the lock is free and wait far longer than the writes before it
 * took. The mutex wakes the next writer as soon as the lock is released; the busy timeout still
 * bounds the wait, and still applies to writers in other processes. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static void write_done(struct sqlite_db *c)
{
    if (c->writing) {
        c->writing = false;
        (void)pthread_mutex_unlock(&write_lock);
    }
}

static int begin_write(struct sqlite_db *c)
{
    struct timespec until;
    int r;

    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (BUSY_TIMEOUT_MS + 999) / 1000;
    if (pthread_mutex_timedlock(&write_lock, &until) != 0)
        return -EBUSY;
    c->writing = true;
    r = tx(c, TX_BEGIN_WRITE);
    if (r < 0)
        write_done(c);
    return r;
}

static int sq_begin(struct db *db, enum db_tx kind)
{
    /* DB_TX_SCHEMA: BEGIN IMMEDIATE already excludes every other writer of the file */
    return kind == DB_TX_READ ? tx(conn(db), TX_BEGIN_READ) : begin_write(conn(db));
}

static void sq_rollback(struct db *db)
{
    struct sqlite_db *c = conn(db);

    if (!sqlite3_get_autocommit(c->h))
        (void)tx(c, TX_ROLLBACK);
    write_done(c);
}

static int sq_commit(struct db *db)
{
    int r = tx(conn(db), TX_COMMIT);

    if (r < 0)
        sq_rollback(db);
    else
        write_done(conn(db));
    return r;
}

static bool sq_in_transaction(struct db *db)
{
    return !sqlite3_get_autocommit(conn(db)->h);
}

/* ---- schema version, backup ------------------------------------------------------------ */

static int sq_schema_version(struct db *db, int *ret_version)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    rc = sqlite3_prepare_v2(conn(db)->h, "PRAGMA user_version", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *ret_version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return rc == SQLITE_ROW ? 0 : fail(rc);
}

static int sq_set_schema_version(struct db *db, int version)
{
    char pragma[48];

    (void)snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
    return run(conn(db), pragma);
}

static int sq_backup(struct db *db, const char *dest_path)
{
    return sqlite_backup(conn(db)->h, dest_path);
}

const struct db_ops db_sqlite_ops = {
    .name = "sqlite",
    .dialect = DB_DIALECT_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .reset = sq_reset,
    .bind_null = sq_bind_null,
    .bind_text = sq_bind_text,
    .bind_int64 = sq_bind_int64,
    .bind_blob = sq_bind_blob,
    .step = sq_step,
    .column_count = sq_column_count,
    .column_is_null = sq_column_is_null,
    .column_text = sq_column_text,
    .column_int64 = sq_column_int64,
    .column_blob = sq_column_blob,
    .column_bytes = sq_column_bytes,
    .changes = sq_changes,
    .exec = sq_exec,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .in_transaction = sq_in_transaction,
    .schema_version = sq_schema_version,
    .set_schema_version = sq_set_schema_version,
    .backup = sq_backup,
};
