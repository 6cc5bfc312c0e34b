/* tests/helpers.h: shared test helpers: temporary directories, a store on disk, and a real
 * callbridged process driven over HTTPS with libcurl. */
#ifndef TESTS_HELPERS_H
#define TESTS_HELPERS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "api/api.h"
#include "tests/skip.h"

/* mkdtemp under $TMPDIR (or /tmp); out must hold 64 bytes. */
void th_tmpdir(char out[64]);
/* rm -rf dir: everything under it (a slapd's db/, a server's data/), links not followed. */
void th_rmdir(const char *dir);

/* A store + api context for calling api_route directly. */
struct th_ctx {
    char dir[64];
    struct store *st;
    struct api api;
};
void th_ctx_open(struct th_ctx *c);
void th_ctx_close(struct th_ctx *c);
/* Routes one request; body/query are raw form strings (NULL = none). Caller frees reply.body. */
void th_route(struct th_ctx *c, enum api_method m, const char *path, const char *query,
              const char *body, struct api_reply *reply);

/* Where a daemon's data directory lives (set before start; needs a mount namespace, see
 * th_mount_ns_available). The daemon gets a mount namespace of its own, so the test sees the
 * directory as the daemon does through d->root ("/proc/PID/root"). */
enum th_mount {
    TH_MOUNT_NONE,
    TH_MOUNT_TMPFS,     /* an empty tmpfs of d->tmpfs_size bytes: a disk that can fill */
    TH_MOUNT_READ_ONLY, /* the directory bound read-only onto itself */
};

/* A running callbridged. Zero it before the first start; stop and start again to restart on
 * the same data directory. */
struct th_daemon {
    pid_t pid;
    bool random_admin; /* set before start: no CALLBRIDGE_ADMIN_PASSWORD in its environment */
    enum th_mount mount;
    size_t tmpfs_size;
    unsigned nofile;            /* set before start: RLIMIT_NOFILE for the daemon (0: inherited) */
    const char *const *wrapper; /* set before start: a program (and its arguments, NULL-ended)
                                   that runs the daemon, e.g. setpriv */
    char root[32];              /* "/proc/PID/root" with a mount, else "": prefix d->dir with it */
    char dir[64];
    char log[128];    /* its stderr */
    char cacert[128]; /* its self-signed certificate */
    unsigned short ports[2];
    char password[64]; /* admin's */
    /* With CB_TEST_PG set (th_daemon_start): the database made for this daemon, kept across
     * restarts and dropped by th_daemon_destroy(); "" on SQLite */
    char database[320]; /* its --database URL */
    char dbname[48];
};
/* "URL" with its database (the path, before any "?query") replaced by name, into out. Returns
 * 0, or -ENAMETOOLONG or -EINVAL (not a URL). */
int th_pg_database_url(const char *url, const char *name, char *out, size_t cap);
/* The callbridged under test: $CALLBRIDGED, or build/rel/callbridged. */
const char *th_daemon_path(void);
/* Starts build/<variant>/callbridged (env CALLBRIDGED) on 127.0.0.1 with 'listen' (e.g. "0")
 * and d->dir (a new directory when empty), and waits until it listens. extra_args may be NULL.
 * CB_TEST_PG=URL (a PostgreSQL server's URL whose role may create databases, e.g.
 * postgresql://postgres@127.0.0.1:PORT/postgres): the daemon's store is a new database of its
 * own on that server (--database), made at its first start, instead of SQLite in d->dir. */
void th_daemon_start(struct th_daemon *d, const char *listen, const char *const *extra_args);
/* false (with the reason in why) when this process cannot give a child a mount namespace
 * (not root, or no CAP_SYS_ADMIN in a container). */
bool th_mount_ns_available(char *why, size_t cap);
/* Sends SIGKILL and reaps it: a crash or a power cut, as far as the daemon can tell. */
void th_daemon_kill9(struct th_daemon *d);
/* Sends SIGTERM, waits (bounded) and returns the exit status (-1 if it had to be killed). */
int th_daemon_stop(struct th_daemon *d);
/* th_daemon_stop, then removes the data directory. */
void th_daemon_destroy(struct th_daemon *d);
/* The backend the daemons of this run use: true when CB_TEST_PG names a PostgreSQL server
 * (th_daemon_start gives each daemon a database of its own there), false on SQLite. */
bool th_on_pg(void);
/* Runs callbridged's subcommand args (NULL-ended: "user", "list", ...) on d's store as an
 * administrator would: --data-dir d->dir, and --database d->database when the daemon has one.
 * stdin from 'input' (may be NULL); returns the exit code, the combined output in out. */
int th_daemon_cli(const struct th_daemon *d, const char *const *args, const char *input, char *out,
                  size_t cap);
/* Runs one SQL command on d's database through the store's own driver (store/db.h), as another
 * client of it: the SQLite file d->dir/callbridge.db, or d->database. When ret is not NULL it
 * gets the first column of the first row (0 without one). Returns 0 or a negative errno. */
int th_daemon_sql(const struct th_daemon *d, const char *sql, int64_t *ret);
/* With CB_TEST_PG: runs sql as the server's administrator (ALTER DATABASE ...); fails the test
 * on an error. */
void th_pg_admin_sql(const char *sql);
/* With CB_TEST_PG: makes d's database refuse writes to every new session (on) as a hot
 * standby does (ALTER DATABASE ... SET default_transaction_read_only), or writable again (off).
 * The daemon sees it at its next start. */
void th_pg_database_read_only(const struct th_daemon *d, bool on);
/* Counts occurrences of 'needle' in the daemon's log. */
size_t th_log_count(const struct th_daemon *d, const char *needle);
/* Runs callbridged with args (stdin from 'input', may be NULL); returns the exit code and
 * the combined output in out (cap bytes). */
int th_run_cli(const char *const *args, const char *input, char *out, size_t cap);
/* Runs path with argv (argv[0] included), after setting each "NAME=value" of env (NULL-ended,
 * may be NULL; "NAME=" unsets NAME) in the child, with 'input' (may be NULL) on stdin. Output
 * goes to out (cap bytes); stderr to err (ecap bytes), or to out too when err is NULL. Returns
 * the exit code (128 if it did not exit). */
int th_run(const char *path, const char *const *argv, const char *const *env, const char *input,
           char *out, size_t cap, char *err, size_t ecap);

struct th_resp {
    long status;
    char *body;
    size_t len;
    char location[256];
    char allow[64];
    char www_auth[128];
    char content_type[64];
    char request_id[80];
    char retry_after[16];
};
/* When set (e.g. "127.0.0.3"), th_http connects from that local address: another client. */
extern const char *th_http_source;
/* One HTTPS request to port with optional Basic credentials (user NULL = none), extra
 * header lines (NULL-terminated array or NULL) and a body (NULL = none). Verifies the daemon's
 * certificate against d->cacert. */
void th_http(const struct th_daemon *d, unsigned short port, const char *method, const char *path,
             const char *user, const char *pass, const char *const *headers, const char *body,
             size_t body_len, struct th_resp *resp);
/* th_http that returns curl's result instead of failing the test when no answer came (a
 * daemon being killed, a refused connection). */
int th_http_try(const struct th_daemon *d, unsigned short port, const char *method,
                const char *path, const char *user, const char *pass, const char *const *headers,
                const char *body, size_t body_len, struct th_resp *resp);
void th_resp_free(struct th_resp *resp);
/* th_http as admin on the first port with a form body. */
void th_admin(const struct th_daemon *d, const char *method, const char *path, const char *body,
              struct th_resp *resp);
/* th_admin that keeps what a test needs: returns the status, copies the body to out (cap bytes)
 * and the Location to loc (128 bytes) when they are not NULL. */
long th_admin_keep(const struct th_daemon *d, const char *method, const char *path,
                   const char *form, char *out, size_t cap, char *loc);
/* A UDP socket bound to 127.0.0.1 on a free port, as a media endpoint; its port in *ret_port. */
int th_udp_endpoint(unsigned short *ret_port);
/* Polls GET leg (a callLeg's path) until it is no longer connecting (at most 8 s), asserts that it
 * is connected, and returns the relayed address its endpoint must send to in *ret. */
struct sockaddr_in;
void th_leg_wait_connected(const struct th_daemon *d, const char *leg, struct sockaddr_in *ret);
/* One request under /api/v1 (path without the prefix) as admin; asserts the status, keeps the
 * body in body (cap bytes) and returns the new object's id (a POST's Location) or "", in a
 * buffer of its own that the next call reuses. */
const char *th_api_v1(const struct th_daemon *d, const char *method, const char *path,
                      const char *form, long want, char *body, size_t cap);
/* POSTs a plain RTP leg to the endpoint 127.0.0.1:port into call (a path) and waits until it is
 * connected: its path into leg, its relayed address into ra. */
void th_media_leg(const struct th_daemon *d, const char *call, unsigned short port, char *leg,
                  struct sockaddr_in *ra);
/* Sends n 60-byte RTP packets of payload type pt from fd to ra; counts those that reach rx within
 * wait_ms of the last one. */
int th_relay_count(int fd, const struct sockaddr_in *ra, int rx, uint8_t pt, int n, int wait_ms);
/* A TLS connection to 127.0.0.1:port (the certificate is not checked), for tests that write
 * bytes no HTTP client would. th_tls_close releases it. */
struct th_tls {
    struct ssl_ctx_st *ctx; /* SSL_CTX */
    struct ssl_st *ssl;     /* SSL */
    int fd;
};
void th_tls_open(struct th_tls *t, unsigned short port);
void th_tls_close(struct th_tls *t);
/* The text of the first <name> element in body, or "" (out holds cap bytes). */
void th_xml_text(const char *body, const char *name, char *out, size_t cap);
/* The value of the first series in a Prometheus text body whose line starts with 'series' and
 * also contains 'and' (may be NULL); -1 when there is none. */
double th_metric(const char *body, const char *series, const char *and);
/* Extracts the id after the last '/' of a Location. */
const char *th_location_id(const struct th_resp *resp);

/* A coturn (Debian's turnserver) on 127.0.0.1 for the tests: a free port (UDP and TCP), a relay
 * port range of its own, realm "test.local", long-term credentials alice:secret unless
 * extra_args choose another mode; stopped by PID. */
struct th_coturn {
    pid_t pid;
    char dir[64];
    unsigned short port;
    unsigned min_port, max_port;
};
/* false (with the reason in why) when turnserver is not installed. */
bool th_coturn_available(char *why, size_t cap);
void th_coturn_start(struct th_coturn *c, const char *const *extra_args);
void th_coturn_stop(struct th_coturn *c);
/* A daemon that probes once an hour (tests make it probe when they need to), with a coturn
 * beside it when turnserver is installed; otherwise co->pid stays 0 and why says so. */
void th_daemon_coturn_start(struct th_daemon *d, struct th_coturn *co, char *why, size_t cap);
/* Stops both by PID (the daemon must exit cleanly) and removes the daemon's directory. */
void th_daemon_coturn_stop(struct th_daemon *d, struct th_coturn *co);
/* A free port on 127.0.0.1 for both UDP and TCP (bound and released; small race). */
unsigned short th_free_port(void);

/* A UDP relay on 127.0.0.1 between up to TH_RELAY_CLIENTS clients and a server at
 * 127.0.0.1:upstream, run by a thread of its own: every datagram is held delay_us each way (0:
 * passed on at once), and the server sees each client from a socket of its own. th_relay_inject
 * sends a datagram to every client as if from the server: what a damaged or hostile path could
 * deliver. (Network namespaces with tc netem would delay in the kernel; this machine's kernel has
 * no netem.) */
#define TH_RELAY_CLIENTS 16
struct th_relay {
    unsigned short port; /* where clients send */
    unsigned short upstream;
    int64_t delay_us;
    int front;
    atomic_int stop;
    pthread_t thread;
    pthread_mutex_t lock;
    uint8_t inject[8][512];
    size_t inject_len[8];
    unsigned inject_times[8];
    int ninject;
    int held_backs[4]; /* th_relay_hand_over's sockets, oldest first */
    int nheld_backs;
    unsigned handed_over; /* clients that got one */
};
void th_relay_start(struct th_relay *r, unsigned short upstream, int64_t delay_us);
/* Queues buf (at most 512 bytes, 8 at a time) for every client; they go out at once. */
void th_relay_inject(struct th_relay *r, const uint8_t *buf, size_t len);
/* th_relay_inject, sent 'times' times over to every client: a flood. */
void th_relay_flood(struct th_relay *r, const uint8_t *buf, size_t len, unsigned times);
/* The next new client's upstream socket is fd (connected to the server; the relay owns it
 * now): a socket of the test's own on which the server already holds an allocation, so that
 * client's Allocate meets a 5-tuple that has one (437). Up to 4 queue up, one per new client. */
void th_relay_hand_over(struct th_relay *r, int fd);
/* How many new clients got a handed-over socket so far. */
unsigned th_relay_handed_over(struct th_relay *r);
void th_relay_stop(struct th_relay *r);

/* Runs this process out of descriptors: lowers RLIMIT_NOFILE's soft limit to the lowest free
 * descriptor, so the next socket() or open() in any thread fails with EMFILE (descriptors open
 * already stay). th_fd_restore() restores the limit. (In Check's fork mode only the test's
 * own process is affected.) */
struct th_fd_fill {
    struct rlimit saved;
};
void th_fd_exhaust(struct th_fd_fill *f);
void th_fd_restore(struct th_fd_fill *f);

/* Reads one HTTP request from c, a connected socket (each wait at most 2 s), into buf (cap bytes,
 * NUL-terminated): its body is the *ret_len bytes at buf + *ret_head (by Content-Length). False
 * when the request did not come whole. */
bool th_http_read_request(int c, char *buf, size_t cap, size_t *ret_head, size_t *ret_len);
/* An HTTP server on 127.0.0.1 (a free port) run by a thread of its own that keeps the body of
 * every request (a CDR receiver's POST), each followed by '\n', and answers 200. */
struct th_sink {
    unsigned short port;
    int fd, wake[2];
    pthread_t thread;
    pthread_mutex_t lock;
    char *bodies;
    size_t len, posts;
};
void th_sink_start(struct th_sink *s);
void th_sink_stop(struct th_sink *s);
/* How many times needle occurs in what s received so far. */
size_t th_sink_count(struct th_sink *s, const char *needle);

/* Copies the file from to to (mode 0600: a secrets key a daemon accepts), failing the test when
 * it cannot. */
void th_copy_file(const char *from, const char *to);

#endif
