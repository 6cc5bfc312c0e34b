/* api/daemon.c: the composition root.
 *
 * DESIGN: start-up order is data directory -> store (open + migrate) -> first-start material
 * (admin user, secret key, certificate) -> HTTP. SIGTERM and SIGINT are blocked in every thread
 * and taken with sigwait() by the main thread, which then stops in reverse order: the HTTP server
 * first lets requests in flight finish, then the store closes. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api/auth.h"
#include "api/cache.h"
#include "api/daemon.h"
#include "api/http.h"
#include "api/linger.h"
#include "api/log.h"
#include "api/secret.h"
#include "api/tls.h"
#include "api/util.h"
#include "media/media.h"
#include "turnclient/turnclient.h"

#define DRAIN_MS 10000
#define MAX_PEM (64 * 1024)

struct paths {
    char db[PATH_MAX], secret[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], initial[PATH_MAX];
};

/* Writes "<dir>/<name>" (or 'given' when set) into dst. */
static int path_in(char *dst, const char *given, const char *dir, const char *name)
{
    int n = given && *given ? snprintf(dst, PATH_MAX, "%s", given)
                            : snprintf(dst, PATH_MAX, "%s/%s", dir, name);

    return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int make_paths(const struct api_config *c, struct paths *p)
{
    if (path_in(p->db, NULL, c->data_dir, "callbridge.db") < 0 ||
        path_in(p->secret, NULL, c->data_dir, "secret.key") < 0 ||
        path_in(p->initial, NULL, c->data_dir, "initial-admin-password") < 0 ||
        path_in(p->cert, c->cert, c->data_dir, "cert.pem") < 0 ||
        path_in(p->key, c->key, c->data_dir, "key.pem") < 0) {
        api_log(API_LOG_ERR, "data directory path too long: %s", c->data_dir);
        return -ENAMETOOLONG;
    }
    return 0;
}

static int open_store(const struct api_config *c, const struct paths *p, struct store **ret)
{
    int r;

    if (mkdir(c->data_dir, 0700) < 0 && errno != EEXIST) {
        api_log(API_LOG_ERR, "cannot create data directory %s: %s", c->data_dir, strerror(errno));
        return -errno;
    }
    r = store_open(p->db, ret);
    if (r == -EPROTO)
        api_log(API_LOG_ERR, "%s was written by a newer callbridged (schema newer than %u)", p->db,
                store_schema_latest());
    else if (r == -EROFS)
        api_log(API_LOG_ERR,
                "cannot open database %s: the data directory is read-only and the "
                "database needs an upgrade (schema %u) that must write it",
                p->db, store_schema_latest());
    else if (r < 0)
        api_log(API_LOG_ERR, "cannot open database %s: %s", p->db, strerror(-r));
    else if (store_read_only(*ret))
        api_log(API_LOG_WARN,
                "the data directory %s cannot be written: serving reads; every "
                "write is answered 503 until it is writable and callbridged "
                "restarts",
                c->data_dir);
    return r;
}

/* First start: the user 'admin' with CALLBRIDGE_ADMIN_PASSWORD, or a random password that is
 * printed once on stdout and kept in DATA-DIR/initial-admin-password (0600). */
static int ensure_admin(struct store *st, const struct paths *p)
{
    char hash[STORE_HASH_MAX + 1], password[API_PASSWORD_MAX + 1];
    const char *env = getenv("CALLBRIDGE_ADMIN_PASSWORD");
    unsigned char rnd[15];
    size_t count;
    int r;

    r = store_user_count(st, &count);
    if (r < 0 || count > 0)
        return r;
    if (env && *env) {
        if (strlen(env) > API_PASSWORD_MAX)
            return -EINVAL;
        (void)snprintf(password, sizeof(password), "%s", env);
    } else {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
            return -EIO;
        api_b64_encode(rnd, sizeof(rnd), password); /* 20 characters, no padding */
        for (char *s = password; *s; s++)
            *s = *s == '+' ? '-' : *s == '/' ? '_' : *s;
    }
    r = api_auth_hash(password, hash);
    if (r == 0)
        r = store_user_add(st, "admin", hash);
    if (r == 0 && !(env && *env)) {
        char line[API_PASSWORD_MAX + 2];
        int n = snprintf(line, sizeof(line), "%s\n", password);

        r = api_write_file(p->initial, line, (size_t)n, 0600);
        if (isatty(STDOUT_FILENO)) /* someone is looking: make run, a first manual start */
            printf("Created API user 'admin' with password: %s\n"
                   "(also saved in %s; change it with 'callbridged user passwd admin')\n",
                   password, p->initial);
        else /* a service manager's journal or a log file: never a password there */
            printf("Created API user 'admin'; its password is in %s (readable by this user "
                   "only; change it with 'callbridged user passwd admin')\n",
                   p->initial);
        (void)fflush(stdout);
    } else if (r == 0) {
        api_log(API_LOG_INFO, "created API user 'admin' (password from CALLBRIDGE_ADMIN_PASSWORD)");
    }
    OPENSSL_cleanse(password, sizeof(password));
    return r;
}

static int ensure_cert(const struct api_config *c, const struct paths *p)
{
    char host[256];

    if (c->cert[0] || c->key[0]) /* configured: must exist */
        return 0;
    if (access(p->cert, F_OK) == 0 && access(p->key, F_OK) == 0)
        return 0;
    if (gethostname(host, sizeof(host)) < 0 || !host[0])
        (void)snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    api_log(API_LOG_INFO, "creating a self-signed certificate for %s in %s", host, p->cert);
    return api_tls_make_selfsigned(host, p->cert, p->key);
}

static void prober_log(void *userdata, int level, const char *msg)
{
    (void)userdata;
    api_log(level <= 3 ? API_LOG_WARN : API_LOG_INFO, "%s", msg);
}

/* Probes answer within seconds: RTO 500 ms, 4 sends, and 5 s at most per transaction (the RFC's
 * 39.5 s would leave the status page stale for a minute). */
static int start_prober(const struct api_config *c, struct api *api, struct store *st)
{
    struct turn_prober_config pc = {.interval_us = (int64_t)c->probe_interval_s * 1000000,
                                    .software = "callbridge " API_VERSION,
                                    .resolver_threads = 2,
                                    .log = prober_log};
    int r;

    turn_txn_config_rfc(&pc.txn);
    pc.txn.max_sends = 4;
    pc.txn.last_wait = 4;
    pc.txn.budget_us = 5 * 1000000;
    pc.txn.reliable_us = 5 * 1000000;
    api->status_wait_us = 8 * 1000000;
    r = turn_prober_start(&pc, &api->prober);
    if (r == 0)
        r = api_turn_probe_all(api, st);
    if (r < 0)
        api_log(API_LOG_ERR, "cannot start the TURN prober: %s", strerror(-r));
    return r;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 && n < 256 ? (unsigned)n : 4;
}

/* File descriptors open now, or -1. */
static long open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    long n = -1; /* the directory's own descriptor */

    if (!dir)
        return -1;
    while (readdir(dir))
        n++;
    (void)closedir(dir);
    return n - 2; /* . and .. */
}

/* Connections per port that fit in RLIMIT_NOFILE (raised to its hard limit first), and the
 * sockets that may linger (api/linger.h): API_LINGER_MAX, or an eighth of the limit if that is
 * less. When a process runs out of descriptors, libmicrohttpd stops accepting and a new client
 * waits for its own timeout; below this limit it accepts and closes at once, so the client is
 * refused and the descriptors the media and prober need are kept. Reserved besides the
 * connections: what is open now, the store pool (3 each: database, WAL, shared memory), each
 * worker's epoll and event descriptors and the connections libmicrohttpd may hold beyond the
 * limit (API_HTTP_SPARE_PER_THREAD), a listening socket per port, the lingering sockets with
 * their epoll and event descriptors, and a quarter of the limit (at least 64) for TURN
 * sockets. *ret_turn_fds: what is left for TURN sockets (the prober's and one per call leg)
 * beside the connections, -1 when the limit sets no bound. */
static unsigned fd_connection_limit(const struct api_config *c, unsigned threads,
                                    unsigned *ret_linger, long *ret_turn_fds)
{
    struct rlimit rl;
    long open_now = open_fds(), room;
    unsigned long reserve, turn;

    *ret_linger = API_LINGER_MAX;
    *ret_turn_fds = -1;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || open_now < 0)
        return c->connection_limit;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)1 << 30)
        return c->connection_limit;
    if (rl.rlim_cur / 8 < API_LINGER_MAX)
        *ret_linger = (unsigned)(rl.rlim_cur / 8);
    reserve = (unsigned long)c->nports * threads * 3 +
              (unsigned long)c->nports * (threads * (2 + API_HTTP_SPARE_PER_THREAD) + 1) +
              *ret_linger + 2;
    turn = rl.rlim_cur / 4 > 64 ? rl.rlim_cur / 4 : 64;
    reserve += turn;
    room = ((long)rl.rlim_cur - open_now - (long)reserve) / (long)c->nports;
    if (room >= (long)c->connection_limit)
        room = c->connection_limit;
    else if (room < (long)threads)
        room = threads;
    *ret_turn_fds = (long)rl.rlim_cur - open_now - (long)(reserve - turn) - room * (long)c->nports;
    if (room == (long)c->connection_limit)
        return c->connection_limit;
    api_log(API_LOG_WARN,
            "open files are limited to %lu (RLIMIT_NOFILE): at most %ld connections per port "
            "instead of %u; raise LimitNOFILE= or ulimit -n for more",
            (unsigned long)rl.rlim_cur, room, c->connection_limit);
    return (unsigned)room;
}

static int start_http(const struct api_config *c, const struct paths *p, const struct api *api,
                      struct api_auth *auth, struct api_http **ret)
{
    char *cert = NULL, *key = NULL;
    long turn_fds;
    size_t len;
    struct api_http_config hc = {
        .bind = c->bind,
        .ports = c->ports,
        .nports = c->nports,
        .threads = c->threads ? c->threads : default_threads(),
        .connection_limit = c->connection_limit,
        .connection_timeout_s = c->connection_timeout_s,
        .per_ip_connection_limit = c->per_ip_connection_limit,
        .db_path = p->db,
    };
    int r;

    r = api_read_file(p->cert, MAX_PEM, &cert, &len);
    if (r < 0) {
        api_log(API_LOG_ERR, "cannot read certificate %s: %s", p->cert, strerror(-r));
        return r;
    }
    r = api_read_file(p->key, MAX_PEM, &key, &len);
    if (r < 0) {
        api_log(API_LOG_ERR, "cannot read key %s: %s", p->key, strerror(-r));
        free(cert);
        return r;
    }
    hc.cert_pem = cert;
    hc.key_pem = key;
    hc.connection_limit = fd_connection_limit(c, hc.threads, &hc.linger_max, &turn_fds);
    (void)api_calls_set_budget(api->calls, turn_fds, c->max_legs); /* legs' sockets: issue 12 */
    r = api_http_start(&hc, api, auth, ret);
    OPENSSL_cleanse(key, len);
    free(key);
    free(cert);
    return r;
}

int api_daemon_run(const struct api_config *c)
{
    struct api api = {.started_us = api_now_us()};
    struct api_auth *auth = NULL;
    struct api_http *http = NULL;
    struct store *st = NULL;
    struct paths p;
    sigset_t set;
    int sig = 0, r;

    api_log_set_level(c->log_level);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
    signal(SIGPIPE, SIG_IGN);
    (void)umask(077); /* the database holds password hashes and sealed TURN secrets */
    xmlInitParser();

    r = make_paths(c, &p);
    if (r == 0)
        r = open_store(c, &p, &st);
    if (r == 0 && (r = ensure_admin(st, &p)) < 0)
        api_log(API_LOG_ERR, "cannot create the first API user: %s", strerror(-r));
    if (r == 0 && (r = api_secret_load(p.secret, &api.secret)) < 0)
        api_log(API_LOG_ERR, "cannot load %s: %s", p.secret,
                r == -EPERM ? "readable by others (chmod 600)" : strerror(-r));
    if (r == 0 && (r = ensure_cert(c, &p)) < 0)
        api_log(API_LOG_ERR, "cannot create a certificate in %s: %s", c->data_dir, strerror(-r));
    if (r == 0)
        r = api_auth_new(&auth);
    if (r == 0)
        r = api_cache_new(&api.cache);
    if (r == 0)
        r = api_metrics_new(&api.metrics);
    if (r == 0)
        r = start_prober(c, &api, st);
    if (r == 0)
        r = api_calls_new(&api.calls);
    if (r == 0) {
        struct media_config mc = {.prober = api.prober, .log = prober_log};

        r = media_start(&mc, &api.media);
    }
    if (r == 0)
        r = start_http(c, &p, &api, auth, &http);
    if (r == 0) {
        api_log(API_LOG_INFO, "callbridged %s ready (data directory %s)", API_VERSION, c->data_dir);
        (void)sigwait(&set, &sig);
        api_log(API_LOG_INFO, "signal %d: finishing requests in flight and stopping", sig);
    }
    api_http_stop(http, DRAIN_MS); /* first: suspended status requests still need the prober */
    media_stop(api.media);         /* releases every allocation */
    api_calls_free(api.calls);
    turn_prober_stop(api.prober);
    api_auth_free(auth);
    api_cache_free(api.cache);
    api_metrics_free(api.metrics);
    store_close(st);
    OPENSSL_cleanse(&api.secret, sizeof(api.secret));
    xmlCleanupParser();
    if (r == 0)
        api_log(API_LOG_INFO, "stopped");
    return r == 0 ? 0 : 1;
}

/* ---- user subcommands --------------------------------------------------------------------- */

static bool is_user_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > STORE_USER_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("._@-", *s)))
            return false;
    return true;
}

/* Reads one line from stdin (the trailing newline removed) into a hash of it. */
static int read_password_hash(char *hash)
{
    char line[API_PASSWORD_MAX + 3];
    size_t n;
    int r;

    if (isatty(STDIN_FILENO))
        fprintf(stderr, "Password: ");
    if (!fgets(line, sizeof(line), stdin)) {
        fprintf(stderr, "callbridged: no password on standard input\n");
        return -EINVAL;
    }
    n = strcspn(line, "\r\n");
    if (line[n] == '\0' && n == sizeof(line) - 1) {
        fprintf(stderr, "callbridged: password longer than %d bytes\n", API_PASSWORD_MAX);
        OPENSSL_cleanse(line, sizeof(line));
        return -EINVAL;
    }
    line[n] = '\0';
    if (n == 0) {
        fprintf(stderr, "callbridged: empty password\n");
        return -EINVAL;
    }
    r = api_auth_hash(line, hash);
    OPENSSL_cleanse(line, sizeof(line));
    return r;
}

static int print_user(const struct store_user *u, void *userdata)
{
    (void)userdata;
    printf("%s\n", u->name);
    return 0;
}

static int user_action(struct store *st, const char *verb, const char *name)
{
    char hash[STORE_HASH_MAX + 1];
    int r;

    if (strcmp(verb, "delete") == 0)
        return store_user_delete(st, name);
    r = read_password_hash(hash);
    if (r < 0)
        return r;
    if (strcmp(verb, "add") == 0)
        return store_user_add(st, name, hash);
    return store_user_set_hash(st, name, hash);
}

int api_daemon_user_cmd(const struct api_config *c)
{
    const char *verb = c->nargs > 1 ? c->args[1] : "";
    bool list = strcmp(verb, "list") == 0 && c->nargs == 2;
    bool named =
        (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0 || strcmp(verb, "delete") == 0) &&
        c->nargs == 3;
    struct store *st = NULL;
    struct paths p;
    int r;

    if (strcmp(c->args[0], "user") != 0 || (!list && !named)) {
        fprintf(stderr, "callbridged: usage: user add|passwd|delete NAME, or user list\n");
        return 2;
    }
    if (named && !is_user_name(c->args[2])) {
        fprintf(stderr,
                "callbridged: invalid user name '%s' (letters, digits, . _ @ -; at "
                "most %d)\n",
                c->args[2], STORE_USER_NAME_MAX);
        return 2;
    }
    r = make_paths(c, &p);
    if (r == 0)
        r = open_store(c, &p, &st);
    if (r < 0)
        return 1;
    r = list ? store_user_foreach(st, print_user, NULL) : user_action(st, verb, c->args[2]);
    store_close(st);
    if (r == -EEXIST)
        fprintf(stderr, "callbridged: user '%s' already exists\n", c->args[2]);
    else if (r == -ENOENT)
        fprintf(stderr, "callbridged: no user '%s'\n", c->args[2]);
    else if (r < 0 && r != -EINVAL)
        fprintf(stderr, "callbridged: %s\n", strerror(-r));
    else if (r == 0 && named)
        printf("user '%s' %s\n", c->args[2],
               strcmp(verb, "add") == 0      ? "added"
               : strcmp(verb, "delete") == 0 ? "deleted"
                                             : "updated");
    return r == 0 ? 0 : 1;
}
