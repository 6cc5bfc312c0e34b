/* store/store.c: opening a store on either backend, migrations, transactions and the object
 * caps, all through store/db.h.
 *
 * DESIGN: one struct store per thread (the API keeps a pool), wrapping one driver connection.
 * Migrations come from schema/ (SQLite) or schema/pg/ (PostgreSQL) through
 * build/gen/migrations.c and are applied in order inside one DB_TX_SCHEMA transaction, so two
 * processes opening a new database at once do not both apply them; the driver's schema
 * version records how many have been applied. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/migrations.h"
#include "store/store_int.h"

int64_t store_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct db_stmt *store_stmt(struct store *st, enum store_stmt_id id, const char *sql, int *ret_err)
{
    return db_stmt_id(st->db, (unsigned)id, sql, ret_err);
}

struct db_stmt *store_stmt_sql(struct store *st, const char *sql, int *ret_err)
{
    return db_stmt_sql(st->db, sql, ret_err);
}

bool store_read_only(const struct store *st)
{
    return st->db->read_only;
}

int store_schema_version(struct store *st, int *ret_version)
{
    return db_schema_version(st->db, ret_version);
}

static const struct store_migration_set *migrations_for(enum db_dialect d)
{
    return d == DB_DIALECT_PG ? &store_migrations_pg : &store_migrations_sqlite;
}

unsigned store_schema_latest(void)
{
    return store_migrations_sqlite.count;
}

unsigned store_schema_latest_at(const char *location)
{
    return migrations_for(db_location_dialect(location))->count;
}

/* Applies migrations version+1 .. latest, in one schema transaction. */
static int migrate(struct store *st)
{
    const struct store_migration_set *set = migrations_for(db_dialect(st->db));
    int version, r;

    r = db_begin(st->db, DB_TX_SCHEMA);
    if (r < 0)
        return r;
    r = db_schema_version(st->db, &version);
    if (r < 0)
        goto out;
    if (version < 0 || (unsigned)version > set->count) {
        r = -EPROTO;
        goto out;
    }
    for (unsigned i = (unsigned)version; i < set->count; i++) {
        r = db_exec(st->db, set->list[i].sql);
        if (r == 0)
            r = db_set_schema_version(st->db, (int)i + 1);
        if (r < 0)
            goto out;
    }
    return db_commit(st->db);
out:
    db_rollback(st->db);
    return r;
}

/* A read-only database is served as it is: its schema must already be the latest. */
static int check_read_only(struct store *st)
{
    unsigned latest = migrations_for(db_dialect(st->db))->count;
    int version, r = db_schema_version(st->db, &version);

    if (r < 0)
        return r;
    if (version < 0 || (unsigned)version > latest)
        return -EPROTO;
    return (unsigned)version < latest ? -EROFS : 0; /* it needs a migration, which writes */
}

int store_open(const char *location, struct store **ret_store)
{
    struct store *st;
    int r;

    st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    r = db_open(location, &st->db);
    if (r < 0)
        goto out;
    r = st->db->read_only ? check_read_only(st) : migrate(st);
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
    db_close(st->db);
    free(st);
}

int store_backup(struct store *st, const char *dest_path)
{
    return db_backup(st->db, dest_path);
}

int store_begin(struct store *st)
{
    int r = db_begin(st->db, DB_TX_WRITE);

    st->writing = r == 0;
    return r;
}

int store_commit(struct store *st)
{
    st->writing = false;
    return db_commit(st->db);
}

void store_rollback(struct store *st)
{
    st->writing = false;
    db_rollback(st->db);
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

int store_read_begin(struct store *st)
{
    return db_begin(st->db, DB_TX_READ);
}

void store_read_end(struct store *st)
{
    store_rollback(st);
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
    struct db_stmt *stmt;
    int r = 0;

    (void)snprintf(sql, sizeof(sql), "SELECT %s FROM %s", what, table);
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_step_count(stmt, ret_n);
    db_stmt_done(stmt);
    return r;
}

/* Dialect difference 10 (store/db.h): on PostgreSQL the writers of a capped table, on every
 * node, count one at a time: a transaction-scoped advisory lock on the pair (CAP_LOCK_CLASS,
 * the table's oid), held until the commit or rollback, is taken before the count. Without it two
 * nodes could both count cap - 1 rows and both insert. SQLite's write lock already does this. */
#define CAP_LOCK_CLASS "1667392353" /* "cbca" in ASCII: callbridge caps */

static int cap_lock(struct store *st, const char *table)
{
    struct db_stmt *stmt;
    int r = 0;

    if (db_dialect(st->db) != DB_DIALECT_PG)
        return 0;
    stmt = store_stmt_sql(st,
                          "SELECT pg_advisory_xact_lock(" CAP_LOCK_CLASS ", CAST(CAST(CAST(?1 AS "
                          "regclass) AS oid) AS integer))",
                          &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, table);
    if (r == 0)
        r = db_step_one(stmt);
    db_stmt_done(stmt);
    return r;
}

/* seq is assigned from 1 upwards (SQLite's rowid, PostgreSQL's identity), so a table never
 * holds more rows than its largest seq: while that is under the cap (a lookup at the end of an
 * index) the exact count, which reads the whole smallest index, is not needed. On PostgreSQL
 * the largest seq read is that of the rows committed (and this transaction's), which is the
 * bound only while no other writer is between its count and its commit: cap_lock sees to that.
 */
int store_check_room(struct store *st, const char *table)
{
    size_t max_rows = 0, n = 0;
    int r;

    for (size_t i = 0; i < STORE_MAX_CAPS && caps[i].table[0]; i++)
        if (strcmp(caps[i].table, table) == 0)
            max_rows = caps[i].max_rows;
    if (max_rows == 0)
        return 0;
    r = cap_lock(st, table);
    if (r == 0)
        r = table_number(st, "max(seq)", table, &n);
    if (r < 0 || n < max_rows)
        return r;
    r = table_number(st, "count(*)", table, &n);
    if (r < 0)
        return r;
    return n >= max_rows ? -EDQUOT : 0;
}
