/* store/store.c: opening a store on either backend, migrations, transactions and the object
 * caps, all through store/db.h.
 *
 * DESIGN: one struct store per thread (the API keeps a pool), wrapping one driver connection.
 * Migrations come from schema/ (SQLite) or schema/pg/ (PostgreSQL) through
 * build/gen/migrations.c and are applied in order inside one DB_TX_SCHEMA transaction, so two
 * processes opening a new database at once do not both apply them; the driver's schema
 * version records how many have been applied. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
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

bool store_is_shared(const struct store *st)
{
    return db_dialect(st->db) == DB_DIALECT_PG;
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

const char *store_open_error(void)
{
    return db_open_error();
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

/* ---- changes seen by other processes (PostgreSQL) ----------------------------------------- */

#define NOTIFY_CHANNEL "callbridge"
#define NOTIFY_PAYLOAD_MAX 7900 /* PostgreSQL takes payloads under 8000 bytes */

/* This process's name in its notifications, so that a listener skips its own process's
 * (each node acts on its own writes as it makes them). Random: a PID repeats across hosts. */
static char origin[17];
static pthread_once_t origin_once = PTHREAD_ONCE_INIT;

static void origin_init(void)
{
    uint64_t v = 0;

    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
        v = (uint64_t)store_now_ms() ^ ((uint64_t)getpid() << 32);
    (void)snprintf(origin, sizeof(origin), "%016llx", (unsigned long long)v);
}

void store_note_write(struct store *st, const char *table, const char *id)
{
    size_t room = sizeof(st->notes) - st->notes_len;
    int n;

    if (!store_is_shared(st) || st->notes_all)
        return;
    n = snprintf(st->notes + st->notes_len, room, "%s %s\n", table, id && id[0] ? id : "*");
    if (n < 0 || (size_t)n >= room) {
        st->notes[st->notes_len] = '\0';
        st->notes_all = true;
        return;
    }
    st->notes_len += (size_t)n;
}

static void notes_clear(struct store *st)
{
    st->notes_len = 0;
    st->notes[0] = '\0';
    st->notes_all = false;
}

/* Inside the write transaction: its notification, delivered by the server when (and only if)
 * it commits: "<origin>\n" then a "table id" line per row written, or "* *". */
static int notes_send(struct store *st)
{
    char payload[NOTIFY_PAYLOAD_MAX];
    struct db_stmt *stmt;
    int n, r = 0;

    if (st->notes_len == 0 && !st->notes_all)
        return 0;
    pthread_once(&origin_once, origin_init);
    n = snprintf(payload, sizeof(payload), "%s\n%s", origin, st->notes_all ? "* *\n" : st->notes);
    if (n < 0 || (size_t)n >= sizeof(payload))
        (void)snprintf(payload, sizeof(payload), "%s\n* *\n", origin);
    stmt = store_stmt_sql(st, "SELECT pg_notify('" NOTIFY_CHANNEL "', ?1)", &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, payload);
    if (r == 0)
        r = db_step_one(stmt);
    db_stmt_done(stmt);
    return r;
}

/* Dialect difference 13 (store/db.h): the database's clock in ms since the epoch, as an SQL
 * expression, so that every node judges time by one clock. */
const char *store_now_sql(const struct store *st)
{
    return db_dialect(st->db) == DB_DIALECT_PG
               ? "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)"
               : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
}

/* Dialect difference 12 (store/db.h). */
int store_analyze(struct store *st)
{
    struct db_stmt *stmt;
    int r = 0;

    if (db_dialect(st->db) != DB_DIALECT_PG)
        return 0;
    stmt = store_stmt_sql(st, "ANALYZE", &r);
    if (!stmt)
        return r;
    r = db_step(stmt);
    db_stmt_done(stmt);
    return r < 0 ? r : 0;
}

int store_change_mark(struct store *st, uint64_t *ret_mark)
{
    struct db_stmt *stmt;
    const char *text;
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    int r = 0;

    if (!store_is_shared(st))
        return -ENOTSUP;
    stmt = store_stmt_sql(st,
                          "SELECT CAST(pg_current_snapshot() AS TEXT) || ' ' || "
                          "CAST(pg_postmaster_start_time() AS TEXT) || ' ' || "
                          "coalesce(CAST(inet_server_addr() AS TEXT), '') || ' ' || "
                          "CAST(inet_server_port() AS TEXT)",
                          &r);
    if (!stmt)
        return r;
    r = db_step_one(stmt);
    if (r == 0) {
        text = db_column_text(stmt, 0);
        for (; text && *text; text++)
            h = (h ^ (unsigned char)*text) * 1099511628211ULL;
        *ret_mark = h;
    }
    db_stmt_done(stmt);
    return r;
}

int store_begin(struct store *st)
{
    int r = db_begin(st->db, DB_TX_WRITE);

    st->writing = r == 0;
    notes_clear(st);
    return r;
}

int store_commit(struct store *st)
{
    int r = 0;

    r = notes_send(st); /* nothing written: nothing sent */
    notes_clear(st);
    st->writing = false;
    if (r < 0) {
        db_rollback(st->db);
        return r;
    }
    return db_commit(st->db);
}

void store_rollback(struct store *st)
{
    st->writing = false;
    notes_clear(st);
    db_rollback(st->db);
}

/* ---- store_listener ------------------------------------------------------------------------ */

struct store_listener {
    char *location;
    struct db *db; /* NULL while lost */
    store_change_fn fn;
    void *userdata;
};

int store_listener_open(const char *location, struct store_listener **ret_l)
{
    const struct db_ops *ops;
    struct store_listener *l;
    int r = db_driver_for(location, &ops);

    if (r < 0)
        return r;
    if (!ops->listen)
        return -ENOTSUP;
    l = calloc(1, sizeof(*l));
    if (!l || !(l->location = strdup(location))) {
        free(l);
        return -ENOMEM;
    }
    r = store_listener_reconnect(l);
    if (r < 0 && r != -ENOTCONN) {
        store_listener_close(l);
        return r;
    }
    *ret_l = l;
    return 0;
}

void store_listener_close(struct store_listener *l)
{
    if (!l)
        return;
    db_close(l->db);
    memset(l->location, 0, strlen(l->location)); /* it may hold a password */
    free(l->location);
    free(l);
}

int store_listener_reconnect(struct store_listener *l)
{
    int r;

    db_close(l->db);
    l->db = NULL;
    r = db_open(l->location, &l->db);
    if (r < 0)
        return r;
    r = l->db->ops->listen(l->db, NOTIFY_CHANNEL);
    if (r < 0) {
        db_close(l->db);
        l->db = NULL;
    }
    return r;
}

int store_listener_fd(const struct store_listener *l)
{
    return l->db ? l->db->ops->socket(l->db) : -1;
}

/* One payload: skipped when it is this process's; else fn per "table id" line. */
static void on_payload(const char *payload, void *userdata)
{
    struct store_listener *l = userdata;
    const char *line = strchr(payload, '\n');

    pthread_once(&origin_once, origin_init);
    if (!line || (size_t)(line - payload) != strlen(origin) ||
        strncmp(payload, origin, strlen(origin)) == 0)
        return;
    for (line++; *line;) {
        const char *end = strchr(line, '\n'), *space = strchr(line, ' ');
        char table[64], id[STORE_ID_LEN + 1];

        if (!end)
            end = line + strlen(line);
        if (space && space < end && (size_t)(space - line) < sizeof(table) &&
            (size_t)(end - space - 1) < sizeof(id)) {
            (void)snprintf(table, sizeof(table), "%.*s", (int)(space - line), line);
            (void)snprintf(id, sizeof(id), "%.*s", (int)(end - space - 1), space + 1);
            l->fn(table, id, l->userdata);
        } else { /* not ours to read: anything may have changed */
            l->fn("*", "*", l->userdata);
        }
        line = *end ? end + 1 : end;
    }
}

int store_listener_read(struct store_listener *l, store_change_fn fn, void *userdata)
{
    int r;

    if (!l->db)
        return -ENOTCONN;
    l->fn = fn;
    l->userdata = userdata;
    r = l->db->ops->notifications(l->db, on_payload, l);
    if (r == -ENOTCONN) {
        db_close(l->db);
        l->db = NULL;
    }
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

/* Dialect difference 11 (store/db.h): on PostgreSQL the writers of a capped table, on every
 * node, count one at a time: a transaction-scoped advisory lock on the pair (CAP_LOCK_CLASS,
 * the table's oid), held until the commit or rollback, is taken before the count. Without it two
 * nodes could both count cap - 1 rows and both insert. SQLite's write lock already does this. */
#define CAP_LOCK_CLASS "1667392353" /* "cbca" in ASCII: callbridge caps */

static int cap_lock(struct store *st, const char *table)
{
    struct db_stmt *stmt;
    int r = 0;

    if (!store_is_shared(st))
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
