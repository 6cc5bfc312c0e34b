/* tests/test_store_db.c: the driver interface under the queries (store/db.h): which backend a
 * location names, the refusal of a PostgreSQL location by a build without its driver, the
 * migration sets, the statement cache, the step helpers and the dialect helpers, and the
 * WHERE clauses q_filter.c writes for each dialect. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/res/resource.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/store.h"
#include "store/store_int.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static char dir[64], path[128];
static struct store *st;

static void setup(void)
{
    th_tmpdir(dir);
    (void)snprintf(path, sizeof(path), "%s/t.db", dir);
    ck_assert_int_eq(store_open(path, &st), 0);
}

static void teardown(void)
{
    store_close(st);
    st = NULL;
    th_rmdir(dir);
}

START_TEST(test_location_dialect)
{
    static const char *const pg[] = {
        "postgresql://cb:secret@db.example.com:5432/callbridge?sslmode=require",
        "postgresql:///callbridge",
        "postgres://127.0.0.1/cb",
        "host=127.0.0.1 port=5433 dbname=cb user=cb",
        "dbname=cb",
    };
    static const char *const sqlite[] = {
        "/var/lib/callbridge/callbridge.db",
        "callbridge.db",
        "postgresql.db",
        "./postgresql://x",
        "hostname.db",
        "user=cb dbname=cb", /* libpq would take it; only host= and dbname= starts are PG's */
        "",
    };

    for (size_t i = 0; i < sizeof(pg) / sizeof(pg[0]); i++)
        ck_assert_msg(db_location_dialect(pg[i]) == DB_DIALECT_PG, "%s", pg[i]);
    for (size_t i = 0; i < sizeof(sqlite) / sizeof(sqlite[0]); i++)
        ck_assert_msg(db_location_dialect(sqlite[i]) == DB_DIALECT_SQLITE, "%s", sqlite[i]);
    ck_assert(db_location_dialect(NULL) == DB_DIALECT_SQLITE);
}
END_TEST

START_TEST(test_driver_choice)
{
    const struct db_ops *ops = NULL;

    ck_assert_int_eq(db_driver_for("/tmp/x.db", &ops), 0);
    ck_assert_ptr_eq(ops, &db_sqlite_ops);
    ck_assert_str_eq(ops->name, "sqlite");
    ops = NULL;
#ifdef STORE_WITH_PG
    ck_assert_int_eq(db_driver_for("postgresql://127.0.0.1/cb", &ops), 0);
    ck_assert_ptr_eq(ops, &db_pg_ops);
    ck_assert(ops->dialect == DB_DIALECT_PG);
#else
    ck_assert_int_eq(db_driver_for("postgresql://127.0.0.1/cb", &ops), -EPROTONOSUPPORT);
    ck_assert_int_eq(db_driver_for("dbname=cb", &ops), -EPROTONOSUPPORT);
    ck_assert_ptr_null(ops); /* ret_ written only on success */
#endif
}
END_TEST

/* A PostgreSQL location never falls back to a SQLite file of that name: without the driver it
 * is refused; with it, nothing listens on port 1. */
START_TEST(test_pg_location_refused_without_driver)
{
    static const char loc[] = "postgresql://cb:pw@127.0.0.1:1/cb?connect_timeout=2";
    struct store *other = (struct store *)(uintptr_t)1;
    struct store_pool *pool = (struct store_pool *)(uintptr_t)1;
    int r = store_open(loc, &other);

#ifdef STORE_WITH_PG
    ck_assert_int_lt(r, 0);
#else
    ck_assert_int_eq(r, -EPROTONOSUPPORT);
    ck_assert_int_eq(store_pool_open("host=127.0.0.1 dbname=cb", 2, &pool), -EPROTONOSUPPORT);
#endif
    ck_assert_ptr_eq(other, (struct store *)(uintptr_t)1);
    ck_assert_ptr_eq(pool, (struct store_pool *)(uintptr_t)1);
    ck_assert_int_ne(access("postgresql:", F_OK), 0);
}
END_TEST

START_TEST(test_migration_sets)
{
    int v = -1;

    ck_assert_uint_eq(store_schema_latest_at(path), store_migrations_sqlite.count);
    ck_assert_uint_eq(store_schema_latest(), store_migrations_sqlite.count);
    ck_assert_uint_eq(store_schema_latest_at("postgresql://h/cb"), store_migrations_pg.count);
    ck_assert_str_eq(store_migrations_sqlite.list[0].name, "0001_init.sql");
    for (unsigned i = 0; i < store_migrations_pg.count; i++)
        ck_assert_ptr_nonnull(store_migrations_pg.list[i].sql);
    ck_assert_int_eq(store_schema_version(st, &v), 0);
    ck_assert_int_eq(v, (int)store_migrations_sqlite.count);
}
END_TEST

START_TEST(test_statement_cache)
{
    struct db_stmt *a, *b;
    char sql[64];
    int r = 0;

    a = db_stmt_sql(st->db, "SELECT 1", &r);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(db_stmt_sql(st->db, "SELECT 1", &r), a);
    /* DB_SQL_CACHE other texts push out the least recently used, "SELECT 1" */
    for (int i = 0; i < DB_SQL_CACHE; i++) {
        (void)snprintf(sql, sizeof(sql), "SELECT %d", i + 2);
        ck_assert_ptr_nonnull(db_stmt_sql(st->db, sql, &r));
    }
    b = db_stmt_sql(st->db, "SELECT 1", &r);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(db_step_one(b), 0);
    ck_assert_int_eq(db_column_int64(b, 0), 1);
    db_stmt_done(b);
    ck_assert_ptr_null(db_stmt_sql(st->db, "SELEC nonsense", &r));
    ck_assert_int_eq(r, -EIO);
    ck_assert_ptr_null(db_stmt_id(st->db, DB_STMT_IDS, "SELECT 1", &r));
    ck_assert_int_eq(r, -EINVAL);
    ck_assert_ptr_nonnull(db_stmt_id(st->db, DB_STMT_IDS - 1, "SELECT 2", &r));
}
END_TEST

START_TEST(test_step_helpers_and_errors)
{
    struct db_stmt *s;
    char small[4];
    size_t n = 0;
    int r = 0;

    s = db_stmt_sql(st->db, "SELECT ?1, ?2, ?3 WHERE ?4 = 1", &r);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(db_bind_text(s, 1, "long text"), 0);
    ck_assert_int_eq(db_bind_blob(s, 2, "\0\1", 2), 0);
    ck_assert_int_eq(db_bind_opt_text(s, 3, ""), 0);
    ck_assert_int_eq(db_bind_int64(s, 4, 1), 0);
    ck_assert_int_eq(db_bind_int64(s, 5, 1), -EINVAL); /* no ?5 */
    ck_assert_int_eq(db_step_one(s), 0);
    ck_assert_int_eq(db_copy_text(s, 0, small, sizeof(small)), -EIO);
    ck_assert_uint_eq(db_column_bytes(s, 1), 2);
    ck_assert(db_column_is_null(s, 2));
    ck_assert_int_eq(db_column_count(s), 3);
    db_stmt_done(s);
    ck_assert_int_eq(db_bind_int64(s, 4, 0), 0);
    ck_assert_int_eq(db_step_one(s), -ENOENT);
    db_stmt_done(s);

    s = db_stmt_sql(st->db, "SELECT count(*) FROM api_user", &r);
    ck_assert_int_eq(db_step_count(s, &n), 0);
    ck_assert_uint_eq(n, 0);
    db_stmt_done(s);

    /* the error map: a unique value twice, then a dangling reference */
    ck_assert_int_eq(store_user_add(st, "bob", "h"), 0);
    ck_assert_int_eq(store_user_add(st, "bob", "h"), -EEXIST);
    ck_assert_int_eq(db_exec(st->db, "INSERT INTO cospace (id, tenant, created_ms, updated_ms) "
                                     "VALUES ('x', 'no-such-tenant', 0, 0)"),
                     -EINVAL);
    ck_assert(!db_in_transaction(st->db));
}
END_TEST

START_TEST(test_transactions)
{
    ck_assert_int_eq(store_begin(st), 0);
    ck_assert(db_in_transaction(st->db));
    ck_assert_int_eq(store_user_add(st, "a", "h"), 0);
    store_rollback(st);
    ck_assert(!db_in_transaction(st->db));
    ck_assert_int_eq(store_user_delete(st, "a"), -ENOENT);
    ck_assert_int_eq(store_read_begin(st), 0);
    ck_assert(db_in_transaction(st->db));
    store_read_end(st);
    ck_assert(!db_in_transaction(st->db));
    store_rollback(st); /* a no-op outside a transaction */
}
END_TEST

/* A driver whose only part is its dialect: enough for the pure helpers. */
static const struct db_ops fake_pg = {.name = "fake", .dialect = DB_DIALECT_PG};

START_TEST(test_dialect_helpers)
{
    struct db pg;
    char out[64], tiny[8];

    db_init(&pg, &fake_pg);
    ck_assert_str_eq(db_eq_nocase(st->db, "uri", "?1", out, sizeof(out)),
                     "uri = ?1 COLLATE NOCASE");
    ck_assert_str_eq(db_eq_nocase(&pg, "uri", "?1", out, sizeof(out)), "lower(uri) = lower(?1)");
    ck_assert_str_eq(db_eq_nocase(&pg, "uri", "?1", tiny, sizeof(tiny)), "");
    ck_assert_str_eq(db_like(st->db), "LIKE");
    ck_assert_str_eq(db_like(&pg), "ILIKE");
    ck_assert_int_eq(db_backup(&pg, "/nonexistent/x"), -ENOTSUP);
}
END_TEST

START_TEST(test_where_per_dialect)
{
    const struct store_table *cospace = api_res_cospaces.table;
    struct store_query q = {.nconds = 2, .seq_min = 5, .seq_max = 9};
    struct store_where w;

    q.conds[0].name = "filter";
    q.conds[0].value = "abc";
    q.conds[1].name = "uriExact";
    q.conds[1].value = "A@B";
    ck_assert_int_eq(store_where_build(DB_DIALECT_SQLITE, cospace, &q, &w), 0);
    ck_assert_uint_eq(w.nargs, 5);
    ck_assert_ptr_nonnull(strstr(w.sql, "MATCH ?1)"));
    ck_assert_ptr_nonnull(strstr(w.sql, "uri = ?2 COLLATE NOCASE OR secondary_uri = ?3"));
    ck_assert_ptr_nonnull(strstr(w.sql, "seq BETWEEN CAST(?4 AS BIGINT) AND CAST(?5 AS BIGINT)"));
    ck_assert(!w.scans);

    ck_assert_int_eq(store_where_build(DB_DIALECT_PG, cospace, &q, &w), 0);
    ck_assert_uint_eq(w.nargs, 8);
    ck_assert_ptr_null(strstr(w.sql, "MATCH"));
    ck_assert_ptr_null(strstr(w.sql, "COLLATE"));
    ck_assert_ptr_null(strstr(w.sql, " LIKE "));
    ck_assert_ptr_nonnull(strstr(w.sql, "name ILIKE ?1 ESCAPE"));
    ck_assert_ptr_nonnull(strstr(w.sql, "call_id ILIKE ?4 ESCAPE"));
    ck_assert_ptr_nonnull(strstr(w.sql, "lower(uri) = lower(?5) OR lower(secondary_uri) = "
                                        "lower(?6)"));
    ck_assert_ptr_nonnull(strstr(w.sql, "CAST(?8 AS BIGINT)"));
    ck_assert_ptr_null(strstr(w.sql, "?9"));
    ck_assert_str_eq(w.args[0], "%abc%");
    ck_assert(w.scans);
}
END_TEST

/* CB_TEST_PG's per-daemon databases (tests/helpers.c): the admin URL with another database. */
START_TEST(test_pg_database_url)
{
    char out[128], tiny[16];

    ck_assert_int_eq(th_pg_database_url("postgresql://postgres@127.0.0.1:5433/postgres", "cbt_1",
                                        out, sizeof(out)),
                     0);
    ck_assert_str_eq(out, "postgresql://postgres@127.0.0.1:5433/cbt_1");
    ck_assert_int_eq(th_pg_database_url("postgres://u:p@h?sslmode=disable", "x", out, sizeof(out)),
                     0);
    ck_assert_str_eq(out, "postgres://u:p@h/x?sslmode=disable");
    ck_assert_int_eq(th_pg_database_url("postgresql://h/db?a=/b", "y", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "postgresql://h/y?a=/b");
    ck_assert_int_eq(th_pg_database_url("dbname=x", "y", out, sizeof(out)), -EINVAL);
    ck_assert_int_eq(th_pg_database_url("postgresql://host.example/db", "y", tiny, sizeof(tiny)),
                     -ENAMETOOLONG);
}
END_TEST

/* What a query plan of sql says (SQLite's EXPLAIN QUERY PLAN details, joined) into out. */
static void query_plan(const char *sql, char *out, size_t cap)
{
    char q[256];
    struct db_stmt *stmt;
    size_t n = 0;
    int r = 0;

    (void)snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
    stmt = store_stmt_sql(st, q, &r);
    ck_assert_msg(stmt, "%s: %d", q, r);
    out[0] = '\0';
    while (db_step(stmt) == DB_ROW && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "%s; ", db_column_text(stmt, 3));
    db_stmt_done(stmt);
}

/* The guests' tickets (schema 0013, 0014_guest; store.h): a hand-off ticket and a rejoin
 * credential are taken once, expired ones are not, a rejoin credential shown again after its use
 * revokes its chain, one given back (restore) is taken again, a revoked one is not; the purges
 * of expired rows read an index. */
START_TEST(test_guest_tickets_are_taken_once)
{
    struct store_handoff h = {.cospace = "c1", .access_method = "", .name = "Ada"}, hg;
    struct store_rejoin c = {.chain = "X", .leg = "L1", .cospace = "c1", .name = "Ada"}, cg;
    char plan[512];

    memset(h.ticket_hash, 'a', 64);
    ck_assert_int_eq(store_handoff_put(st, &h, 60000), 0);
    ck_assert_int_eq(store_handoff_take(st, h.ticket_hash, &hg), 0);
    ck_assert_str_eq(hg.cospace, "c1");
    ck_assert_str_eq(hg.name, "Ada");
    ck_assert_int_eq(store_handoff_take(st, h.ticket_hash, &hg), -ENOENT);
    memset(h.ticket_hash, 'b', 64);
    ck_assert_int_eq(store_handoff_put(st, &h, -1), 0); /* expired at once */
    ck_assert_int_eq(store_handoff_take(st, h.ticket_hash, &hg), -ENOENT);

    memset(c.cred_hash, '1', 64);
    ck_assert_int_eq(store_rejoin_put(st, &c, 60000), 0);
    ck_assert_int_eq(store_rejoin_take(st, c.cred_hash, &cg), 0);
    ck_assert_str_eq(cg.chain, "X");
    ck_assert_str_eq(cg.leg, "L1");
    ck_assert_str_eq(cg.cospace, "c1");
    memset(c.cred_hash, '2', 64); /* the next of the chain */
    (void)snprintf(c.leg, sizeof(c.leg), "L2");
    ck_assert_int_eq(store_rejoin_put(st, &c, 60000), 0);
    memset(c.cred_hash, '1', 64); /* the first shown again: refused, the chain revoked */
    ck_assert_int_eq(store_rejoin_take(st, c.cred_hash, &cg), -EALREADY);
    memset(c.cred_hash, '2', 64);
    ck_assert_int_eq(store_rejoin_take(st, c.cred_hash, &cg), -ENOENT);

    (void)snprintf(c.chain, sizeof(c.chain), "Y");
    memset(c.cred_hash, '3', 64);
    ck_assert_int_eq(store_rejoin_put(st, &c, 60000), 0);
    ck_assert_int_eq(store_rejoin_take(st, c.cred_hash, &cg), 0);
    ck_assert_int_eq(store_rejoin_restore(st, c.cred_hash), 0); /* its join failed */
    ck_assert_int_eq(store_rejoin_take(st, c.cred_hash, &cg), 0);
    ck_assert_int_eq(store_rejoin_restore(st, c.cred_hash), 0);
    ck_assert_int_eq(store_rejoin_revoke(st, "Y"), 0); /* the guest left */
    ck_assert_int_eq(store_rejoin_restore(st, c.cred_hash), 0);
    ck_assert_int_eq(store_rejoin_take(st, c.cred_hash, &cg), -ENOENT);
    memset(c.cred_hash, '4', 64);
    ck_assert_int_eq(store_rejoin_put(st, &c, -1), 0);
    ck_assert_int_eq(store_rejoin_take(st, c.cred_hash, &cg), -ENOENT);

    query_plan("DELETE FROM guest_handoff WHERE expires_ms < 5", plan, sizeof(plan));
    ck_assert_msg(strstr(plan, "guest_handoff_expires"), "%s", plan);
    query_plan("DELETE FROM guest_rejoin WHERE expires_ms < 5", plan, sizeof(plan));
    ck_assert_msg(strstr(plan, "guest_rejoin_expires"), "%s", plan);
}
END_TEST

Suite *store_db_suite(void)
{
    Suite *s = suite_create("store_db");
    TCase *tc = tcase_create("db");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_location_dialect);
    tcase_add_test(tc, test_driver_choice);
    tcase_add_test(tc, test_pg_location_refused_without_driver);
    tcase_add_test(tc, test_migration_sets);
    tcase_add_test(tc, test_statement_cache);
    tcase_add_test(tc, test_step_helpers_and_errors);
    tcase_add_test(tc, test_transactions);
    tcase_add_test(tc, test_dialect_helpers);
    tcase_add_test(tc, test_where_per_dialect);
    tcase_add_test(tc, test_pg_database_url);
    tcase_add_test(tc, test_guest_tickets_are_taken_once);
    suite_add_tcase(s, tc);
    return s;
}
