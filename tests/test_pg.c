/* tests/test_pg.c: PostgreSQL as the tests run it and as callbridge uses it.
 * - servers: a primary and a streaming replica (tests/pg_server.h): a row written on the primary
 *   is read on the replica; the primary stopped, the replica promoted takes writes; both stopped,
 *   nothing is left (the directories gone, the postmasters reaped).
 * - lockstep: schema/NNNN_*.sql applied to a new SQLite database and schema/pg/NNNN_*.sql to a new
 *   PostgreSQL database describe the same tables, columns (order, type, nullability, default),
 * primary keys, unique constraints and foreign keys; a column added to one side only is reported.
 * - driver: store/pg (db_pg_ops) through store/db.h: ?N rewriting and the SQLSTATE map (no
 *   server); against a server: open, migrate under the advisory lock (two nodes at once),
 *   rows written and read back (text, integers, NULL, blobs), constraint errors, snapshots,
 *   a standby's -EROFS, and a multi-host connection that follows a failover; with that URL's
 *   primary down, a store opens read-only on the standby and a node starts, reads, answers
 *   writes 503 databaseNotReady, and writes once the standby is promoted. */
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "store/db.h"
#include "store/store.h"
#include "store/pg/pg.h"
#include "tests/cluster_helpers.h"
#include "tests/helpers.h"
#include "tests/pg_server.h"
#include "tests/skip.h"
#include "tests/suites.h"

/* Polls sql on p until its output is want, at most 10 s (a replica replays asynchronously). */
static void wait_for(const struct th_pg *p, const char *sql, const char *want)
{
    char out[256] = "";

    for (int i = 0; i < 1000; i++) {
        if (th_pg_sql(p, "callbridge", sql, out, sizeof(out)) == 0 && strcmp(out, want) == 0)
            return;
        (void)usleep(10 * 1000);
    }
    ck_abort_msg("%s: got \"%s\", want \"%s\"", sql, out, want);
}

static bool pid_reaped(pid_t pid)
{
    return kill(pid, 0) < 0 && errno == ESRCH;
}

START_TEST(test_primary_replica_promote_and_stop_leave_nothing)
{
    struct th_pg primary, replica;
    char out[256], pdir[64], rdir[64];
    pid_t ppid, rpid;
    struct stat sb;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&primary);
    th_pg_start_replica(&replica, &primary, true);
    ck_assert_int_eq(th_pg_sql(&primary, "callbridge",
                               "CREATE TABLE t (n bigint PRIMARY KEY); INSERT INTO t VALUES (1)",
                               out, sizeof(out)),
                     0);
    wait_for(&replica, "SELECT string_agg(n::text, ',' ORDER BY n) FROM t", "1");
    ck_assert_int_eq(
        th_run("/usr/lib/postgresql/15/bin/psql",
               (const char *[]){"psql", "-X", "-q", "-A", "-t", "-d", replica.admin_url, "-c",
                                "SELECT pg_is_in_recovery()", NULL},
               NULL, NULL, out, sizeof(out), NULL, 0),
        0); /* the superuser over TCP, as CB_TEST_PG connects */
    ck_assert_str_eq(out, "t\n");
    ck_assert_int_ne(
        th_pg_sql(&replica, "callbridge", "INSERT INTO t VALUES (2)", out, sizeof(out)),
        0); /* a standby is read-only */
    ck_assert_ptr_nonnull(strstr(out, "read-only"));

    ppid = primary.pid;
    (void)snprintf(pdir, sizeof(pdir), "%s", primary.dir);
    th_pg_stop(&primary);
    th_pg_promote(&replica);
    ck_assert_int_eq(
        th_pg_sql(&replica, "callbridge", "INSERT INTO t VALUES (2)", out, sizeof(out)), 0);
    wait_for(&replica, "SELECT string_agg(n::text, ',' ORDER BY n) FROM t", "1,2");

    rpid = replica.pid;
    (void)snprintf(rdir, sizeof(rdir), "%s", replica.dir);
    th_pg_stop(&replica);
    ck_assert(pid_reaped(ppid));
    ck_assert(pid_reaped(rpid));
    ck_assert_int_ne(stat(pdir, &sb), 0);
    ck_assert_int_ne(stat(rdir, &sb), 0);
}
END_TEST

/* scripts/pg-test-server.sh, which shell tests use: runs it with args (NULL-ended) and returns
 * its output, the trailing newline removed; fails the test unless it exits 0. The servers it
 * starts are this test process's (PG_TEST_OWNER): a test that fails before "stop" leaves none. */
static void pg_script(const char *const *args, char *out, size_t cap)
{
    const char *argv[8] = {"sh", "scripts/pg-test-server.sh"};
    char owner[40];
    const char *const env[] = {owner, NULL};
    size_t n = 2, len;
    int rc;

    for (size_t i = 0; args[i] && n < 7; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    (void)snprintf(owner, sizeof(owner), "PG_TEST_OWNER=%d", (int)getpid());
    rc = th_run("/bin/sh", argv, env, NULL, out, cap, NULL, 0);
    ck_assert_msg(rc == 0, "pg-test-server.sh %s: exit %d: %s", args[0], rc, out);
    len = strlen(out);
    while (len > 0 && out[len - 1] == '\n')
        out[--len] = '\0';
}

START_TEST(test_the_shell_script_starts_replicates_promotes_and_stops)
{
    char dir[128], url[256], rurl[256], out[1024], pidfile[192], pid[32];
    const char *psql = "/usr/lib/postgresql/15/bin/psql";
    struct stat sb;
    FILE *f;

    if (!th_pg_or_skip())
        return;
    pg_script((const char *[]){"start", NULL}, dir, sizeof(dir));
    pg_script((const char *[]){"replica", dir, "sync", NULL}, out, sizeof(out));
    pg_script((const char *[]){"url", dir, NULL}, url, sizeof(url));
    pg_script((const char *[]){"url", dir, "replica", NULL}, rurl, sizeof(rurl));
    ck_assert_int_eq(strncmp(url, "postgresql://callbridge:", 24), 0);
    ck_assert_int_eq(th_run(psql,
                            (const char *[]){"psql", "-X", "-q", "-d", url, "-c",
                                             "CREATE TABLE t (n int); INSERT INTO t "
                                             "VALUES (1)",
                                             NULL},
                            NULL, NULL, out, sizeof(out), NULL, 0),
                     0);
    (void)snprintf(pidfile, sizeof(pidfile), "%s/primary/data/postmaster.pid", dir);
    f = fopen(pidfile, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(pid, sizeof(pid), f));
    (void)fclose(f);
    pg_script((const char *[]){"promote", dir, NULL}, out, sizeof(out));
    ck_assert_int_eq(th_run(psql,
                            (const char *[]){"psql", "-X", "-q", "-d", rurl, "-c",
                                             "INSERT INTO t VALUES (2)", NULL},
                            NULL, NULL, out, sizeof(out), NULL, 0),
                     0);
    pg_script((const char *[]){"stop", dir, NULL}, out, sizeof(out));
    ck_assert_int_ne(stat(dir, &sb), 0);
    ck_assert(kill((pid_t)atoi(pid), 0) < 0 && errno == ESRCH);
}
END_TEST

/* ---- lockstep ----------------------------------------------------------------------------- */

/* A schema described as sorted lines, one fact each:
 *   column TABLE POSITION NAME TYPE [not null] [default VALUE]
 *   primary TABLE (COLUMNS)        unique TABLE (KEYS)
 *   fk TABLE.COLUMN -> TABLE.COLUMN on delete ACTION
 * SQLite's types are written as PostgreSQL's (INTEGER bigint, TEXT text, BLOB bytea); FTS5
 * tables and their shadow tables are SQLite's search index, whose counterpart in PostgreSQL is
 * an index (schema/pg/0003_cospace_search.sql), not a table. A unique key in SQLite's NOCASE
 * collation is PostgreSQL's lower(column) (store/db.h, dialect difference 1). The driver's
 * version table (callbridge_schema) is PostgreSQL's own. */
#define SQLITE_TABLES                                                                              \
    "SELECT name FROM sqlite_master m WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "        \
    "ESCAPE '\\' AND sql NOT LIKE 'CREATE VIRTUAL%' AND NOT EXISTS (SELECT 1 FROM sqlite_master "  \
    "v WHERE v.sql LIKE 'CREATE VIRTUAL%' AND m.name LIKE v.name || '\\_%' ESCAPE '\\')"

static const char sqlite_facts[] =
    "WITH t(name) AS (" SQLITE_TABLES ") "
    "SELECT 'column ' || t.name || ' ' || (p.cid + 1) || ' ' || p.name || ' ' || "
    "CASE upper(p.type) WHEN 'INTEGER' THEN 'bigint' WHEN 'TEXT' THEN 'text' "
    "WHEN 'BLOB' THEN 'bytea' ELSE 'sqlite:' || p.type END || "
    "CASE WHEN p.\"notnull\" OR p.pk > 0 THEN ' not null' ELSE '' END || "
    "coalesce(' default ' || p.dflt_value, '') "
    "FROM t, pragma_table_info(t.name) p "
    "UNION ALL SELECT 'primary ' || t.name || ' (' || (SELECT group_concat(name, ',') FROM "
    "(SELECT name FROM pragma_table_info(t.name) WHERE pk > 0 ORDER BY pk)) || ')' FROM t "
    "WHERE EXISTS (SELECT 1 FROM pragma_table_info(t.name) WHERE pk > 0) "
    "UNION ALL SELECT 'unique ' || t.name || ' (' || (SELECT group_concat(k, ',') FROM "
    "(SELECT CASE WHEN coll = 'NOCASE' THEN 'lower(' || name || ')' ELSE name END AS k "
    "FROM pragma_index_xinfo(il.name) WHERE key ORDER BY seqno)) || ')' "
    "FROM t, pragma_index_list(t.name) il WHERE il.\"unique\" AND il.origin != 'pk' "
    "UNION ALL SELECT 'fk ' || t.name || '.' || f.\"from\" || ' -> ' || f.\"table\" || '.' || "
    "f.\"to\" || ' on delete ' || lower(f.on_delete) FROM t, pragma_foreign_key_list(t.name) f";

static const char pg_facts[] =
    "WITH t AS (SELECT c.oid, c.relname FROM pg_class c WHERE c.relkind = 'r' AND "
    "c.relnamespace = 'public'::regnamespace AND c.relname != 'callbridge_schema') "
    "SELECT 'column ' || t.relname || ' ' || row_number() OVER (PARTITION BY t.relname ORDER BY "
    "a.attnum) || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || "
    "CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || "
    "regexp_replace(pg_get_expr(d.adbin, d.adrelid), '::[a-z ]+$', ''), '') "
    "FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum "
    "UNION ALL SELECT CASE WHEN i.indisprimary THEN 'primary ' ELSE 'unique ' END || t.relname "
    "|| ' (' || (SELECT string_agg(pg_get_indexdef(i.indexrelid, k, true), ',' ORDER BY k) "
    "FROM generate_series(1, i.indnkeyatts) k) || ')' "
    "FROM t JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique "
    "UNION ALL SELECT 'fk ' || t.relname || '.' || a.attname || ' -> ' || fc.relname || '.' || "
    "fa.attname || ' on delete ' || CASE con.confdeltype WHEN 'a' THEN 'no action' WHEN 'r' "
    "THEN 'restrict' WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null' ELSE 'set default' END "
    "FROM t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f' "
    "JOIN pg_class fc ON fc.oid = con.confrelid "
    "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = con.conkey[1] "
    "JOIN pg_attribute fa ON fa.attrelid = fc.oid AND fa.attnum = con.confkey[1]";

#define FACTS_CAP (512 * 1024)

struct facts {
    char *text;  /* the lines, '\n'-separated, owned */
    char **line; /* sorted pointers into text */
    size_t n;
};

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits f->text into sorted lines. */
static void facts_sort(struct facts *f)
{
    size_t cap = 64;

    f->line = malloc(cap * sizeof(*f->line));
    ck_assert_ptr_nonnull(f->line);
    for (char *save = NULL, *l = strtok_r(f->text, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        if (f->n == cap) {
            cap *= 2;
            f->line = realloc(f->line, cap * sizeof(*f->line));
            ck_assert_ptr_nonnull(f->line);
        }
        f->line[f->n++] = l;
    }
    qsort(f->line, f->n, sizeof(*f->line), cmp_line);
}

static void facts_free(struct facts *f)
{
    free(f->text);
    free(f->line);
}

static char *read_all(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *buf = malloc(FACTS_CAP);
    size_t n;

    ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
    ck_assert_ptr_nonnull(buf);
    n = fread(buf, 1, FACTS_CAP - 1, fp);
    ck_assert(!ferror(fp) && n < FACTS_CAP - 1);
    buf[n] = '\0';
    (void)fclose(fp);
    return buf;
}

/* The migration files matching pattern, in name order (the tests run from the repo root). */
static void migrations(const char *pattern, glob_t *g)
{
    ck_assert_int_eq(glob(pattern, 0, NULL, g), 0);
    ck_assert_uint_ge(g->gl_pathc, 10);
}

/* schema/NNNN_*.sql into a new in-memory SQLite database, as store/sqlite applies them. */
static sqlite3 *sqlite_schema(void)
{
    sqlite3 *db = NULL;
    glob_t g;

    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    migrations("schema/[0-9]*.sql", &g);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *sql = read_all(g.gl_pathv[i]), *err = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

        ck_assert_msg(rc == SQLITE_OK, "%s: %s", g.gl_pathv[i], err ? err : "?");
        free(sql);
    }
    globfree(&g);
    return db;
}

static int add_fact(void *arg, int ncol, char **val, char **name)
{
    struct facts *f = arg;
    size_t len = strlen(f->text), add;

    (void)name;
    ck_assert_int_eq(ncol, 1);
    add = strlen(val[0] ? val[0] : "(null)");
    ck_assert_uint_lt(len + add + 2, FACTS_CAP);
    (void)snprintf(f->text + len, FACTS_CAP - len, "%s\n", val[0] ? val[0] : "(null)");
    return 0;
}

static void sqlite_facts_of(sqlite3 *db, struct facts *f)
{
    char *err = NULL;

    memset(f, 0, sizeof(*f));
    f->text = calloc(1, FACTS_CAP);
    ck_assert_ptr_nonnull(f->text);
    ck_assert_msg(sqlite3_exec(db, sqlite_facts, add_fact, f, &err) == SQLITE_OK, "%s",
                  err ? err : "?");
    facts_sort(f);
}

/* schema/pg/NNNN_*.sql applied by the callbridge role (as the driver applies them: not a
 * superuser), each file in one transaction. */
static void pg_schema(const struct th_pg *p)
{
    char out[4096];
    glob_t g;

    migrations("schema/pg/[0-9]*.sql", &g);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *argv[] = {"psql", "-X", "-q",          "-v", "ON_ERROR_STOP=1", "-1", "-d",
                              p->url, "-f", g.gl_pathv[i], NULL};

        ck_assert_msg(th_run("/usr/lib/postgresql/15/bin/psql", argv, NULL, NULL, out, sizeof(out),
                             NULL, 0) == 0,
                      "%s: %s", g.gl_pathv[i], out);
    }
    globfree(&g);
}

static void pg_facts_of(const struct th_pg *p, struct facts *f)
{
    memset(f, 0, sizeof(*f));
    f->text = calloc(1, FACTS_CAP);
    ck_assert_ptr_nonnull(f->text);
    ck_assert_msg(th_pg_sql(p, "callbridge", pg_facts, f->text, FACTS_CAP) == 0, "%s", f->text);
    facts_sort(f);
}

/* The lines in one description and not the other, into report (cap bytes), at most 20; returns
 * how many differ. */
static size_t facts_diff(const struct facts *a, const struct facts *b, char *report, size_t cap)
{
    size_t i = 0, j = 0, n = 0, len = 0;

    report[0] = '\0';
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->line[i], b->line[j]);
        const char *only = c < 0 ? a->line[i] : c > 0 ? b->line[j] : NULL;

        if (c == 0) {
            i++;
            j++;
            continue;
        }
        if (n++ < 20 && len < cap)
            len += (size_t)snprintf(report + len, cap - len, "\n  %s only: %s",
                                    c < 0 ? "sqlite" : "pg", only);
        if (c < 0)
            i++;
        else
            j++;
    }
    return n;
}

START_TEST(test_sqlite_and_pg_schemas_are_in_lockstep)
{
    struct facts lite, pg;
    struct th_pg p;
    char report[4096], out[256];
    sqlite3 *db;

    if (!th_pg_or_skip())
        return;
    db = sqlite_schema();
    th_pg_start(&p);
    pg_schema(&p);
    sqlite_facts_of(db, &lite);
    pg_facts_of(&p, &pg);
    ck_assert_uint_gt(lite.n, 400); /* every table is there, not an empty description */
    ck_assert_msg(facts_diff(&lite, &pg, report, sizeof(report)) == 0,
                  "schema/NNNN_*.sql and schema/pg/NNNN_*.sql differ:%s", report);
    facts_free(&lite);
    facts_free(&pg);

    /* A column added on one side only, as a migration forgotten in one set, is reported. */
    ck_assert_int_eq(
        sqlite3_exec(db, "ALTER TABLE tenant ADD COLUMN forgotten TEXT", NULL, NULL, NULL),
        SQLITE_OK);
    ck_assert_int_eq(
        th_pg_sql(&p, "callbridge", "ALTER TABLE cospace ADD COLUMN also bigint", out, sizeof(out)),
        0);
    sqlite_facts_of(db, &lite);
    pg_facts_of(&p, &pg);
    ck_assert_uint_eq(facts_diff(&lite, &pg, report, sizeof(report)), 2);
    ck_assert_msg(strstr(report, "sqlite only: column tenant ") &&
                      strstr(report, " forgotten text") &&
                      strstr(report, "pg only: column cospace 26 also bigint"),
                  "%s", report);
    facts_free(&lite);
    facts_free(&pg);
    sqlite3_close(db);
    th_pg_stop(&p);
}
END_TEST

/* ---- driver: pure helpers ------------------------------------------------------------------ */

static void expect_rewrite(const char *sql, const char *want, int want_n)
{
    char *out = NULL;
    int n = -1;

    ck_assert_int_eq(pg_rewrite_params(sql, &out, &n), 0);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(n, want_n);
    free(out);
}

START_TEST(test_params_are_rewritten_outside_literals_identifiers_and_comments)
{
    char *out = NULL;
    int n = 7;

    expect_rewrite("SELECT id FROM t WHERE a = ?1 AND b = ?2 OR c = ?1",
                   "SELECT id FROM t WHERE a = $1 AND b = $2 OR c = $1", 2);
    expect_rewrite("SELECT 1", "SELECT 1", 0);
    expect_rewrite("x = '?1' || \"?2\" || ?12", "x = '?1' || \"?2\" || $12", 12);
    expect_rewrite("'it''s ?3' = ?1 AND \"a\"\"?4\" = ?2", "'it''s ?3' = $1 AND \"a\"\"?4\" = $2",
                   2);
    expect_rewrite("-- ?5 here\nSELECT ?1 /* ?7 /* ?8 */ ?9 */, ?2",
                   "-- ?5 here\nSELECT $1 /* ?7 /* ?8 */ ?9 */, $2", 2);
    expect_rewrite("name LIKE ?1 ESCAPE '\\' OR uri LIKE ?1 ESCAPE '\\'",
                   "name LIKE $1 ESCAPE '\\' OR uri LIKE $1 ESCAPE '\\'", 1);
    expect_rewrite("a = ?99", "a = $99", 99);
    ck_assert_int_eq(pg_rewrite_params("a = ?", &out, &n), -EINVAL);
    ck_assert_int_eq(pg_rewrite_params("a = ?0", &out, &n), -EINVAL);
    ck_assert_int_eq(pg_rewrite_params("a = ?100", &out, &n), -EINVAL);
    ck_assert_ptr_null(out); /* nothing written on failure */
    ck_assert_int_eq(n, 7);
}
END_TEST

START_TEST(test_sqlstates_map_to_the_store_errnos)
{
    ck_assert_int_eq(pg_errno_of_sqlstate("23505"), -EEXIST);
    ck_assert_int_eq(pg_errno_of_sqlstate("23503"), -EINVAL);
    ck_assert_int_eq(pg_errno_of_sqlstate("23514"), -EINVAL);
    ck_assert_int_eq(pg_errno_of_sqlstate("23502"), -EINVAL);
    ck_assert_int_eq(pg_errno_of_sqlstate("40001"), -EDEADLK);
    ck_assert_int_eq(pg_errno_of_sqlstate("40P01"), -EDEADLK);
    ck_assert_int_eq(pg_errno_of_sqlstate("55P03"), -EBUSY);
    ck_assert_int_eq(pg_errno_of_sqlstate("25006"), -EROFS);
    ck_assert_int_eq(pg_errno_of_sqlstate("53100"), -ENOSPC);
    ck_assert_int_eq(pg_errno_of_sqlstate("53200"), -ENOMEM);
    ck_assert_int_eq(pg_errno_of_sqlstate("42601"), -EIO);
    ck_assert_int_eq(pg_errno_of_sqlstate(NULL), -EIO);
}
END_TEST

/* ---- driver: against a server -------------------------------------------------------------- */

static struct db *pg_open_ok(const char *url)
{
    struct db *db = NULL;

    ck_assert_int_eq(db_pg_ops.open(url, &db), 0);
    ck_assert_ptr_nonnull(db);
    ck_assert_ptr_eq(db->ops, &db_pg_ops);
    return db;
}

/* Prepares sql; the caller finalizes. */
static struct db_stmt *prep(struct db *db, const char *sql)
{
    struct db_stmt *st = NULL;

    ck_assert_int_eq(db->ops->prepare(db, sql, &st), 0);
    return st;
}

/* Runs sql with text parameters (NULL-ended; "" binds NULL) to its end: the step's result. */
static int run_text(struct db *db, const char *sql, const char *const *params)
{
    struct db_stmt *st = prep(db, sql);
    int r;

    for (int i = 0; params && params[i]; i++)
        ck_assert_int_eq(params[i][0] ? db->ops->bind_text(st, i + 1, params[i])
                                      : db->ops->bind_null(st, i + 1),
                         0);
    do
        r = db->ops->step(st);
    while (r == DB_ROW);
    db->ops->finalize(st);
    return r;
}

/* SELECT count(*) ... */
static int64_t count_of(struct db *db, const char *sql)
{
    struct db_stmt *st = prep(db, sql);
    int64_t n;

    ck_assert_int_eq(db->ops->step(st), DB_ROW);
    n = db->ops->column_int64(st, 0);
    db->ops->finalize(st);
    return n;
}

/* schema/pg/ as store.c applies it: one DB_TX_SCHEMA transaction (the advisory lock), the
 * migrations after the version found, the new version; returns the version found. */
static int migrate(struct db *db)
{
    int version = -1;
    glob_t g;

    ck_assert_int_eq(db->ops->begin(db, DB_TX_SCHEMA), 0);
    ck_assert_int_eq(db->ops->schema_version(db, &version), 0);
    migrations("schema/pg/[0-9]*.sql", &g);
    for (size_t i = (size_t)version; i < g.gl_pathc; i++) {
        char *sql = read_all(g.gl_pathv[i]);

        ck_assert_msg(db->ops->exec(db, sql) == 0, "%s", g.gl_pathv[i]);
        free(sql);
    }
    if ((size_t)version < g.gl_pathc)
        ck_assert_int_eq(db->ops->set_schema_version(db, (int)g.gl_pathc), 0);
    ck_assert_int_eq(db->ops->commit(db), 0);
    globfree(&g);
    return version;
}

START_TEST(test_driver_migrates_writes_and_reads_back)
{
    static const unsigned char blob[] = {0x00, 0xff, 0x5c, 0x27, 0x01, 0x78};
    char url[256];
    struct th_pg p;
    struct db *db, *other;
    struct db_stmt *st;
    int version = -1;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&p);
    db = pg_open_ok(p.url);
    ck_assert(!db->read_only);
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM pg_stat_activity WHERE "
                                  "application_name = 'callbridged' AND pid = pg_backend_pid()"),
                     1); /* the driver's defaults... */
    (void)snprintf(url, sizeof(url), "%s?application_name=node2", p.url);
    other = pg_open_ok(url);
    ck_assert_int_eq(count_of(other, "SELECT count(*) FROM pg_stat_activity WHERE "
                                     "application_name = 'node2' AND pid = pg_backend_pid()"),
                     1); /* ...which the location overrides */
    db_pg_ops.close(other);
    ck_assert_int_eq(migrate(db), 0);
    /* a second start finds it current: every migration of schema/pg applied */
    ck_assert_int_eq(migrate(db), (int)store_schema_latest_at(p.url));
    ck_assert_int_eq(db->ops->schema_version(db, &version), 0);
    ck_assert_int_eq(version, (int)store_schema_latest_at(p.url));
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM web_bridge"), 1); /* the fixed row */

    /* text, integers and NULL in; seq from the identity; RETURNING gives a row */
    st = prep(db, "INSERT INTO tenant (id, name, participant_limit, created_ms, updated_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?4) RETURNING seq");
    ck_assert_int_eq(db->ops->bind_text(st, 1, "t-1"), 0);
    ck_assert_int_eq(db->ops->bind_text(st, 2, "O'Brien \"quoted\" ?1"), 0);
    ck_assert_int_eq(db->ops->bind_null(st, 3), 0);
    ck_assert_int_eq(db->ops->bind_int64(st, 4, INT64_C(1700000000123)), 0);
    ck_assert_int_eq(db->ops->bind_int64(st, 5, 1), -EINVAL); /* no ?5 */
    ck_assert_int_eq(db->ops->step(st), DB_ROW);
    ck_assert_int_gt(db->ops->column_int64(st, 0), 0);
    ck_assert_int_eq(db->ops->step(st), DB_DONE);
    ck_assert_int_eq(db->ops->changes(db), 1);
    db->ops->reset(st); /* unbound again: ?1 NULL is refused by NOT NULL */
    ck_assert_int_eq(db->ops->step(st), -EINVAL);
    db->ops->finalize(st);

    st = prep(db, "SELECT id, name, participant_limit, created_ms FROM tenant WHERE id = ?1");
    ck_assert_int_eq(db->ops->bind_text(st, 1, "t-1"), 0);
    ck_assert_int_eq(db->ops->step(st), DB_ROW);
    ck_assert_int_eq(db->ops->column_count(st), 4);
    ck_assert_str_eq(db->ops->column_text(st, 0), "t-1");
    ck_assert_str_eq(db->ops->column_text(st, 1), "O'Brien \"quoted\" ?1");
    ck_assert_uint_eq(db->ops->column_bytes(st, 1), strlen("O'Brien \"quoted\" ?1"));
    ck_assert(db->ops->column_is_null(st, 2));
    ck_assert_ptr_null(db->ops->column_text(st, 2));
    ck_assert_int_eq(db->ops->column_int64(st, 2), 0);
    ck_assert_int_eq(db->ops->column_int64(st, 3), INT64_C(1700000000123));
    ck_assert(db->ops->column_is_null(st, 9)); /* out of range reads as NULL */
    ck_assert_int_eq(db->ops->step(st), DB_DONE);
    db->ops->finalize(st);

    /* constraints: unique, case-insensitive unique, foreign key, the built-in web bridge */
    ck_assert_int_eq(run_text(db,
                              "INSERT INTO tenant (id, created_ms, updated_ms) VALUES (?1, 0, 0)",
                              (const char *[]){"t-1", NULL}),
                     -EEXIST);
    ck_assert_int_eq(run_text(db,
                              "INSERT INTO cospace (id, tenant, created_ms, updated_ms) VALUES "
                              "(?1, ?2, 0, 0)",
                              (const char *[]){"c-1", "no-such-tenant", NULL}),
                     -EINVAL);
    ck_assert_int_eq(run_text(db,
                              "INSERT INTO ldap_user (id, user_jid, ldap_source, entry, "
                              "created_ms, updated_ms) VALUES (?1, ?2, 's', 'e', 0, 0)",
                              (const char *[]){"u-1", "Alice@Example.com", NULL}),
                     DB_DONE);
    ck_assert_int_eq(run_text(db,
                              "INSERT INTO ldap_user (id, user_jid, ldap_source, entry, "
                              "created_ms, updated_ms) VALUES (?1, ?2, 's', 'e', 0, 0)",
                              (const char *[]){"u-2", "alice@example.COM", NULL}),
                     -EEXIST);
    ck_assert_int_eq(run_text(db, "DELETE FROM web_bridge", NULL), -EINVAL);
    ck_assert_int_eq(run_text(db, "SELECT FROM nowhere", NULL), -EIO);

    /* a blob with NUL, backslash and quote bytes; an empty one is a value, read as no bytes */
    st = prep(db, "INSERT INTO secret_check (id, value) VALUES (1, ?1)");
    ck_assert_int_eq(db->ops->bind_blob(st, 1, blob, sizeof(blob)), 0);
    ck_assert_int_eq(db->ops->step(st), DB_DONE);
    db->ops->finalize(st);
    st = prep(db, "SELECT value, ?1 FROM secret_check WHERE id = 1");
    ck_assert_int_eq(db->ops->bind_blob(st, 1, "", 0), 0);
    ck_assert_int_eq(db->ops->step(st), DB_ROW);
    ck_assert_uint_eq(db->ops->column_bytes(st, 0), sizeof(blob));
    ck_assert_mem_eq(db->ops->column_blob(st, 0), blob, sizeof(blob));
    ck_assert(!db->ops->column_is_null(st, 1));
    ck_assert_ptr_null(db->ops->column_blob(st, 1));
    ck_assert_uint_eq(db->ops->column_bytes(st, 1), 0);
    db->ops->finalize(st);

    /* the dialect's case-insensitive equality and substring filter (store/db.h 1 and 2) */
    ck_assert_int_eq(run_text(db,
                              "INSERT INTO cospace (id, uri, created_ms, updated_ms) VALUES "
                              "(?1, ?2, 0, 0)",
                              (const char *[]){"c-2", "Meet.Me@Example.com", NULL}),
                     DB_DONE);
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM cospace WHERE lower(uri) = "
                                  "lower('meet.me@EXAMPLE.com')"),
                     1);
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM cospace WHERE uri ILIKE '%t.ME@%' "
                                  "ESCAPE '\\'"),
                     1);

    /* a read snapshot does not see a write committed after it began; a rolled-back write is
     * gone; a commit after a failed statement fails */
    other = pg_open_ok(p.url);
    ck_assert_int_eq(db->ops->begin(db, DB_TX_READ), 0);
    ck_assert(db->ops->in_transaction(db));
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM tenant"), 1);
    ck_assert_int_eq(run_text(other,
                              "INSERT INTO tenant (id, created_ms, updated_ms) VALUES "
                              "('t-2', 0, 0)",
                              NULL),
                     DB_DONE);
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM tenant"), 1);
    ck_assert_int_eq(run_text(db, "DELETE FROM tenant", NULL), -EROFS); /* READ ONLY */
    db->ops->rollback(db);
    ck_assert(!db->ops->in_transaction(db));
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM tenant"), 2);
    ck_assert_int_eq(db->ops->begin(db, DB_TX_WRITE), 0);
    ck_assert_int_eq(run_text(db, "DELETE FROM tenant WHERE id = 't-2'", NULL), DB_DONE);
    db->ops->rollback(db);
    db->ops->rollback(db); /* a no-op outside a transaction */
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM tenant"), 2);
    ck_assert_int_eq(db->ops->begin(db, DB_TX_WRITE), 0);
    ck_assert_int_eq(run_text(db,
                              "INSERT INTO tenant (id, created_ms, updated_ms) VALUES "
                              "('t-1', 0, 0)",
                              NULL),
                     -EEXIST);
    ck_assert_int_ne(db->ops->commit(db), 0);
    ck_assert(!db->ops->in_transaction(db));

    db_pg_ops.close(other);
    db_pg_ops.close(db);
    th_pg_stop(&p);
}
END_TEST

struct second_node {
    const char *url;
    atomic_bool *first_committed;
    bool waited; /* its DB_TX_SCHEMA began only after the first node's commit */
    int found;   /* the version it found */
};

static void *second_node_migrates(void *arg)
{
    struct second_node *n = arg;
    struct db *db = NULL;

    if (db_pg_ops.open(n->url, &db) < 0)
        return NULL;
    n->found = -1;
    if (db->ops->begin(db, DB_TX_SCHEMA) == 0) {
        n->waited = atomic_load(n->first_committed);
        (void)db->ops->schema_version(db, &n->found);
        (void)db->ops->commit(db);
    }
    db_pg_ops.close(db);
    return NULL;
}

START_TEST(test_two_nodes_starting_at_once_migrate_one_after_the_other)
{
    atomic_bool committed = false;
    struct second_node n = {.found = -2, .first_committed = &committed};
    struct th_pg p;
    struct db *db;
    pthread_t t;
    int version = -1;
    glob_t g;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&p);
    n.url = p.url;
    db = pg_open_ok(p.url);
    ck_assert_int_eq(db->ops->begin(db, DB_TX_SCHEMA), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, second_node_migrates, &n), 0);
    (void)usleep(300 * 1000); /* the second node is now waiting for the lock */
    ck_assert_int_eq(db->ops->schema_version(db, &version), 0);
    ck_assert_int_eq(version, 0);
    migrations("schema/pg/[0-9]*.sql", &g);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *sql = read_all(g.gl_pathv[i]);

        ck_assert_int_eq(db->ops->exec(db, sql), 0);
        free(sql);
    }
    ck_assert_int_eq(db->ops->set_schema_version(db, (int)g.gl_pathc), 0);
    atomic_store(&committed, true);
    ck_assert_int_eq(db->ops->commit(db), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert(n.waited);
    ck_assert_int_eq(n.found, (int)g.gl_pathc);
    globfree(&g);
    db_pg_ops.close(db);
    th_pg_stop(&p);
}
END_TEST

struct racer {
    const char *url;
    atomic_bool *first_committed;
    bool waited; /* its insert returned only after the first node's commit */
    int insert, commit;
};

/* A second node inserting the same call bridge name while the first holds its insert open. */
static void *second_node_inserts(void *arg)
{
    struct racer *n = arg;
    struct db *db = NULL;

    if (db_pg_ops.open(n->url, &db) < 0)
        return NULL;
    if (db->ops->begin(db, DB_TX_WRITE) == 0) {
        n->insert =
            run_text(db, "INSERT INTO call_bridge (id, name) VALUES ('cb-2', 'node')", NULL);
        n->waited = atomic_load(n->first_committed);
        n->commit = n->insert == DB_DONE ? db->ops->commit(db) : 0;
        db->ops->rollback(db);
    }
    db_pg_ops.close(db);
    return NULL;
}

START_TEST(test_two_nodes_writing_the_same_unique_value_one_wins_by_constraint)
{
    atomic_bool committed = false;
    struct racer n = {.insert = 1, .first_committed = &committed};
    struct th_pg p;
    struct db *db;
    pthread_t t;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&p);
    n.url = p.url;
    db = pg_open_ok(p.url);
    ck_assert_int_eq(migrate(db), 0);
    ck_assert_int_eq(db->ops->begin(db, DB_TX_WRITE), 0);
    ck_assert_int_eq(
        run_text(db, "INSERT INTO call_bridge (id, name) VALUES ('cb-1', 'node')", NULL), DB_DONE);
    ck_assert_int_eq(pthread_create(&t, NULL, second_node_inserts, &n), 0);
    (void)usleep(300 * 1000); /* the second insert now waits on the unique index */
    atomic_store(&committed, true);
    ck_assert_int_eq(db->ops->commit(db), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert(n.waited);
    ck_assert_int_eq(n.insert, -EEXIST);
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM call_bridge WHERE name = 'node'"), 1);
    db_pg_ops.close(db);
    th_pg_stop(&p);
}
END_TEST

#define NOT_READY "<?xml version=\"1.0\"?><failureDetails><databaseNotReady /></failureDetails>"

/* node's entry in its own system/database (the node's name is cbtest-<its directory's last
 * part>, tests/helpers.c), in out. */
static void own_entry(const struct th_daemon *node, char *out, size_t cap)
{
    const char *base = strrchr(node->dir, '/');
    char name[160];

    (void)snprintf(name, sizeof(name), "cbtest-%s", base ? base + 1 : node->dir);
    th_cluster_bridge_entry(node, name, out, cap);
}

/* The primary of multi is down, its standby up and current: a store opens read-only (no
 * migration is due), and a node that was registered starts, reads, and answers writes 503.
 * It is not registered meanwhile: the standby shows it as its last run left it, stopped. */
static void starts_without_a_primary(const char *multi, struct th_daemon *node)
{
    static const char *const beat[] = {"--heartbeat-interval", "1", NULL};
    char entry[512];
    char body[4096];
    struct store *st;
    size_t n = 0;

    ck_assert_int_eq(store_open(multi, &st), 0);
    ck_assert(store_read_only(st));
    ck_assert_int_eq(store_user_count(st, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(store_user_add(st, "x", "hash"), -ENOTCONN);
    store_close(st);
    th_daemon_start(node, "0", beat);
    th_api_v1(node, "GET", "tenants", NULL, 200, body, sizeof(body));
    ck_assert_msg(strstr(body, "<tenants total=\"1\"") != NULL, "%s", body);
    th_api_v1(node, "POST", "tenants", "name=down", 503, body, sizeof(body));
    ck_assert_str_eq(body, NOT_READY);
    own_entry(node, entry, sizeof(entry));
    ck_assert_msg(strstr(entry, "state=\"stopped\""), "%s", entry);
}

/* The standby promoted: the node started without a primary writes, without a restart (a write
 * within 100 ms of a failed look for a read-write server by another of its connections answers
 * 503 at once: polled, at most 5 s), and registers at a heartbeat (1 s: polled, at most 10 s). */
static void writes_once_promoted(struct th_daemon *node)
{
    struct th_resp r = {0};
    char entry[512] = "";

    for (int i = 0; i < 250; i++) {
        th_admin(node, "POST", "/api/v1/tenants", "name=up", &r);
        if (r.status != 503)
            break;
        th_resp_free(&r);
        (void)usleep(20 * 1000);
    }
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body ? r.body : "");
    th_resp_free(&r);
    for (int i = 0; i < 100; i++) {
        own_entry(node, entry, sizeof(entry));
        if (strstr(entry, "state=\"up\""))
            break;
        (void)usleep(100 * 1000);
    }
    ck_assert_msg(strstr(entry, "state=\"up\""), "never registered: %s", entry);
    ck_assert_uint_eq(th_log_count(node, "registered as callBridge"), 1);
    ck_assert_int_eq(th_daemon_stop(node), 0);
    th_rmdir(node->dir);
}

START_TEST(test_standby_refuses_writes_and_a_failover_is_followed)
{
    static struct th_daemon node;
    struct th_pg primary, replica;
    struct db_stmt *kept;
    struct db *db, *ro;
    char multi[320];
    int r = 0;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&primary);
    th_pg_start_replica(&replica, &primary, true);
    (void)snprintf(multi, sizeof(multi),
                   "postgresql://callbridge:%s@127.0.0.1:%u,127.0.0.1:%u/callbridge"
                   "?target_session_attrs=read-write&connect_timeout=5",
                   primary.password, primary.port, replica.port);
    db = pg_open_ok(multi);
    ck_assert(!db->read_only);
    ck_assert_int_eq(migrate(db), 0);
    ck_assert_int_eq(run_text(db,
                              "INSERT INTO tenant (id, created_ms, updated_ms) VALUES "
                              "('before', 0, 0)",
                              NULL),
                     DB_DONE);

    /* synchronous replication waits for the standby's flush, not its replay */
    wait_for(&replica, "SELECT count(*) FROM tenant WHERE id = 'before'", "1");
    ro = pg_open_ok(replica.url); /* a standby: open, read, no writes */
    ck_assert(ro->read_only);
    ck_assert_int_eq(count_of(ro, "SELECT count(*) FROM tenant WHERE id = 'before'"), 1);
    ck_assert_int_eq(run_text(ro,
                              "INSERT INTO tenant (id, created_ms, updated_ms) VALUES "
                              "('x', 0, 0)",
                              NULL),
                     -EROFS);
    db_pg_ops.close(ro);
    /* a node on the multi-host URL, started once while the primary is up (it registers) */
    memset(&node, 0, sizeof(node));
    (void)snprintf(node.database, sizeof(node.database), "%s", multi);
    th_daemon_start(&node, "0", NULL);
    ck_assert_int_eq(th_daemon_stop(&node), 0);

    /* a statement prepared in the first session, kept (as db.c's cache keeps it) */
    kept = prep(db, "SELECT count(*) FROM tenant WHERE id != ?1");
    ck_assert_int_eq(db->ops->bind_text(kept, 1, "none"), 0);
    ck_assert_int_eq(db->ops->step(kept), DB_ROW);
    ck_assert_int_eq(db->ops->column_int64(kept, 0), 1);
    db->ops->reset(kept);

    th_pg_stop(&primary);
    starts_without_a_primary(multi, &node);
    th_pg_promote(&replica);
    /* the statement that meets the lost connection fails (-ENOTCONN: 503 databaseNotReady);
     * the next one reconnects to the promoted replica, the only read-write host left */
    for (int i = 0; i < 3; i++) {
        r = run_text(db,
                     "INSERT INTO tenant (id, created_ms, updated_ms) VALUES "
                     "('after', 0, 0)",
                     NULL);
        if (r == DB_DONE)
            break;
        ck_assert_int_eq(r, -ENOTCONN); /* the connection lost */
    }
    ck_assert_int_eq(r, DB_DONE);
    ck_assert_int_eq(count_of(db, "SELECT count(*) FROM tenant"), 2);
    ck_assert_int_eq(db->ops->bind_text(kept, 1, "none"), 0); /* prepared again on the new one */
    ck_assert_int_eq(db->ops->step(kept), DB_ROW);
    ck_assert_int_eq(db->ops->column_int64(kept, 0), 2);
    db->ops->finalize(kept);
    db_pg_ops.close(db);
    writes_once_promoted(&node);
    th_pg_stop(&replica);
}
END_TEST

/* ---- the store (store.h) on PostgreSQL ------------------------------------------------------ */

static int count_rows(const struct store_row *row, void *userdata)
{
    (void)row;
    (*(size_t *)userdata)++;
    return 0;
}

START_TEST(test_store_functions_work_on_postgresql)
{
    static const char *const space = "00000000-0000-4000-8000-0000000000c1";
    struct store_row row = {0}, got = {0};
    struct store_query q = {.nconds = 1};
    char body[] = "<records/>";
    struct store_cdr_record rec = {.correlator = 7, .body = body};
    unsigned char blob[16];
    char hash[256], id[STORE_ID_LEN + 1];
    struct store *st = NULL;
    struct th_pg p;
    int64_t index = -1;
    size_t n = 0;
    int v = -1;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&p);
    ck_assert_int_eq(store_open(p.url, &st), 0); /* migrates */
    ck_assert(!store_read_only(st));
    ck_assert_int_eq(store_schema_version(st, &v), 0);
    ck_assert_int_eq(v, (int)store_schema_latest_at(p.url));
    store_close(st);
    ck_assert_int_eq(store_open(p.url, &st), 0); /* nothing applied twice */

    /* users: unique by constraint */
    ck_assert_int_eq(store_user_add(st, "alice", "h1"), 0);
    ck_assert_int_eq(store_user_add(st, "alice", "h2"), -EEXIST);
    ck_assert_int_eq(store_user_get_hash(st, "alice", hash), 0);
    ck_assert_str_eq(hash, "h1");
    ck_assert_int_eq(store_user_delete(st, "nobody"), -ENOENT);

    /* a blob */
    ck_assert_int_eq(store_secret_check_add(st, (const unsigned char *)"\x00\xff\x5c", 3), 0);
    ck_assert_int_eq(store_secret_check_get(st, blob, sizeof(blob), &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(blob, "\x00\xff\x5c", 3);

    /* a coSpace row: written, read back, found by uri in any case, its uri taken, filtered */
    ck_assert_int_eq(store_row_set(&row, STORE_COSPACE_ID, space), 0);
    ck_assert_int_eq(store_row_set(&row, STORE_COSPACE_NAME, "Team O'Neil"), 0);
    ck_assert_int_eq(store_row_set(&row, STORE_COSPACE_URI, "Team.Room"), 0);
    ck_assert_int_eq(store_row_set(&row, STORE_COSPACE_AUTO, "0"), 0);
    ck_assert_int_eq(store_row_set(&row, STORE_COSPACE_NON_MEMBER, "1"), 0);
    ck_assert_int_eq(store_row_insert(st, &store_table_cospace, &row), 0);
    ck_assert_int_eq(store_row_insert(st, &store_table_cospace, &row), -EEXIST);
    ck_assert_int_eq(store_row_get(st, &store_table_cospace, space, &got), 0);
    ck_assert_str_eq(got.v[STORE_COSPACE_NAME], "Team O'Neil");
    ck_assert_ptr_null(got.v[STORE_COSPACE_SECONDARY]);
    ck_assert_int_eq(store_match_cospace_uri(st, "team.ROOM", NULL, id), 0);
    ck_assert_str_eq(id, space);
    ck_assert_int_eq(
        store_row_taken(st, &store_table_cospace, STORE_COSPACE_URI, "TEAM.room", NULL, true), 0);
    ck_assert_int_eq(
        store_row_taken(st, &store_table_cospace, STORE_COSPACE_URI, "TEAM.room", space, true),
        -ENOENT);
    q.conds[0] = (struct store_cond){"filter", "o'nei"};
    n = 0;
    ck_assert_int_eq(store_row_list(st, &store_table_cospace, &q, 0, 10, count_rows, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(store_row_count(st, &store_table_cospace, &q, &n), 0);
    ck_assert_uint_eq(n, 1);

    /* the CDR outbox: the identity numbers records, never twice */
    (void)snprintf(rec.session, sizeof(rec.session), "%s", space);
    (void)snprintf(rec.type, sizeof(rec.type), "callStart");
    (void)snprintf(rec.time, sizeof(rec.time), "2026-12-01T11:00:00Z");
    ck_assert_int_eq(store_cdr_last_index(st, &index), 0);
    ck_assert_int_eq(index, 0);
    ck_assert_int_eq(store_cdr_append(st, &rec, &index), 0);
    ck_assert_int_eq(index, 1);
    ck_assert_int_eq(store_cdr_prune(st), 0); /* no receiver: everything delivered */
    ck_assert_int_eq(store_cdr_append(st, &rec, &index), 0);
    ck_assert_int_eq(index, 2);
    ck_assert_int_eq(store_cdr_last_index(st, &index), 0);
    ck_assert_int_eq(index, 2);

    store_row_done(&row);
    store_row_done(&got);
    store_close(st);
    th_pg_stop(&p);
}
END_TEST

Suite *pg_suite(void)
{
    Suite *s = suite_create("pg");
    TCase *servers = tcase_create("servers");
    TCase *lockstep = tcase_create("lockstep");
    TCase *pure = tcase_create("driver_pure");
    TCase *driver = tcase_create("driver");

    tcase_set_tags(servers, "net pgserver");
    tcase_set_timeout(servers, 120);
    tcase_add_test(servers, test_primary_replica_promote_and_stop_leave_nothing);
    tcase_add_test(servers, test_the_shell_script_starts_replicates_promotes_and_stops);
    suite_add_tcase(s, servers);
    tcase_set_tags(lockstep, "net pgserver");
    tcase_set_timeout(lockstep, 60);
    tcase_add_test(lockstep, test_sqlite_and_pg_schemas_are_in_lockstep);
    suite_add_tcase(s, lockstep);
    tcase_add_test(pure, test_params_are_rewritten_outside_literals_identifiers_and_comments);
    tcase_add_test(pure, test_sqlstates_map_to_the_store_errnos);
    suite_add_tcase(s, pure);
    tcase_set_tags(driver, "net pgserver");
    tcase_set_timeout(driver, 120);
    tcase_add_test(driver, test_driver_migrates_writes_and_reads_back);
    tcase_add_test(driver, test_two_nodes_starting_at_once_migrate_one_after_the_other);
    tcase_add_test(driver, test_two_nodes_writing_the_same_unique_value_one_wins_by_constraint);
    tcase_add_test(driver, test_standby_refuses_writes_and_a_failover_is_followed);
    tcase_add_test(driver, test_store_functions_work_on_postgresql);
    suite_add_tcase(s, driver);
    return s;
}
