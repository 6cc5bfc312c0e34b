/* tests/test_store.c: migrations, users and TURN servers in a real SQLite file. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
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

static void make_turn(struct store_turn *t, const char *id, const char *server)
{
    memset(t, 0, sizeof(*t));
    (void)snprintf(t->id, sizeof(t->id), "%s", id);
    (void)snprintf(t->server_address, sizeof(t->server_address), "%s", server);
    (void)snprintf(t->type, sizeof(t->type), "standard");
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
    struct store_turn t, got;

    make_turn(&t, "00000000-0000-4000-8000-000000000001", "turn.example.com:3478");
    memcpy(t.password, "\x01\x02\x03", 3);
    t.password_len = 3;
    t.has_tcp_port_number_override = true;
    t.tcp_port_number_override = 443;
    ck_assert_int_eq(store_turn_insert(st, &t), 0);
    ck_assert_int_eq(store_turn_insert(st, &t), -EEXIST);
    ck_assert_int_eq(store_turn_get(st, t.id, &got), 0);
    ck_assert_str_eq(got.server_address, "turn.example.com:3478");
    ck_assert_str_eq(got.client_address, "");
    ck_assert_uint_eq(got.password_len, 3);
    ck_assert_int_eq(memcmp(got.password, "\x01\x02\x03", 3), 0);
    ck_assert(got.has_tcp_port_number_override);
    ck_assert(!got.has_num_registrations);
    ck_assert_int_eq(got.tcp_port_number_override, 443);

    got.has_tcp_port_number_override = false;
    got.password_len = 0;
    (void)snprintf(got.username, sizeof(got.username), "alice");
    ck_assert_int_eq(store_turn_update(st, &got), 0);
    ck_assert_int_eq(store_turn_get(st, t.id, &got), 0);
    ck_assert(!got.has_tcp_port_number_override);
    ck_assert_uint_eq(got.password_len, 0);
    ck_assert_str_eq(got.username, "alice");

    ck_assert_int_eq(store_turn_delete(st, t.id), 0);
    ck_assert_int_eq(store_turn_delete(st, t.id), -ENOENT);
    ck_assert_int_eq(store_turn_get(st, t.id, &got), -ENOENT);
    ck_assert_int_eq(store_turn_update(st, &t), -ENOENT);
}
END_TEST

START_TEST(test_turn_dangling_reference_refused)
{
    struct store_turn t;

    make_turn(&t, "00000000-0000-4000-8000-000000000002", "a");
    (void)snprintf(t.call_bridge, sizeof(t.call_bridge), "00000000-0000-4000-8000-0000000000ff");
    ck_assert_int_eq(store_turn_insert(st, &t), -EINVAL);
    ck_assert_int_eq(store_call_bridge_exists(st, t.call_bridge), -ENOENT);
}
END_TEST

static int collect(const struct store_turn_summary *t, void *userdata)
{
    strcat(userdata, t->server_address);
    strcat(userdata, ",");
    return 0;
}

START_TEST(test_turn_list_order_filter_page)
{
    static const char *servers[] = {"b.example.com", "A.EXAMPLE.org", "c.example.com",
                                    "d.example.net"};
    char seen[256] = "", id[40];
    size_t total = 0;

    for (int i = 0; i < 4; i++) {
        struct store_turn t;

        (void)snprintf(id, sizeof(id), "00000000-0000-4000-8000-00000000001%d", i & 7);
        make_turn(&t, id, servers[i]);
        ck_assert_int_eq(store_turn_insert(st, &t), 0);
    }
    ck_assert_int_eq(store_turn_count(st, NULL, &total), 0);
    ck_assert_uint_eq(total, 4);
    ck_assert_int_eq(store_turn_list(st, NULL, 0, 100, collect, seen), 0);
    ck_assert_str_eq(seen, "b.example.com,A.EXAMPLE.org,c.example.com,d.example.net,");

    seen[0] = '\0';
    ck_assert_int_eq(store_turn_count(st, "example.COM", &total), 0);
    ck_assert_uint_eq(total, 2);
    ck_assert_int_eq(store_turn_list(st, "example.COM", 1, 5, collect, seen), 0);
    ck_assert_str_eq(seen, "c.example.com,");

    seen[0] = '\0';
    ck_assert_int_eq(store_turn_list(st, "example.org", 0, 5, collect, seen), 0);
    ck_assert_str_eq(seen, "A.EXAMPLE.org,");

    seen[0] = '\0';
    ck_assert_int_eq(store_turn_list(st, NULL, 10, 5, collect, seen), 0);
    ck_assert_str_eq(seen, "");
}
END_TEST

START_TEST(test_write_waits_then_reports_busy)
{
    struct store *other;
    struct store_turn t;

    ck_assert_int_eq(store_open(path, &other), 0);
    ck_assert_int_eq(store_begin(other), 0); /* another writer holds the lock */
    make_turn(&t, "00000000-0000-4000-8000-000000000003", "a");
    ck_assert_int_eq(store_turn_insert(st, &t), -EBUSY);
    store_rollback(other);
    ck_assert_int_eq(store_turn_insert(st, &t), 0);
    store_close(other);
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
    suite_add_tcase(s, tc);
    return s;
}
