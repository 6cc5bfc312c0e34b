/* tests/test_it_daemon.c: callbridged's life cycle as an administrator sees it: first start,
 * restart, several ports, user subcommands, flags, and SIGTERM finishing a request in flight.
 * Each test starts its own daemon on a kernel-chosen port and stops it by PID. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/util.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static struct th_daemon d;

static void setup(void)
{
    memset(&d, 0, sizeof(d));
}

static void teardown(void)
{
    th_daemon_destroy(&d);
}

static mode_t mode_of(const char *name)
{
    char path[160];
    struct stat sb;

    (void)snprintf(path, sizeof(path), "%s/%s", d.dir, name);
    ck_assert_msg(stat(path, &sb) == 0, "%s missing", path);
    return sb.st_mode & 0777;
}

static long get_status(const char *user, const char *pass, const char *path)
{
    struct th_resp r;
    long status;

    th_http(&d, d.ports[0], "GET", path, user, pass, NULL, NULL, 0, &r);
    status = r.status;
    th_resp_free(&r);
    return status;
}

START_TEST(test_first_start_random_admin_then_restart)
{
    char *pw = NULL;
    size_t len;

    d.random_admin = true;
    th_daemon_start(&d, "0", NULL);
    ck_assert_int_eq(mode_of("key.pem"), 0600);
    ck_assert_int_eq(mode_of("cert.pem"), 0600);
    ck_assert_int_eq(mode_of("secret.key"), 0600);
    ck_assert_int_eq(mode_of("initial-admin-password"), 0600);
    if (th_on_pg()) { /* the store is the server's: nothing of it in the data directory */
        char db[160];

        (void)snprintf(db, sizeof(db), "%s/callbridge.db", d.dir);
        ck_assert_msg(access(db, F_OK) != 0, "%s made on PostgreSQL", db);
    } else {
        ck_assert_int_eq(mode_of("callbridge.db") & 077, 0);
    }
    {
        char path[160];

        (void)snprintf(path, sizeof(path), "%s/initial-admin-password", d.dir);
        ck_assert_int_eq(api_read_file(path, 256, &pw, &len), 0);
    }
    ck_assert_uint_ge(len, 17);
    pw[strcspn(pw, "\n")] = '\0';
    (void)snprintf(d.password, sizeof(d.password), "%s", pw);
    /* the output is a file here, as under a service manager: it names the file, not the
     * password (a terminal gets the password printed once) */
    ck_assert_uint_eq(th_log_count(&d, "Created API user 'admin'; its password is in "), 1);
    ck_assert_uint_eq(th_log_count(&d, "initial-admin-password (readable by this user only"), 1);
    ck_assert_uint_eq(th_log_count(&d, pw), 0);
    ck_assert_int_eq(get_status("admin", pw, "/api/v1/system/status"), 200);
    ck_assert_int_eq(th_log_count(&d, pw), 0);

    ck_assert_int_eq(th_daemon_stop(&d), 0);
    th_daemon_start(&d, "0", NULL); /* same data directory */
    ck_assert_uint_eq(th_log_count(&d, "Created API user"), 0);
    ck_assert_uint_eq(th_log_count(&d, "creating a self-signed certificate"), 0);
    ck_assert_int_eq(get_status("admin", pw, "/api/v1/system/status"), 200);
    free(pw);
}
END_TEST

START_TEST(test_objects_survive_restart)
{
    char path[256];
    struct th_resp r;

    th_daemon_start(&d, "0", NULL);
    th_admin(&d, "POST", "/api/v1/turnServers", "serverAddress=kept.example.invalid&password=x",
             &r);
    ck_assert_int_eq(r.status, 200);
    (void)snprintf(path, sizeof(path), "%s", r.location);
    th_resp_free(&r);
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    th_daemon_start(&d, "0", NULL);
    th_admin(&d, "GET", path, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<serverAddress>kept.example.invalid</serverAddress>"));
    th_resp_free(&r);
}
END_TEST

START_TEST(test_two_ports)
{
    struct th_resp r;

    th_daemon_start(&d, "0,0", NULL);
    ck_assert_uint_ne(d.ports[0], 0);
    ck_assert_uint_ne(d.ports[1], 0);
    ck_assert_uint_ne(d.ports[0], d.ports[1]);
    for (int i = 0; i < 2; i++) {
        th_http(&d, d.ports[i], "GET", "/api/v1/system/status", "admin", d.password, NULL, NULL, 0,
                &r);
        ck_assert_int_eq(r.status, 200);
        th_resp_free(&r);
    }
}
END_TEST

/* 445 without root: a user with only CAP_NET_BIND_SERVICE (ambient, as the systemd unit gives
 * it) binds it and serves; without the capability the daemon says why and exits. */
START_TEST(test_port_445_with_the_capability_only)
{
    static const char *const with_cap[] = {"setpriv",
                                           "--reuid=65534",
                                           "--regid=65534",
                                           "--clear-groups",
                                           "--inh-caps=+net_bind_service",
                                           "--ambient-caps=+net_bind_service",
                                           NULL};
    const char *without[] = {"setpriv",
                             "--reuid=65534",
                             "--regid=65534",
                             "--clear-groups",
                             "--inh-caps=-all",
                             th_daemon_path(),
                             "--data-dir",
                             d.dir,
                             "--bind",
                             "127.0.0.1",
                             "--listen",
                             "445",
                             NULL};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(445)};
    char out[4096], path[128], *proc = NULL;
    struct th_resp r;
    size_t len;
    int fd, rc;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (!th_is_root_or_skip()) { /* to change user */
        close(fd);
        return;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        th_skip("127.0.0.1:445 is in use");
        close(fd);
        return;
    }
    close(fd);
    th_tmpdir(d.dir);
    ck_assert_int_eq(chown(d.dir, 65534, 65534), 0);
    d.wrapper = with_cap;
    th_daemon_start(&d, "445", NULL);
    ck_assert_uint_eq(d.ports[0], 445);
    th_http(&d, 445, "GET", "/api/v1/system/status", "admin", d.password, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    (void)snprintf(path, sizeof(path), "/proc/%d/status", (int)d.pid);
    ck_assert_int_eq(api_read_file(path, 1 << 16, &proc, &len), 0);
    ck_assert_msg(strstr(proc, "\nUid:\t65534\t65534\t65534"), "%s", proc); /* not root */
    free(proc);
    ck_assert_int_eq(th_daemon_stop(&d), 0);

    /* the same user without the capability */
    rc = th_run("/usr/bin/setpriv", without, NULL, NULL, out, sizeof(out), NULL, 0);
    ck_assert(rc > 0 && rc < 128);
    ck_assert_msg(strstr(out, "Failed to bind to port 445: Permission denied"), "%s", out);
    ck_assert_msg(strstr(out, "cannot listen on https://127.0.0.1:445"), "%s", out);
}
END_TEST

/* On the daemon's store, whichever it is (--database with CB_TEST_PG: th_daemon_cli). */
START_TEST(test_user_subcommands)
{
    const char *add[] = {"user", "add", "bob", NULL};
    const char *list[] = {"user", "list", NULL};
    const char *passwd[] = {"user", "passwd", "bob", NULL};
    const char *del[] = {"user", "delete", "bob", NULL};
    const char *bad[] = {"user", "add", "bad name", NULL};
    char out[4096];

    th_daemon_start(&d, "0", NULL);
    ck_assert_int_eq(th_daemon_cli(&d, add, "bob-pass-1\n", out, sizeof(out)), 0);
    ck_assert_int_eq(th_daemon_cli(&d, add, "again\n", out, sizeof(out)), 1);
    ck_assert_ptr_nonnull(strstr(out, "already exists"));
    ck_assert_int_eq(th_daemon_cli(&d, list, NULL, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "admin\nbob\n");
    ck_assert_int_eq(get_status("bob", "bob-pass-1", "/api/v1/turnServers"), 200);
    ck_assert_int_eq(th_daemon_cli(&d, passwd, "bob-pass-2\n", out, sizeof(out)), 0);
    ck_assert_int_eq(get_status("bob", "bob-pass-2", "/api/v1/turnServers"), 200);
    ck_assert_int_eq(th_daemon_cli(&d, del, NULL, out, sizeof(out)), 0);
    ck_assert_int_eq(get_status("bob", "never-cached", "/api/v1/turnServers"), 401);
    ck_assert_int_eq(th_daemon_cli(&d, del, NULL, out, sizeof(out)), 1);
    ck_assert_int_eq(th_daemon_cli(&d, bad, "x\n", out, sizeof(out)), 2);
    ck_assert_uint_eq(th_log_count(&d, "bob-pass"), 0);
}
END_TEST

START_TEST(test_flags_exit_codes)
{
    const char *help[] = {"--help", NULL};
    const char *version[] = {"--version", NULL};
    const char *unknown[] = {"--frobnicate", NULL};
    const char *badport[] = {"--listen", "445,x", NULL};
    char out[4096];

    ck_assert_int_eq(th_run_cli(help, NULL, out, sizeof(out)), 0);
    for (const char *const *o = (const char *const[]){"--listen", "--bind", "--data-dir", "--cert",
                                                      "--key", "--log-level", "--config", NULL};
         *o; o++)
        ck_assert_msg(strstr(out, *o), "--help does not mention %s", *o);
    ck_assert_int_eq(th_run_cli(version, NULL, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "callbridged " API_VERSION "\n");
    ck_assert_int_eq(th_run_cli(unknown, NULL, out, sizeof(out)), 2);
    ck_assert_str_eq(out, "callbridged: unknown option '--frobnicate' (see --help)\n");
    ck_assert_int_eq(th_run_cli(badport, NULL, out, sizeof(out)), 2);
    ck_assert_ptr_nonnull(strstr(out, "--listen"));
}
END_TEST

/* --database with a PostgreSQL URL: a build without the driver says so and exits non-zero,
 * before it listens or writes a SQLite file; the password never reaches the log. With the
 * driver, nothing listens on port 1, and the start fails all the same. */
START_TEST(test_database_url_without_driver)
{
    const char *start[] = {
        "--data-dir", d.dir,       "--listen",   "0",
        "--bind",     "127.0.0.1", "--database", "postgresql://cb:n0t-shown@127.0.0.1:1/cb",
        NULL};
    const char *users[] = {"--data-dir", d.dir,  "--database", "dbname=cb password=n0t-shown",
                           "user",       "list", NULL};
    char out[4096], db[160];

    th_tmpdir(d.dir);
    ck_assert_int_eq(th_run_cli(start, NULL, out, sizeof(out)), 1);
#ifndef STORE_WITH_PG
    ck_assert_msg(strstr(out, "this build has no PostgreSQL driver"), "%s", out);
    ck_assert_msg(strstr(out, "postgresql://cb:***@127.0.0.1:1/cb"), "%s", out);
#endif
    ck_assert_msg(!strstr(out, "n0t-shown"), "%s", out);
#ifdef STORE_WITH_PG
    ck_assert_msg(strstr(out, "cb:***@127.0.0.1:1/cb: no server answered"), "%s", out);
#endif
    ck_assert_int_eq(th_run_cli(users, NULL, out, sizeof(out)), 1);
#ifndef STORE_WITH_PG
    ck_assert_msg(strstr(out, "this build has no PostgreSQL driver"), "%s", out);
#endif
    ck_assert_msg(!strstr(out, "n0t-shown"), "%s", out);
    (void)snprintf(db, sizeof(db), "%s/callbridge.db", d.dir);
    ck_assert_int_ne(access(db, F_OK), 0);
}
END_TEST

/* PostgreSQL: a role's wrong password at start stops it, with the database named and its
 * password (right or wrong) nowhere in the output; no SQLite file is made instead. */
START_TEST(test_database_wrong_password)
{
    char sql[128], url[320], role[48], out[4096], db[160];
    const char *start[] = {"--data-dir", d.dir,        "--listen", "0", "--bind",
                           "127.0.0.1",  "--database", url,        NULL};

    if (!th_on_pg()) {
        th_skip("PostgreSQL only (CB_TEST_PG): a database server's password");
        return;
    }
    th_tmpdir(d.dir);
    (void)snprintf(role, sizeof(role), "cbtest_pw_%d", (int)getpid());
    (void)snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN PASSWORD 'r1ght-pw-kept'", role);
    th_pg_admin_sql(sql);
    { /* the same server (CB_TEST_PG's host:port) as that role, with a wrong password */
        const char *admin = getenv("CB_TEST_PG"), *at = strchr(admin, '@');
        const char *host = at ? at + 1 : strstr(admin, "://") + 3;

        (void)snprintf(url, sizeof(url), "postgresql://%s:wr0ng-pw-typed@%.*s/postgres", role,
                       (int)strcspn(host, "/?"), host);
    }
    ck_assert_int_eq(th_run_cli(start, NULL, out, sizeof(out)), 1);
    (void)snprintf(sql, sizeof(sql), "DROP ROLE %s", role);
    th_pg_admin_sql(sql);
    ck_assert_msg(strstr(out, "cannot open database postgresql://") && strstr(out, ":***@") &&
                      strstr(out, "the server refused the connection after asking for a password"),
                  "%s", out);
    ck_assert_msg(!strstr(out, "wr0ng-pw-typed") && !strstr(out, "r1ght-pw-kept"), "%s", out);
    (void)snprintf(db, sizeof(db), "%s/callbridge.db", d.dir);
    ck_assert_int_ne(access(db, F_OK), 0);
}
END_TEST

/* Uploads a body in two halves with a pause between them, so that the request is in flight
 * when the daemon gets SIGTERM. */
struct slow_body {
    const char *data;
    size_t len, off;
    int calls;
};

static size_t read_slowly(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct slow_body *b = userdata;
    size_t n = b->len - b->off < 10 ? b->len - b->off : 10;

    if (b->calls++ == 1)
        (void)usleep(1500 * 1000);
    if (n > size * nitems)
        n = size * nitems;
    memcpy(buf, b->data + b->off, n);
    b->off += n;
    return n;
}

static int slow_post(void)
{
    struct slow_body b = {"serverAddress=slow.example.invalid", 30, 0, 0};
    char url[128];
    long status = 0;
    CURL *c = curl_easy_init();

    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%u/api/v1/turnServers", d.ports[0]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, d.cacert);
    curl_easy_setopt(c, CURLOPT_USERNAME, "admin");
    curl_easy_setopt(c, CURLOPT_PASSWORD, d.password);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_slowly);
    curl_easy_setopt(c, CURLOPT_READDATA, &b);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)b.len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status == 200 ? 0 : 1;
}

START_TEST(test_sigterm_finishes_request_in_flight)
{
    int status;
    pid_t client;

    th_daemon_start(&d, "0", NULL);
    client = fork();
    ck_assert_int_ge(client, 0);
    if (client == 0)
        _exit(slow_post());
    (void)usleep(700 * 1000); /* the client is inside its pause now */
    ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
    ck_assert_int_eq(waitpid(client, &status, 0), client);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "request in flight failed");
    ck_assert_int_eq(th_daemon_stop(&d), 0); /* exit 0 (and, under ASan, no leak) */
    ck_assert_uint_eq(th_log_count(&d, "POST /api/v1/turnServers 200 "), 1);
    ck_assert_uint_eq(th_log_count(&d, " info stopped"), 1);
}
END_TEST

Suite *it_daemon_suite(void)
{
    Suite *s = suite_create("it_daemon");
    TCase *tc = tcase_create("lifecycle");
    TCase *root = tcase_create("root");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_first_start_random_admin_then_restart);
    tcase_add_test(tc, test_objects_survive_restart);
    tcase_add_test(tc, test_two_ports);
    tcase_add_test(tc, test_user_subcommands);
    tcase_add_test(tc, test_flags_exit_codes);
    tcase_add_test(tc, test_database_url_without_driver);
    tcase_add_test(tc, test_database_wrong_password);
    tcase_add_test(tc, test_sigterm_finishes_request_in_flight);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(root, setup, teardown);
    tcase_set_tags(root, "net root");
    tcase_set_timeout(root, 90);
    tcase_add_test(root, test_port_445_with_the_capability_only);
    suite_add_tcase(s, root);
    return s;
}
