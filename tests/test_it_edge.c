/* tests/test_it_edge.c: the HTTPS edge against clients that send little or nothing: stalled TLS
 * handshakes cost no CPU, each stage of a connection has a deadline, and slow clients from many
 * addresses cannot hold a port's every connection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <openssl/ssl.h>

#include "api/http/guard.h"
#include "api/util.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define CS "/api/v1/coSpaces"

/* A TCP connection from 'source' to the daemon's port; -1 when it could not connect. */
static int tcp_from(const char *source, unsigned short port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct sockaddr_in src = {.sin_family = AF_INET};
    struct timeval tv = {.tv_sec = 2};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(inet_pton(AF_INET, source, &src.sin_addr), 1);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        (void)close(fd);
        return -1;
    }
    return fd;
}

/* A connection that sends one byte of a TLS ClientHello (the record type) and stalls. */
static int half_handshake(const char *source, unsigned short port)
{
    int fd = tcp_from(source, port);

    if (fd >= 0 && send(fd, "\x16", 1, MSG_NOSIGNAL) != 1) {
        (void)close(fd);
        return -1;
    }
    return fd;
}

/* True when the daemon has closed fd (end of file or reset) within about 'ms'. */
static bool closed_within(int fd, int ms)
{
    for (int i = 0; i < ms / 100; i++) {
        struct pollfd pfd = {fd, POLLIN, 0};
        char buf[256];

        if (poll(&pfd, 1, 100) == 1 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
            return true;
    }
    return false;
}

/* utime + stime of pid, in seconds. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st), 2);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- a TLS client that can stop anywhere ------------------------------------------------- */

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    ck_assert_ptr_nonnull(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* loopback; the request is what matters */
    return ctx;
}

/* A TLS session from 'source' (blocking, 2 s socket timeouts), or NULL. */
static SSL *tls_from(SSL_CTX *ctx, const char *source, unsigned short port)
{
    int fd = tcp_from(source, port);
    SSL *ssl;

    if (fd < 0)
        return NULL;
    ssl = SSL_new(ctx);
    ck_assert_ptr_nonnull(ssl);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        (void)close(fd);
        return NULL;
    }
    return ssl;
}

static void tls_close(SSL *ssl)
{
    int fd;

    if (!ssl)
        return;
    fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    (void)close(fd);
}

static bool tls_send(SSL *ssl, const char *s)
{
    return SSL_write(ssl, s, (int)strlen(s)) == (int)strlen(s);
}

/* Reads one answer's head and the Content-Length bytes after it; returns its status or -1. */
static int tls_read_answer(SSL *ssl)
{
    char buf[16384];
    size_t len = 0;
    const char *end = NULL, *cl;
    int status = -1;

    while (len + 1 < sizeof(buf)) {
        int n = SSL_read(ssl, buf + len, (int)(sizeof(buf) - 1 - len));

        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            cl = strcasestr(buf, "\r\nContent-Length:");
            if (sscanf(buf, "HTTP/1.1 %d", &status) != 1 || !cl)
                return -1;
        }
        if (end && len >= (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10))
            return status;
    }
    return -1;
}

/* ---- CPU of stalled handshakes ------------------------------------------------------------ */

/* libmicrohttpd 0.9.75 in epoll mode spins a worker for each TLS connection stalled in its
 * handshake (about 1 CPU second a second each, until the idle timeout); the edge runs its poll
 * loop instead. */
START_TEST(test_stalled_handshakes_cost_no_cpu)
{
    static struct th_daemon d;
    int fds[4];
    double before, used;

    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", NULL);
    for (int i = 0; i < 4; i++) {
        fds[i] = half_handshake("127.0.0.1", d.ports[0]);
        ck_assert_int_ge(fds[i], 0);
    }
    (void)usleep(300 * 1000);
    before = cpu_seconds(d.pid);
    (void)sleep(3);
    used = cpu_seconds(d.pid) - before;
    fprintf(stderr, "4 stalled TLS handshakes: the daemon used %.2f CPU s in 3 s\n", used);
    ck_assert_msg(used < 0.5, "the daemon used %.2f CPU s in 3 s for 4 silent clients", used);
    for (int i = 0; i < 4; i++)
        (void)close(fds[i]);
    th_daemon_destroy(&d);
}
END_TEST

/* ---- stage deadlines ---------------------------------------------------------------------- */

/* A connection stalled in its handshake, its headers or its body is closed at that stage's
 * deadline, long before the idle timeout (which a trickling client would keep resetting); one
 * idle between requests is left to the idle timeout. */
START_TEST(test_stage_deadlines_close_stuck_connections_not_idle_ones)
{
    static const char *const args[] = {
        "--header-timeout", "2", "--body-timeout", "3", "--connection-timeout", "20", NULL};
    static struct th_daemon d;
    SSL_CTX *ctx = client_ctx();
    char req[512], auth[256], enc[200];
    char post[512];
    SSL *headers, *body, *idle;
    struct th_resp r;
    int handshake;
    int64_t t0;

    (void)signal(SIGPIPE, SIG_IGN);
    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", args);
    snprintf(auth, sizeof(auth), "admin:%s", d.password);
    ck_assert_int_gt(
        EVP_EncodeBlock((unsigned char *)enc, (unsigned char *)auth, (int)strlen(auth)), 0);
    snprintf(req, sizeof(req),
             "GET " CS " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\n\r\n", enc);
    snprintf(post, sizeof(post),
             "POST " CS " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\n"
             "Content-Length: 100\r\n\r\nname=slow",
             enc);

    idle = tls_from(ctx, "127.0.0.1", d.ports[0]); /* a request done, then keep-alive */
    ck_assert_ptr_nonnull(idle);
    ck_assert(tls_send(idle, req));
    ck_assert_int_eq(tls_read_answer(idle), 200);
    t0 = api_now_us();
    handshake = half_handshake("127.0.0.1", d.ports[0]); /* stuck in the TLS handshake */
    ck_assert_int_ge(handshake, 0);
    headers = tls_from(ctx, "127.0.0.1", d.ports[0]); /* stuck in its headers */
    ck_assert_ptr_nonnull(headers);
    ck_assert(tls_send(headers, "GET " CS " HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    body = tls_from(ctx, "127.0.0.1", d.ports[0]); /* stuck in its body: 9 of 100 bytes */
    ck_assert_ptr_nonnull(body);
    ck_assert(tls_send(body, post));

    ck_assert_msg(closed_within(handshake, 8000), "a stalled handshake outlived its deadline");
    ck_assert_msg(closed_within(SSL_get_fd(headers), 8000),
                  "unfinished headers outlived their deadline");
    ck_assert_msg(closed_within(SSL_get_fd(body), 8000), "a stalled body outlived its deadline");
    ck_assert_int_lt(api_now_us() - t0, 15 * 1000000); /* their deadline, not the idle timeout */
    ck_assert_uint_ge(th_log_count(&d, "did not complete its TLS handshake and request headers"),
                      1);
    th_admin(&d, "GET", "/metrics", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_double_ge(
        th_metric(r.body, "callbridge_http_closed_connections_total", "reason=\"headers\""), 2);
    ck_assert_double_ge(
        th_metric(r.body, "callbridge_http_closed_connections_total", "reason=\"body\""), 1);
    th_resp_free(&r);

    (void)sleep(2); /* idle for well over --header-timeout: still open, still served */
    ck_assert(tls_send(idle, req));
    ck_assert_int_eq(tls_read_answer(idle), 200);

    tls_close(idle);
    tls_close(headers);
    tls_close(body);
    (void)close(handshake);
    SSL_CTX_free(ctx);
    th_daemon_destroy(&d);
}
END_TEST

/* ---- slowloris from many addresses -------------------------------------------------------- */

#define SLOW_ADDRS 12 /* 127.0.0.2 to 127.0.0.13 */
#define SLOW_PER_ADDR 4

struct slowloris {
    unsigned short port;
    atomic_bool stop;
    atomic_uint opened; /* connections it got, reconnections included */
    pthread_t thread;
};

/* One slow client: the first six addresses trickle a TLS handshake (a record header announcing
 * 16 KB, then a byte at a time), the others complete it and trickle request headers. */
struct slow_conn {
    int fd;
    SSL *ssl;
};

static void slow_open(struct slowloris *s, SSL_CTX *ctx, int addr, struct slow_conn *c)
{
    char source[32];

    snprintf(source, sizeof(source), "127.0.0.%d", 2 + addr);
    if (addr < SLOW_ADDRS / 2) {
        c->fd = tcp_from(source, s->port);
        if (c->fd >= 0 && send(c->fd, "\x16\x03\x01\x40\x00", 5, MSG_NOSIGNAL) != 5) {
            (void)close(c->fd);
            c->fd = -1;
        }
    } else {
        c->ssl = tls_from(ctx, source, s->port);
        c->fd = c->ssl ? SSL_get_fd(c->ssl) : -1;
        if (c->ssl && !tls_send(c->ssl, "GET " CS " HTTP/1.1\r\nHost: x\r\n")) {
            tls_close(c->ssl);
            c->ssl = NULL;
            c->fd = -1;
        }
    }
    if (c->fd >= 0)
        atomic_fetch_add(&s->opened, 1);
}

/* Trickles one byte (or header line); false when the daemon has closed the connection. */
static bool slow_trickle(struct slow_conn *c)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};
    char buf[64];

    if (poll(&pfd, 1, 0) == 1 && recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
        return false;
    if (c->ssl)
        return tls_send(c->ssl, "X-a: b\r\n");
    return send(c->fd, "", 1, MSG_NOSIGNAL) == 1;
}

static void *slowloris_main(void *arg)
{
    struct slowloris *s = arg;
    struct slow_conn conns[SLOW_ADDRS][SLOW_PER_ADDR];
    SSL_CTX *ctx = client_ctx();

    for (int a = 0; a < SLOW_ADDRS; a++)
        for (int k = 0; k < SLOW_PER_ADDR; k++)
            conns[a][k] = (struct slow_conn){-1, NULL};
    /* at most 120 s; a connection the daemon closed is opened again on the next round */
    for (int round = 0; round < 600 && !atomic_load(&s->stop); round++) {
        for (int a = 0; a < SLOW_ADDRS; a++) {
            for (int k = 0; k < SLOW_PER_ADDR; k++) {
                struct slow_conn *c = &conns[a][k];

                if (c->fd >= 0 && !slow_trickle(c)) {
                    if (c->ssl)
                        tls_close(c->ssl);
                    else
                        (void)close(c->fd);
                    *c = (struct slow_conn){-1, NULL};
                } else if (c->fd < 0) {
                    slow_open(s, ctx, a, c);
                }
            }
        }
        (void)usleep(200 * 1000);
    }
    for (int a = 0; a < SLOW_ADDRS; a++) {
        for (int k = 0; k < SLOW_PER_ADDR; k++) {
            if (conns[a][k].ssl)
                tls_close(conns[a][k].ssl);
            else if (conns[a][k].fd >= 0)
                (void)close(conns[a][k].fd);
        }
    }
    SSL_CTX_free(ctx);
    return NULL;
}

/* 12 addresses with 4 connections each could hold all 40 of the port's. Connections that have
 * not completed a request give way to new ones: every legitimate request is served. */
START_TEST(test_slowloris_from_many_addresses_cannot_hold_the_port)
{
    static const char *const args[] = {
        "--connection-limit", "40", "--per-ip-connection-limit", "4", "--threads", "2", NULL};
    static struct th_daemon d;
    struct slowloris s = {0};
    struct th_resp r;
    int served = 0;

    (void)signal(SIGPIPE, SIG_IGN); /* SSL_write to a connection the daemon closed */
    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", args);
    s.port = d.ports[0];
    ck_assert_int_eq(pthread_create(&s.thread, NULL, slowloris_main, &s), 0);
    for (int i = 0; i < 100 && atomic_load(&s.opened) < 40; i++) /* the port fills (<= 10 s) */
        (void)usleep(100 * 1000);
    ck_assert_uint_ge(atomic_load(&s.opened), 40);
    (void)sleep(1);

    for (int i = 0; i < 20; i++) {
        int rc = th_http_try(&d, d.ports[0], "GET", CS, "admin", d.password, NULL, NULL, 0, &r);

        served += rc == CURLE_OK && r.status == 200;
        th_resp_free(&r);
    }
    atomic_store(&s.stop, true);
    ck_assert_int_eq(pthread_join(s.thread, NULL), 0);
    fprintf(stderr, "slowloris from %d addresses: %d of 20 requests served, %u slow connections\n",
            SLOW_ADDRS, served, atomic_load(&s.opened));
    ck_assert_int_eq(served, 20);
    ck_assert_uint_ge(th_log_count(&d, "is closed to admit a new one"), 1);
    th_daemon_destroy(&d);
}
END_TEST

/* ---- the connection table alone, on socket pairs ----------------------------------------- */

/* True when the guard has shut down the socket whose peer is 'peer'. */
static bool is_shut(int peer)
{
    char c;

    return recv(peer, &c, 1, MSG_DONTWAIT) == 0;
}

START_TEST(test_guard_evicts_unfinished_then_idle_oldest_first_never_busy)
{
    struct api_guard_config cfg = {.nports = 1,
                                   .limit = 4,
                                   .capacity = 6,
                                   .head_ms = 60000,
                                   .body_ms = 60000,
                                   .idle_ms = 60000};
    struct api_guard *g;
    struct api_guard_conn *c[4];
    int sv[4][2];

    ck_assert_int_eq(api_guard_start(&cfg, &g), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]), 0);
        ck_assert(api_guard_admit(g, 0, 443));
        c[i] = api_guard_open(g, 0, sv[i][0]);
        ck_assert_ptr_nonnull(c[i]);
        (void)usleep(2000); /* distinct ages */
    }
    api_guard_stage(g, c[0], API_GUARD_BUSY); /* handled: never evicted */
    api_guard_stage(g, c[1], API_GUARD_IDLE); /* kept alive after a request */
    api_guard_stage(g, c[2], API_GUARD_BODY); /* sending its body */
    /* c[3] is in its handshake or headers */

    /* full: the one in HEAD gives way first (the admitted ones open without a socket here) */
    ck_assert(api_guard_admit(g, 0, 443));
    ck_assert_ptr_null(api_guard_open(g, 0, -1));
    ck_assert(is_shut(sv[3][1]) && !is_shut(sv[2][1]) && !is_shut(sv[1][1]));
    ck_assert(api_guard_admit(g, 0, 443)); /* then the one in BODY */
    ck_assert_ptr_null(api_guard_open(g, 0, -1));
    ck_assert(is_shut(sv[2][1]) && !is_shut(sv[1][1]));
    ck_assert(!api_guard_admit(g, 0, 443)); /* at capacity (6 open, 2 closing): refused */
    api_guard_close(g, 0, c[3]);
    api_guard_close(g, 0, c[2]);
    ck_assert(api_guard_admit(g, 0, 443)); /* then the idle one */
    ck_assert_ptr_null(api_guard_open(g, 0, -1));
    ck_assert(is_shut(sv[1][1]) && !is_shut(sv[0][1]));
    api_guard_close(g, 0, c[1]);
    for (int i = 0; i < 3; i++)
        api_guard_close(g, 0, NULL);
    ck_assert(api_guard_admit(g, 0, 443)); /* room again: nobody else gives way */
    ck_assert(!is_shut(sv[0][1]));
    api_guard_close(g, 0, c[0]);
    api_guard_stop(g);
    for (int i = 0; i < 4; i++) {
        (void)close(sv[i][0]);
        (void)close(sv[i][1]);
    }
}
END_TEST

Suite *it_edge_suite(void)
{
    Suite *s = suite_create("it_edge");
    TCase *tg = tcase_create("guard");
    TCase *tc = tcase_create("edge");

    tcase_add_test(tg, test_guard_evicts_unfinished_then_idle_oldest_first_never_busy);
    suite_add_tcase(s, tg);

    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_stalled_handshakes_cost_no_cpu);
    tcase_add_test(tc, test_stage_deadlines_close_stuck_connections_not_idle_ones);
    tcase_add_test(tc, test_slowloris_from_many_addresses_cannot_hold_the_port);
    suite_add_tcase(s, tc);
    return s;
}
