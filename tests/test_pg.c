/* tests/test_pg.c: PostgreSQL as the tests run it and as callbridge uses it.
 * - servers: a primary and a streaming replica (tests/pg_server.h): a row written on the primary
 *   is read on the replica; the primary stopped, the replica promoted takes writes; both stopped,
 *   nothing is left (the directories gone, the postmasters reaped).
 * - lockstep: schema/NNNN_*.sql applied to a new SQLite database and schema/pg/NNNN_*.sql to a new
 *   PostgreSQL database describe the same tables, columns (order, type, nullability), primary
 *   keys, unique constraints and foreign keys; a column added to one side only is reported. */
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "tests/helpers.h"
#include "tests/pg_server.h"
#include "tests/skip.h"
#include "tests/suites.h"

/* Fails the test unless PostgreSQL is installed (scripts/install-deps.sh test). */
static bool pg_or_skip(void)
{
    char why[256];

    if (th_pg_available(why, sizeof(why)))
        return true;
    th_skip_missing_dep("postgresql (scripts/install-deps.sh test)");
    return false;
}

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

    if (!pg_or_skip())
        return;
    th_pg_start(&primary);
    th_pg_start_replica(&replica, &primary, true);
    ck_assert_int_eq(th_pg_sql(&primary, "callbridge",
                               "CREATE TABLE t (n bigint PRIMARY KEY); INSERT INTO t VALUES (1)",
                               out, sizeof(out)),
                     0);
    wait_for(&replica, "SELECT string_agg(n::text, ',' ORDER BY n) FROM t", "1");
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

/* ---- lockstep ----------------------------------------------------------------------------- */

/* A schema described as sorted lines, one fact each:
 *   column TABLE POSITION NAME TYPE [not null]
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
    "CASE WHEN p.\"notnull\" OR p.pk > 0 THEN ' not null' ELSE '' END "
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
    "CASE WHEN a.attnotnull THEN ' not null' ELSE '' END "
    "FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped "
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

    if (!pg_or_skip())
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

Suite *pg_suite(void)
{
    Suite *s = suite_create("pg");
    TCase *servers = tcase_create("servers");
    TCase *lockstep = tcase_create("lockstep");

    tcase_set_tags(servers, "net");
    tcase_set_timeout(servers, 120);
    tcase_add_test(servers, test_primary_replica_promote_and_stop_leave_nothing);
    suite_add_tcase(s, servers);
    tcase_set_tags(lockstep, "net");
    tcase_set_timeout(lockstep, 60);
    tcase_add_test(lockstep, test_sqlite_and_pg_schemas_are_in_lockstep);
    suite_add_tcase(s, lockstep);
    return s;
}
