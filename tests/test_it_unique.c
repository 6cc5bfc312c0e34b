/* tests/test_it_unique.c: the API's "this value is taken" rules and its row caps held by the
 * database (schema/0011_unique.sql, store/store.c's cap lock), not by a check before the write:
 * - rules: through the store alone (no API check runs), on SQLite and on PostgreSQL: a coSpace
 *   uri against another's uri (in another case) and secondaryUri, a callId of an access method
 *   against another space's coSpace callId, an IVR uri and a call bridge name in another case;
 *   holders of one value within one space; a value free again once its last holder goes.
 * - migration: 0011 applied to a SQLite or PostgreSQL database that already has rows fills the
 *   claims from them, and fails on rows that already break a rule, changing nothing.
 * - concurrent: two PostgreSQL connections with open write transactions inserting the same
 *   value: the second waits for the first (seen in pg_locks) and gets -EEXIST at its commit;
 *   likewise an IVR on the uri of a coSpace being written (schema/0015_pgwrite.sql).
 * - two_nodes: two callbridged on one PostgreSQL database: the same new uri POSTed to both at
 *   once, round after round (one 200, one duplicateCoSpaceUri each); PUTs moving two coSpaces
 *   onto one uri at once; two access methods of one space with one uri and passcode at once; a
 *   tenant cap that holds across the nodes; two PUTs taking two new values in opposite orders
 *   (a deadlock on PostgreSQL, run again: never 503); a table locked by another session (503
 *   databaseNotReady after the driver's lock_timeout, not a request that hangs). */
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store.h"
#include "tests/cluster_helpers.h"
#include "tests/helpers.h"
#include "tests/pg_server.h"
#include "tests/skip.h"
#include "tests/suites.h"

#define FAIL(reason) "<?xml version=\"1.0\"?><failureDetails><" reason " /></failureDetails>"

/* ---- rows through the store ------------------------------------------------------------- */

struct kv {
    size_t col;
    const char *v; /* NULL: not set */
};

static void row_of(struct store_row *r, const struct kv *kv, size_t n)
{
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(store_row_set(r, kv[i].col, kv[i].v), 0);
}

/* Inserts a coSpace (uri, secondary, callId may be NULL) in its own transaction, or in the
 * caller's. */
static int space_add(struct store *st, const char *id, const char *uri, const char *secondary,
                     const char *call_id)
{
    const struct kv kv[] = {{STORE_COSPACE_ID, id},
                            {STORE_COSPACE_AUTO, "0"},
                            {STORE_COSPACE_NON_MEMBER, "1"},
                            {STORE_COSPACE_URI, uri},
                            {STORE_COSPACE_SECONDARY, secondary},
                            {STORE_COSPACE_CALL_ID, call_id}};
    struct store_row r;
    int err;

    row_of(&r, kv, sizeof(kv) / sizeof(kv[0]));
    err = store_row_insert(st, &store_table_cospace, &r);
    store_row_done(&r);
    return err;
}

static int access_add(struct store *st, const char *id, const char *space, const char *uri,
                      const char *call_id, const char *passcode)
{
    const struct kv kv[] = {{STORE_ACCESS_ID, id},
                            {STORE_ACCESS_COSPACE, space},
                            {STORE_ACCESS_URI, uri},
                            {STORE_ACCESS_CALL_ID, call_id},
                            {STORE_ACCESS_PASSCODE, passcode}};
    struct store_row r;
    int err;

    row_of(&r, kv, sizeof(kv) / sizeof(kv[0]));
    err = store_row_insert(st, &store_table_access_method, &r);
    store_row_done(&r);
    return err;
}

/* Rewrites coSpace id's uri and secondaryUri. */
static int space_move(struct store *st, const char *id, const char *uri, const char *secondary)
{
    struct store_row r;
    int err = store_row_get(st, &store_table_cospace, id, &r);

    if (err < 0)
        return err;
    ck_assert_int_eq(store_row_set(&r, STORE_COSPACE_URI, uri), 0);
    ck_assert_int_eq(store_row_set(&r, STORE_COSPACE_SECONDARY, secondary), 0);
    err = store_row_update(st, &store_table_cospace, &r);
    store_row_done(&r);
    return err;
}

static int named_add(struct store *st, const struct store_table *t, size_t col, const char *id,
                     const char *value)
{
    struct store_row r = {0};
    int err;

    ck_assert_int_eq(store_row_set(&r, STORE_COL_ID, id), 0);
    ck_assert_int_eq(store_row_set(&r, col, value), 0);
    if (t == &store_table_ivr) {
        ck_assert_int_eq(store_row_set(&r, STORE_IVR_CALL_IDS, "1"), 0);
        ck_assert_int_eq(store_row_set(&r, STORE_IVR_LYNC_IDS, "0"), 0);
    }
    err = store_row_insert(st, t, &r);
    store_row_done(&r);
    return err;
}

/* An IVR of tenant (NULL: none). */
static int ivr_add(struct store *st, const char *id, const char *uri, const char *tenant)
{
    const struct kv kv[] = {{STORE_COL_ID, id},
                            {STORE_IVR_URI, uri},
                            {STORE_IVR_TENANT, tenant},
                            {STORE_IVR_CALL_IDS, "1"},
                            {STORE_IVR_LYNC_IDS, "0"}};
    struct store_row r;
    int err;

    row_of(&r, kv, sizeof(kv) / sizeof(kv[0]));
    err = store_row_insert(st, &store_table_ivr, &r);
    store_row_done(&r);
    return err;
}

/* Rewrites IVR id's uri. */
static int ivr_move(struct store *st, const char *id, const char *uri)
{
    struct store_row r;
    int err = store_row_get(st, &store_table_ivr, id, &r);

    if (err < 0)
        return err;
    ck_assert_int_eq(store_row_set(&r, STORE_IVR_URI, uri), 0);
    err = store_row_update(st, &store_table_ivr, &r);
    store_row_done(&r);
    return err;
}

#define A "aaaaaaaa-0000-4000-8000-000000000001"
#define B "bbbbbbbb-0000-4000-8000-000000000002"
#define C "cccccccc-0000-4000-8000-000000000003"
#define M1 "11111111-0000-4000-8000-000000000001"
#define M2 "22222222-0000-4000-8000-000000000002"
#define M3 "33333333-0000-4000-8000-000000000003"

/* The rules, each written past every API check, on the store at location. */
static void rules_hold(const char *location)
{
    struct store *st;

    ck_assert_int_eq(store_open(location, &st), 0);
    ck_assert_int_eq(space_add(st, A, "Room.A@example.com", "alias.a@example.com", "100"), 0);
    /* a uri taken as a uri (in another case) or as a secondaryUri, either way round */
    ck_assert_int_eq(space_add(st, B, "room.a@EXAMPLE.com", NULL, NULL), -EEXIST);
    ck_assert_int_eq(space_add(st, B, "ALIAS.a@example.com", NULL, NULL), -EEXIST);
    ck_assert_int_eq(space_add(st, B, "room.b@example.com", "Room.A@example.com", NULL), -EEXIST);
    ck_assert_int_eq(space_add(st, B, "room.b@example.com", NULL, "200"), 0);
    /* a callId or a uri of another space's access method */
    ck_assert_int_eq(access_add(st, M1, B, NULL, "100", "1"), -EEXIST);
    ck_assert_int_eq(access_add(st, M1, B, "alias.A@example.com", NULL, "1"), -EEXIST);
    /* an update onto another's value is refused, and nothing of it is kept */
    ck_assert_int_eq(space_move(st, B, "room.b@example.com", "room.a@example.com"), -EEXIST);
    ck_assert_int_eq(space_add(st, C, "room.b@example.com", NULL, NULL), -EEXIST);
    /* within one space a value has several holders (host and guest PINs, uri = secondaryUri) */
    ck_assert_int_eq(access_add(st, M1, A, "room.a@example.com", "100", "1"), 0);
    ck_assert_int_eq(access_add(st, M2, A, "ROOM.A@example.com", "100", "2"), 0);
    ck_assert_int_eq(space_move(st, B, "room.b@example.com", "Room.B@example.com"), 0);
    /* a space may swap its own uri and secondaryUri */
    ck_assert_int_eq(space_move(st, B, "Room.B@example.com", "room.b@example.com"), 0);
    /* the value is A's while any holder remains, free once the last goes */
    ck_assert_int_eq(store_row_delete(st, &store_table_access_method, M1), 0);
    ck_assert_int_eq(space_move(st, A, "other.a@example.com", "alias.a@example.com"), 0);
    ck_assert_int_eq(space_add(st, C, "room.a@example.com", NULL, NULL), -EEXIST);
    ck_assert_int_eq(store_row_delete(st, &store_table_access_method, M2), 0);
    ck_assert_int_eq(space_add(st, C, "room.a@example.com", NULL, "100"), -EEXIST);
    ck_assert_int_eq(space_add(st, C, "room.a@example.com", NULL, NULL), 0);
    /* a space deleted takes its access methods' claims along */
    ck_assert_int_eq(access_add(st, M3, B, "extra.b@example.com", "300", NULL), 0);
    ck_assert_int_eq(store_row_delete(st, &store_table_cospace, B), 0);
    ck_assert_int_eq(access_add(st, M1, A, "extra.b@example.com", "300", NULL), 0);
    ck_assert_int_eq(access_add(st, M2, A, "room.B@example.com", "200", NULL), 0);
    /* IVR uris and call bridge names, without regard to case */
    ck_assert_int_eq(named_add(st, &store_table_ivr, STORE_IVR_URI, A, "ivr@example.com"), 0);
    ck_assert_int_eq(named_add(st, &store_table_ivr, STORE_IVR_URI, B, "IVR@example.com"), -EEXIST);
    /* an IVR of no tenant on any coSpace's uri or secondaryUri, in any case (0014) */
    ck_assert_int_eq(named_add(st, &store_table_ivr, STORE_IVR_URI, B, "ROOM.a@example.com"),
                     -EEXIST);
    ck_assert_int_eq(named_add(st, &store_table_ivr, STORE_IVR_URI, B, "Alias.A@example.com"),
                     -EEXIST);
    ck_assert_int_eq(ivr_move(st, A, "other.A@example.com"), -EEXIST);
    /* an IVR of a tenant only on its tenant's coSpaces' */
    ck_assert_int_eq(named_add(st, &store_table_tenant, STORE_TENANT_NAME, A, "t"), 0);
    ck_assert_int_eq(ivr_add(st, B, "room.a@example.com", A), 0);
    ck_assert_int_eq(named_add(st, &store_table_call_bridge, STORE_BRIDGE_NAME, A, "node-a"), 0);
    ck_assert_int_eq(named_add(st, &store_table_call_bridge, STORE_BRIDGE_NAME, B, "Node-A"),
                     -EEXIST);
    store_close(st);
}

START_TEST(test_rules_hold_by_constraint_on_sqlite)
{
    char dir[64], path[128];

    th_tmpdir(dir);
    (void)snprintf(path, sizeof(path), "%s/callbridge.db", dir);
    rules_hold(path);
    th_rmdir(dir);
}
END_TEST

START_TEST(test_rules_hold_by_constraint_on_pg)
{
    struct th_pg p;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&p);
    rules_hold(p.url);
    th_pg_stop(&p);
}
END_TEST

/* ---- the migration on a database with rows ------------------------------------------------ */

/* Applies schema/00NN_*.sql from first to last (1-based) to db. */
static int apply(sqlite3 *db, unsigned first, unsigned last, char *err, size_t cap)
{
    glob_t g;
    int rc = SQLITE_OK;

    ck_assert_int_eq(glob("schema/[0-9]*.sql", 0, NULL, &g), 0);
    ck_assert_uint_ge(g.gl_pathc, last);
    for (unsigned i = first - 1; i < last && rc == SQLITE_OK; i++) {
        FILE *fp = fopen(g.gl_pathv[i], "r");
        char *sql = calloc(1, 1 << 20), *msg = NULL;

        ck_assert_ptr_nonnull(fp);
        ck_assert_ptr_nonnull(sql);
        ck_assert_uint_gt(fread(sql, 1, (1 << 20) - 1, fp), 0);
        (void)fclose(fp);
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
        (void)snprintf(err, cap, "%s: %s", g.gl_pathv[i], msg ? msg : "ok");
        sqlite3_free(msg);
        free(sql);
    }
    globfree(&g);
    return rc;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
                  msg ? msg : "?");
}

static int add_line(void *arg, int n, char **v, char **names)
{
    char *out = arg;

    (void)names;
    for (int i = 0; i < n; i++)
        (void)snprintf(out + strlen(out), 1024 - strlen(out), "%s%s", i ? "|" : "",
                       v[i] ? v[i] : "");
    (void)snprintf(out + strlen(out), 1024 - strlen(out), ";");
    return 0;
}

#define ROWS_BEFORE                                                                                \
    "INSERT INTO cospace (id, uri, secondary_uri, call_id, created_ms, updated_ms) VALUES "        \
    "('a', 'Room@x', 'room@x', '1', 0, 0), ('b', 'b@x', NULL, '2', 0, 0);"                         \
    "INSERT INTO access_method (id, cospace, uri, call_id, passcode, created_ms, updated_ms) "     \
    "VALUES ('m', 'a', NULL, '1', '9', 0, 0);"

START_TEST(test_migration_fills_claims_from_existing_rows)
{
    char err[512], out[1024] = "";
    sqlite3 *db;

    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_msg(apply(db, 1, 10, err, sizeof(err)) == SQLITE_OK, "%s", err);
    exec_ok(db, ROWS_BEFORE);
    ck_assert_msg(apply(db, 11, 11, err, sizeof(err)) == SQLITE_OK, "%s", err);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "SELECT kind, value, cospace, refs FROM space_address "
                                  "ORDER BY kind, value",
                                  add_line, out, NULL),
                     SQLITE_OK);
    ck_assert_str_eq(out, "callId|1|a|2;callId|2|b|1;uri|b@x|b|1;uri|room@x|a|2;");
    /* and the triggers keep them from there on */
    ck_assert_int_ne(sqlite3_exec(db,
                                  "INSERT INTO access_method (id, cospace, call_id, created_ms, "
                                  "updated_ms) VALUES ('n', 'b', '1', 0, 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_PRIMARYKEY);
    sqlite3_close(db);

    /* rows that already break a rule (two spaces, one uri in two cases): the migration fails
     * and leaves the database as it was */
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_msg(apply(db, 1, 10, err, sizeof(err)) == SQLITE_OK, "%s", err);
    exec_ok(db, ROWS_BEFORE "INSERT INTO cospace (id, uri, created_ms, updated_ms) VALUES "
                            "('c', 'B@X', 0, 0);");
    exec_ok(db, "BEGIN");
    ck_assert_int_ne(apply(db, 11, 11, err, sizeof(err)), SQLITE_OK);
    ck_assert_msg(strstr(err, "UNIQUE constraint failed: space_address") != NULL, "%s", err);
    exec_ok(db, "ROLLBACK");
    out[0] = '\0';
    ck_assert_int_eq(sqlite3_exec(db,
                                  "SELECT count(*) FROM sqlite_master WHERE name = "
                                  "'space_address'",
                                  add_line, out, NULL),
                     SQLITE_OK);
    ck_assert_str_eq(out, "0;");
    sqlite3_close(db);
}
END_TEST

/* schema/pg/00NN_*.sql from first to last (1-based) applied as the callbridge role, each file in
 * one transaction, as the driver applies them; psql's exit code, its output in out. */
static int pg_apply(const struct th_pg *p, unsigned first, unsigned last, char *out, size_t cap)
{
    glob_t g;
    int rc = 0;

    ck_assert_int_eq(glob("schema/pg/[0-9]*.sql", 0, NULL, &g), 0);
    ck_assert_uint_ge(g.gl_pathc, last);
    for (unsigned i = first - 1; i < last && rc == 0; i++) {
        const char *argv[] = {"psql", "-X", "-q",          "-v", "ON_ERROR_STOP=1", "-1", "-d",
                              p->url, "-f", g.gl_pathv[i], NULL};

        rc = th_run("/usr/lib/postgresql/15/bin/psql", argv, NULL, NULL, out, cap, NULL, 0);
    }
    globfree(&g);
    return rc;
}

START_TEST(test_migration_fills_claims_on_pg)
{
    char out[1024];
    struct th_pg p;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&p);
    ck_assert_msg(pg_apply(&p, 1, 10, out, sizeof(out)) == 0, "%s", out);
    ck_assert_msg(th_pg_sql(&p, "callbridge", ROWS_BEFORE, out, sizeof(out)) == 0, "%s", out);
    ck_assert_msg(pg_apply(&p, 11, 11, out, sizeof(out)) == 0, "%s", out);
    ck_assert_int_eq(th_pg_sql(&p, "callbridge",
                               "SELECT string_agg(kind || '|' || value || '|' || cospace || '|' || "
                               "refs, ';' ORDER BY kind, value) FROM space_address",
                               out, sizeof(out)),
                     0);
    ck_assert_str_eq(out, "callId|1|a|2;callId|2|b|1;uri|b@x|b|1;uri|room@x|a|2");
    ck_assert_int_ne(th_pg_sql(&p, "callbridge",
                               "INSERT INTO access_method (id, cospace, call_id, created_ms, "
                               "updated_ms) VALUES ('n', 'b', '1', 0, 0)",
                               out, sizeof(out)),
                     0);
    ck_assert_msg(strstr(out, "is another coSpace's") != NULL, "%s", out);
    th_pg_stop(&p);

    /* rows that already break a rule: the migration fails and changes nothing */
    th_pg_start(&p);
    ck_assert_msg(pg_apply(&p, 1, 10, out, sizeof(out)) == 0, "%s", out);
    ck_assert_msg(th_pg_sql(&p, "callbridge",
                            ROWS_BEFORE "INSERT INTO cospace (id, uri, created_ms, updated_ms) "
                                        "VALUES ('c', 'B@X', 0, 0);",
                            out, sizeof(out)) == 0,
                  "%s", out);
    ck_assert_int_ne(pg_apply(&p, 11, 11, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "space_address_pkey") != NULL, "%s", out);
    ck_assert_int_eq(th_pg_sql(&p, "callbridge", "SELECT to_regclass('space_address') IS NULL", out,
                               sizeof(out)),
                     0);
    ck_assert_str_eq(out, "t");
    th_pg_stop(&p);
}
END_TEST

/* ---- two connections, two open write transactions ----------------------------------------- */

struct writer {
    struct store *st;
    int (*write)(struct store *st);
    atomic_int result; /* 1 until it returns */
};

static int write_b_uri(struct store *st)
{
    return space_add(st, B, "Shared@example.com", NULL, NULL);
}

static int write_b_secondary(struct store *st)
{
    return space_add(st, B, "b2@example.com", "shared2@EXAMPLE.com", NULL);
}

static int write_b_access_call_id(struct store *st)
{
    return access_add(st, M2, B, NULL, "777", NULL);
}

/* The second writer: begin, write (which waits on the first's uncommitted claim), commit. */
static void *second(void *arg)
{
    struct writer *w = arg;
    int r = store_begin(w->st);

    if (r == 0)
        r = w->write(w->st);
    if (r == 0)
        r = store_commit(w->st);
    store_rollback(w->st);
    atomic_store(&w->result, r);
    return NULL;
}

/* Waits (at most 10 s) until n sessions of p wait for a lock: the writers blocked. */
static void wait_for_lock_waits(const struct th_pg *p, int n)
{
    char out[64] = "";

    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(th_pg_sql(p, "callbridge",
                                   "SELECT count(*) FROM pg_stat_activity WHERE "
                                   "wait_event_type = 'Lock' AND datname = 'callbridge'",
                                   out, sizeof(out)),
                         0);
        if (atoi(out) >= n)
            return;
        usleep(10000);
    }
    ck_abort_msg("%d writers never waited for a lock (%s did)", n, out);
}

/* first writes in an open transaction; w's writer then writes the same value on another
 * connection and must wait; first commits; the second gets -EEXIST and stores nothing. */
static void race(const struct th_pg *p, struct store *one, struct store *two,
                 int (*first)(struct store *), int (*other)(struct store *))
{
    struct writer w = {.st = two, .write = other, .result = 1};
    pthread_t t;

    ck_assert_int_eq(store_begin(one), 0);
    ck_assert_int_eq(first(one), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, second, &w), 0);
    wait_for_lock_waits(p, 1);
    ck_assert_int_eq(atomic_load(&w.result), 1); /* still waiting */
    ck_assert_int_eq(store_commit(one), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(atomic_load(&w.result), -EEXIST);
}

/* An IVR on the uri of a coSpace written on another connection (write_c_ivr_uri). */
static int write_ivr_on_c(struct store *st)
{
    return ivr_add(st, M3, "IVR.race@example.com", NULL);
}

static int write_c_ivr_uri(struct store *st)
{
    return space_add(st, C, "ivr.race@EXAMPLE.com", NULL, NULL);
}

static int write_a(struct store *st)
{
    return space_add(st, A, "shared@example.com", "shared2@example.com", "777");
}

static int count_rows(const struct th_pg *p, const char *sql)
{
    char out[64];

    ck_assert_int_eq(th_pg_sql(p, "callbridge", sql, out, sizeof(out)), 0);
    return atoi(out);
}

START_TEST(test_concurrent_writers_of_one_value_one_wins)
{
    struct store *one, *two;
    struct th_pg p;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&p);
    ck_assert_int_eq(store_open(p.url, &one), 0);
    ck_assert_int_eq(store_open(p.url, &two), 0);
    /* uri against uri (in another case) */
    race(&p, one, two, write_a, write_b_uri);
    ck_assert_int_eq(count_rows(&p, "SELECT count(*) FROM cospace"), 1);
    ck_assert_int_eq(store_row_delete(one, &store_table_cospace, A), 0);
    /* uri against another row's secondaryUri */
    race(&p, one, two, write_a, write_b_secondary);
    ck_assert_int_eq(count_rows(&p, "SELECT count(*) FROM cospace"), 1);
    /* a callId of an access method of B against A's coSpace callId (B made first, alone) */
    ck_assert_int_eq(store_row_delete(one, &store_table_cospace, A), 0);
    ck_assert_int_eq(space_add(two, B, "b@example.com", NULL, NULL), 0);
    race(&p, one, two, write_a, write_b_access_call_id);
    ck_assert_int_eq(count_rows(&p, "SELECT count(*) FROM access_method"), 0);
    ck_assert_int_eq(count_rows(&p, "SELECT count(*) FROM space_address WHERE cospace = '" B "'"),
                     1);
    /* an IVR on the uri of a coSpace not yet committed: it waits, then is refused (0014) */
    race(&p, one, two, write_c_ivr_uri, write_ivr_on_c);
    ck_assert_int_eq(count_rows(&p, "SELECT count(*) FROM ivr"), 0);
    store_close(one);
    store_close(two);
    th_pg_stop(&p);
}
END_TEST

/* ---- two daemons on one database ---------------------------------------------------------- */

static struct th_pg pg;
static struct th_daemon node[2];

/* Two callbridged on pg, the second with the first's secret.key (th_cluster_node_start). */
static void nodes_start(const char *const *extra)
{
    th_pg_start(&pg);
    for (int i = 0; i < 2; i++) {
        memset(&node[i], 0, sizeof(node[i]));
        th_cluster_node_start(&node[i], &node[0], pg.url, i ? "node-1" : "node-0", NULL, "0",
                              extra);
    }
}

static void nodes_stop(void)
{
    for (int i = 0; i < 2; i++)
        th_daemon_destroy(&node[i]);
    th_pg_stop(&pg);
}

struct req {
    const struct th_daemon *d;
    const char *method;
    char path[128];
    char form[160];
    pthread_barrier_t *go;
    long status;
    char body[512];
    char location[256];
};

static void *send_req(void *arg)
{
    struct req *q = arg;
    struct th_resp r;
    int rc;

    pthread_barrier_wait(q->go);
    rc = th_http_try(q->d, q->d->ports[0], q->method, q->path, "admin", q->d->password, NULL,
                     q->form, strlen(q->form), &r);
    q->status = rc == 0 ? r.status : -rc;
    (void)snprintf(q->body, sizeof(q->body), "%s", r.body ? r.body : "");
    (void)snprintf(q->location, sizeof(q->location), "%s", r.location);
    th_resp_free(&r);
    return NULL;
}

/* Sends q[0] to node 0 and q[1] to node 1 at the same moment (threads released together). */
static void both_at_once(struct req q[2])
{
    pthread_barrier_t go;
    pthread_t t[2];

    ck_assert_int_eq(pthread_barrier_init(&go, NULL, 2), 0);
    for (int i = 0; i < 2; i++) {
        q[i].d = &node[i];
        q[i].go = &go;
        ck_assert_int_eq(pthread_create(&t[i], NULL, send_req, &q[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&go);
}

/* One 200 and one 400 with body want, either way round. */
static void one_wins(const struct req q[2], const char *want, int round)
{
    int w = q[0].status == 200 ? 0 : 1;

    ck_assert_msg(q[w].status == 200 && q[!w].status == 400, "round %d: %ld %s / %ld %s", round,
                  q[0].status, q[0].body, q[1].status, q[1].body);
    ck_assert_msg(strcmp(q[!w].body, want) == 0, "round %d: %s", round, q[!w].body);
}

#define ROUNDS 50

/* How many times text occurs in hay. */
static size_t occurrences(const char *hay, const char *text)
{
    size_t n = 0;

    for (const char *s = hay; (s = strstr(s, text)); s += strlen(text))
        n++;
    return n;
}

START_TEST(test_two_nodes_one_uri_one_space)
{
    static char list[1 << 20];

    if (!th_pg_or_skip())
        return;
    nodes_start(NULL);
    for (int i = 0; i < ROUNDS; i++) {
        struct req q[2] = {{.method = "POST"}, {.method = "POST"}};

        for (int k = 0; k < 2; k++) {
            (void)snprintf(q[k].path, sizeof(q[k].path), "/api/v1/coSpaces");
            /* the same uri, in another case on the second node */
            (void)snprintf(q[k].form, sizeof(q[k].form), "name=n%d&uri=%s%d", k,
                           k ? "Race" : "race", i);
        }
        both_at_once(q);
        one_wins(q, FAIL("duplicateCoSpaceUri"), i);
    }
    /* every uri once, read on either node */
    for (int k = 0; k < 2; k++) {
        th_api_v1(&node[k], "GET", "coSpaces?limit=1000", NULL, 200, list, sizeof(list));
        ck_assert_msg(strstr(list, "total=\"50\"") != NULL, "%.300s", list);
    }
    for (int i = 0; i < ROUNDS; i++) {
        char lower[32], upper[32];

        (void)snprintf(lower, sizeof(lower), ">race%d<", i);
        (void)snprintf(upper, sizeof(upper), ">Race%d<", i);
        ck_assert_msg(occurrences(list, lower) + occurrences(list, upper) == 1, "race%d", i);
    }
    nodes_stop();
}
END_TEST

/* Two PUTs taking two new values in opposite orders (a's uri x is b's secondaryUri, b's uri y
 * a's secondaryUri), made to meet each round: a third session holds y's claim; b's PUT waits
 * for it, then a's PUT claims x and waits for it too; the third session's rollback wakes b
 * first (the lock's queue order), which claims y and then waits for a's x while a waits for b's
 * y: a deadlock. The server rolls one back (40P01), and that request runs again, whose check
 * names the reason: one 200 and one duplicateCoSpaceUri each round, never 503. deadlock_timeout
 * is lowered so that a deadlock is found in 50 ms, not the default 1 s. */
#define SWAP_ROUNDS 10

static void swap_rounds(const char *a, const char *b)
{
    PGconn *holder = PQconnectdb(pg.url);
    char out[256], sql[256];

    ck_assert_int_eq(PQstatus(holder), CONNECTION_OK);
    ck_assert_msg(th_pg_sql(&pg, "postgres", "ALTER SYSTEM SET deadlock_timeout = '50ms'", out,
                            sizeof(out)) == 0,
                  "%s", out);
    ck_assert_msg(th_pg_sql(&pg, "postgres", "SELECT pg_reload_conf()", out, sizeof(out)) == 0,
                  "%s", out);
    for (int i = 0; i < SWAP_ROUNDS; i++) {
        struct req q[2] = {{.method = "PUT"}, {.method = "PUT"}};
        pthread_barrier_t go[2];
        pthread_t t[2];
        PGresult *res;

        (void)snprintf(sql, sizeof(sql),
                       "BEGIN; INSERT INTO space_address (kind, value, cospace, refs) VALUES "
                       "('uri', 'swap%dy', 'holder', 1)",
                       i);
        res = PQexec(holder, sql);
        ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
        for (int k = 1; k >= 0; k--) { /* b first */
            (void)snprintf(q[k].path, sizeof(q[k].path), "/api/v1/%s", k ? b : a);
            (void)snprintf(q[k].form, sizeof(q[k].form), "uri=swap%d%c&secondaryUri=swap%d%c", i,
                           k ? 'y' : 'x', i, k ? 'x' : 'y');
            q[k].d = &node[k];
            q[k].go = &go[k];
            ck_assert_int_eq(pthread_barrier_init(&go[k], NULL, 1), 0);
            ck_assert_int_eq(pthread_create(&t[k], NULL, send_req, &q[k]), 0);
            wait_for_lock_waits(&pg, 2 - k);
        }
        res = PQexec(holder, "ROLLBACK");
        PQclear(res);
        for (int k = 0; k < 2; k++) {
            ck_assert_int_eq(pthread_join(t[k], NULL), 0);
            pthread_barrier_destroy(&go[k]);
        }
        one_wins(q, FAIL("duplicateCoSpaceUri"), i);
    }
    PQfinish(holder);
}

/* A table locked by another session (an administrator's LOCK TABLE, another node's migration):
 * a write that needs it answers 503 databaseNotReady once the driver's lock_timeout runs out,
 * instead of waiting as long as the lock is held; once the lock goes, the write succeeds. */
static void lock_table_answers(const char *a)
{
    PGconn *admin = PQconnectdb(pg.url);
    struct req q[2] = {{.method = "POST"}, {.method = "PUT"}};
    PGresult *res;
    struct th_resp r;

    ck_assert_int_eq(PQstatus(admin), CONNECTION_OK);
    res = PQexec(admin, "BEGIN; LOCK TABLE cospace IN ACCESS EXCLUSIVE MODE");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    /* a POST on one node and a PUT on the other, at once (each waits the lock_timeout) */
    (void)snprintf(q[0].path, sizeof(q[0].path), "/api/v1/coSpaces");
    (void)snprintf(q[0].form, sizeof(q[0].form), "uri=locked");
    (void)snprintf(q[1].path, sizeof(q[1].path), "/api/v1/%s", a);
    (void)snprintf(q[1].form, sizeof(q[1].form), "name=locked");
    both_at_once(q);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(q[i].status == 503 && strcmp(q[i].body, FAIL("databaseNotReady")) == 0,
                      "%s: %ld %s", q[i].method, q[i].status, q[i].body);
    res = PQexec(admin, "ROLLBACK");
    PQclear(res);
    PQfinish(admin);
    th_admin(&node[1], "POST", "/api/v1/coSpaces", "uri=locked", &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
}

START_TEST(test_two_nodes_move_two_spaces_onto_one_uri)
{
    char a[64], b[64], body[2048], uri[64], secondary[64], scratch[512];

    if (!th_pg_or_skip())
        return;
    nodes_start(NULL);
    (void)snprintf(
        a, sizeof(a), "coSpaces/%s",
        th_api_v1(&node[0], "POST", "coSpaces", "uri=a0", 200, scratch, sizeof(scratch)));
    (void)snprintf(
        b, sizeof(b), "coSpaces/%s",
        th_api_v1(&node[1], "POST", "coSpaces", "uri=b0", 200, scratch, sizeof(scratch)));
    for (int i = 0; i < ROUNDS; i++) {
        struct req q[2] = {{.method = "PUT"}, {.method = "PUT"}};
        char want[32];

        (void)snprintf(q[0].path, sizeof(q[0].path), "/api/v1/%s", a);
        (void)snprintf(q[1].path, sizeof(q[1].path), "/api/v1/%s", b);
        /* the uri of one, the secondaryUri of the other, in two cases */
        (void)snprintf(q[0].form, sizeof(q[0].form), "uri=move%d", i);
        (void)snprintf(q[1].form, sizeof(q[1].form), "secondaryUri=MOVE%d", i);
        both_at_once(q);
        one_wins(q, FAIL("duplicateCoSpaceUri"), i);
        /* the winner has it, the loser kept what it had */
        (void)snprintf(want, sizeof(want), "%s%d", q[0].status == 200 ? "move" : "MOVE", i);
        th_api_v1(&node[i % 2], "GET", a, NULL, 200, body, sizeof(body));
        th_xml_text(body, "uri", uri, sizeof(uri));
        th_api_v1(&node[!(i % 2)], "GET", b, NULL, 200, body, sizeof(body));
        th_xml_text(body, "secondaryUri", secondary, sizeof(secondary));
        ck_assert_msg(strcasecmp(uri, secondary) != 0, "round %d: both hold %s", i, uri);
        ck_assert_str_eq(q[0].status == 200 ? uri : secondary, want);
    }
    swap_rounds(a, b);
    lock_table_answers(a);
    nodes_stop();
}
END_TEST

/* Two access methods of one space with one uri and one passcode: the rule within a space. */
START_TEST(test_two_nodes_one_pin_per_space)
{
    char space[64], scratch[512];

    if (!th_pg_or_skip())
        return;
    nodes_start(NULL);
    (void)snprintf(
        space, sizeof(space), "%s",
        th_api_v1(&node[0], "POST", "coSpaces", "uri=pins", 200, scratch, sizeof(scratch)));
    for (int i = 0; i < ROUNDS; i++) {
        struct req q[2] = {{.method = "POST"}, {.method = "POST"}};

        for (int k = 0; k < 2; k++) {
            (void)snprintf(q[k].path, sizeof(q[k].path), "/api/v1/coSpaces/%s/accessMethods",
                           space);
            (void)snprintf(q[k].form, sizeof(q[k].form), "uri=pin%d&passcode=%d", i, 1000 + i);
        }
        both_at_once(q);
        one_wins(q, FAIL("duplicateCoSpaceUriPasscode"), i);
    }
    nodes_stop();
}
END_TEST

/* A cap of one tenant: each round both nodes create one at once, one gets tooManyTenants, and
 * the winner's is deleted for the next round. */
START_TEST(test_two_nodes_share_a_row_cap)
{
    static const char *const extra[] = {"--max-tenants", "1", NULL};
    char body[512];

    if (!th_pg_or_skip())
        return;
    nodes_start(extra);
    for (int i = 0; i < ROUNDS; i++) {
        struct req q[2] = {{.method = "POST"}, {.method = "POST"}};
        struct th_resp r;

        for (int k = 0; k < 2; k++) {
            (void)snprintf(q[k].path, sizeof(q[k].path), "/api/v1/tenants");
            (void)snprintf(q[k].form, sizeof(q[k].form), "name=t%d", i);
        }
        both_at_once(q);
        one_wins(q, FAIL("tooManyTenants"), i);
        th_api_v1(&node[1], "GET", "tenants", NULL, 200, body, sizeof(body));
        ck_assert_msg(strstr(body, "total=\"1\"") != NULL, "round %d: %s", i, body);
        th_admin(&node[i % 2], "DELETE", q[q[0].status == 200 ? 0 : 1].location, NULL, &r);
        ck_assert_int_eq(r.status, 200);
        th_resp_free(&r);
    }
    nodes_stop();
}
END_TEST

Suite *it_unique_suite(void)
{
    Suite *s = suite_create("it_unique");
    TCase *rules = tcase_create("rules");
    TCase *pg_rules = tcase_create("pg_rules");
    TCase *nodes = tcase_create("two_nodes");

    tcase_add_test(rules, test_rules_hold_by_constraint_on_sqlite);
    tcase_add_test(rules, test_migration_fills_claims_from_existing_rows);
    suite_add_tcase(s, rules);
    tcase_set_tags(pg_rules, "net pgserver");
    tcase_set_timeout(pg_rules, 120);
    tcase_add_test(pg_rules, test_rules_hold_by_constraint_on_pg);
    tcase_add_test(pg_rules, test_concurrent_writers_of_one_value_one_wins);
    tcase_add_test(pg_rules, test_migration_fills_claims_on_pg);
    suite_add_tcase(s, pg_rules);
    tcase_set_tags(nodes, "net pgserver");
    tcase_set_timeout(nodes, 300);
    tcase_add_test(nodes, test_two_nodes_one_uri_one_space);
    tcase_add_test(nodes, test_two_nodes_move_two_spaces_onto_one_uri);
    tcase_add_test(nodes, test_two_nodes_one_pin_per_space);
    tcase_add_test(nodes, test_two_nodes_share_a_row_cap);
    suite_add_tcase(s, nodes);
    return s;
}
