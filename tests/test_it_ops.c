/* tests/test_it_ops.c: what an operator's mistakes and reflexes do to a running callbridged:
 * a second daemon on one data directory, a lost or swapped secret.key, a backup taken while
 * it serves writes and restored, signals sent by reflex, the admin password in the
 * environment and in initial-admin-password, and modes and owners others could abuse.
 * Each test starts its own daemons on kernel-chosen ports and stops them by PID. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/util.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define TEST_PASSWORD "Adm1n-pass-for-tests" /* tests/helpers.c's, in the daemon's env */

static struct th_daemon d, d2;
static struct th_coturn co;

static void setup(void)
{
    memset(&d, 0, sizeof(d));
    memset(&d2, 0, sizeof(d2));
}

static void teardown(void)
{
    th_daemon_destroy(&d);
    th_daemon_destroy(&d2);
    if (co.pid)
        th_coturn_stop(&co);
    memset(&co, 0, sizeof(co));
}

/* Runs callbridged on dir (with extra args, may be NULL) as a daemon would start, bounded by
 * timeout(1): one that starts instead of refusing is stopped with SIGTERM after 8 s and the
 * code is then 124. Its output goes to out. With dm, on dm's store (its --database, if any). */
static int start_on(const struct th_daemon *dm, const char *dir, const char *const *extra,
                    char *out, size_t cap)
{
    const char *argv[18] = {"timeout", "8",         th_daemon_path(), "--data-dir", dir,
                            "--bind",  "127.0.0.1", "--listen",       "0",          "--threads",
                            "2"};
    const char *const env[] = {"CALLBRIDGE_ADMIN_PASSWORD=" TEST_PASSWORD, NULL};
    size_t n = 11;

    if (dm && dm->database[0]) {
        argv[n++] = "--database";
        argv[n++] = dm->database;
    }
    for (size_t i = 0; extra && extra[i] && n < 17; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return th_run("/usr/bin/timeout", argv, env, NULL, out, cap, NULL, 0);
}

static int start_once(const char *dir, const char *const *extra, char *out, size_t cap)
{
    return start_on(NULL, dir, extra, out, cap);
}

static void path_of(char *out, size_t cap, const struct th_daemon *dm, const char *name)
{
    (void)snprintf(out, cap, "%s/%s", dm->dir, name);
}

/* POSTs a TURN server whose password and shared secret are sealed with secret.key. */
static void add_turn_server(const struct th_daemon *dm, unsigned short port, char *ret_id)
{
    char form[200];
    struct th_resp r;

    (void)snprintf(form, sizeof(form),
                   "serverAddress=127.0.0.1:%u&username=alice&password=secret"
                   "&sharedSecret=shared-s3cret",
                   port ? (unsigned)port : 9u);
    th_admin(dm, "POST", "/api/v1/turnServers", form, &r);
    ck_assert_int_eq(r.status, 200);
    (void)snprintf(ret_id, 64, "%s", th_location_id(&r));
    th_resp_free(&r);
}

static void write_key(const char *path, unsigned char fill)
{
    unsigned char key[32];

    memset(key, fill, sizeof(key));
    ck_assert_int_eq(api_write_file(path, key, sizeof(key), 0600), 0);
}

/* The first column of sql's first row, on dm's database through the store's driver. */
static long count_rows(const struct th_daemon *dm, const char *sql)
{
    int64_t n = -1;

    ck_assert_msg(th_daemon_sql(dm, sql, &n) == 0, "%s failed", sql);
    return (long)n;
}

static void exec_sql(const struct th_daemon *dm, const char *sql)
{
    int r = th_daemon_sql(dm, sql, NULL);

    ck_assert_msg(r == 0, "%s: %s", sql, strerror(-r));
}

START_TEST(test_second_daemon_on_one_data_dir_is_refused)
{
    char out[8192], pid[32];
    struct th_resp r;

    th_daemon_start(&d, "0", NULL);
    ck_assert_int_eq(start_on(&d, d.dir, NULL, out, sizeof(out)), 1);
    (void)snprintf(pid, sizeof(pid), "(PID %d)", (int)d.pid);
    ck_assert_msg(strstr(out, "is in use by another callbridged") && strstr(out, d.dir) &&
                      strstr(out, pid),
                  "%s", out);
    th_admin(&d, "GET", "/api/v1/system/status", NULL, &r); /* the first one goes on */
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    th_daemon_start(&d, "0", NULL); /* the lock went with it */
}
END_TEST

START_TEST(test_missing_or_other_key_stops_the_start)
{
    char out[8192], key[160], saved[160], id[64];

    th_daemon_start(&d, "0", NULL);
    add_turn_server(&d, 0, id);
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    path_of(key, sizeof(key), &d, "secret.key");
    path_of(saved, sizeof(saved), &d, "secret.key.saved");
    ck_assert_int_eq(rename(key, saved), 0);

    ck_assert_int_eq(start_on(&d, d.dir, NULL, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "secret.key is missing") && strstr(out, "Restore the secret.key"),
                  "%s", out);
    ck_assert_int_eq(access(key, F_OK), -1); /* never made anew over sealed secrets */

    write_key(key, 0x5a);
    ck_assert_int_eq(start_on(&d, d.dir, NULL, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "secret.key is not the key"), "%s", out);

    ck_assert_int_eq(rename(saved, key), 0);
    th_daemon_start(&d, "0", NULL);
}
END_TEST

/* A database written before the check value existed has none: the key it has gets one
 * recorded when the sealed secrets open with it, and is refused when they do not. */
START_TEST(test_database_without_check_value)
{
    char out[8192], key[160], id[64];

    th_daemon_start(&d, "0", NULL);
    add_turn_server(&d, 0, id);
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    path_of(key, sizeof(key), &d, "secret.key");
    ck_assert_int_eq(count_rows(&d, "SELECT count(*) FROM secret_check"), 1);
    exec_sql(&d, "DELETE FROM secret_check");

    th_daemon_start(&d, "0", NULL); /* its own key: the check value is written */
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    ck_assert_int_eq(count_rows(&d, "SELECT count(*) FROM secret_check"), 1);

    exec_sql(&d, "DELETE FROM secret_check");
    write_key(key, 0xa5);
    ck_assert_int_eq(start_on(&d, d.dir, NULL, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "secret.key is not the key"), "%s", out);
    ck_assert_int_eq(count_rows(&d, "SELECT count(*) FROM secret_check"), 0);
}
END_TEST

static int64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Creates one coSpace; true when the daemon answered 200. */
static bool add_space(const struct th_daemon *dm, int i)
{
    char form[64];
    struct th_resp r;
    bool ok;

    (void)snprintf(form, sizeof(form), "name=space-%d", i);
    if (th_http_try(dm, dm->ports[0], "POST", "/api/v1/coSpaces", "admin", dm->password, NULL, form,
                    strlen(form), &r) != 0)
        return false;
    ok = r.status == 200;
    th_resp_free(&r);
    return ok;
}

/* Runs "callbridged backup DEST" in a child while this process writes coSpaces; returns the
 * backup's exit code and the writes done before it started and in all. */
static int backup_while_writing(const char *dest, int *ret_before, int *ret_total)
{
    const char *args[] = {"backup", dest, NULL};
    char out[4096];
    int status = 0, n = 0;
    int64_t end = now_ms() + 30000;
    pid_t child;

    while (n < 20 && add_space(&d, n))
        n++;
    *ret_before = n;
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(th_daemon_cli(&d, args, NULL, out, sizeof(out)));
    while (waitpid(child, &status, WNOHANG) == 0 && now_ms() < end && n < 100000)
        n += add_space(&d, n) ? 1 : 0;
    if (now_ms() >= end) {
        (void)kill(child, SIGKILL);
        (void)waitpid(child, &status, 0);
    }
    for (int i = 0; i < 20; i++) /* and after it */
        n += add_space(&d, n) ? 1 : 0;
    *ret_total = n;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* On PostgreSQL the backup is the server's (pg_dump, base backups): "callbridged backup" says
 * so, copies nothing (not even secret.key, which belongs with a copy of the database) and exits
 * non-zero; the password in the URL stays out of its output. */
static void backup_refused_on_pg(void)
{
    const char *args[] = {"backup", NULL, NULL};
    char out[4096], dest[64], path[128];
    const char *pw;

    th_daemon_start(&d, "0", NULL);
    th_tmpdir(dest);
    args[1] = dest;
    ck_assert_int_eq(th_daemon_cli(&d, args, NULL, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "is a database server's: back it up with the server's own tools") &&
                      strstr(out, "nothing copied"),
                  "%s", out);
    (void)snprintf(path, sizeof(path), "%s/secret.key", dest);
    ck_assert_int_ne(access(path, F_OK), 0);
    (void)snprintf(path, sizeof(path), "%s/callbridge.db", dest);
    ck_assert_int_ne(access(path, F_OK), 0);
    pw = strchr(strstr(d.database, "://") + 3, ':'); /* user:password@, if there is one */
    if (pw && strchr(pw, '@') && strchr(pw, '@') - pw > 1) {
        char secret[64];

        (void)snprintf(secret, sizeof(secret), "%.*s", (int)(strchr(pw, '@') - pw - 1), pw + 1);
        ck_assert_msg(!strstr(out, secret), "%s", out);
    }
    th_rmdir(dest);
}

START_TEST(test_backup_while_serving_writes_restores)
{
    char why[128], id[64], dest[64], db[160], path[200], reach[16];
    struct th_resp r;
    struct stat sb;
    int before, total;
    long spaces;

    if (th_on_pg()) {
        backup_refused_on_pg();
        return;
    }
    th_daemon_coturn_start(&d, &co, why, sizeof(why));
    add_turn_server(&d, co.pid ? co.port : 0, id);
    th_tmpdir(dest);
    ck_assert_int_eq(rmdir(dest), 0); /* backup creates it, 0700 */
    ck_assert_int_eq(backup_while_writing(dest, &before, &total), 0);
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    (void)snprintf(db, sizeof(db), "%s/callbridge.db", dest);
    ck_assert_int_eq(stat(db, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    (void)snprintf(path, sizeof(path), "%s/secret.key", dest);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    (void)snprintf(d2.dir, sizeof(d2.dir), "%s", dest); /* restore: a data directory of both */
    ck_assert_int_eq(count_rows(&d2, "SELECT count(*) FROM pragma_integrity_check "
                                     "WHERE integrity_check <> 'ok'"),
                     0);
    spaces = count_rows(&d2, "SELECT count(*) FROM cospace");
    ck_assert_msg(spaces >= before && spaces <= total, "%ld spaces in the backup, %d..%d", spaces,
                  before, total);
    fprintf(stderr,
            "it_ops: backup taken with %d coSpaces written before it, %ld in the copy, %d "
            "after the writes that ran beside it\n",
            before, spaces, total);

    th_daemon_start(&d2, "0", (const char *const[]){"--probe-interval", "3600", NULL});
    th_admin(&d2, "GET", "/api/v1/coSpaces?limit=1", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    (void)snprintf(why, sizeof(why), "<coSpaces total=\"%ld\">", spaces);
    ck_assert_msg(strstr(r.body, why), "%s", r.body);
    th_resp_free(&r);
    if (!co.pid) {
        th_skip_missing_dep("coturn"); /* for the TURN probe of the restored daemon */
        return;
    }
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status", id);
    th_admin(&d2, "GET", path, NULL, &r); /* the restored password works against coturn */
    th_xml_text(r.body, "reachable", reach, sizeof(reach));
    ck_assert_msg(strcmp(reach, "true") == 0, "%s", r.body);
    th_resp_free(&r);
    ck_assert_int_eq(th_daemon_stop(&d2), 0);
}
END_TEST

/* A signal's log line comes from the main thread after sigwait(): waits for it (bounded). */
static bool wait_log(const struct th_daemon *dm, const char *needle)
{
    for (int i = 0; i < 100; i++) {
        if (th_log_count(dm, needle) > 0)
            return true;
        (void)usleep(50 * 1000);
    }
    return false;
}

START_TEST(test_reflex_signals_do_not_kill)
{
    static const int sigs[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGALRM};
    struct th_resp r;
    bool logged;
    int status;

    th_daemon_start(&d, "0", NULL);
    ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
    logged = wait_log(&d, "SIGHUP ignored");
    ck_assert_msg(waitpid(d.pid, &status, WNOHANG) == 0, "SIGHUP ended the daemon");
    ck_assert_msg(logged, "no log line for SIGHUP; see %s", d.log);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        ck_assert_int_eq(kill(d.pid, sigs[i]), 0);
        (void)usleep(100 * 1000);
        ck_assert_msg(waitpid(d.pid, &status, WNOHANG) == 0, "signal %d ended the daemon", sigs[i]);
    }
    th_admin(&d, "GET", "/api/v1/system/status", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    ck_assert_int_eq(th_daemon_stop(&d), 0); /* SIGTERM still stops it, cleanly */
    ck_assert_uint_eq(th_log_count(&d, " info stopped"), 1);
}
END_TEST

START_TEST(test_admin_password_wiped_from_environ)
{
    char path[64], *env = NULL;
    size_t len;
    struct th_resp r;

    th_daemon_start(&d, "0", NULL);
    (void)snprintf(path, sizeof(path), "/proc/%d/environ", (int)d.pid);
    ck_assert_int_eq(api_read_file(path, 1 << 20, &env, &len), 0);
    ck_assert_msg(!memmem(env, len, TEST_PASSWORD, strlen(TEST_PASSWORD)),
                  "the admin password is still in %s", path);
    ck_assert_ptr_nonnull(memmem(env, len, "PATH=", 5)); /* it is the environment */
    free(env);
    th_admin(&d, "GET", "/api/v1/system/status", NULL, &r); /* and it was used */
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
}
END_TEST

START_TEST(test_initial_password_removed_on_change)
{
    const char *passwd[] = {"user", "passwd", "admin", NULL};
    char initial[160], out[4096], *pw = NULL;
    size_t len;

    d.random_admin = true;
    th_daemon_start(&d, "0", NULL);
    path_of(initial, sizeof(initial), &d, "initial-admin-password");
    ck_assert_int_eq(api_read_file(initial, 256, &pw, &len), 0);
    free(pw);
    ck_assert_int_eq(th_daemon_cli(&d, passwd, "a-new-admin-pass\n", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "initial-admin-password: the password in it is no longer"), "%s",
                  out);
    ck_assert_int_eq(access(initial, F_OK), -1);

    /* changed by other means (an older tool, a restored database): found at the next start */
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    ck_assert_int_eq(api_write_file(initial, "stale-pass\n", 11, 0600), 0);
    th_daemon_start(&d, "0", NULL);
    ck_assert_int_eq(access(initial, F_OK), -1);
    ck_assert_uint_eq(th_log_count(&d, "the password in it is no longer admin's"), 1);
}
END_TEST

START_TEST(test_open_modes_refused)
{
    char out[8192], cert[160], key[160], dir[64];
    const char *tls[] = {"--cert", cert, "--key", key, NULL};

    th_tmpdir(dir);
    ck_assert_int_eq(chmod(dir, 0777), 0);
    ck_assert_int_eq(start_once(dir, NULL, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "writable by others (mode 0777)") && strstr(out, "chmod 700"), "%s",
                  out);
    th_rmdir(dir);

    th_daemon_start(&d, "0", NULL); /* a certificate and key to hand over with --cert/--key */
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    path_of(cert, sizeof(cert), &d, "cert.pem");
    path_of(key, sizeof(key), &d, "key.pem");
    ck_assert_int_eq(chmod(key, 0644), 0);
    ck_assert_int_eq(start_on(&d, d.dir, tls, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "key.pem can be read or changed by others") &&
                      strstr(out, "chmod 600"),
                  "%s", out);
    ck_assert_int_eq(chmod(key, 0600), 0);
    th_daemon_start(&d, "0", tls);
}
END_TEST

/* Owned by nobody, run by root: nobody could swap the key (a chown to another user needs root). */
START_TEST(test_data_dir_owned_by_another_user_refused)
{
    char out[8192], dir[64];

    if (!th_is_root_or_skip())
        return;
    th_tmpdir(dir);
    ck_assert_int_eq(chown(dir, 65534, 65534), 0);
    ck_assert_int_eq(start_once(dir, NULL, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "owned by uid 65534") && strstr(out, "run: chown"), "%s", out);
    ck_assert_int_eq(chown(dir, 0, 0), 0);
    th_rmdir(dir);
}
END_TEST

Suite *it_ops_suite(void)
{
    Suite *s = suite_create("it_ops");
    TCase *tc = tcase_create("ops");
    TCase *root = tcase_create("root");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_second_daemon_on_one_data_dir_is_refused);
    tcase_add_test(tc, test_missing_or_other_key_stops_the_start);
    tcase_add_test(tc, test_database_without_check_value);
    tcase_add_test(tc, test_backup_while_serving_writes_restores);
    tcase_add_test(tc, test_reflex_signals_do_not_kill);
    tcase_add_test(tc, test_admin_password_wiped_from_environ);
    tcase_add_test(tc, test_initial_password_removed_on_change);
    tcase_add_test(tc, test_open_modes_refused);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(root, setup, teardown);
    tcase_set_tags(root, "net root");
    tcase_set_timeout(root, 120);
    tcase_add_test(root, test_data_dir_owned_by_another_user_refused);
    suite_add_tcase(s, root);
    return s;
}
