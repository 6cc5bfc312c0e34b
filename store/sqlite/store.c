/* store/sqlite/store.c: opening the database, migrations, transactions and the statement cache.
 *
 * DESIGN: one struct store per thread (the API keeps a pool). WAL mode lets readers run beside
 * the single writer; synchronous=FULL makes a commit durable before the API answers 200.
 * busy_timeout bounds how long a writer waits for the lock, after which callers get -EBUSY
 * (the API answers 503). Migrations come from schema/ through build/gen/migrations.c and are
 * applied in order inside BEGIN IMMEDIATE, so two processes opening a new file at once do not
 * both apply them; user_version records how many have been applied. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite/migrations.h"
#include "store/sqlite/store_int.h"

#define STORE_BUSY_TIMEOUT_MS 1000

int store_err(int rc)
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
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return -EEXIST;
        return -EINVAL;
    default:
        return -EIO;
    }
}

int64_t store_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_step_err(int rc)
{
    if (rc == SQLITE_DONE)
        return 0;
    return store_err(rc) ? store_err(rc) : -EIO;
}

int store_step_count(sqlite3_stmt *stmt, size_t *ret_count)
{
    int rc = sqlite3_step(stmt);

    if (rc != SQLITE_ROW)
        return store_step_err(rc);
    *ret_count = (size_t)sqlite3_column_int64(stmt, 0);
    return 0;
}

sqlite3_stmt *store_stmt(struct store *st, enum store_stmt_id id, const char *sql, int *ret_err)
{
    if (!st->stmts[id]) {
        int rc =
            sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            *ret_err = store_err(rc) ? store_err(rc) : -EIO;
            return NULL;
        }
    }
    return st->stmts[id];
}

sqlite3_stmt *store_stmt_sql(struct store *st, const char *sql, int *ret_err)
{
    struct sql_slot *victim = &st->sql[0];
    int rc;

    for (size_t i = 0; i < STORE_SQL_CACHE; i++) {
        struct sql_slot *s = &st->sql[i];

        if (s->sql && strcmp(s->sql, sql) == 0) {
            s->used = ++st->clock;
            return s->stmt;
        }
        if (!s->sql || s->used < victim->used)
            victim = s;
        if (!s->sql)
            break;
    }
    sqlite3_finalize(victim->stmt);
    free(victim->sql);
    victim->stmt = NULL;
    victim->sql = strdup(sql);
    if (!victim->sql) {
        *ret_err = -ENOMEM;
        return NULL;
    }
    rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &victim->stmt, NULL);
    if (rc != SQLITE_OK) {
        free(victim->sql);
        victim->sql = NULL;
        *ret_err = store_err(rc) ? store_err(rc) : -EIO;
        return NULL;
    }
    victim->used = ++st->clock;
    return victim->stmt;
}

void store_stmt_done(sqlite3_stmt *stmt)
{
    if (stmt) {
        (void)sqlite3_reset(stmt);
        (void)sqlite3_clear_bindings(stmt);
    }
}

int store_bind_opt_text(sqlite3_stmt *stmt, int idx, const char *s)
{
    if (!s || !*s)
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
}

int store_copy_text(sqlite3_stmt *stmt, int col, char *dst, size_t n)
{
    const unsigned char *s = sqlite3_column_text(stmt, col);
    size_t len;

    if (!s) {
        dst[0] = '\0';
        return 0;
    }
    len = (size_t)sqlite3_column_bytes(stmt, col);
    if (len >= n)
        return -EIO;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int exec(struct store *st, const char *sql)
{
    return store_err(sqlite3_exec(st->db, sql, NULL, NULL, NULL));
}

bool store_read_only(const struct store *st)
{
    return st->read_only;
}

int store_schema_version(struct store *st, int *ret_version)
{
    sqlite3_stmt *stmt = NULL;
    int r;

    r = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt, NULL);
    if (r != SQLITE_OK) {
        r = store_err(r);
        goto out;
    }
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        r = -EIO;
        goto out;
    }
    *ret_version = sqlite3_column_int(stmt, 0);
    r = 0;
out:
    sqlite3_finalize(stmt);
    return r;
}

unsigned store_schema_latest(void)
{
    return store_migrations_count;
}

/* Applies migrations user_version+1 .. latest, each in its own transaction. */
static int migrate(struct store *st)
{
    int version, r;

    r = store_begin(st);
    if (r < 0)
        return r;
    r = store_schema_version(st, &version);
    if (r < 0)
        goto out;
    if (version < 0 || (unsigned)version > store_migrations_count) {
        r = -EPROTO;
        goto out;
    }
    for (unsigned i = (unsigned)version; i < store_migrations_count; i++) {
        char pragma[48];

        r = exec(st, store_migrations[i].sql);
        if (r < 0)
            goto out;
        (void)snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %u", i + 1);
        r = exec(st, pragma);
        if (r < 0)
            goto out;
    }
    return store_commit(st);
out:
    store_rollback(st);
    return r;
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
 * fails with SQLITE_READONLY (-EROFS). The schema must already be the latest. */
static int open_read_only(struct store *st, const char *path)
{
    char uri[4096 * 3 + 32];
    size_t n = (size_t)snprintf(uri, sizeof(uri), "file:");
    int version, r;

    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        if (n + 4 >= sizeof(uri))
            return -ENAMETOOLONG;
        if (isalnum(*s) || strchr("/._-~", *s))
            uri[n++] = (char)*s;
        else
            n += (size_t)snprintf(uri + n, sizeof(uri) - n, "%%%02X", *s);
    }
    (void)snprintf(uri + n, sizeof(uri) - n, "?immutable=1");
    r = sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        NULL);
    if (r != SQLITE_OK)
        return store_err(r) ? store_err(r) : -EIO;
    (void)sqlite3_extended_result_codes(st->db, 1);
    r = exec(st, "PRAGMA foreign_keys = ON;");
    if (r == 0)
        r = store_schema_version(st, &version);
    if (r == 0 && (version < 0 || (unsigned)version > store_migrations_count))
        r = -EPROTO;
    else if (r == 0 && (unsigned)version < store_migrations_count)
        r = -EROFS; /* it needs a migration, which needs a write */
    if (r == 0)
        st->read_only = true;
    return r;
}

int store_open(const char *path, struct store **ret_store)
{
    struct store *st;
    int r;

    st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    if (dir_read_only(path) && access(path, R_OK) == 0) {
        r = open_read_only(st, path);
        if (r < 0)
            goto out;
        *ret_store = st;
        return 0;
    }
    /* One thread at a time per connection (store.h), so SQLite's per-call connection mutex
     * only costs time: NOMUTEX. */
    r = sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (r != SQLITE_OK) {
        r = store_err(r) ? store_err(r) : -EIO;
        goto out;
    }
    (void)sqlite3_extended_result_codes(st->db, 1);
    (void)sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    r = exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                 "PRAGMA foreign_keys = ON;");
    if (r < 0)
        goto out;
    r = migrate(st);
    if (r < 0)
        goto out;
    *ret_store = st;
    return 0;
out:
    store_close(st);
    return r;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < STMT__MAX; i++)
        sqlite3_finalize(st->stmts[i]);
    for (size_t i = 0; i < STORE_SQL_CACHE; i++) {
        sqlite3_finalize(st->sql[i].stmt);
        free(st->sql[i].sql);
    }
    sqlite3_close(st->db);
    free(st);
}

/* Runs one of the cached transaction-control statements. */
static int tx(struct store *st, enum store_stmt_id id, const char *sql)
{
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt(st, id, sql, &r);
    if (!stmt)
        return r;
    r = store_step_err(sqlite3_step(stmt));
    (void)sqlite3_reset(stmt);
    return r;
}

/* Writers of this process queue here before BEGIN IMMEDIATE. Waiting in SQLite's busy handler
 * instead means sleeping and polling (up to 100 ms a time), so under a write load a writer can
 * sleep through the moments the lock is free and wait far longer than the writes before it
 * took. The mutex wakes the next writer as soon as the lock is released; the busy timeout still
 * bounds the wait, and still applies to writers in other processes. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static void write_done(struct store *st)
{
    if (st->writing) {
        st->writing = false;
        (void)pthread_mutex_unlock(&write_lock);
    }
}

int store_begin(struct store *st)
{
    struct timespec until;
    int r;

    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (STORE_BUSY_TIMEOUT_MS + 999) / 1000;
    if (pthread_mutex_timedlock(&write_lock, &until) != 0)
        return -EBUSY;
    st->writing = true;
    r = tx(st, STMT_BEGIN_WRITE, "BEGIN IMMEDIATE");
    if (r < 0)
        write_done(st);
    return r;
}

int store_commit(struct store *st)
{
    int r = tx(st, STMT_COMMIT, "COMMIT");

    if (r < 0)
        store_rollback(st);
    else
        write_done(st);
    return r;
}

int store_write_enter(struct store *st, bool *ret_own)
{
    int r;

    *ret_own = false;
    if (st->writing)
        return 0;
    r = store_begin(st);
    if (r == 0)
        *ret_own = true;
    return r;
}

int store_write_leave(struct store *st, bool own, int r)
{
    if (!own)
        return r;
    if (r == 0)
        return store_commit(st);
    store_rollback(st);
    return r;
}

/* ---- object caps -------------------------------------------------------------------------- */

#define STORE_MAX_CAPS 16

/* Set at start-up, before any thread writes (store_set_max_rows), read by every writer. */
static struct {
    char table[32];
    size_t max_rows;
} caps[STORE_MAX_CAPS];

int store_set_max_rows(const char *table, size_t max_rows)
{
    size_t i;

    if (strlen(table) >= sizeof(caps[0].table))
        return -EINVAL;
    for (i = 0; i < STORE_MAX_CAPS && caps[i].table[0]; i++)
        if (strcmp(caps[i].table, table) == 0)
            break;
    if (i == STORE_MAX_CAPS)
        return -ENOSPC;
    (void)snprintf(caps[i].table, sizeof(caps[i].table), "%s", table);
    caps[i].max_rows = max_rows;
    return 0;
}

/* Runs "SELECT <what> FROM <table>" and reads one integer (0 for NULL). */
static int table_number(struct store *st, const char *what, const char *table, size_t *ret_n)
{
    char sql[96];
    sqlite3_stmt *stmt;
    int r = 0;

    (void)snprintf(sql, sizeof(sql), "SELECT %s FROM %s", what, table);
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = store_step_count(stmt, ret_n);
    store_stmt_done(stmt);
    return r;
}

/* seq is the rowid, assigned from 1 upwards, so a table never holds more rows than its largest
 * seq: while that is under the cap (a lookup at the end of the b-tree) the exact count, which
 * reads the whole smallest index, is not needed. */
int store_check_room(struct store *st, const char *table)
{
    size_t max_rows = 0, n;
    int r;

    for (size_t i = 0; i < STORE_MAX_CAPS && caps[i].table[0]; i++)
        if (strcmp(caps[i].table, table) == 0)
            max_rows = caps[i].max_rows;
    if (max_rows == 0)
        return 0;
    r = table_number(st, "max(seq)", table, &n);
    if (r < 0 || n < max_rows)
        return r;
    r = table_number(st, "count(*)", table, &n);
    if (r < 0)
        return r;
    return n >= max_rows ? -EDQUOT : 0;
}

int store_read_begin(struct store *st)
{
    return tx(st, STMT_BEGIN_READ, "BEGIN");
}

void store_read_end(struct store *st)
{
    store_rollback(st);
}

void store_rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        (void)tx(st, STMT_ROLLBACK, "ROLLBACK");
    write_done(st);
}
