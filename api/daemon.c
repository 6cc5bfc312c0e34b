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
#include <stdatomic.h>
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

#include "api/daemon.h"
#include "api/cdr.h"
#include "api/cluster.h"
#include "api/ldap_sync.h"
#include "api/datadir.h"
#include "api/http/auth.h"
#include "api/http/http.h"
#include "api/http/linger.h"
#include "api/http/tls.h"
#include "api/log.h"
#include "api/metrics.h"
#include "api/notify.h"
#include "api/res/alarms.h"
#include "api/res/call_home.h"
#include "api/res/diag.h"
#include "api/res/leg_alarms.h"
#include "api/res/cache.h"
#include "api/res/guest.h"
#include "api/res/calls.h"
#include "api/res/prober_link.h"
#include "api/res/registry.h"
#include "api/res/routes.h"
#include "api/res/system.h"
#include "api/res/turn_status.h"
#include "api/secret.h"
#include "api/util.h"
#include "media/media.h"
#include "turnclient/turnclient.h"

#define DRAIN_MS 10000
#define ALARMS_WATCH_US (5 * 1000000) /* how often the faults behind alarms are looked for */
#define ENV_PASSWORD "CALLBRIDGE_ADMIN_PASSWORD"
#define MAX_PEM (64 * 1024)
/* Descriptors opened after the count in fd_connection_limit() and before HTTP starts, per
 * backend: the prober's and the media thread's epoll and event descriptors (4), and the
 * connections of the CDR sender, the alarms watch and the LDAP sync thread. On SQLite each of
 * those is 2 (database and WAL; the shared memory is one descriptor per process, open already):
 * 10. On PostgreSQL each is one socket, and a node on the shared database adds the listener of
 * the other nodes' writes (api/notify.c: an event descriptor, its connection and a hook's), the
 * heartbeat's connection (api/cluster.c) and the call directory's (api/res/call_home.c): 12.
 * Measured with /proc/self/fd at each step of api_daemon_run (at the plan, before HTTP): 9 -> 19
 * on SQLite, 7 -> 19 on PostgreSQL. */
#define FDS_AFTER_PLAN_SQLITE 10
#define FDS_AFTER_PLAN_SHARED 12

static int open_store(const struct api_config *c, const struct api_paths *p, struct store **ret)
{
    char why[600] = ""; /* " (libpq's reason)" when the driver gave one */
    int r;

    r = store_open(p->db, ret);
    if (r < 0 && store_open_error()[0])
        (void)snprintf(why, sizeof(why), " (%s)", store_open_error());
    if (r == -EPROTO)
        api_log(BASE_LOG_ERR, "%s was written by a newer callbridged (schema newer than %u)",
                p->db_shown, store_schema_latest_at(p->db));
    else if (r == -EROFS && c->database[0])
        api_log(BASE_LOG_ERR,
                "cannot open database %s: no server of it takes writes (the primary is down, or "
                "the URL names only standbys) and the database needs an upgrade (schema %u), "
                "which writes: start this version once the primary is back",
                p->db_shown, store_schema_latest_at(p->db));
    else if (r == -EROFS)
        api_log(BASE_LOG_ERR,
                "cannot open database %s: the data directory is read-only and the "
                "database needs an upgrade (schema %u) that must write it",
                p->db_shown, store_schema_latest_at(p->db));
    else if (r == -EPROTONOSUPPORT)
        api_log(BASE_LOG_ERR,
                "cannot open database %s: this build has no PostgreSQL driver (build "
                "callbridged with libpq, or leave out --database to use DATA-DIR/callbridge.db)",
                p->db_shown);
    else if (r == -EACCES && c->database[0])
        api_log(BASE_LOG_ERR,
                "cannot open database %s: the server refused the connection after asking for a "
                "password (a wrong or missing password, or a role or database it does not "
                "have; its log says which)%s",
                p->db_shown, why);
    else if (r == -ECONNREFUSED && c->database[0])
        api_log(BASE_LOG_ERR,
                "cannot open database %s: no server answered (not running, not listening on "
                "that address, or unreachable)%s",
                p->db_shown, why);
    else if (r < 0)
        api_log(BASE_LOG_ERR, "cannot open database %s: %s%s", p->db_shown, strerror(-r), why);
    else if (store_read_only(*ret) && c->database[0])
        api_log(BASE_LOG_WARN,
                "the database %s cannot be written: serving reads; every write is answered 503 "
                "until a server of it takes writes (a primary back or promoted; not a standby, "
                "default_transaction_read_only off)",
                p->db_shown);
    else if (store_read_only(*ret))
        api_log(BASE_LOG_WARN,
                "the data directory %s cannot be written: serving reads; every "
                "write is answered 503 until it is writable and callbridged "
                "restarts",
                c->data_dir);
    return r;
}

/* unsetenv() only drops the pointer: the kernel goes on showing the process's original
 * environment block in /proc/PID/environ (to its owner and root) for its whole life, so the
 * value's bytes are overwritten in place first. Runs before any thread starts (getenv and
 * unsetenv are not thread-safe). ret holds API_PASSWORD_MAX + 2 bytes, so a value that is too
 * long still shows as too long. */
static void take_env_password(char *ret, size_t cap)
{
    char *v = getenv(ENV_PASSWORD);

    ret[0] = '\0';
    if (!v)
        return;
    (void)snprintf(ret, cap, "%s", v);
    OPENSSL_cleanse(v, strlen(v));
    (void)unsetenv(ENV_PASSWORD);
}

/* First start: the user 'admin' with CALLBRIDGE_ADMIN_PASSWORD (env, taken out of the
 * environment already), or a random password that is printed once on stdout and kept in
 * DATA-DIR/initial-admin-password (0600). */
static int ensure_admin(struct store *st, const struct api_paths *p, const char *env)
{
    char hash[STORE_HASH_MAX + 1], password[API_PASSWORD_MAX + 1];
    unsigned char rnd[15];
    size_t count;
    int r;

    r = store_user_count(st, &count);
    if (r < 0 || count > 0)
        return r;
    if (*env) {
        size_t n = strlen(env);

        if (n > API_PASSWORD_MAX)
            return -EINVAL;
        memcpy(password, env, n + 1);
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
    if (r == 0 && !*env) {
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
        api_log(BASE_LOG_INFO, "created API user 'admin' (password from " ENV_PASSWORD ")");
    }
    OPENSSL_cleanse(password, sizeof(password));
    return r;
}

static void remove_initial(const struct api_paths *p)
{
    if (unlink(p->initial) == 0)
        api_log(BASE_LOG_INFO, "removed %s: the password in it is no longer admin's", p->initial);
}

/* initial-admin-password is worth keeping only while it is admin's password: after a change
 * (user passwd admin, by whatever tool) it misleads, and it is a secret left on disk. */
static void drop_stale_initial(struct store *st, const struct api_paths *p)
{
    char hash[STORE_HASH_MAX + 1], *pw = NULL;
    size_t len = 0;
    int r;

    if (api_read_file(p->initial, API_PASSWORD_MAX + 2, &pw, &len) < 0)
        return;
    pw[strcspn(pw, "\n")] = '\0';
    r = store_user_get_hash(st, "admin", hash);
    if (r == -ENOENT || (r == 0 && api_auth_verify(pw, hash) == -EACCES))
        remove_initial(p);
    OPENSSL_cleanse(pw, len);
    free(pw);
}

static int ensure_cert(const struct api_config *c, const struct api_paths *p)
{
    char host[256];

    if (c->cert[0] || c->key[0]) /* configured: must exist */
        return 0;
    if (access(p->cert, F_OK) == 0 && access(p->key, F_OK) == 0)
        return 0;
    if (gethostname(host, sizeof(host)) < 0 || !host[0])
        (void)snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    api_log(BASE_LOG_INFO, "creating a self-signed certificate for %s in %s", host, p->cert);
    return api_tls_make_selfsigned(host, p->cert, p->key);
}

/* The prober's and the media thread's lines, each source its own site of the log's rate limiter
 * (userdata is the address of one of these). They log changes of state of the objects an
 * administrator configured (a TURN server's reachability, a leg anchored), so their rate is
 * that of the configuration: a burst of 2,000 lines, then 100 a second. */
static char prober_site, media_site;
static const struct api_log_rate state_rate = {.interval_us = 10000, .burst = 2000};

static void state_log(void *userdata, enum base_log_level level, const char *msg)
{
    api_log_site(userdata, &state_rate, level <= BASE_LOG_ERR ? BASE_LOG_WARN : BASE_LOG_INFO, "%s",
                 msg);
}

/* Probes answer within seconds: RTO 500 ms, 4 sends, and 5 s at most per transaction (the RFC's
 * 39.5 s would leave the status page stale for a minute). max_sockets: the prober's share of
 * the descriptors (struct fd_plan), 0 for no cap. */
static int start_prober(const struct api_config *c, struct api *api, struct store *st,
                        size_t max_sockets)
{
    struct turn_prober_config pc = {.interval_us = (int64_t)c->probe_interval_s * 1000000,
                                    .software = "callbridge " API_VERSION,
                                    .resolver_threads = 2,
                                    .max_sockets = max_sockets,
                                    .log = {state_log, &prober_site}};
    int r;

    turn_txn_config_rfc(&pc.txn);
    pc.txn.max_sends = 4;
    pc.txn.last_wait = 4;
    pc.txn.budget_us = 5 * 1000000;
    pc.txn.reliable_us = 5 * 1000000;
    api->status_wait_us = 8 * 1000000;
    if (max_sockets)
        api_log(BASE_LOG_INFO,
                "the TURN prober holds at most %zu sockets at once (its share of what "
                "RLIMIT_NOFILE leaves); more probes wait their turn",
                max_sockets);
    r = turn_prober_start(&pc, &api->prober);
    if (r == 0)
        r = api_turn_probe_all(api, st);
    if (r < 0)
        api_log(BASE_LOG_ERR, "cannot start the TURN prober: %s", strerror(-r));
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
 * sockets that may linger (api/http/linger.h): API_LINGER_MAX, or an eighth of the limit if that is
 * less. When a process runs out of descriptors, libmicrohttpd stops accepting and a new client
 * waits for its own timeout; below this limit it accepts and closes at once, so the client is
 * refused and the descriptors the media and prober need are kept. Reserved besides the
 * connections: what is open now, the store pool (3 each: database, WAL, shared memory), two per
 * worker (its event descriptor, and one of slack where its epoll descriptor was before the
 * workers moved to poll()) and the connections libmicrohttpd may hold beyond the
 * limit (API_HTTP_SPARE_PER_THREAD), a listening socket per port, the lingering sockets with
 * their epoll and event descriptors, the prober's and the media thread's epoll and event
 * descriptors and the threads' connections (opened after this count: FDS_AFTER_PLAN_*), and a
 * quarter of the limit (at least 64) for TURN sockets. *ret_turn_fds: what is left for TURN sockets
 * (the prober's and one per call leg) beside the connections, -1 when the limit sets no bound. */
static unsigned fd_connection_limit(const struct api_config *c, unsigned threads, bool shared,
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
              *ret_linger + 2 + (shared ? FDS_AFTER_PLAN_SHARED : FDS_AFTER_PLAN_SQLITE);
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
    api_log(BASE_LOG_WARN,
            "open files are limited to %lu (RLIMIT_NOFILE): at most %ld connections per port "
            "instead of %u; raise LimitNOFILE= or ulimit -n for more",
            (unsigned long)rl.rlim_cur, room, c->connection_limit);
    return (unsigned)room;
}

/* How the descriptors are shared, worked out before the prober starts, so that its cap is
 * in place for its first cycle. */
struct fd_plan {
    unsigned threads, connection_limit, linger_max;
    size_t prober_sockets; /* turn_prober_config.max_sockets */
};

/* Sizes the connections, the lingering sockets, the leg budget and the prober's share. */
static void plan_fds(const struct api_config *c, struct api_calls *calls, bool shared,
                     struct fd_plan *ret)
{
    long turn_fds;

    ret->threads = c->threads ? c->threads : default_threads();
    ret->connection_limit =
        fd_connection_limit(c, ret->threads, shared, &ret->linger_max, &turn_fds);
    /* legs' sockets (issue 12): with host candidates a guest's leg has two */
    (void)api_calls_set_budget(calls, turn_fds, c->max_legs, c->host_candidate[0] ? 2 : 1);
    ret->prober_sockets = api_calls_prober_sockets(turn_fds); /* and the prober's */
}

/* The request counters, labelled as the router's table names its collections. */
static int new_metrics(struct api_metrics **ret)
{
    struct api_metrics_labels labels = {.of = api_route_label};

    labels.n = api_route_labels(labels.names, API_METRICS_MAX_LABELS);
    return api_metrics_new(&labels, ret);
}

/* The wait of a suspended request: a guest's poll for events, or a TURN status request
 * waiting for the first probe. */
static int wait_any(const struct api *api, const char *wait_id, int64_t until_us,
                    void (*resume)(void *ctx), void *ctx)
{
    if (strncmp(wait_id, API_GUEST_WAIT_PREFIX, strlen(API_GUEST_WAIT_PREFIX)) == 0)
        return api_guest_wait(api, wait_id, until_us, resume, ctx);
    return api_wait(api, wait_id, until_us, resume, ctx);
}

static int start_http(const struct api_config *c, const struct api_paths *p, const struct api *api,
                      struct api_auth *auth, const struct fd_plan *plan, struct api_http **ret)
{
    char *cert = NULL, *key = NULL;
    size_t len;
    struct api_http_config hc = {
        .bind = c->bind,
        .ports = c->ports,
        .nports = c->nports,
        .threads = plan->threads,
        .connection_limit = plan->connection_limit,
        .linger_max = plan->linger_max,
        .connection_timeout_s = c->connection_timeout_s,
        .per_ip_connection_limit = c->per_ip_connection_limit,
        .header_timeout_s = c->header_timeout_s,
        .body_timeout_s = c->body_timeout_s,
        .db_path = p->db,
        .route = api_route,
        .wait = wait_any,
        .guest = api_res_guest,
    };
    int r;

    r = api_read_file(p->cert, MAX_PEM, &cert, &len);
    if (r < 0) {
        api_log(BASE_LOG_ERR, "cannot read certificate %s: %s", p->cert, strerror(-r));
        return r;
    }
    r = api_read_file(p->key, MAX_PEM, &key, &len);
    if (r < 0) {
        api_log(BASE_LOG_ERR, "cannot read key %s: %s", p->key, strerror(-r));
        free(cert);
        return r;
    }
    hc.cert_pem = cert;
    hc.key_pem = key;
    api_metrics_watch_auth(api->metrics, auth);
    r = api_http_start(&hc, api, auth, ret);
    OPENSSL_cleanse(key, len);
    free(key);
    free(cert);
    return r;
}

/* Default-fatal signals that a person or a tool may send by reflex (kill -HUP after a log
 * rotation, a stray kill -USR1 or an alarm): taken by sigwait() and logged, never fatal.
 * SIGTERM and SIGINT stop; SIGQUIT keeps its core dump. */
static const int reflex_signals[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGIO, SIGPWR};

/* Before any thread starts, so that every thread inherits the mask and only sigwait() sees
 * them. SIGPIPE: a peer that closed; SIGXFSZ: a write past RLIMIT_FSIZE then fails with EFBIG,
 * which the store reports, instead of killing the process. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    for (size_t i = 0; i < sizeof(reflex_signals) / sizeof(reflex_signals[0]); i++)
        sigaddset(set, reflex_signals[i]);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
}

/* Returns the signal that stops the daemon. SIGHUP has nothing to reload: the log is stderr
 * (the service manager owns the file), and the certificate is loaded into libmicrohttpd once. */
static int wait_for_stop(const sigset_t *set)
{
    for (;;) {
        int sig = 0;

        if (sigwait(set, &sig) != 0 || sig == SIGTERM || sig == SIGINT)
            return sig;
        if (sig == SIGHUP) /* one line a second, however many arrive */
            api_log_every(1, BASE_LOG_INFO,
                          "SIGHUP ignored: nothing to reopen (the log goes to stderr); restart "
                          "callbridged to load a new certificate");
        else
            api_log_every(1, BASE_LOG_INFO,
                          "signal %d (%s) ignored; SIGTERM or SIGINT stops callbridged", sig,
                          strsignal(sig));
    }
}

/* The data directory and what it holds, up to the loaded secrets key. */
static int open_data(const struct api_config *c, const struct api_paths *p, const char *env,
                     struct api *api, struct store **ret_st, int *ret_lock)
{
    int r = api_datadir_prepare(c);

    if (r == 0)
        r = api_datadir_lock(c->data_dir, p, ret_lock);
    if (r == 0)
        r = open_store(c, p, ret_st);
    if (r == 0 && (r = ensure_admin(*ret_st, p, env)) < 0)
        api_log(BASE_LOG_ERR, "cannot create the first API user: %s", strerror(-r));
    if (r == 0)
        r = api_datadir_secret(*ret_st, p, &api->secret);
    if (r == 0)
        drop_stale_initial(*ret_st, p);
    if (r == 0 && (r = ensure_cert(c, p)) < 0)
        api_log(BASE_LOG_ERR, "cannot create a certificate in %s: %s", c->data_dir, strerror(-r));
    if (r == 0)
        r = api_datadir_check_tls_key(p->key);
    return r;
}

/* The media thread's signals to guests; the end of a leg goes first to the CDRs, so that its
 * record says why (the guest's leave that follows removes the leg). */
static void rtc_signal(void *userdata, const char *leg_id, enum media_rtc_signal kind,
                       const char *text, bool reconnect)
{
    const struct api *api = userdata;

    if (kind == MEDIA_RTC_END)
        api_cdr_leg_media_ended(api->cdr, leg_id, text);
    api_guest_signal(userdata, leg_id, kind, text, reconnect);
}

/* The CDR sender, on its own connection, told of every call and leg. */
static int start_cdr(const struct api_paths *p, struct api *api)
{
    int r = api_cdr_start(p->db, api->media, &api->cdr);

    if (r < 0)
        api_log(BASE_LOG_ERR, "cannot start the CDR sender: %s", strerror(-r));
    else
        api_cdr_events(api->cdr, &api->calls->events);
    return r;
}

/* The LDAP sync thread, on its own connection; at most API_LDAP_MAX_SYNCS syncs are kept. */
static int start_ldap(const struct api_paths *p, struct api *api)
{
    int r = api_ldap_sync_start(p->db, api, &api->ldap);

    if (r < 0)
        api_log(BASE_LOG_ERR, "cannot start the LDAP sync thread: %s", strerror(-r));
    return r;
}

/* The other nodes' writes on a shared database (PostgreSQL), on a connection of its own. */
static int start_notify(const struct api_paths *p, const struct api *api, struct api_notify **ret_n)
{
    int r = api_notify_start(api, p->db, ret_n);

    if (r < 0)
        api_log(BASE_LOG_ERR, "cannot listen to the other nodes' writes: %s", strerror(-r));
    return r;
}

/* On a shared database: this node's registration and heartbeat (api/cluster.h), last before
 * HTTP, so that every thread it reads (the prober) runs and no handler sees api->cluster change.
 * The name defaults to the host name, the address to https://HOSTNAME:FIRST-PORT. */
static int start_cluster(const struct api_config *c, const struct api_paths *p, struct api *api,
                         struct store *st)
{
    char host[256], address[STORE_TEXT_MAX + 1], host_id[STORE_ID_LEN + 1];
    char cluster_id[STORE_ID_LEN + 1];
    struct api_cluster_config cc = {
        .interval_s = c->heartbeat_interval_s, .db = p->db, .render_view = api_turn_status_inner};

    if (gethostname(host, sizeof(host)) < 0 || !host[0])
        (void)snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    if (c->node_address[0])
        (void)snprintf(address, sizeof(address), "%s", c->node_address);
    else
        (void)snprintf(address, sizeof(address), "https://%.200s:%u", host, c->ports[0]);
    api_system_host_id(api, host_id);
    api_system_cluster_id(api, cluster_id);
    cc.cluster_id = cluster_id;
    cc.name = c->node_name[0] ? c->node_name : host;
    cc.address = address;
    cc.host_id = host_id;
    return api_cluster_start(&cc, api, st, &api->cluster);
}

int api_daemon_run(const struct api_config *c)
{
    char env[API_PASSWORD_MAX + 2];
    struct api api = {.started_us = api_now_us()};
    struct api_auth *auth = NULL;
    struct api_http *http = NULL;
    struct api_notify *notify = NULL;
    struct store *st = NULL;
    struct api_paths p;
    struct fd_plan plan;
    sigset_t set;
    int sig = 0, lock = -1, r;

    take_env_password(env, sizeof(env));
    api_log_set_level(c->log_level);
    block_signals(&set);
    (void)umask(077); /* the database holds password hashes and sealed TURN secrets */
    xmlInitParser();

    r = api_paths_make(c, &p);
    if (r == 0)
        r = api_config_apply_caps(c);
    if (r == 0)
        r = store_set_max_rows(store_table_ldap_sync.name, API_LDAP_MAX_SYNCS);
    if (r == 0) /* the count in api/res/cdr_receivers.c answers first; this holds across nodes */
        r = store_set_max_rows(store_table_cdr_receiver.name, API_CDR_RECEIVERS_MAX);
    if (r == 0)
        r = open_data(c, &p, env, &api, &st, &lock);
    OPENSSL_cleanse(env, sizeof(env));
    if (r == 0)
        r = api_auth_new(&auth);
    if (r == 0)
        r = api_cache_new(&api.cache);
    if (r == 0)
        r = new_metrics(&api.metrics);
    if (r == 0)
        r = api_calls_new(&api.calls);
    if (r == 0)
        r = api_guests_new(&api.guests);
    if (r == 0)
        r = api_alarms_new(c->data_dir, (uint64_t)c->min_free_mb * 1024 * 1024, &api.alarms);
    if (r == 0)
        r = api_system_new(c->data_dir, &api.system);
    if (r == 0)
        r = api_leg_alarms_new(&api.leg_alarms);
    if (r == 0) {
        api.calls->guest_dropped = api_guest_leg_ended;
        api.calls->guest_control = api_guest_leg_control;
        api.calls->guest_message = api_guest_message;
        api.calls->guest_userdata = &api;
        api_guests_set_tick(api.guests, api_calls_lobby_tick, &api);
    }
    if (r == 0) {
        plan_fds(c, api.calls, store_is_shared(st), &plan);
        api_calls_set_max_calls(api.calls, c->max_calls);
        r = start_prober(c, &api, st, plan.prober_sockets);
    }
    if (r == 0) {
        struct media_config mc = {.prober = api.prober,
                                  .log = {.fn = state_log, .userdata = &media_site},
                                  .rtc_signal = rtc_signal,
                                  .rtc_userdata = &api,
                                  .rtc_silence_s = c->guest_timeout_s};

        if (c->host_candidate[0]) /* checked when parsed */
            (void)api_config_host_candidate(c->host_candidate, &mc.host_bind, &mc.host_public);
        r = media_start(&mc, &api.media);
    }
    if (r == 0)
        r = start_cdr(&p, &api);
    if (r == 0) /* last of the threads it reads: api.cdr and api.prober are set by then */
        r = api_alarms_watch(api.alarms, &api, p.db, ALARMS_WATCH_US);
    if (r == 0)
        r = start_ldap(&p, &api);
    if (r == 0) /* the other nodes' writes: after every thread whose state they change */
        r = start_notify(&p, &api, &notify);
    if (r == 0)
        r = api_diags_start(&api, &api.diags);
    if (r == 0)
        r = start_cluster(c, &p, &api, st);
    if (r == 0 && api.cluster) /* its CDRs: its own records of the shared outbox */
        api_cdr_set_node(api.cdr, api_cluster_name(api.cluster));
    if (r == 0) /* a clustered node's side of the call directory (api/res/call_home.h) */
        r = api_call_home_start(p.db, &api);
    if (r == 0)
        r = start_http(c, &p, &api, auth, &plan, &http);
    if (r == 0) {
        api_log(BASE_LOG_INFO, "callbridged %s ready (data directory %s)", API_VERSION,
                c->data_dir);
        sig = wait_for_stop(&set);
        api_log(BASE_LOG_INFO, "signal %d: finishing requests in flight and stopping", sig);
    }
    api_notify_stop(notify);       /* first: it calls into the prober, the calls, the CDRs */
    api_guests_stop(api.guests);   /* wakes the guests' polls, which then answer at once */
    api_http_stop(http, DRAIN_MS); /* first: suspended status requests still need the prober */
    api_call_home_stop(&api);      /* this node's calls leave the directory; before the CDRs */
    api_cdr_stop(api.cdr);         /* writes what is queued and the ends of calls in progress */
    api_ldap_sync_stop(api.ldap);  /* a sync running is taken up again at the next start */
    api_cluster_stop(api.cluster); /* marked stopped: the other nodes show it so at once */
    api.cluster = NULL;
    api_diags_stop(api.diags);   /* it reads the calls and media */
    api_alarms_free(api.alarms); /* its watch reads the prober, and the legs' calls and media */
    api.alarms = NULL;
    media_stop(api.media);       /* releases every allocation */
    api_guests_free(api.guests); /* after media: its last signals go to the sessions */
    api_calls_free(api.calls);
    api_leg_alarms_free(api.leg_alarms); /* after the watch, which looks at the legs */
    api_cdr_free(api.cdr);               /* after the calls: the last of their events go to it */
    turn_prober_stop(api.prober);
    api_diags_free(api.diags); /* its log tap: once no thread logs */
    api_auth_free(auth);
    api_cache_free(api.cache);
    api_metrics_free(api.metrics);
    api_system_free(api.system);
    store_close(st);
    OPENSSL_cleanse(&api.secret, sizeof(api.secret));
    xmlCleanupParser();
    if (lock >= 0)
        (void)close(lock); /* last: the next daemon may start once the store is closed */
    if (r == 0)
        api_log(BASE_LOG_INFO, "stopped");
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
    struct api_paths p;
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
    r = api_paths_make(c, &p);
    if (r == 0)
        r = api_datadir_prepare(c);
    if (r == 0)
        r = open_store(c, &p, &st);
    if (r < 0)
        return 1;
    /* no data directory lock: a running daemon reads users from the database on every
     * request, so these work beside it, as SQLite serializes the writes */
    r = list ? store_user_foreach(st, print_user, NULL) : user_action(st, verb, c->args[2]);
    store_close(st);
    if (r == 0 && named && strcmp(verb, "add") != 0 && strcmp(c->args[2], "admin") == 0)
        remove_initial(&p); /* passwd or delete: the file no longer holds admin's password */
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
