/* tests/test_store.c: migrations, users and TURN servers in a real SQLite file. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/res/resource.h"
#include "store/store.h"
#include "store/sqlite/sqlite.h"
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

/* The turn_server table as api/res/turn.c describes it to the generic functions. */
#define TURN (api_res_turn_servers.table)

/* A TURN server row as a POST writes one: its id, serverAddress and the defaults. Frees what
 * *t held before. */
static void make_turn(struct store_row *t, const char *id, const char *server)
{
    store_row_done(t);
    ck_assert_int_eq(store_row_set(t, 0, id), 0);
    ck_assert_int_eq(store_row_set(t, 1, server), 0);
    ck_assert_int_eq(store_row_set(t, 5, "standard"), 0);
    ck_assert_int_eq(store_row_set(t, 10, "0"), 0);
}

START_TEST(test_migrations_applied_and_recorded)
{
    int v = -1;

    ck_assert_uint_ge(store_schema_latest(), 1);
    ck_assert_int_eq(store_schema_version(st, &v), 0);
    ck_assert_int_eq(v, (int)store_schema_latest());
    store_close(st); /* reopening applies nothing twice */
    ck_assert_int_eq(store_open(path, &st), 0);
    ck_assert_int_eq(store_schema_version(st, &v), 0);
    ck_assert_int_eq(v, (int)store_schema_latest());
}
END_TEST

START_TEST(test_newer_schema_refused)
{
    sqlite3 *db;

    store_close(st);
    st = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(store_open(path, &st), -EPROTO);
    ck_assert_ptr_null(st);
}
END_TEST

static int count_user(const struct store_user *u, void *userdata)
{
    (void)u;
    (*(int *)userdata)++;
    return 0;
}

START_TEST(test_users)
{
    char hash[STORE_HASH_MAX + 1];
    size_t n = 9;
    int seen = 0;

    ck_assert_int_eq(store_user_count(st, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(store_user_add(st, "admin", "h1"), 0);
    ck_assert_int_eq(store_user_add(st, "admin", "h2"), -EEXIST);
    ck_assert_int_eq(store_user_get_hash(st, "admin", hash), 0);
    ck_assert_str_eq(hash, "h1");
    ck_assert_int_eq(store_user_set_hash(st, "admin", "h3"), 0);
    ck_assert_int_eq(store_user_get_hash(st, "admin", hash), 0);
    ck_assert_str_eq(hash, "h3");
    ck_assert_int_eq(store_user_set_hash(st, "nobody", "x"), -ENOENT);
    ck_assert_int_eq(store_user_add(st, "bob", "h"), 0);
    ck_assert_int_eq(store_user_foreach(st, count_user, &seen), 0);
    ck_assert_int_eq(seen, 2);
    ck_assert_int_eq(store_user_delete(st, "bob"), 0);
    ck_assert_int_eq(store_user_delete(st, "bob"), -ENOENT);
    ck_assert_int_eq(store_user_get_hash(st, "bob", hash), -ENOENT);
}
END_TEST

START_TEST(test_turn_crud)
{
    struct store_row t = {0}, row = {0};
    struct store_turn got;

    make_turn(&t, "00000000-0000-4000-8000-000000000001", "turn.example.com:3478");
    ck_assert_int_eq(store_row_set(&t, 4, "010203"), 0); /* a password: bytes, as hex */
    ck_assert_int_eq(store_row_set(&t, 7, "443"), 0);
    ck_assert_int_eq(store_row_insert(st, TURN, &t), 0);
    ck_assert_int_eq(store_row_insert(st, TURN, &t), -EEXIST);
    ck_assert_int_eq(store_turn_get(st, t.v[0], &got), 0);
    ck_assert_str_eq(got.server_address, "turn.example.com:3478");
    ck_assert_str_eq(got.client_address, "");
    ck_assert_uint_eq(got.password_len, 3);
    ck_assert_int_eq(memcmp(got.password, "\x01\x02\x03", 3), 0);
    ck_assert(got.has_tcp_port_number_override);
    ck_assert(!got.has_num_registrations);
    ck_assert_int_eq(got.tcp_port_number_override, 443);
    ck_assert_int_eq(store_row_get(st, TURN, t.v[0], &row), 0);
    ck_assert_str_eq(row.v[4], "010203");

    ck_assert_int_eq(store_row_set(&row, 7, NULL), 0);
    ck_assert_int_eq(store_row_set(&row, 4, NULL), 0);
    ck_assert_int_eq(store_row_set(&row, 3, "alice"), 0);
    ck_assert_int_eq(store_row_update(st, TURN, &row), 0);
    ck_assert_int_eq(store_turn_get(st, t.v[0], &got), 0);
    ck_assert(!got.has_tcp_port_number_override);
    ck_assert_uint_eq(got.password_len, 0);
    ck_assert_str_eq(got.username, "alice");

    ck_assert_int_eq(store_row_delete(st, TURN, t.v[0]), 0);
    ck_assert_int_eq(store_row_delete(st, TURN, t.v[0]), -ENOENT);
    ck_assert_int_eq(store_turn_get(st, t.v[0], &got), -ENOENT);
    ck_assert_int_eq(store_row_update(st, TURN, &t), -ENOENT);
    store_row_done(&t);
    store_row_done(&row);
}
END_TEST

static const char *const call_bridge_cols[] = {"id"};
static const struct store_table call_bridge = {"call_bridge", call_bridge_cols, "t", 1};

START_TEST(test_turn_dangling_reference_refused)
{
    struct store_row t = {0};

    make_turn(&t, "00000000-0000-4000-8000-000000000002", "a");
    ck_assert_int_eq(store_row_set(&t, 8, "00000000-0000-4000-8000-0000000000ff"), 0);
    ck_assert_int_eq(store_row_insert(st, TURN, &t), -EINVAL);
    ck_assert_int_eq(store_row_taken(st, &call_bridge, 0, t.v[8], NULL, false), -ENOENT);
    store_row_done(&t);
}
END_TEST

static int collect(const struct store_row *t, void *userdata)
{
    strcat(userdata, t->v[1]);
    strcat(userdata, ",");
    return 0;
}

START_TEST(test_turn_list_order_filter_page)
{
    static const char *servers[] = {"b.example.com", "A.EXAMPLE.org", "c.example.com",
                                    "d.example.net"};
    struct store_query all = {0}, com = {.conds = {{"filter", "example.COM"}}, .nconds = 1},
                       org = {.conds = {{"filter", "example.org"}}, .nconds = 1};
    char seen[256] = "", id[40];
    size_t total = 0;

    for (int i = 0; i < 4; i++) {
        struct store_row t = {0};

        (void)snprintf(id, sizeof(id), "00000000-0000-4000-8000-00000000001%d", i & 7);
        make_turn(&t, id, servers[i]);
        ck_assert_int_eq(store_row_insert(st, TURN, &t), 0);
        store_row_done(&t);
    }
    ck_assert_int_eq(store_row_count(st, TURN, &all, &total), 0);
    ck_assert_uint_eq(total, 4);
    ck_assert_int_eq(store_row_list(st, TURN, &all, 0, 100, collect, seen), 0);
    ck_assert_str_eq(seen, "b.example.com,A.EXAMPLE.org,c.example.com,d.example.net,");

    seen[0] = '\0';
    ck_assert_int_eq(store_row_count(st, TURN, &com, &total), 0);
    ck_assert_uint_eq(total, 2);
    ck_assert_int_eq(store_row_list(st, TURN, &com, 1, 5, collect, seen), 0);
    ck_assert_str_eq(seen, "c.example.com,");

    seen[0] = '\0';
    ck_assert_int_eq(store_row_list(st, TURN, &org, 0, 5, collect, seen), 0);
    ck_assert_str_eq(seen, "A.EXAMPLE.org,");

    seen[0] = '\0';
    ck_assert_int_eq(store_row_list(st, TURN, &all, 10, 5, collect, seen), 0);
    ck_assert_str_eq(seen, "");
}
END_TEST

START_TEST(test_write_waits_then_reports_busy)
{
    struct store_row t = {0};
    sqlite3 *other; /* another process's writer: it does not queue with this one's */

    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    make_turn(&t, "00000000-0000-4000-8000-000000000003", "a");
    ck_assert_int_eq(store_row_insert(st, TURN, &t), -EBUSY);
    ck_assert_int_eq(store_row_delete(st, TURN, t.v[0]), -EBUSY);
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(store_row_insert(st, TURN, &t), 0);
    sqlite3_close(other);
    store_row_done(&t);
}
END_TEST

/* Filters are named per table: an unknown name or a value too long for a LIKE pattern is
 * refused before any read; a substring filter says it reads every row, unless the trigram
 * index serves it (3 characters or more on coSpaces); a seq range bounds any of them. */
START_TEST(test_named_filters_checked_and_bounded)
{
    static const char *const cospace_cols[] = {"id", "name"};
    static const struct store_table cospace = {"cospace", cospace_cols, "tt", 2},
                                    tenants = {"tenant", cospace_cols, "tt", 2};
    struct store_query q = {.conds = {{"filter", "ab"}}, .nconds = 1};
    char seen[256] = "", id[48], longer[600];
    bool scans = false;
    size_t n = 9;

    ck_assert_int_eq(store_query_check(&cospace, &q, &scans), 0);
    ck_assert(scans);
    q.conds[0].value = "abc";
    ck_assert_int_eq(store_query_check(&cospace, &q, &scans), 0);
    ck_assert(!scans);
    q.conds[0].name = "nameFilter";
    ck_assert_int_eq(store_query_check(&cospace, &q, &scans), -EINVAL);
    ck_assert_int_eq(store_row_count(st, &cospace, &q, &n), -EINVAL);
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    q.conds[0] = (struct store_cond){"filter", longer};
    ck_assert_int_eq(store_query_check(&tenants, &q, &scans), -EINVAL);

    for (int i = 0; i < 4; i++) {
        struct store_row t = {0};

        (void)snprintf(id, sizeof(id), "00000000-0000-4000-8000-00000000004%d", i);
        make_turn(&t, id, i % 2 ? "odd.example.com" : "even.example.com");
        ck_assert_int_eq(store_row_insert(st, TURN, &t), 0);
        store_row_done(&t);
    }
    q.conds[0].value = "ODD";
    ck_assert_int_eq(store_query_check(TURN, &q, &scans), 0);
    ck_assert(!scans); /* a short table: compared in every row, no summary needed */
    q.seq_min = 3;
    q.seq_max = 4;
    ck_assert_int_eq(store_row_count(st, TURN, &q, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(store_row_list(st, TURN, &q, 0, 10, collect, seen), 0);
    ck_assert_str_eq(seen, "odd.example.com,");
}
END_TEST

/* ---- every write queues: one connection holds the queue, another writes ---------------- */

static const char *const tenant_cols[] = {"id", "name"};
static const struct store_table tenant = {"tenant", tenant_cols, "tt", 2};

struct holder {
    struct store *st;
    atomic_bool holding, committing, failed;
};

/* Holds the writer queue (a transaction of another connection) for 200 ms. */
static void *hold_queue(void *arg)
{
    struct holder *h = arg;

    if (store_begin(h->st) < 0) {
        atomic_store(&h->failed, true);
        return NULL;
    }
    atomic_store(&h->holding, true);
    (void)usleep(200 * 1000);
    atomic_store(&h->committing, true);
    if (store_commit(h->st) < 0)
        atomic_store(&h->failed, true);
    return NULL;
}

static void add_row(struct store *s, const struct store_table *t, const char *id, const char *name)
{
    struct store_row row = {0};

    ck_assert_int_eq(store_row_set(&row, 0, id), 0);
    ck_assert_int_eq(store_row_set(&row, 1, name), 0);
    ck_assert_int_eq(store_row_insert(s, t, &row), 0);
    store_row_done(&row);
}

/* Runs write number 'op' on st while another connection holds the queue; with SQLite's busy
 * handler turned off on st, a write that does not queue meets the held lock and fails at once,
 * one that queues waits for the holder's commit and succeeds. */
static int write_op(int op)
{
    struct store_row row = {0};
    int r;

    switch (op) {
    case 0:
        return store_row_delete(st, TURN, "00000000-0000-4000-8000-000000000010");
    case 1:
        return store_row_delete(st, &tenant, "00000000-0000-4000-8000-000000000020");
    case 2:
        return store_user_delete(st, "bob");
    case 3:
    case 4:
        make_turn(&row,
                  op == 3 ? "00000000-0000-4000-8000-000000000011"
                          : "00000000-0000-4000-8000-000000000010",
                  op == 3 ? "c" : "b");
        r = op == 3 ? store_row_insert(st, TURN, &row) : store_row_update(st, TURN, &row);
        store_row_done(&row);
        return r;
    case 5:
        return store_user_add(st, "carol", "h");
    case 6:
        return store_user_set_hash(st, "bob", "h2");
    case 7:
        (void)store_row_set(&row, 0, "00000000-0000-4000-8000-000000000021");
        r = store_row_insert(st, &tenant, &row);
        store_row_done(&row);
        return r;
    default:
        (void)store_row_set(&row, 0, "00000000-0000-4000-8000-000000000020");
        (void)store_row_set(&row, 1, "renamed");
        r = store_row_update(st, &tenant, &row);
        store_row_done(&row);
        return r;
    }
}

START_TEST(test_every_write_waits_its_turn_in_the_queue)
{
    struct holder h = {0};
    struct store_row t = {0};
    pthread_t thread;
    int r;

    make_turn(&t, "00000000-0000-4000-8000-000000000010", "b");
    ck_assert_int_eq(store_row_insert(st, TURN, &t), 0);
    store_row_done(&t);
    add_row(st, &tenant, "00000000-0000-4000-8000-000000000020", "t");
    ck_assert_int_eq(store_user_add(st, "bob", "h"), 0);
    ck_assert_int_eq(store_open(path, &h.st), 0);
    (void)sqlite3_busy_timeout(db_sqlite_handle(st->db), 0);
    ck_assert_int_eq(pthread_create(&thread, NULL, hold_queue, &h), 0);
    for (int i = 0; i < 500 && !atomic_load(&h.holding) && !atomic_load(&h.failed); i++)
        (void)usleep(10 * 1000);
    ck_assert(atomic_load(&h.holding));
    r = write_op(_i);
    ck_assert_msg(r == 0, "write %d answered %d instead of waiting for the queue", _i, r);
    ck_assert(atomic_load(&h.committing)); /* it ran after the holder, not beside it */
    pthread_join(thread, NULL);
    ck_assert(!atomic_load(&h.failed));
    store_close(h.st);
}
END_TEST

/* ---- caps on rows ------------------------------------------------------------------------ */

static void caps_teardown(void)
{
    (void)store_set_max_rows("tenant", 0);
    (void)store_set_max_rows("turn_server", 0);
}

START_TEST(test_insert_beyond_cap_refused_and_nothing_stored)
{
    struct store_query all = {0};
    struct store_row t = {0};
    size_t n = 0;

    ck_assert_int_eq(store_set_max_rows("tenant", 2), 0);
    add_row(st, &tenant, "00000000-0000-4000-8000-000000000021", "a");
    add_row(st, &tenant, "00000000-0000-4000-8000-000000000022", "b");
    {
        struct store_row row = {0};

        ck_assert_int_eq(store_row_set(&row, 0, "00000000-0000-4000-8000-000000000023"), 0);
        ck_assert_int_eq(store_row_insert(st, &tenant, &row), -EDQUOT);
        /* inside a caller's transaction too, which stays usable */
        ck_assert_int_eq(store_begin(st), 0);
        ck_assert_int_eq(store_row_insert(st, &tenant, &row), -EDQUOT);
        store_rollback(st);
        store_row_done(&row);
    }
    ck_assert_int_eq(store_row_count(st, &tenant, &all, &n), 0);
    ck_assert_uint_eq(n, 2);
    /* after a delete the largest seq is still 2, the count is 1: room for one more */
    ck_assert_int_eq(store_row_delete(st, &tenant, "00000000-0000-4000-8000-000000000021"), 0);
    add_row(st, &tenant, "00000000-0000-4000-8000-000000000023", "c");
    ck_assert_int_eq(store_row_count(st, &tenant, &all, &n), 0);
    ck_assert_uint_eq(n, 2);

    ck_assert_int_eq(store_set_max_rows("turn_server", 1), 0);
    make_turn(&t, "00000000-0000-4000-8000-000000000031", "a");
    ck_assert_int_eq(store_row_insert(st, TURN, &t), 0);
    make_turn(&t, "00000000-0000-4000-8000-000000000032", "b");
    ck_assert_int_eq(store_row_insert(st, TURN, &t), -EDQUOT);
    ck_assert_int_eq(store_row_count(st, TURN, &all, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(store_row_delete(st, TURN, "00000000-0000-4000-8000-000000000031"), 0);
    ck_assert_int_eq(store_row_insert(st, TURN, &t), 0);
    ck_assert_int_eq(store_set_max_rows("turn_server", 0), 0); /* 0: no cap */
    make_turn(&t, "00000000-0000-4000-8000-000000000033", "c");
    ck_assert_int_eq(store_row_insert(st, TURN, &t), 0);
    store_row_done(&t);
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("sqlite");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_migrations_applied_and_recorded);
    tcase_add_test(tc, test_newer_schema_refused);
    tcase_add_test(tc, test_users);
    tcase_add_test(tc, test_turn_crud);
    tcase_add_test(tc, test_turn_dangling_reference_refused);
    tcase_add_test(tc, test_turn_list_order_filter_page);
    tcase_add_test(tc, test_write_waits_then_reports_busy);
    tcase_add_test(tc, test_named_filters_checked_and_bounded);
    suite_add_tcase(s, tc);

    tc = tcase_create("queue");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_every_write_waits_its_turn_in_the_queue, 0, 9);
    suite_add_tcase(s, tc);

    tc = tcase_create("caps");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_checked_fixture(tc, NULL, caps_teardown);
    tcase_add_test(tc, test_insert_beyond_cap_refused_and_nothing_stored);
    suite_add_tcase(s, tc);
    return s;
}
