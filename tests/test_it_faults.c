/* tests/test_it_faults.c: callbridged under faults. kill -9 in the middle of a write load, a
 * data directory on a disk that fills up, a read-only data directory, too few file
 * descriptors, and stalled connections from one address. Each checks that what was acknowledged is
 * there, that the database is intact, that reads keep working, and that the daemon recovers. The
 * disk and the read-only directory are mounts in a namespace of the daemon's own (helpers.h, enum
 * th_mount). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "api/util.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define CS "/api/v1/coSpaces"
#define NOT_READY "<?xml version=\"1.0\"?><failureDetails><databaseNotReady /></failureDetails>"

/* 0 when PRAGMA integrity_check says "ok" for the database at path. */
static int integrity(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int r = 1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        r = strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return r;
}

/* PRAGMA integrity_check on the daemon's database as the daemon sees it: SQLite resolves the
 * /proc/PID/root link, so a child takes the daemon's root as its own instead (chroot, which
 * unlike setns also works in a process ThreadSanitizer has made multi-threaded). */
static void assert_intact(const struct th_daemon *d)
{
    char path[256];
    int status;
    pid_t pid;

    if (d->database[0]) { /* PostgreSQL: the server keeps it whole; it answers a query */
        int64_t n = -1;

        ck_assert_int_eq(th_daemon_sql(d, "SELECT count(*) FROM cospace", &n), 0);
        ck_assert_int_ge(n, 0);
        return;
    }
    (void)snprintf(path, sizeof(path), "%s/callbridge.db", d->dir);
    if (!d->root[0]) {
        ck_assert_int_eq(integrity(path), 0);
        return;
    }
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(chroot(d->root) < 0 || chdir("/") < 0 ? 2 : integrity(path));
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "integrity_check in the daemon's namespace: status %d", status);
}

/* The total="N" of a list. */
static long list_total(const struct th_daemon *d, const char *path)
{
    struct th_resp r;
    const char *t;
    long n;

    th_admin(d, "GET", path, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    t = strstr(r.body, "total=\"");
    ck_assert_ptr_nonnull(t);
    n = strtol(t + 7, NULL, 10);
    th_resp_free(&r);
    return n;
}

/* The text of <tag> in a coSpace (empty when absent). */
static void cospace_field(const struct th_daemon *d, const char *id, const char *tag, char *out,
                          size_t cap)
{
    char path[128];
    struct th_resp r;

    (void)snprintf(path, sizeof(path), CS "/%s", id);
    th_admin(d, "GET", path, NULL, &r);
    ck_assert_msg(r.status == 200, "GET %s: %ld", path, r.status);
    th_xml_text(r.body, tag, out, cap);
    th_resp_free(&r);
}

static bool skip_without_mounts(void)
{
    char why[128];

    if (!th_is_root_or_skip())
        return true;
    if (th_mount_ns_available(why, sizeof(why)))
        return false;
    th_skip("%s", why);
    return true;
}

/* ---- kill -9 during a write load ----------------------------------------------------------- */

#define WRITERS 4
#define OBJECTS 48 /* per writer and round */

/* One client creating coSpaces and renaming them, keeping what the daemon acknowledged. */
struct writer {
    const struct th_daemon *d;
    int round, idx;
    atomic_bool *stop;
    atomic_int *acked; /* answers 200 so far, all writers of the round */
    char id[OBJECTS][40];
    char name[OBJECTS][40]; /* as last acknowledged */
    int n;
    /* the request in flight when the daemon died: it may or may not have been committed */
    enum { NONE, POST, PUT } pending;
    int pending_obj;
    char pending_name[40];
};

static void *write_load(void *arg)
{
    struct writer *w = arg;

    for (int seq = 0; seq < 400 && !atomic_load(w->stop); seq++) {
        char form[160], path[96];
        struct th_resp r;
        int rc;

        (void)snprintf(w->pending_name, sizeof(w->pending_name), "k%d-w%d-s%d", w->round, w->idx,
                       seq);
        if (w->n > 0 && (seq % 2 == 1 || w->n == OBJECTS)) { /* rename one of ours */
            w->pending = PUT;
            w->pending_obj = seq % w->n;
            (void)snprintf(path, sizeof(path), CS "/%s", w->id[w->pending_obj]);
            (void)snprintf(form, sizeof(form), "name=%s", w->pending_name);
        } else {
            w->pending = POST;
            (void)snprintf(path, sizeof(path), CS);
            (void)snprintf(form, sizeof(form), "name=%s&uri=%s", w->pending_name, w->pending_name);
        }
        rc = th_http_try(w->d, w->d->ports[0], w->pending == PUT ? "PUT" : "POST", path, "admin",
                         w->d->password, NULL, form, strlen(form), &r);
        if (rc != 0) { /* no answer: the daemon is gone; pending stays as it is */
            th_resp_free(&r);
            break;
        }
        if (r.status == 200)
            atomic_fetch_add(w->acked, 1);
        if (r.status == 200 && w->pending == POST) {
            (void)snprintf(w->id[w->n], sizeof(w->id[0]), "%s", th_location_id(&r));
            (void)snprintf(w->name[w->n++], sizeof(w->name[0]), "%s", w->pending_name);
        } else if (r.status == 200) {
            (void)snprintf(w->name[w->pending_obj], sizeof(w->name[0]), "%s", w->pending_name);
        }
        /* anything else (503 while the write lock is busy) was not committed */
        w->pending = NONE;
        th_resp_free(&r);
    }
    return NULL;
}

START_TEST(test_kill9_during_writes_loses_nothing_acknowledged)
{
    static struct writer w[WRITERS];
    static struct th_daemon d;
    long total = 0;
    unsigned seed = (unsigned)getpid();
    int acked_ops = 0;

    memset(&d, 0, sizeof(d));
    for (int round = 0; round < 20; round++) {
        pthread_t t[WRITERS];
        atomic_bool stop = false;
        atomic_int acked = 0;
        long now, posted = 0, maybe = 0;

        th_daemon_start(&d, "0", NULL);
        for (int i = 0; i < WRITERS; i++) {
            memset(&w[i], 0, sizeof(w[i]));
            w[i] =
                (struct writer){.d = &d, .round = round, .idx = i, .stop = &stop, .acked = &acked};
            ck_assert_int_eq(pthread_create(&t[i], NULL, write_load, &w[i]), 0);
        }
        /* the load runs once every writer's credentials are verified (one at a time,
         * api/http/auth.c: seconds for a daemon under ASan on a busy machine), then for 150 to 400
         * ms */
        for (int i = 0; i < 1000 && atomic_load(&acked) < WRITERS; i++)
            (void)usleep(10 * 1000);
        (void)usleep((useconds_t)(150 + rand_r(&seed) % 250) * 1000);
        th_daemon_kill9(&d); /* mid-request: the writers are never idle */
        atomic_store(&stop, true);
        for (int i = 0; i < WRITERS; i++)
            ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        assert_intact(&d); /* as the crash left it, before a restart recovers anything */

        th_daemon_start(&d, "0", NULL);
        for (int i = 0; i < WRITERS; i++) {
            for (int k = 0; k < w[i].n; k++) {
                char name[64], uri[64];
                bool in_flight = w[i].pending == PUT && w[i].pending_obj == k;

                cospace_field(&d, w[i].id[k], "name", name, sizeof(name));
                ck_assert_msg(strcmp(name, w[i].name[k]) == 0 ||
                                  (in_flight && strcmp(name, w[i].pending_name) == 0),
                              "round %d: coSpace %s is named '%s', acknowledged '%s'", round,
                              w[i].id[k], name, w[i].name[k]);
                cospace_field(&d, w[i].id[k], "uri", uri, sizeof(uri));
                ck_assert_msg(strncmp(uri, "k", 1) == 0 && strstr(uri, "-w"), "uri '%s'", uri);
            }
            posted += w[i].n;
            maybe += w[i].pending == POST;
            acked_ops += w[i].n;
        }
        /* every acknowledged create is there; at most the ones in flight besides */
        now = list_total(&d, CS "?limit=1");
        ck_assert_msg(now >= total + posted && now <= total + posted + maybe,
                      "round %d: %ld coSpaces, expected %ld to %ld", round, now, total + posted,
                      total + posted + maybe);
        total = now;
        ck_assert_int_eq(th_daemon_stop(&d), 0);
    }
    ck_assert_int_gt(acked_ops, 20); /* the load did write */
    fprintf(stderr, "kill -9: 20 rounds, %ld coSpaces kept, %d acknowledged creates checked\n",
            total, acked_ops);
    th_daemon_destroy(&d);
}
END_TEST

/* ---- a disk that fills up ------------------------------------------------------------------ */

/* On PostgreSQL the database is on the server's disk: the data directory's disk filling up
 * (certificate, key, secret.key, logs stay there) takes no write away. */
static void disk_full_on_pg(void)
{
    static struct th_daemon d;
    char path[256], buf[65536];
    struct th_resp r;
    long before;
    int fd;

    memset(&d, 0, sizeof(d));
    d.mount = TH_MOUNT_TMPFS;
    d.tmpfs_size = 4 << 20;
    th_daemon_start(&d, "0", NULL);
    before = list_total(&d, CS "?limit=1");
    (void)snprintf(path, sizeof(path), "%s%s/filler", d.root, d.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    memset(buf, 'x', sizeof(buf));
    errno = 0;
    for (int i = 0; i < 256 && write(fd, buf, sizeof(buf)) >= 0; i++)
        ;
    ck_assert_int_eq(errno, ENOSPC);
    ck_assert_int_eq(close(fd), 0);
    for (int i = 0; i < 50; i++) {
        char form[96];

        (void)snprintf(form, sizeof(form), "name=full-%d&uri=full.%d", i, i);
        th_admin(&d, "POST", CS, form, &r);
        ck_assert_msg(r.status == 200, "write %d on a full data directory: %ld %s", i, r.status,
                      r.body);
        th_resp_free(&r);
    }
    ck_assert_int_eq(list_total(&d, CS "?limit=1"), before + 50);
    ck_assert_uint_eq(th_log_count(&d, "the database cannot be written"), 0);
    assert_intact(&d);
    ck_assert_int_eq(unlink(path), 0);
    th_daemon_destroy(&d);
}

START_TEST(test_disk_full_503_reads_work_then_recovers)
{
    static struct th_daemon d;
    char path[256], buf[65536], id[40];
    struct th_resp r;
    long acked = 0, before;
    bool full = false;
    int fd;

    if (skip_without_mounts())
        return;
    if (th_on_pg()) {
        disk_full_on_pg();
        return;
    }
    memset(&d, 0, sizeof(d));
    d.mount = TH_MOUNT_TMPFS;
    d.tmpfs_size = 4 << 20;
    th_daemon_start(&d, "0", NULL);
    th_admin(&d, "POST", CS, "name=before-full&uri=before.full", &r);
    ck_assert_int_eq(r.status, 200);
    (void)snprintf(id, sizeof(id), "%s", th_location_id(&r));
    th_resp_free(&r);
    before = list_total(&d, CS "?limit=1");

    (void)snprintf(path, sizeof(path), "%s%s/filler", d.root, d.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    memset(buf, 'x', sizeof(buf));
    errno = 0;
    for (int i = 0; i < 256 && write(fd, buf, sizeof(buf)) >= 0; i++) /* the last one is short */
        ;
    ck_assert_int_eq(errno, ENOSPC);
    ck_assert_int_eq(close(fd), 0);

    /* pages SQLite already holds may take a few writes; then every write fails */
    for (int i = 0; i < 200 && !full; i++) {
        char form[96];

        (void)snprintf(form, sizeof(form), "name=full-%d&uri=full.%d", i, i);
        th_admin(&d, "POST", CS, form, &r);
        if (r.status == 200)
            acked++;
        else {
            ck_assert_int_eq(r.status, 503);
            ck_assert_str_eq(r.body, NOT_READY);
            full = true;
        }
        th_resp_free(&r);
    }
    ck_assert_msg(full, "200 writes fitted on a full disk");
    (void)snprintf(buf, sizeof(buf), CS "/%s", id);
    th_admin(&d, "PUT", buf, "name=renamed-on-full-disk", &r);
    ck_assert_int_eq(r.status, 503);
    th_resp_free(&r);
    ck_assert_uint_eq(th_log_count(&d, "the database cannot be written (No space left on device)"),
                      1); /* once, however many writes fail */

    /* reads keep working, and everything acknowledged is there */
    ck_assert_int_eq(list_total(&d, CS "?limit=1"), before + acked);
    cospace_field(&d, id, "uri", buf, sizeof(buf));
    ck_assert_str_eq(buf, "before.full");
    assert_intact(&d);

    ck_assert_int_eq(unlink(path), 0); /* space returns: writes work, no restart */
    th_admin(&d, "POST", CS, "name=after-full&uri=after.full", &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    ck_assert_int_eq(list_total(&d, CS "?limit=1"), before + acked + 1);
    assert_intact(&d);
    fprintf(stderr, "disk full: %ld creates fitted after the disk filled, then 503\n", acked);
    th_daemon_destroy(&d);
}
END_TEST

/* ---- a read-only data directory ------------------------------------------------------------ */

START_TEST(test_read_only_data_dir_serves_reads_503_on_writes)
{
    static struct th_daemon d;
    char path[128], uri[64], id[40];
    struct th_resp r;
    static const char *const writes[][3] = {
        {"POST", CS, "name=ro-new"},
        {"PUT", NULL, "name=renamed"},
        {"DELETE", NULL, NULL},
        {"POST", "/api/v1/turnServers", "serverAddress=ro.example.invalid"},
    };

    if (!th_on_pg() && skip_without_mounts()) /* on PostgreSQL no mount is needed */
        return;
    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", NULL);
    th_admin(&d, "POST", CS, "name=ro-before&uri=ro.before", &r);
    ck_assert_int_eq(r.status, 200);
    (void)snprintf(id, sizeof(id), "%s", th_location_id(&r));
    th_resp_free(&r);
    ck_assert_int_eq(th_daemon_stop(&d), 0);

    /* PostgreSQL: a database that refuses writes (a standby, default_transaction_read_only) */
    if (th_on_pg())
        th_pg_database_read_only(&d, true);
    else
        d.mount = TH_MOUNT_READ_ONLY;
    th_daemon_start(&d, "0", NULL);
    ck_assert_uint_eq(th_log_count(&d, "cannot be written: serving reads"), 1);
    ck_assert_int_eq(list_total(&d, CS), 1);
    cospace_field(&d, id, "uri", uri, sizeof(uri));
    ck_assert_str_eq(uri, "ro.before");
    (void)snprintf(path, sizeof(path), CS "/%s", id);
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        const char *body = writes[i][2];

        th_http(&d, d.ports[0], writes[i][0], writes[i][1] ? writes[i][1] : path, "admin",
                d.password, NULL, body, body ? strlen(body) : 0, &r);
        ck_assert_msg(r.status == 503, "%s: %ld", writes[i][0], r.status);
        ck_assert_str_eq(r.body, NOT_READY);
        th_resp_free(&r);
    }
    ck_assert_uint_eq(th_log_count(&d, "the database cannot be written (Read-only file system)"),
                      1);
    ck_assert_int_eq(th_daemon_stop(&d), 0);

    d.mount = TH_MOUNT_NONE; /* writable again: a restart writes */
    if (th_on_pg())
        th_pg_database_read_only(&d, false);
    th_daemon_start(&d, "0", NULL);
    cospace_field(&d, id, "uri", uri, sizeof(uri));
    ck_assert_str_eq(uri, "ro.before");
    th_admin(&d, "PUT", path, "name=renamed", &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    assert_intact(&d);
    th_daemon_destroy(&d);
}
END_TEST

/* ---- too few file descriptors -------------------------------------------------------------- */

static size_t discard(char *ptr, size_t size, size_t n, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * n;
}

/* GET on a handle kept between calls, so it reuses its connection; the status or 0. */
static long get_on(CURL *c, const struct th_daemon *d)
{
    char url[128], userpwd[128];
    long status = 0;

    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%u" CS, d->ports[0]);
    (void)snprintf(userpwd, sizeof(userpwd), "admin:%s", d->password);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, d->cacert);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static size_t daemon_fds(const struct th_daemon *d)
{
    char path[64];
    size_t n = 0;
    DIR *dir;

    (void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
    dir = opendir(path);
    ck_assert_ptr_nonnull(dir);
    while (readdir(dir))
        n++;
    (void)closedir(dir);
    return n - 2;
}

START_TEST(test_fd_limit_bounds_connections_silent_ones_give_way)
{
    static struct th_daemon d;
    static int held[200];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char *log = NULL, *at;
    size_t len, nheld = 0;
    long limit, peak_fds = 0;
    struct th_resp r;
    CURL *kept = curl_easy_init();
    int rc = 0;

    memset(&d, 0, sizeof(d));
    d.nofile = 128;
    th_daemon_start(&d, "0", NULL);
    ck_assert_int_eq(api_read_file(d.log, 1 << 20, &log, &len), 0);
    at = strstr(log, "(RLIMIT_NOFILE): at most ");
    ck_assert_msg(at, "no connection limit from RLIMIT_NOFILE in %s", d.log);
    limit = strtol(at + strlen("(RLIMIT_NOFILE): at most "), NULL, 10);
    free(log);
    ck_assert(limit > 2 && limit < 128);

    ck_assert_int_eq(get_on(kept, &d), 200); /* a client that keeps its connection */
    sa.sin_port = htons(d.ports[0]);
    for (long i = 0; i < limit + 20; i++) { /* more than the descriptors allow, all silent */
        held[nheld] = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(held[nheld], 0);
        ck_assert_int_eq(connect(held[nheld++], (struct sockaddr *)&sa, sizeof(sa)), 0);
    }
    /* at the limit, the oldest silent connection gives way to each new one (api/http/guard.h) */
    for (int i = 0; i < 100 && !th_log_count(&d, "is closed to admit a new one"); i++)
        (void)usleep(50 * 1000);
    ck_assert_uint_eq(th_log_count(&d, "is closed to admit a new one"), 1);
    peak_fds = (long)daemon_fds(&d);

    /* so a new client is served, within the same descriptors ("Too many open files" below) */
    th_http(&d, d.ports[0], "GET", CS, "admin", d.password, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    ck_assert_int_eq(get_on(kept, &d), 200); /* the one it has is still served */
    ck_assert_uint_eq(th_log_count(&d, "Too many open files"), 0);

    for (size_t i = 0; i < nheld; i++)
        (void)close(held[i]);
    rc = -1;
    for (int i = 0; i < 100 && rc != CURLE_OK; i++) { /* the closes are noticed: it recovers */
        rc = th_http_try(&d, d.ports[0], "GET", CS, "admin", d.password, NULL, NULL, 0, &r);
        ck_assert(rc == CURLE_OK || r.status == 0);
        ck_assert(rc != CURLE_OK || r.status == 200);
        th_resp_free(&r);
        if (rc != CURLE_OK)
            (void)usleep(50 * 1000);
    }
    ck_assert_int_eq(rc, CURLE_OK);
    ck_assert_int_eq(get_on(kept, &d), 200);
    fprintf(stderr, "RLIMIT_NOFILE 128: %ld connections per port, %ld descriptors at the peak\n",
            limit, peak_fds);
    curl_easy_cleanup(kept);
    th_daemon_destroy(&d);
}
END_TEST

/* ---- the leg budget ------------------------------------------------------------------------ */

/* Polls leg until it is no longer connecting (at most 8 s); its relayed address in *ret. */
static void leg_connected(const struct th_daemon *d, const char *leg, struct sockaddr_in *ret)
{
    char body[8192], state[32] = "", addr[64], port[16];

    for (int i = 0; i < 160; i++) {
        ck_assert_int_eq(th_admin_keep(d, "GET", leg, NULL, body, sizeof(body), NULL), 200);
        th_xml_text(body, "state", state, sizeof(state));
        if (strcmp(state, "connecting") != 0)
            break;
        (void)usleep(50 * 1000);
    }
    ck_assert_msg(strcmp(state, "connected") == 0, "%s: %s", leg, body);
    th_xml_text(body, "relayedAddress", addr, sizeof(addr));
    th_xml_text(body, "relayedPortNumber", port, sizeof(port));
    memset(ret, 0, sizeof(*ret));
    ret->sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, addr, &ret->sin_addr), 1);
    ret->sin_port = htons((unsigned short)atoi(port));
}

/* A call on a new coSpace; its path in call_path (128 bytes). */
static void new_call(const struct th_daemon *d, const char *uri, char *call_path)
{
    char form[160], loc[128];

    (void)snprintf(form, sizeof(form), "uri=%s", uri);
    ck_assert_int_eq(th_admin_keep(d, "POST", CS, form, NULL, 0, loc), 200);
    (void)snprintf(form, sizeof(form), "coSpace=%s", strrchr(loc, '/') + 1);
    ck_assert_int_eq(th_admin_keep(d, "POST", "/api/v1/calls", form, NULL, 0, call_path), 200);
}

/* Issue 12, item 4: with RLIMIT_NOFILE 72 the daemon admits the legs its descriptors allow and
 * refuses the next at POST (nodeParticipantLimitReached), so it never runs out: the legs it
 * has keep carrying media, the TURN server it keeps probing (every 2 s) is never reported
 * portUnreachable, and neither EMFILE nor libmicrohttpd's busy waiting shows in the log. On
 * 37c43fb every leg was admitted, up to the point where nothing worked any more. */
START_TEST(test_fd_limit_budgets_legs_and_keeps_calls)
{
    static const char *const args[] = {"--probe-interval", "2", NULL};
    static struct th_daemon d;
    static char legs[24][128];
    struct th_coturn co;
    char why[128], form[200], body[8192], turn[128], call_a[128], call_b[128], path[160];
    const char *at;
    struct sockaddr_in ra, rb;
    unsigned short pa, pb;
    long budget = -1, admitted = 0, status = 200, fds;
    int fa, fb;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&co, NULL);
    memset(&d, 0, sizeof(d));
    d.nofile = 72;
    th_daemon_start(&d, "0", args);
    (void)snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
                   co.port);
    ck_assert_int_eq(th_admin_keep(&d, "POST", "/api/v1/turnServers", form, NULL, 0, turn), 200);
    (void)snprintf(path, sizeof(path), "%s/status", turn);
    ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);

    new_call(&d, "budget.a", call_a);
    new_call(&d, "budget.b", call_b);
    fa = th_udp_endpoint(&pa);
    fb = th_udp_endpoint(&pb);
    for (int i = 0; i < 24 && status == 200; i++) {     /* 2 legs in call a, the rest in call b */
        unsigned port = i == 0 ? pa : i == 1 ? pb : 9u; /* 9: discard; never sends */

        (void)snprintf(form, sizeof(form), "remoteMediaAddress=127.0.0.1:%u", port);
        (void)snprintf(path, sizeof(path), "%s/callLegs", i < 2 ? call_a : call_b);
        status = th_admin_keep(&d, "POST", path, form, body, sizeof(body), legs[i]);
        admitted += status == 200;
    }
    ck_assert_msg(status == 400, "%ld legs admitted with RLIMIT_NOFILE 72, none refused", admitted);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><nodeParticipantLimitReached />"
                           "</failureDetails>");
    ck_assert_uint_eq(th_log_count(&d, "(nodeParticipantLimitReached;"), 1);
    {
        char *log = NULL;
        size_t len;

        ck_assert_int_eq(api_read_file(d.log, 1 << 20, &log, &len), 0);
        at = strstr(log, "call legs with media at once"); /* "... at most N call legs ..." */
        if (at) {
            const char *line = at, *n;

            while (line > log && line[-1] != '\n')
                line--;
            n = strstr(line, "at most ");
            budget = n && n < at ? strtol(n + 8, NULL, 10) : -1;
        }
        free(log);
    }
    ck_assert_int_eq(admitted, budget); /* exactly what the log announced */
    ck_assert_int_ge(budget, 2);
    {
        static char metrics[65536];

        ck_assert_int_eq(th_admin_keep(&d, "GET", "/metrics", NULL, metrics, sizeof(metrics), NULL),
                         200);
        ck_assert(th_metric(metrics, "callbridge_call_legs_media_budget ", NULL) == budget);
        ck_assert(th_metric(metrics, "callbridge_call_legs_media_active ", NULL) == budget);
        ck_assert(th_metric(metrics, "callbridge_call_legs_refused_total",
                            "nodeParticipantLimitReached") == 1);
    }

    leg_connected(&d, legs[0], &ra); /* the call that has its legs carries media */
    leg_connected(&d, legs[1], &rb);
    for (long i = 2; i < admitted; i++) {
        struct sockaddr_in ignored;

        leg_connected(&d, legs[i], &ignored);
    }
    (void)usleep(2500 * 1000); /* a probe cycle or two while every leg holds its socket */
    fds = (long)daemon_fds(&d);
    ck_assert_int_lt(fds, 72);
    for (int i = 0; i < 20; i++) {
        uint8_t pkt[172] = {0x80, 0, 0, (uint8_t)i};

        ck_assert_int_eq(sendto(fa, pkt, sizeof(pkt), 0, (struct sockaddr *)&ra, sizeof(ra)), 172);
    }
    for (int i = 0; i < 20; i++) {
        struct pollfd pfd = {fb, POLLIN, 0};
        uint8_t got[256];

        ck_assert_msg(poll(&pfd, 1, 5000) == 1, "packet %d missing", i);
        ck_assert_int_eq(recv(fb, got, sizeof(got), 0), 172);
        ck_assert_uint_eq(got[3], (uint8_t)i);
    }
    (void)snprintf(path, sizeof(path), "%s/status", turn);
    ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
    ck_assert_uint_eq(th_log_count(&d, "portUnreachable"), 0);
    ck_assert_uint_eq(th_log_count(&d, "localResourceLimit"), 0);
    ck_assert_uint_eq(th_log_count(&d, "Too many open files"), 0);
    ck_assert_uint_eq(th_log_count(&d, "Hit process or system resource limit"), 0);

    ck_assert_int_eq(th_admin_keep(&d, "DELETE", legs[admitted - 1], NULL, NULL, 0, NULL), 200);
    (void)snprintf(path, sizeof(path), "%s/callLegs", call_b); /* a place freed is taken */
    ck_assert_int_eq(
        th_admin_keep(&d, "POST", path, "remoteMediaAddress=127.0.0.1:9", NULL, 0, NULL), 200);
    fprintf(stderr,
            "RLIMIT_NOFILE 72: %ld call legs with media admitted, the next refused; %ld "
            "descriptors open with every leg anchored\n",
            budget, fds);
    close(fa);
    close(fb);
    th_daemon_destroy(&d);
    th_coturn_stop(&co);
}
END_TEST

/* ---- slow clients --------------------------------------------------------------------------- */

/* A TCP connection from 'source' that sends the first bytes of a TLS record and no more. */
static int slow_client(const char *source, unsigned short port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct sockaddr_in src = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(inet_pton(AF_INET, source, &src.sin_addr), 1);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(send(fd, "\x16\x03", 2, MSG_NOSIGNAL), 2);
    return fd;
}

/* True when the daemon has closed fd (end of file or reset, after a TLS alert perhaps)
 * within about 'ms'. */
static bool closed_within(int fd, int ms)
{
    for (int i = 0; i < ms / 100; i++) {
        struct pollfd pfd = {fd, POLLIN, 0};
        char buf[64];

        if (poll(&pfd, 1, 100) == 1 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
            return true;
    }
    return false;
}

/* A TCP port that accepts connections and never answers; its descriptor. */
static int silent_tcp(unsigned short *ret_port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 64), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *ret_port = ntohs(a.sin_port);
    return fd;
}

/* Issue 12: with RLIMIT_NOFILE 72 the prober's share is 16 sockets, and the daemon hands that
 * cap to the prober. 10 TURN servers that never answer (UDP and a TCP override: 20 probes that
 * each hold a socket for the 5 s budget, every 2 s) never make it hold more than 16 at once,
 * and a coturn configured last is still found reachable once the queue reaches it. On
 * 37c43fb the prober had no cap (and /metrics no prober series): 20 sockets at once. */
START_TEST(test_fd_limit_caps_the_prober)
{
    static const char *const args[] = {"--probe-interval", "2", NULL};
    static struct th_daemon d;
    static char metrics[65536];
    struct th_coturn co;
    char why[128], form[200], body[8192], turn[128], path[160];
    unsigned short up, tp;
    long most_fds = 0;
    double max, peak;
    int uf, tf;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&co, NULL);
    uf = th_udp_endpoint(&up);
    tf = silent_tcp(&tp);
    memset(&d, 0, sizeof(d));
    d.nofile = 72;
    th_daemon_start(&d, "0", args);
    ck_assert_uint_eq(th_log_count(&d, "the TURN prober holds at most 16 sockets at once"), 1);
    for (int i = 0; i < 10; i++) {
        (void)snprintf(form, sizeof(form),
                       "serverAddress=127.0.0.1:%u&tcpPortNumberOverride=%u&username=alice&"
                       "password=secret",
                       up, tp);
        ck_assert_int_eq(th_admin_keep(&d, "POST", "/api/v1/turnServers", form, NULL, 0, NULL),
                         200);
    }
    (void)snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
                   co.port);
    ck_assert_int_eq(th_admin_keep(&d, "POST", "/api/v1/turnServers", form, NULL, 0, turn), 200);
    for (int i = 0; i < 120; i++) { /* 6 s: the silent probes overlap (5 s each, every 2 s) */
        long fds = (long)daemon_fds(&d);

        most_fds = fds > most_fds ? fds : most_fds;
        (void)usleep(50 * 1000);
    }
    ck_assert_int_eq(th_admin_keep(&d, "GET", "/metrics", NULL, metrics, sizeof(metrics), NULL),
                     200);
    max = th_metric(metrics, "callbridge_turn_prober_sockets_max ", NULL);
    peak = th_metric(metrics, "callbridge_turn_prober_sockets_peak ", NULL);
    fprintf(stderr, "prober sockets: peak %.0f, cap %.0f; daemon descriptors at most %ld of 72\n",
            peak, max, most_fds);
    ck_assert_msg(max == 16, "callbridge_turn_prober_sockets_max %.0f, not 16", max);
    ck_assert_msg(peak >= 1 && peak <= 16, "the prober held %.0f sockets at once, its share is 16",
                  peak);
    ck_assert_int_lt(most_fds, 72);
    (void)snprintf(path, sizeof(path), "%s/status", turn);
    for (int i = 0; i < 20; i++) { /* each GET waits for a result, 8 s at most */
        ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, body, sizeof(body), NULL), 200);
        if (strstr(body, "<status>success</status>"))
            break;
    }
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
    ck_assert_uint_eq(th_log_count(&d, "localResourceLimit"), 0);
    ck_assert_uint_eq(th_log_count(&d, "Too many open files"), 0);
    th_daemon_destroy(&d);
    th_coturn_stop(&co);
    (void)close(uf);
    (void)close(tf);
}
END_TEST

START_TEST(test_slow_clients_cannot_take_every_connection)
{
    static const char *const args[] = {"--per-ip-connection-limit", "8", "--connection-timeout",
                                       "2", NULL};
    static struct th_daemon d;
    struct th_resp r;
    int slow[8], rc;

    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", args);
    for (int i = 0; i < 8; i++) /* every connection 127.0.0.3 may have, each stalled */
        slow[i] = slow_client("127.0.0.3", d.ports[0]);
    (void)usleep(200 * 1000);

    th_admin(&d, "GET", CS, NULL, &r); /* another address is served meanwhile */
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    th_http_source = "127.0.0.3"; /* a ninth from the slow address is refused, not queued */
    rc = th_http_try(&d, d.ports[0], "GET", CS, "admin", d.password, NULL, NULL, 0, &r);
    th_http_source = NULL;
    th_resp_free(&r);
    ck_assert_msg(rc != CURLE_OK && rc != CURLE_OPERATION_TIMEDOUT, "curl %d", rc);

    for (int i = 0; i < 8; i++) /* idle past --connection-timeout: closed by the daemon */
        ck_assert_msg(closed_within(slow[i], 10000), "slow connection %d still open", i);
    th_http_source = "127.0.0.3";
    th_http(&d, d.ports[0], "GET", CS, "admin", d.password, NULL, NULL, 0, &r);
    th_http_source = NULL;
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    for (int i = 0; i < 8; i++)
        (void)close(slow[i]);
    th_daemon_destroy(&d);
}
END_TEST

Suite *it_faults_suite(void)
{
    Suite *s = suite_create("it_faults");
    TCase *tc = tcase_create("faults");
    TCase *root = tcase_create("root"); /* a daemon in a mount namespace of its own */

    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_fd_limit_bounds_connections_silent_ones_give_way);
    tcase_add_test(tc, test_fd_limit_budgets_legs_and_keeps_calls);
    tcase_add_test(tc, test_fd_limit_caps_the_prober);
    tcase_add_test(tc, test_slow_clients_cannot_take_every_connection);
    tcase_add_test(tc, test_kill9_during_writes_loses_nothing_acknowledged);
    suite_add_tcase(s, tc);
    tcase_set_tags(root, "net root");
    tcase_set_timeout(root, 300);
    tcase_add_test(root, test_disk_full_503_reads_work_then_recovers);
    tcase_add_test(root, test_read_only_data_dir_serves_reads_503_on_writes);
    suite_add_tcase(s, root);
    return s;
}
