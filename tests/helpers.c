/* tests/helpers.c: see helpers.h. Every daemon a test starts gets a kernel-chosen port
 * (--listen 0, read back from its log) and is stopped by its PID. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/ssl.h>

#include "api/res/cache.h"
#include "api/res/routes.h"
#include "api/util.h"
#include "store/db.h"
#include "tests/helpers.h"
#include "tests/pg_server.h"

#define ADMIN_PASSWORD "Adm1n-pass-for-tests"

void th_tmpdir(char out[64])
{
    const char *base = getenv("TMPDIR");

    (void)snprintf(out, 64, "%s/cbtest.XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(out));
}

void th_rmdir(const char *dir)
{
    if (dir && dir[0])
        th_rmtree(dir); /* tests/pg_server.c: depth first, links removed, not followed */
}

void th_ctx_open(struct th_ctx *c)
{
    char path[128];

    memset(c, 0, sizeof(*c));
    th_tmpdir(c->dir);
    (void)snprintf(path, sizeof(path), "%s/callbridge.db", c->dir);
    ck_assert_int_eq(store_open(path, &c->st), 0);
    (void)snprintf(path, sizeof(path), "%s/secret.key", c->dir);
    ck_assert_int_eq(api_secret_create(path, &c->api.secret), 0);
    c->api.started_us = api_now_us();
    ck_assert_int_eq(api_cache_new(&c->api.cache), 0);
}

void th_ctx_close(struct th_ctx *c)
{
    store_close(c->st);
    c->st = NULL;
    api_cache_free(c->api.cache);
    c->api.cache = NULL;
    th_rmdir(c->dir);
}

void th_route(struct th_ctx *c, enum api_method m, const char *path, const char *query,
              const char *body, struct api_reply *reply)
{
    struct api_params q = {0}, f = {0};
    struct api_request req = {.method = m, .path = path, .query = &q, .form = &f, .user = "t"};

    if (query)
        ck_assert_int_eq(api_params_parse(&q, query, strlen(query)), 0);
    if (body)
        ck_assert_int_eq(api_params_parse(&f, body, strlen(body)), 0);
    memset(reply, 0, sizeof(*reply));
    api_route(&c->api, c->st, &req, reply);
    api_params_done(&q);
    api_params_done(&f);
}

const char *th_daemon_path(void)
{
    const char *p = getenv("CALLBRIDGED");

    return p && *p ? p : "build/rel/callbridged";
}

/* Reads the ports from "listening on https://127.0.0.1:PORT" lines; returns how many. */
static int read_ports(struct th_daemon *d, bool *ready)
{
    char *log = NULL, *p;
    size_t len;
    int n = 0;

    *ready = false;
    if (api_read_file(d->log, 1 << 20, &log, &len) < 0)
        return 0;
    for (p = log; n < 2 && (p = strstr(p, "listening on https://127.0.0.1:")); n++) {
        p += strlen("listening on https://127.0.0.1:");
        d->ports[n] = (unsigned short)atoi(p);
    }
    *ready = strstr(log, " ready (") != NULL;
    free(log);
    return n;
}

/* In the forked child: a mount namespace of its own, and d->dir as d->mount asks. */
static int mount_data_dir(const struct th_daemon *d)
{
    char opts[64];

    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -1;
    if (d->mount == TH_MOUNT_TMPFS) {
        (void)snprintf(opts, sizeof(opts), "size=%zu,mode=0700", d->tmpfs_size);
        return mount("tmpfs", d->dir, "tmpfs", MS_NOSUID | MS_NODEV, opts);
    }
    if (mount(d->dir, d->dir, NULL, MS_BIND, NULL) < 0)
        return -1;
    return mount(NULL, d->dir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
}

bool th_mount_ns_available(char *why, size_t cap)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0
                  ? 0
                  : 1);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return true;
    (void)snprintf(why, cap, "no mount namespace for a test daemon (needs root or CAP_SYS_ADMIN)");
    return false;
}

void th_daemon_kill9(struct th_daemon *d)
{
    int status;

    if (d->pid <= 0)
        return;
    (void)kill(d->pid, SIGKILL);
    (void)waitpid(d->pid, &status, 0);
    d->pid = 0;
}

int th_pg_database_url(const char *url, const char *name, char *out, size_t cap)
{
    const char *scheme = strstr(url, "://");
    const char *path, *query;
    int n;

    if (!scheme)
        return -EINVAL;
    path = scheme + 3 + strcspn(scheme + 3, "/?");
    query = strchr(path, '?');
    n = snprintf(out, cap, "%.*s/%s%s", (int)(path - url), url, name, query ? query : "");
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

bool th_on_pg(void)
{
    const char *admin = getenv("CB_TEST_PG");

    return admin && *admin;
}

/* Runs one command on the server CB_TEST_PG names, through the store's own driver. */
static void pg_admin_exec(const char *admin, const char *sql)
{
    struct db *db = NULL;
    int r = db_open(admin, &db);

    ck_assert_msg(r == 0, "CB_TEST_PG=%s: cannot connect (%s%s)", admin, strerror(-r),
                  r == -EPROTONOSUPPORT ? ": this build has no PostgreSQL driver" : "");
    r = db_exec(db, sql);
    db_close(db);
    ck_assert_msg(r == 0, "CB_TEST_PG: %s: %s", sql, strerror(-r));
}

/* With CB_TEST_PG: a new database for d, at its first start. */
static void pg_database_make(struct th_daemon *d)
{
    static unsigned count;
    const char *admin = getenv("CB_TEST_PG");
    char sql[96];

    if (!admin || !*admin || d->database[0])
        return;
    (void)snprintf(d->dbname, sizeof(d->dbname), "cbtest_%d_%u", (int)getpid(), count++);
    ck_assert_int_eq(th_pg_database_url(admin, d->dbname, d->database, sizeof(d->database)), 0);
    (void)snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->dbname);
    pg_admin_exec(admin, sql);
    (void)snprintf(sql, sizeof(sql), "CREATE DATABASE %s", d->dbname);
    pg_admin_exec(admin, sql);
}

static void pg_database_drop(struct th_daemon *d)
{
    const char *admin = getenv("CB_TEST_PG");
    char sql[96];

    if (!admin || !*admin || !d->dbname[0])
        return;
    (void)snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->dbname);
    pg_admin_exec(admin, sql);
    d->database[0] = d->dbname[0] = '\0';
}

void th_daemon_start(struct th_daemon *d, const char *listen, const char *const *extra_args)
{
    const char *argv[32] = {"callbridged", "--data-dir", NULL,        "--bind", "127.0.0.1",
                            "--listen",    listen,       "--threads", "2"};
    size_t argc = 9;
    bool ready = false, named = false;
    char node_name[80];

    if (!d->dir[0])
        th_tmpdir(d->dir);
    d->ports[0] = d->ports[1] = 0;
    argv[2] = d->dir;
    pg_database_make(d);
    if (d->database[0]) {
        argv[argc++] = "--database";
        argv[argc++] = d->database;
    }
    for (size_t i = 0; extra_args && extra_args[i] && argc < 28; i++) {
        named = named || strcmp(extra_args[i], "--node-name") == 0;
        argv[argc++] = extra_args[i];
    }
    if (!named) { /* two test daemons on one database are two nodes: each its own name */
        const char *base = strrchr(d->dir, '/');

        (void)snprintf(node_name, sizeof(node_name), "cbtest-%s", base ? base + 1 : d->dir);
        argv[argc++] = "--node-name";
        argv[argc++] = node_name;
    }
    argv[argc] = NULL;
    (void)snprintf(d->log, sizeof(d->log), "%s/daemon.log", d->dir);
    (void)snprintf(d->cacert, sizeof(d->cacert), "%s/cert.pem", d->dir);
    if (!d->random_admin)
        (void)snprintf(d->password, sizeof(d->password), "%s", ADMIN_PASSWORD);
    { /* a restart gets a log of its own; the previous one is kept as daemon.log.prev */
        char prev[160];

        (void)snprintf(prev, sizeof(prev), "%s.prev", d->log);
        (void)rename(d->log, prev);
    }
    d->pid = fork();
    ck_assert_int_ge(d->pid, 0);
    if (d->pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        if (d->mount != TH_MOUNT_NONE && mount_data_dir(d) < 0) {
            (void)dprintf(fd, "test: cannot mount the data directory: %s\n", strerror(errno));
            _exit(126);
        }
        if (d->nofile) {
            struct rlimit rl = {d->nofile, d->nofile};

            (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (d->random_admin)
            (void)unsetenv("CALLBRIDGE_ADMIN_PASSWORD");
        else
            (void)setenv("CALLBRIDGE_ADMIN_PASSWORD", ADMIN_PASSWORD, 1);
        if (d->wrapper) {
            const char *wrapped[48];
            size_t n = 0;

            for (; n < 16 && d->wrapper[n]; n++)
                wrapped[n] = d->wrapper[n];
            wrapped[n++] = th_daemon_path();
            for (size_t i = 1; argv[i]; i++)
                wrapped[n++] = argv[i];
            wrapped[n] = NULL;
            execvp(wrapped[0], (char *const *)(uintptr_t)wrapped);
            _exit(127);
        }
        execv(th_daemon_path(), (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    d->root[0] = '\0';
    if (d->mount != TH_MOUNT_NONE) {
        (void)snprintf(d->root, sizeof(d->root), "/proc/%d/root", (int)d->pid);
        (void)snprintf(d->cacert, sizeof(d->cacert), "%s%s/cert.pem", d->root, d->dir);
    }
    /* at most 30 s, for slow sanitizer builds; polled every 10 ms (a rel daemon is ready in
     * about 20 ms, and checked daemons start dozens of times a run) */
    for (int i = 0; i < 3000 && !ready; i++) {
        int status;

        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            char *log = NULL;
            size_t len = 0;

            (void)api_read_file(d->log, 1 << 20, &log, &len);
            ck_abort_msg("callbridged exited during start-up (status %d); %s ends: %s", status,
                         d->log,
                         log && len > 400 ? log + len - 400
                         : log            ? log
                                          : "");
        }
        (void)read_ports(d, &ready);
        if (!ready)
            (void)usleep(10 * 1000);
    }
    ck_assert_msg(ready, "callbridged did not become ready; see %s", d->log);
}

int th_daemon_stop(struct th_daemon *d)
{
    int status = 0;

    if (d->pid <= 0)
        return -1;
    (void)kill(d->pid, SIGTERM);
    for (int i = 0; i < 1500; i++) { /* at most 15 s; a daemon exits in a few ms */
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        (void)usleep(10 * 1000);
    }
    (void)kill(d->pid, SIGKILL);
    (void)waitpid(d->pid, &status, 0);
    d->pid = 0;
    return -1;
}

void th_daemon_destroy(struct th_daemon *d)
{
    (void)th_daemon_stop(d);
    th_rmdir(d->dir);
    pg_database_drop(d); /* last: it stops the test if the server is gone */
}

void th_pg_admin_sql(const char *sql)
{
    ck_assert_msg(th_on_pg(), "th_pg_admin_sql without CB_TEST_PG");
    pg_admin_exec(getenv("CB_TEST_PG"), sql);
}

void th_pg_database_read_only(const struct th_daemon *d, bool on)
{
    char sql[128];

    ck_assert_msg(d->dbname[0], "th_pg_database_read_only: the daemon has no database yet");
    (void)snprintf(sql, sizeof(sql), "ALTER DATABASE %s %s", d->dbname,
                   on ? "SET default_transaction_read_only = on"
                      : "RESET default_transaction_read_only");
    th_pg_admin_sql(sql);
}

int th_daemon_cli(const struct th_daemon *d, const char *const *args, const char *input, char *out,
                  size_t cap)
{
    const char *argv[24] = {"--data-dir", d->dir};
    size_t n = 2;

    if (d->database[0]) {
        argv[n++] = "--database";
        argv[n++] = d->database;
    }
    for (size_t i = 0; args[i] && n < 14; i++) /* th_run_cli takes 15 */
        argv[n++] = args[i];
    argv[n] = NULL;
    return th_run_cli(argv, input, out, cap);
}

int th_daemon_sql(const struct th_daemon *d, const char *sql, int64_t *ret)
{
    char path[128];
    struct db *db = NULL;
    struct db_stmt *st;
    int r;

    if (ret)
        *ret = 0;
    (void)snprintf(path, sizeof(path), "%s/callbridge.db", d->dir);
    r = db_open(d->database[0] ? d->database : path, &db);
    if (r < 0)
        return r;
    st = db_stmt_sql(db, sql, &r);
    if (st) {
        r = db_step(st);
        if (r == DB_ROW && ret)
            *ret = db_column_int64(st, 0);
        r = r < 0 ? r : 0;
        db_stmt_done(st);
    }
    db_close(db);
    return r;
}

size_t th_log_count(const struct th_daemon *d, const char *needle)
{
    char *log = NULL;
    size_t len, n = 0;

    if (api_read_file(d->log, 16 << 20, &log, &len) < 0)
        return 0;
    for (const char *p = log; (p = memmem(p, len - (size_t)(p - log), needle, strlen(needle))); p++)
        n++;
    free(log);
    return n;
}

/* Reads fd into buf (cap bytes, NUL-terminated); false at end of file or after an error. */
static bool drain(int fd, char *buf, size_t cap, size_t *n)
{
    ssize_t r = read(fd, buf + *n, cap - 1 - *n);

    if (r <= 0 || *n + (size_t)r >= cap - 1) {
        if (r > 0)
            *n += (size_t)r;
        return false;
    }
    *n += (size_t)r;
    return true;
}

int th_run(const char *path, const char *const *argv, const char *const *env, const char *input,
           char *out, size_t cap, char *err, size_t ecap)
{
    int in[2], po[2], pe[2] = {-1, -1}, status = 0;
    size_t no = 0, ne = 0;
    pid_t pid;

    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(po), 0);
    if (err)
        ck_assert_int_eq(pipe(pe), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        (void)dup2(in[0], STDIN_FILENO);
        (void)dup2(po[1], STDOUT_FILENO);
        (void)dup2(err ? pe[1] : po[1], STDERR_FILENO);
        close(in[1]);
        close(po[0]);
        if (err)
            close(pe[0]);
        for (size_t i = 0; env && env[i]; i++) {
            char name[128];
            const char *eq = strchr(env[i], '=');

            snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - env[i]) : 0, env[i]);
            if (eq && eq[1])
                (void)setenv(name, eq + 1, 1);
            else
                (void)unsetenv(eq ? name : env[i]);
        }
        execv(path, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(in[0]);
    close(po[1]);
    if (err)
        close(pe[1]);
    if (input)
        (void)!write(in[1], input, strlen(input));
    close(in[1]);
    while (po[0] >= 0 || pe[0] >= 0) { /* bounded: 20 s without output ends it */
        struct pollfd p[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};

        if (poll(p, 2, 20000) <= 0)
            break;
        if (p[0].revents && !drain(po[0], out, cap, &no)) {
            close(po[0]);
            po[0] = -1;
        }
        if (p[1].revents && !drain(pe[0], err, ecap, &ne)) {
            close(pe[0]);
            pe[0] = -1;
        }
    }
    if (po[0] >= 0)
        close(po[0]);
    if (pe[0] >= 0)
        close(pe[0]);
    out[no] = '\0';
    if (err)
        err[ne] = '\0';
    (void)waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int th_run_cli(const char *const *args, const char *input, char *out, size_t cap)
{
    const char *argv[16] = {"callbridged"};
    size_t argc = 1;

    for (; args[argc - 1] && argc < 15; argc++)
        argv[argc] = args[argc - 1];
    argv[argc] = NULL;
    return th_run(th_daemon_path(), argv, NULL, input, out, cap, NULL, 0);
}

struct body_buf {
    char *data;
    size_t len;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body_buf *b = userdata;
    size_t n = size * nmemb;
    char *p = realloc(b->data, b->len + n + 1);

    if (!p)
        return 0;
    memcpy(p + b->len, ptr, n);
    b->len += n;
    p[b->len] = '\0';
    b->data = p;
    return n;
}

const char *th_http_source;

static void keep_header(const char *line, size_t n, const char *name, char *dst, size_t cap)
{
    size_t k = strlen(name), len;

    if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return;
    line += k + 1;
    n -= k + 1;
    while (n > 0 && *line == ' ') {
        line++;
        n--;
    }
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    len = n < cap - 1 ? n : cap - 1;
    memcpy(dst, line, len);
    dst[len] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    struct th_resp *r = userdata;
    size_t n = size * nmemb;

    keep_header(line, n, "Location", r->location, sizeof(r->location));
    keep_header(line, n, "Allow", r->allow, sizeof(r->allow));
    keep_header(line, n, "WWW-Authenticate", r->www_auth, sizeof(r->www_auth));
    keep_header(line, n, "Content-Type", r->content_type, sizeof(r->content_type));
    keep_header(line, n, "X-Request-Id", r->request_id, sizeof(r->request_id));
    keep_header(line, n, "Retry-After", r->retry_after, sizeof(r->retry_after));
    return n;
}

void th_http(const struct th_daemon *d, unsigned short port, const char *method, const char *path,
             const char *user, const char *pass, const char *const *headers, const char *body,
             size_t body_len, struct th_resp *resp)
{
    int rc = th_http_try(d, port, method, path, user, pass, headers, body, body_len, resp);

    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
}

int th_http_try(const struct th_daemon *d, unsigned short port, const char *method,
                const char *path, const char *user, const char *pass, const char *const *headers,
                const char *body, size_t body_len, struct th_resp *resp)
{
    struct curl_slist *hl = NULL;
    struct body_buf b = {0};
    size_t url_len = strlen(path) + 32;
    char *url = malloc(url_len), userpwd[256];
    CURL *c = curl_easy_init();
    CURLcode rc;

    memset(resp, 0, sizeof(*resp));
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(url);
    (void)snprintf(url, url_len, "https://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, d->cacert);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (user) {
        (void)snprintf(userpwd, sizeof(userpwd), "%s:%s", user, pass);
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    }
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (th_http_source)
        curl_easy_setopt(c, CURLOPT_INTERFACE, th_http_source);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->body = b.data ? b.data : strdup("");
    resp->len = b.len;
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    free(url);
    return (int)rc;
}

void th_resp_free(struct th_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
}

void th_admin(const struct th_daemon *d, const char *method, const char *path, const char *body,
              struct th_resp *resp)
{
    th_http(d, d->ports[0], method, path, "admin", d->password, NULL, body, body ? strlen(body) : 0,
            resp);
}

/* The value of the first series in a Prometheus text body whose line starts with 'series' and
 * also contains 'and' (may be NULL); -1 when there is none. */
double th_metric(const char *body, const char *series, const char *and)
{
    for (const char *line = body; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char buf[1024];

        if (n < sizeof(buf)) {
            memcpy(buf, line, n);
            buf[n] = '\0';
            if (strncmp(buf, series, strlen(series)) == 0 && (!and || strstr(buf, and)))
                return strtod(strrchr(buf, ' ') + 1, NULL);
        }
        line = end ? end + 1 : NULL;
    }
    return -1;
}

long th_admin_keep(const struct th_daemon *d, const char *method, const char *path,
                   const char *form, char *out, size_t cap, char *loc)
{
    struct th_resp r;
    long status;

    th_admin(d, method, path, form, &r);
    status = r.status;
    if (out)
        (void)snprintf(out, cap, "%s", r.body ? r.body : "");
    if (loc)
        (void)snprintf(loc, 128, "%.127s", r.location);
    th_resp_free(&r);
    return status;
}

int th_udp_endpoint(unsigned short *ret_port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *ret_port = ntohs(sin.sin_port);
    return fd;
}

void th_leg_wait_connected(const struct th_daemon *d, const char *leg, struct sockaddr_in *ret)
{
    char body[8192], state[32], addr[64], port[16];

    for (int i = 0; i < 160; i++) {
        ck_assert_int_eq(th_admin_keep(d, "GET", leg, NULL, body, sizeof(body), NULL), 200);
        th_xml_text(body, "state", state, sizeof(state));
        if (strcmp(state, "connecting") != 0)
            break;
        usleep(50 * 1000);
    }
    ck_assert_msg(strcmp(state, "connected") == 0, "%s: %s", leg, body);
    th_xml_text(body, "relayedAddress", addr, sizeof(addr));
    th_xml_text(body, "relayedPortNumber", port, sizeof(port));
    memset(ret, 0, sizeof(*ret));
    ret->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &ret->sin_addr);
    ret->sin_port = htons((unsigned short)atoi(port));
}

const char *th_api_v1(const struct th_daemon *d, const char *method, const char *path,
                      const char *form, long want, char *body, size_t cap)
{
    static char id[40];
    char full[256];
    struct th_resp r;

    snprintf(full, sizeof(full), "/api/v1/%s", path);
    th_admin(d, method, full, form, &r);
    snprintf(body, cap, "%s", r.body ? r.body : "");
    snprintf(id, sizeof(id), "%s", r.location[0] ? th_location_id(&r) : "");
    ck_assert_msg(r.status == want, "%s %s %s: %ld %s", method, path, form ? form : "", r.status,
                  body);
    th_resp_free(&r);
    return id;
}

void th_media_leg(const struct th_daemon *d, const char *call, unsigned short port, char *leg,
                  struct sockaddr_in *ra)
{
    char path[192], form[160];

    snprintf(path, sizeof(path), "%s/callLegs", call);
    snprintf(form, sizeof(form), "remoteParty=p%u&remoteMediaAddress=127.0.0.1:%u", port, port);
    ck_assert_int_eq(th_admin_keep(d, "POST", path, form, NULL, 0, leg), 200);
    th_leg_wait_connected(d, leg, ra);
}

int th_relay_count(int fd, const struct sockaddr_in *ra, int rx, uint8_t pt, int n, int wait_ms)
{
    struct pollfd pfd = {rx, POLLIN, 0};
    int got = 0;

    for (int i = 0; i < n; i++) {
        uint8_t pkt[60] = {0x80, pt, (uint8_t)(i >> 8), (uint8_t)i};

        ck_assert_int_eq(sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)ra, sizeof(*ra)),
                         60);
    }
    while (got < n && poll(&pfd, 1, wait_ms) == 1) {
        uint8_t buf[256];

        if (recv(rx, buf, sizeof(buf), 0) == 60)
            got++;
    }
    return got;
}

void th_tls_open(struct th_tls *t, unsigned short port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

    t->ctx = SSL_CTX_new(TLS_client_method());
    ck_assert_ptr_nonnull(t->ctx);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(t->fd, 0);
    ck_assert_int_eq(connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    t->ssl = SSL_new(t->ctx);
    ck_assert_ptr_nonnull(t->ssl);
    SSL_set_fd(t->ssl, t->fd);
    ck_assert_int_eq(SSL_connect(t->ssl), 1);
}

void th_tls_close(struct th_tls *t)
{
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    close(t->fd);
}

void th_xml_text(const char *body, const char *name, char *out, size_t cap)
{
    char open[64];
    const char *p, *e;

    snprintf(open, sizeof(open), "<%s>", name);
    p = strstr(body, open);
    e = p ? strchr(p + strlen(open), '<') : NULL;
    snprintf(out, cap, "%.*s", p && e ? (int)(e - p - strlen(open)) : 0, p ? p + strlen(open) : "");
}

const char *th_location_id(const struct th_resp *resp)
{
    const char *slash = strrchr(resp->location, '/');

    return slash ? slash + 1 : "";
}

/* ---- coturn ------------------------------------------------------------------------------- */

static int bind_probe(int type, unsigned short port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, type, 0), r;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
    if (r == 0 && port == 0) {
        socklen_t len = sizeof(sin);

        (void)getsockname(fd, (struct sockaddr *)&sin, &len);
        r = ntohs(sin.sin_port);
    } else if (r < 0) {
        r = -errno;
    }
    close(fd);
    return r;
}

unsigned short th_free_port(void)
{
    for (int i = 0; i < 50; i++) {
        int port = bind_probe(SOCK_DGRAM, 0);

        if (port > 0 && bind_probe(SOCK_STREAM, (unsigned short)port) == 0)
            return (unsigned short)port;
    }
    ck_abort_msg("no free port");
    return 0;
}

bool th_coturn_available(char *why, size_t cap)
{
    if (access("/usr/bin/turnserver", X_OK) == 0)
        return true;
    (void)snprintf(why, cap, "turnserver (Debian package coturn) is not installed");
    return false;
}

void th_coturn_start(struct th_coturn *c, const char *const *extra_args)
{
    static unsigned instance;
    char port[16], minp[32], maxp[32], log[128];
    const char *argv[48] = {"turnserver",
                            "-n",
                            "--listening-ip=127.0.0.1",
                            "--relay-ip=127.0.0.1",
                            "--listening-port",
                            port,
                            minp,
                            maxp,
                            "--realm=test.local",
                            "--no-tls",
                            "--no-dtls",
                            "--no-cli",
                            "--allow-loopback-peers",
                            "--log-file",
                            log,
                            "--simple-log",
                            "--pidfile=/dev/null",
                            "--no-stdout-log"};
    size_t argc = 18;
    bool custom_auth = false;

    memset(c, 0, sizeof(*c));
    th_tmpdir(c->dir);
    c->port = th_free_port();
    /* a relay range of 40 ports per instance, spread by pid, inside 50000-64999 */
    c->min_port = 50000 + (unsigned)((getpid() * 7 + (int)instance++ * 40) % 14960);
    c->max_port = c->min_port + 39;
    (void)snprintf(port, sizeof(port), "%u", c->port);
    (void)snprintf(minp, sizeof(minp), "--min-port=%u", c->min_port);
    (void)snprintf(maxp, sizeof(maxp), "--max-port=%u", c->max_port);
    (void)snprintf(log, sizeof(log), "%s/turnserver.log", c->dir);
    for (size_t i = 0; extra_args && extra_args[i] && argc < 44; i++) {
        custom_auth |= strncmp(extra_args[i], "--use-auth-secret", 17) == 0 ||
                       strncmp(extra_args[i], "--no-auth", 9) == 0 ||
                       strncmp(extra_args[i], "--lt-cred-mech", 14) == 0;
        argv[argc++] = extra_args[i];
    }
    if (!custom_auth) {
        argv[argc++] = "--lt-cred-mech";
        argv[argc++] = "--user=alice:secret";
    }
    argv[argc] = NULL;
    c->pid = fork();
    ck_assert_int_ge(c->pid, 0);
    if (c->pid == 0) {
        int fd = open("/dev/null", O_RDWR);

        (void)dup2(fd, STDIN_FILENO);
        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        execv("/usr/bin/turnserver", (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) { /* at most 10 s: ready once its UDP port is taken */
        int status;

        if (waitpid(c->pid, &status, WNOHANG) == c->pid)
            ck_abort_msg("turnserver exited during start-up; see %s", log);
        if (bind_probe(SOCK_DGRAM, c->port) == -EADDRINUSE &&
            bind_probe(SOCK_STREAM, c->port) == -EADDRINUSE)
            return;
        (void)usleep(10 * 1000);
    }
    ck_abort_msg("turnserver did not start; see %s", log);
}

void th_coturn_stop(struct th_coturn *c)
{
    int status;

    if (c->pid > 0) {
        bool reaped = false;

        (void)kill(c->pid, SIGTERM);
        for (int i = 0; i < 500 && !reaped; i++) { /* at most 5 s */
            reaped = waitpid(c->pid, &status, WNOHANG) == c->pid;
            if (!reaped)
                (void)usleep(10 * 1000);
        }
        if (!reaped) { /* still our unreaped child, so the PID cannot have been reused */
            (void)kill(c->pid, SIGKILL);
            (void)waitpid(c->pid, &status, 0);
        }
        c->pid = 0;
    }
    if (c->dir[0])
        th_rmdir(c->dir);
}

/* ---- a UDP relay -------------------------------------------------------------------------- */

struct held {
    int64_t due;
    bool to_server;
    int client; /* index into clients */
    size_t len;
    uint8_t buf[1500];
};

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *relay_main(void *arg)
{
    struct th_relay *r = arg;
    struct sockaddr_in clients[TH_RELAY_CLIENTS], server = {.sin_family = AF_INET};
    int backs[TH_RELAY_CLIENTS], nclients = 0, nheld = 0;
    static struct held held[64]; /* one relay at a time */

    server.sin_port = htons(r->upstream);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int iter = 0; iter < 1000000 && !r->stop; iter++) {
        struct pollfd pfd[1 + TH_RELAY_CLIENTS];
        int64_t now = mono_us(), next = now + 50000;

        pthread_mutex_lock(&r->lock);
        for (int j = 0; j < r->ninject; j++)
            for (unsigned k = 0; k < r->inject_times[j]; k++)
                for (int i = 0; i < nclients; i++)
                    (void)sendto(r->front, r->inject[j], r->inject_len[j], 0,
                                 (struct sockaddr *)&clients[i], sizeof(clients[0]));
        r->ninject = 0;
        pthread_mutex_unlock(&r->lock);
        for (int i = 0; i < nheld; i++) { /* release what is due */
            if (held[i].due <= now) {
                if (held[i].to_server)
                    (void)sendto(backs[held[i].client], held[i].buf, held[i].len, 0,
                                 (struct sockaddr *)&server, sizeof(server));
                else
                    (void)sendto(r->front, held[i].buf, held[i].len, 0,
                                 (struct sockaddr *)&clients[held[i].client], sizeof(clients[0]));
                held[i--] = held[--nheld];
                continue;
            }
            next = held[i].due < next ? held[i].due : next;
        }
        pfd[0] = (struct pollfd){r->front, POLLIN, 0};
        for (int i = 0; i < nclients; i++)
            pfd[1 + i] = (struct pollfd){backs[i], POLLIN, 0};
        if (poll(pfd, (nfds_t)(1 + nclients), (int)((next - now + 999) / 1000)) <= 0)
            continue;
        for (int i = 0; i <= nclients && nheld < 64; i++) {
            struct sockaddr_in from;
            socklen_t flen = sizeof(from);
            struct held *h = &held[nheld];
            ssize_t n;
            int c = i - 1;

            if (!(pfd[i].revents & POLLIN))
                continue;
            n = recvfrom(pfd[i].fd, h->buf, sizeof(h->buf), 0, (struct sockaddr *)&from, &flen);
            if (n < 0)
                continue;
            if (i == 0) { /* from a client: find or make its upstream socket */
                for (c = 0; c < nclients; c++)
                    if (clients[c].sin_port == from.sin_port)
                        break;
                if (c == nclients) {
                    if (nclients == TH_RELAY_CLIENTS)
                        continue;
                    clients[c] = from;
                    pthread_mutex_lock(&r->lock);
                    if (r->nheld_backs > 0) { /* th_relay_hand_over: the oldest handed over */
                        backs[c] = r->held_backs[0];
                        memmove(r->held_backs, r->held_backs + 1,
                                --r->nheld_backs * sizeof(r->held_backs[0]));
                        r->handed_over++;
                    } else {
                        backs[c] = socket(AF_INET, SOCK_DGRAM, 0);
                    }
                    pthread_mutex_unlock(&r->lock);
                    nclients++;
                }
            }
            h->len = (size_t)n;
            h->to_server = i == 0;
            h->client = c;
            h->due = mono_us() + r->delay_us;
            nheld++;
        }
    }
    for (int i = 0; i < nclients; i++)
        close(backs[i]);
    for (int i = 0; i < r->nheld_backs; i++) /* handed over, never used */
        close(r->held_backs[i]);
    return NULL;
}

void th_relay_start(struct th_relay *r, unsigned short upstream, int64_t delay_us)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);

    memset(r, 0, sizeof(*r));
    r->upstream = upstream;
    r->delay_us = delay_us;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->front = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(bind(r->front, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(getsockname(r->front, (struct sockaddr *)&sin, &len), 0);
    r->port = ntohs(sin.sin_port);
    pthread_mutex_init(&r->lock, NULL);
    ck_assert_int_eq(pthread_create(&r->thread, NULL, relay_main, r), 0);
}

void th_relay_flood(struct th_relay *r, const uint8_t *buf, size_t len, unsigned times)
{
    ck_assert_uint_le(len, sizeof(r->inject[0]));
    pthread_mutex_lock(&r->lock);
    ck_assert_int_lt(r->ninject, 8);
    memcpy(r->inject[r->ninject], buf, len);
    r->inject_times[r->ninject] = times;
    r->inject_len[r->ninject++] = len;
    pthread_mutex_unlock(&r->lock);
}

void th_relay_hand_over(struct th_relay *r, int fd)
{
    pthread_mutex_lock(&r->lock);
    ck_assert_int_lt(r->nheld_backs, 4);
    r->held_backs[r->nheld_backs++] = fd;
    pthread_mutex_unlock(&r->lock);
}

unsigned th_relay_handed_over(struct th_relay *r)
{
    unsigned n;

    pthread_mutex_lock(&r->lock);
    n = r->handed_over;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void th_relay_inject(struct th_relay *r, const uint8_t *buf, size_t len)
{
    th_relay_flood(r, buf, len, 1);
}

void th_relay_stop(struct th_relay *r)
{
    r->stop = 1;
    pthread_join(r->thread, NULL);
    close(r->front);
    pthread_mutex_destroy(&r->lock);
}

void th_daemon_coturn_start(struct th_daemon *d, struct th_coturn *co, char *why, size_t cap)
{
    static const char *const args[] = {"--probe-interval", "3600", NULL};

    memset(d, 0, sizeof(*d));
    if (th_coturn_available(why, cap))
        th_coturn_start(co, NULL);
    th_daemon_start(d, "0", args);
}

void th_daemon_coturn_stop(struct th_daemon *d, struct th_coturn *co)
{
    ck_assert_int_eq(th_daemon_stop(d), 0); /* suspended requests and the prober end cleanly */
    th_daemon_destroy(d);                   /* its directory, and its database on PostgreSQL */
    th_coturn_stop(co);
}

void th_fd_exhaust(struct th_fd_fill *f)
{
    struct rlimit rl;
    bool ok;
    int fd;

    memset(f, 0, sizeof(*f));
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &f->saved), 0);
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* the lowest free descriptor */
    ck_assert_int_ge(fd, 0);
    (void)close(fd);
    rl = f->saved;
    rl.rlim_cur = (rlim_t)fd; /* no free descriptor under the limit: EMFILE from now on */
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    ok = fd < 0 && errno == EMFILE;
    if (fd >= 0)
        (void)close(fd);
    if (!ok)
        th_fd_restore(f);
    ck_assert_msg(ok, "descriptors not exhausted");
}

void th_fd_restore(struct th_fd_fill *f)
{
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &f->saved), 0);
}

void th_copy_file(const char *from, const char *to)
{
    char buf[4096];
    int in = open(from, O_RDONLY), out;
    ssize_t n;

    ck_assert_msg(in >= 0, "cannot read %s", from);
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_msg(out >= 0, "cannot write %s", to);
    while ((n = read(in, buf, sizeof(buf))) > 0)
        ck_assert_int_eq(write(out, buf, (size_t)n), n);
    (void)close(in);
    (void)close(out);
}

/* ---- an HTTP receiver of POSTs ---------------------------------------------------------- */

bool th_http_read_request(int c, char *buf, size_t cap, size_t *ret_head, size_t *ret_len)
{
    size_t have = 0, need = 0;
    char *end = NULL;
    struct pollfd p = {.fd = c, .events = POLLIN};

    while (have < cap - 1 && poll(&p, 1, 2000) == 1) {
        ssize_t n = read(c, buf + have, cap - 1 - have);

        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "Content-Length:");

            need = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        }
        if (end && have >= need)
            break;
    }
    if (!end || have < need)
        return false;
    *ret_head = (size_t)(end + 4 - buf);
    *ret_len = need - *ret_head;
    return true;
}

/* Reads one request on c, keeps its body, answers 200 and closes. */
static void sink_one(struct th_sink *s, int c)
{
    static char buf[1 << 20]; /* the sink's own thread only */
    size_t head, len;

    if (th_http_read_request(c, buf, sizeof(buf), &head, &len)) {
        pthread_mutex_lock(&s->lock);
        s->bodies = realloc(s->bodies, s->len + len + 2);
        ck_assert_ptr_nonnull(s->bodies);
        memcpy(s->bodies + s->len, buf + head, len);
        s->len += len;
        s->bodies[s->len++] = '\n';
        s->bodies[s->len] = '\0';
        s->posts++;
        pthread_mutex_unlock(&s->lock);
        (void)!write(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 57);
    }
    (void)close(c);
}

static void *sink_main(void *arg)
{
    struct th_sink *s = arg;
    struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN}, {.fd = s->wake[0], .events = POLLIN}};

    while (poll(p, 2, -1) > 0 && !(p[1].revents & POLLIN)) {
        int c = accept(s->fd, NULL, NULL);

        if (c >= 0)
            sink_one(s, c);
    }
    return NULL;
}

void th_sink_start(struct th_sink *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);

    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(s->fd, 0);
    ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    ck_assert_int_eq(listen(s->fd, 16), 0);
    ck_assert_int_eq(pipe(s->wake), 0);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, sink_main, s), 0);
}

void th_sink_stop(struct th_sink *s)
{
    (void)!write(s->wake[1], "x", 1);
    pthread_join(s->thread, NULL);
    (void)close(s->fd);
    (void)close(s->wake[0]);
    (void)close(s->wake[1]);
    free(s->bodies);
    pthread_mutex_destroy(&s->lock);
    memset(s, 0, sizeof(*s));
}

size_t th_sink_count(struct th_sink *s, const char *needle)
{
    size_t n = 0;

    pthread_mutex_lock(&s->lock);
    for (const char *p = s->bodies; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    pthread_mutex_unlock(&s->lock);
    return n;
}
