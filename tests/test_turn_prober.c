/* tests/test_turn_prober.c: the prober thread against real peers: coturn (UDP and TCP, wrong
 * password, quota across cycles, redirect), nothing listening, an unresolvable name, and a fake
 * Expressway-style responder that answers authenticated Allocates with 431; and, without any
 * peer, what a probe's outcome says (turnclient/verdict.c) with known values. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "tests/suites.h"
#include "turnclient/prober_int.h"
#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

static struct turn_prober *prober;
static struct th_coturn co;
static char why[128];
static sem_t done_sem;

static void on_done(void *ctx)
{
    (void)ctx;
    sem_post(&done_sem);
}

static void setup(void)
{
    struct turn_prober_config cfg = {
        .interval_us = 2 * 1000000, .software = "cb-test", .resolver_threads = 2};

    turn_txn_config_rfc(&cfg.txn);
    cfg.txn.rto_us = 200 * 1000;
    cfg.txn.max_sends = 4;
    cfg.txn.last_wait = 4;
    cfg.txn.budget_us = 3 * 1000000;
    cfg.txn.reliable_us = 3 * 1000000;
    sem_init(&done_sem, 0, 0);
    ck_assert_int_eq(turn_prober_start(&cfg, &prober), 0);
}

static void teardown(void)
{
    turn_prober_stop(prober);
    prober = NULL;
    sem_destroy(&done_sem);
}

static struct turn_server_spec spec_for(const char *id, const char *host, unsigned short port,
                                        const char *pass)
{
    struct turn_server_spec s = {0};

    snprintf(s.id, sizeof(s.id), "%s", id);
    snprintf(s.host, sizeof(s.host), "%s", host);
    s.port = port;
    snprintf(s.username, sizeof(s.username), "alice");
    snprintf(s.password, sizeof(s.password), "%s", pass);
    return s;
}

/* Sets the spec and waits (bounded) for its first results. */
static struct turn_server_status probe(const struct turn_server_spec *s)
{
    struct turn_server_status st;
    struct timespec until;

    ck_assert_int_eq(turn_prober_set(prober, s), 0);
    ck_assert_int_eq(turn_prober_wait(prober, s->id, turn_now_us() + 8 * 1000000, on_done, NULL),
                     0);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    ck_assert_int_eq(sem_timedwait(&done_sem, &until), 0);
    ck_assert_int_eq(turn_prober_get(prober, s->id, &st), 0);
    ck_assert_msg(st.probed, "no results within the wait");
    return st;
}

START_TEST(test_coturn_udp_and_tcp_reachable)
{
    struct turn_server_spec s;
    struct turn_server_status st;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&co, NULL);
    s = spec_for("srv-ok", "127.0.0.1", co.port, "secret");
    s.tcp_port = co.port;
    st = probe(&s);
    ck_assert_uint_eq(st.nhosts, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct turn_host_status *h = &st.hosts[i];

        ck_assert_msg(h->reachable, "%s/%s: %s", h->address, h->tcp ? "tcp" : "udp", h->detail);
        ck_assert_str_eq(h->address, "127.0.0.1");
        ck_assert_uint_eq(h->port, co.port);
        ck_assert_str_eq(h->mapped, "127.0.0.1");
        ck_assert_uint_ge(h->relayed_port, co.min_port);
        ck_assert_uint_le(h->relayed_port, co.max_port);
        ck_assert_int_ge(h->rtt_us, 0);
        ck_assert_int_gt(h->checked_unix, 0);
    }
    ck_assert(st.hosts[0].tcp != st.hosts[1].tcp);
    th_coturn_stop(&co);
}
END_TEST

START_TEST(test_wrong_password_and_unreachable_and_dns)
{
    struct turn_server_spec s;
    struct turn_server_status st;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&co, NULL);
    s = spec_for("srv-badpw", "127.0.0.1", co.port, "wrong");
    st = probe(&s);
    ck_assert_uint_eq(st.nhosts, 1);
    ck_assert(!st.hosts[0].reachable);
    ck_assert_int_eq(st.hosts[0].failure, TURN_FAIL_UNAUTHORIZED);
    ck_assert_int_eq(st.hosts[0].error_code, 401);
    ck_assert_ptr_nonnull(strstr(st.hosts[0].detail, "check the username and password"));

    s = spec_for("srv-closed", "127.0.0.1", th_free_port(), "secret");
    st = probe(&s);
    ck_assert_int_eq(st.hosts[0].failure, TURN_FAIL_PORT_UNREACHABLE);

    s = spec_for("srv-dns", "no-such-host.invalid", 3478, "secret");
    st = probe(&s);
    ck_assert_int_eq(st.dns, TURN_FAIL_DNS);
    ck_assert_uint_eq(st.nhosts, 0);
    ck_assert_ptr_nonnull(strstr(st.dns_detail, "no-such-host.invalid does not resolve"));

    s = spec_for("srv-name", "localhost", co.port, "secret"); /* resolved by the pool */
    st = probe(&s);
    ck_assert_uint_ge(st.nhosts, 1);
    ck_assert_msg(st.hosts[0].reachable, "%s", st.hosts[0].detail);

    turn_prober_remove(prober, "srv-name");
    for (int i = 0; i < 100 && turn_prober_get(prober, "srv-name", &st) == 0; i++)
        usleep(10 * 1000);
    ck_assert_int_eq(turn_prober_get(prober, "srv-name", &st), -ENOENT);
    th_coturn_stop(&co);
}
END_TEST

START_TEST(test_back_to_back_cycles_under_quota)
{
    static const char *const args[] = {"--user-quota=1", NULL};
    struct turn_server_spec s;
    struct turn_server_status st;
    int reachable = 0;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&co, args);
    s = spec_for("srv-quota", "127.0.0.1", co.port, "secret");
    st = probe(&s);
    ck_assert(st.hosts[0].reachable);
    for (int cycle = 0; cycle < 3; cycle++) { /* the prober repeats every 2 s by itself */
        int64_t checked = st.hosts[0].checked_unix;

        for (int i = 0; i < 60 && st.hosts[0].checked_unix == checked; i++) {
            usleep(100 * 1000);
            ck_assert_int_eq(turn_prober_get(prober, s.id, &st), 0);
        }
        ck_assert_msg(st.hosts[0].reachable, "cycle %d: %s", cycle, st.hosts[0].detail);
        reachable++;
    }
    ck_assert_int_eq(reachable, 3);
    th_coturn_stop(&co);
}
END_TEST

START_TEST(test_redirect_followed_once)
{
    struct th_coturn target;
    char alt[64];
    const char *args[] = {alt, NULL};
    struct turn_server_spec s;
    struct turn_server_status st;
    char want[64];

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&target, NULL);
    snprintf(alt, sizeof(alt), "--alternate-server=127.0.0.1:%u", target.port);
    th_coturn_start(&co, args);
    s = spec_for("srv-redirect", "127.0.0.1", co.port, "secret");
    st = probe(&s);
    ck_assert_msg(st.hosts[0].reachable, "%s", st.hosts[0].detail);
    ck_assert_uint_eq(st.hosts[0].port, target.port); /* the address actually probed */
    snprintf(want, sizeof(want), "127.0.0.1:%u", co.port);
    ck_assert_str_eq(st.hosts[0].redirected_from, want);
    th_coturn_stop(&co);
    th_coturn_stop(&target);
}
END_TEST

/* A fake Expressway: 401 with REALM/NONCE to the first Allocate, 431 to the signed one. */
struct fake {
    int fd;
    unsigned short port;
    atomic_int stop;
};

static void *fake_expressway(void *arg)
{
    struct fake *f = arg;

    for (int i = 0; i < 200 && !f->stop; i++) { /* bounded: at most 200 datagrams or 20 s */
        struct pollfd pfd = {f->fd, POLLIN, 0};
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        uint8_t buf[1500], out[512];
        struct stun_writer w;
        struct stun_msg m;
        ssize_t n;
        long len;

        if (poll(&pfd, 1, 100) <= 0)
            continue;
        n = recvfrom(f->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
        if (n <= 0 || stun_decode_datagram(buf, (size_t)n, &m) < 0 || m.cls != STUN_REQUEST)
            continue;
        stun_writer_init(&w, out, sizeof(out), m.method, STUN_ERROR, m.tid);
        if (!m.username.ptr) {
            stun_put_error(&w, 401, "Unauthorized");
            stun_put_str(&w, STUN_ATTR_REALM, "expressway.example.com");
            stun_put_str(&w, STUN_ATTR_NONCE, "0123456789abcdef");
        } else {
            stun_put_error(&w, 431, "Integrity Check Failure");
        }
        len = stun_writer_finish(&w);
        (void)sendto(f->fd, out, (size_t)len, 0, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

/* A server that still holds an allocation on the first client port it sees: 437 to that port's
 * authenticated Allocate, success (signed, as coturn signs) from any other port. */
static void *lingering_allocation_server(void *arg)
{
    static const uint8_t key[16] = {0xb0, 0xa2, 0xc4, 0x76, 0xb8, 0x9d, 0x2f, 0x90,
                                    0x85, 0xdd, 0x46, 0x34, 0x30, 0xf4, 0x61, 0x7c};
    struct fake *f = arg;
    in_port_t first_port = 0;

    for (int i = 0; i < 200 && !f->stop; i++) {
        struct pollfd pfd = {f->fd, POLLIN, 0};
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        uint8_t buf[1500], out[512];
        struct stun_writer w;
        struct stun_msg m;
        ssize_t n;

        if (poll(&pfd, 1, 100) <= 0)
            continue;
        n = recvfrom(f->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
        if (n <= 0 || stun_decode_datagram(buf, (size_t)n, &m) < 0 || m.cls != STUN_REQUEST)
            continue;
        if (!first_port)
            first_port = from.sin_port;
        if (!m.username.ptr) {
            stun_writer_init(&w, out, sizeof(out), m.method, STUN_ERROR, m.tid);
            stun_put_error(&w, 401, "Unauthorized");
            stun_put_str(&w, STUN_ATTR_REALM, "test.local");
            stun_put_str(&w, STUN_ATTR_NONCE, "e5dccdcee07d20e1");
        } else if (m.method == STUN_ALLOCATE && from.sin_port == first_port) {
            stun_writer_init(&w, out, sizeof(out), m.method, STUN_ERROR, m.tid);
            stun_put_error(&w, 437, "Mismatched allocation: wrong transaction ID");
            stun_put_integrity(&w, key, 16);
        } else {
            stun_writer_init(&w, out, sizeof(out), m.method, STUN_SUCCESS, m.tid);
            if (m.method == STUN_ALLOCATE) {
                struct sockaddr_in relayed = from;

                relayed.sin_port = htons(50999);
                stun_put_addr(&w, STUN_ATTR_XOR_RELAYED_ADDRESS, (struct sockaddr *)&relayed);
                stun_put_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, (struct sockaddr *)&from);
            }
            stun_put_u32(&w, STUN_ATTR_LIFETIME, m.method == STUN_ALLOCATE ? 600 : 0);
            stun_put_integrity(&w, key, 16);
        }
        (void)sendto(f->fd, out, (size_t)stun_writer_finish(&w), 0, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

/* Starts a fake server thread on a loopback UDP socket. */
static void fake_start(struct fake *f, pthread_t *t, void *(*main_fn)(void *))
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);

    memset(f, 0, sizeof(*f));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(getsockname(f->fd, (struct sockaddr *)&sin, &len), 0);
    f->port = ntohs(sin.sin_port);
    ck_assert_int_eq(pthread_create(t, NULL, main_fn, f), 0);
}

static void fake_stop(struct fake *f, pthread_t t)
{
    f->stop = 1;
    pthread_join(t, NULL);
    close(f->fd);
}

START_TEST(test_437_retried_from_a_fresh_port)
{
    struct turn_server_spec s;
    struct turn_server_status st;
    struct fake f;
    pthread_t t;

    fake_start(&f, &t, lingering_allocation_server);
    s = spec_for("srv-437", "127.0.0.1", f.port, "secret");
    st = probe(&s);
    fake_stop(&f, t);
    ck_assert_msg(st.hosts[0].reachable, "%s", st.hosts[0].detail);
    ck_assert_uint_eq(st.hosts[0].relayed_port, 50999);
}
END_TEST

START_TEST(test_expressway_431)
{
    struct turn_server_spec s;
    struct turn_server_status st;
    struct fake f;
    pthread_t t;

    fake_start(&f, &t, fake_expressway);
    s = spec_for("srv-431", "127.0.0.1", f.port, "wrong-password");
    st = probe(&s);
    fake_stop(&f, t);
    ck_assert_int_eq(st.hosts[0].failure, TURN_FAIL_INTEGRITY);
    ck_assert_int_eq(st.hosts[0].error_code, 431);
    ck_assert_ptr_nonnull(strstr(st.hosts[0].detail, "431 Integrity Check Failure"));
}
END_TEST

/* ---- hostile servers ------------------------------------------------------------------------ */

/* Waits (bounded) for a request on f->fd; false when none came or the test is ending. */
static bool next_request(struct fake *f, struct sockaddr_in *from, struct stun_msg *m, uint8_t *buf,
                         size_t cap)
{
    for (int i = 0; i < 100 && !f->stop; i++) { /* 10 s */
        struct pollfd pfd = {f->fd, POLLIN, 0};
        socklen_t flen = sizeof(*from);
        ssize_t n;

        if (poll(&pfd, 1, 100) <= 0)
            continue;
        n = recvfrom(f->fd, buf, cap, 0, (struct sockaddr *)from, &flen);
        if (n > 0 && stun_decode_datagram(buf, (size_t)n, m) == 0 && m->cls == STUN_REQUEST)
            return true;
    }
    return false;
}

/* The challenge a real server sends to an Allocate without credentials. */
static size_t challenge(const struct stun_msg *m, uint8_t *out, size_t cap)
{
    struct stun_writer w;

    stun_writer_init(&w, out, cap, m->method, STUN_ERROR, m->tid);
    stun_put_error(&w, 401, "Unauthorized");
    stun_put_str(&w, STUN_ATTR_REALM, "hostile.example.com");
    stun_put_str(&w, STUN_ATTR_NONCE, "0123456789abcdef");
    return (size_t)stun_writer_finish(&w);
}

/* Garbage: random bytes, a STUN header with the request's transaction id claiming 400 bytes
 * it does not have, then a "success" without an XOR-RELAYED-ADDRESS, unsigned. */
static void *garbage_server(void *arg)
{
    struct fake *f = arg;
    struct sockaddr_in from;
    uint8_t buf[1500], out[512];
    struct stun_msg m;
    unsigned seed = 7;

    for (int i = 0; i < 20 && next_request(f, &from, &m, buf, sizeof(buf)); i++) {
        struct stun_writer w;

        for (size_t k = 0; k < 100; k++)
            out[k] = (uint8_t)rand_r(&seed);
        (void)sendto(f->fd, out, 100, 0, (struct sockaddr *)&from, sizeof(from));
        memcpy(out, buf, 20);
        out[0] = 0x01, out[1] = 0x03, out[2] = 0x01, out[3] = 0x90; /* Allocate success, 400 */
        (void)sendto(f->fd, out, 20, 0, (struct sockaddr *)&from, sizeof(from));
        stun_writer_init(&w, out, sizeof(out), m.method, STUN_SUCCESS, m.tid);
        stun_put_u32(&w, STUN_ATTR_LIFETIME, 600);
        (void)sendto(f->fd, out, (size_t)stun_writer_finish(&w), 0, (struct sockaddr *)&from,
                     sizeof(from));
    }
    return NULL;
}

/* Answers correctly, but 4 s late: past the prober's 3 s budget. */
static void *slow_server(void *arg)
{
    struct fake *f = arg;
    struct sockaddr_in from;
    uint8_t buf[1500], out[512];
    struct stun_msg m;

    if (next_request(f, &from, &m, buf, sizeof(buf))) {
        for (int i = 0; i < 40 && !f->stop; i++)
            (void)usleep(100 * 1000);
        (void)sendto(f->fd, out, challenge(&m, out, sizeof(out)), 0, (struct sockaddr *)&from,
                     sizeof(from));
    }
    return NULL;
}

/* Answers every request at once, from another port of the same address. */
static void *elsewhere_server(void *arg)
{
    struct fake *f = arg;
    struct sockaddr_in from;
    uint8_t buf[1500], out[512];
    struct stun_msg m;
    int other = socket(AF_INET, SOCK_DGRAM, 0);

    for (int i = 0; i < 20 && next_request(f, &from, &m, buf, sizeof(buf)); i++)
        (void)sendto(other, out, challenge(&m, out, sizeof(out)), 0, (struct sockaddr *)&from,
                     sizeof(from));
    close(other);
    return NULL;
}

static unsigned flooded;

/* Bytes waiting in the receive queue of the UDP socket on local port 'port', as /proc/net/udp
 * shows them; -1 when there is none. */
static long udp_rx_queue(unsigned short port)
{
    FILE *f = fopen("/proc/net/udp", "r");
    char line[512];
    long queued = -1;

    if (!f)
        return -1;
    while (queued < 0 && fgets(line, sizeof(line), f)) {
        unsigned local_port, tx, rx;

        if (sscanf(line, " %*u: %*x:%x %*x:%*x %*x %x:%x", &local_port, &tx, &rx) == 3 &&
            local_port == port)
            queued = (long)rx;
    }
    (void)fclose(f);
    return queued;
}

/* Floods the client with 20,000 datagrams (junk, STUN answers to transactions it never
 * started, ChannelData) before each true answer, which is the Expressway's 401 then 431. The
 * answer waits (up to 1 s) until the client's receive queue has room again: what the test asks
 * is that the prober finds it among the junk, and on a loaded machine its (niced) thread falls
 * behind the flood and the kernel would drop the answer itself with the overflow (one busy loop
 * beside make test did that). */
static void *flooding_server(void *arg)
{
    struct fake *f = arg;
    struct sockaddr_in from;
    uint8_t buf[1500], out[512], junk[3][64];
    struct stun_msg m;
    uint8_t tid[12] = {9, 9, 9};
    struct stun_writer w;

    memset(junk[0], 0xa5, sizeof(junk[0]));
    stun_writer_init(&w, junk[1], sizeof(junk[1]), STUN_ALLOCATE, STUN_ERROR, tid);
    stun_put_error(&w, 401, "Unauthorized");
    ck_assert_int_le(stun_writer_finish(&w), 64);
    memcpy(junk[2], (const uint8_t[]){0x40, 0x00, 0x00, 0x3c}, 4);
    for (int i = 0; i < 20 && next_request(f, &from, &m, buf, sizeof(buf)); i++) {
        for (unsigned k = 0; k < 20000; k++, flooded++)
            (void)sendto(f->fd, junk[k % 3], sizeof(junk[0]), 0, (struct sockaddr *)&from,
                         sizeof(from));
        for (int waited = 0; waited < 200 && udp_rx_queue(ntohs(from.sin_port)) > 0; waited++)
            (void)usleep(5 * 1000);
        if (!m.username.ptr) {
            (void)sendto(f->fd, out, challenge(&m, out, sizeof(out)), 0, (struct sockaddr *)&from,
                         sizeof(from));
        } else {
            stun_writer_init(&w, out, sizeof(out), m.method, STUN_ERROR, m.tid);
            stun_put_error(&w, 431, "Integrity Check Failure");
            (void)sendto(f->fd, out, (size_t)stun_writer_finish(&w), 0, (struct sockaddr *)&from,
                         sizeof(from));
        }
    }
    return NULL;
}

START_TEST(test_hostile_servers)
{
    static const struct {
        const char *id;
        void *(*fn)(void *);
        enum turn_failure failure;
        const char *detail;
    } cases[] = {
        {"srv-garbage", garbage_server, TURN_FAIL_PROTOCOL, "without XOR-RELAYED-ADDRESS"},
        {"srv-slow", slow_server, TURN_FAIL_TIMEOUT, ""},
        {"srv-elsewhere", elsewhere_server, TURN_FAIL_TIMEOUT, ""},
        {"srv-flood", flooding_server, TURN_FAIL_INTEGRITY, "431"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct turn_server_spec s;
        struct turn_server_status st;
        struct fake f;
        pthread_t t;

        fake_start(&f, &t, cases[i].fn);
        s = spec_for(cases[i].id, "127.0.0.1", f.port, "secret");
        st = probe(&s);
        fake_stop(&f, t);
        ck_assert_msg(!st.hosts[0].reachable && st.hosts[0].failure == cases[i].failure,
                      "%s: reachable %d, failure %d (%s)", cases[i].id, st.hosts[0].reachable,
                      (int)st.hosts[0].failure, st.hosts[0].detail);
        ck_assert_msg(strstr(st.hosts[0].detail, cases[i].detail), "%s: %s", cases[i].id,
                      st.hosts[0].detail);
        fprintf(stderr, "%s: %s\n", cases[i].id, st.hosts[0].detail);
        turn_prober_remove(prober, cases[i].id);
    }
    ck_assert_uint_ge(flooded, 40000); /* both answers came through a flood */
}
END_TEST

START_TEST(test_ipv6_loopback)
{
    static const char *const args[] = {"--listening-ip=::1", "--relay-ip=::1", NULL};
    struct turn_server_spec s;
    struct turn_server_status st;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&co, args);
    s = spec_for("srv-v6", "::1", co.port, "secret");
    st = probe(&s);
    ck_assert_uint_eq(st.nhosts, 1);
    ck_assert_str_eq(st.hosts[0].address, "::1");
    ck_assert_msg(st.hosts[0].reachable, "%s", st.hosts[0].detail);
    ck_assert_str_eq(st.hosts[0].mapped, "::1");
    /* no REQUESTED-ADDRESS-FAMILY: the relay is IPv4 by default (RFC 8656 §7.1) */
    ck_assert_str_eq(st.hosts[0].relayed, "127.0.0.1");
    th_coturn_stop(&co);
}
END_TEST

START_TEST(test_rtt_is_real)
{
    struct th_relay dl;
    struct turn_server_spec s;
    struct turn_server_status st;
    int64_t least = INT64_MAX;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    fprintf(stderr, "test_rtt_is_real: 20 ms each way by a user-space delay line (no tc netem "
                    "in this kernel for a network-namespace test)\n");
    th_coturn_start(&co, NULL);
    th_relay_start(&dl, co.port, 20000);
    /* Never under the 40 ms the line holds a datagram; over it by the scheduling of the relay
     * thread and the prober. That reached 3.8 ms once under ASan on a busy 2-core box, and
     * 13.7 ms with make test's two lanes running beside: the least of up to five probes (each a
     * new server, so a fresh first measurement) is the one taken, as the scheduling only adds. */
    for (int i = 0; i < 5 && least > 48000; i++) {
        char id[24];

        snprintf(id, sizeof(id), "srv-far-%d", i);
        s = spec_for(id, "127.0.0.1", dl.port, "secret");
        st = probe(&s);
        ck_assert_msg(st.hosts[0].reachable, "%s", st.hosts[0].detail);
        ck_assert_msg(st.hosts[0].rtt_us >= 39000, "rtt %lld us, under the line's 40 ms",
                      (long long)st.hosts[0].rtt_us);
        least = st.hosts[0].rtt_us < least ? st.hosts[0].rtt_us : least;
        turn_prober_remove(prober, id);
    }
    th_relay_stop(&dl);
    ck_assert_msg(least <= 48000, "least rtt of five probes %lld us, want 40 ms (39 to 48)",
                  (long long)least);
    th_coturn_stop(&co);
}
END_TEST

/* The results of server id once a probe has found 'failure' on its first host, or the last
 * seen after 8 s. */
static struct turn_server_status wait_for_failure(const char *id, enum turn_failure failure)
{
    struct turn_server_status st = {0};

    for (int i = 0; i < 160; i++) {
        int r = turn_prober_get(prober, id, &st); /* -ENOENT: the set is still queued */

        ck_assert(r == 0 || r == -ENOENT);
        if (r == 0 && st.probed && st.nhosts > 0 && st.hosts[0].failure == failure)
            break;
        usleep(50 * 1000);
    }
    return st;
}

/* Issue 12, items 4 and 12: a probe that cannot open its socket (this process is out of
 * descriptors) says so, localResourceLimit naming RLIMIT_NOFILE, and keeps the server's last
 * result; it never says portUnreachable, and the server is reachable again once it can probe. */
START_TEST(test_no_socket_is_a_local_failure_not_the_servers)
{
    struct turn_server_spec s, fresh;
    struct turn_server_status before, during, first, after;
    struct th_fd_fill fill;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&co, NULL);
    s = spec_for("srv-kept", "127.0.0.1", co.port, "secret");
    before = probe(&s);
    ck_assert_msg(before.hosts[0].reachable, "%s", before.hosts[0].detail);

    th_fd_exhaust(&fill); /* the next cycle (2 s) finds no descriptor */
    during = wait_for_failure("srv-kept", TURN_FAIL_LOCAL);
    fresh = spec_for("srv-fresh", "127.0.0.1", co.port, "secret"); /* never probed */
    ck_assert_int_eq(turn_prober_set(prober, &fresh), 0);
    first = wait_for_failure("srv-fresh", TURN_FAIL_LOCAL);
    th_fd_restore(&fill);

    ck_assert_msg(during.hosts[0].failure == TURN_FAIL_LOCAL, "%s: %s",
                  turn_failure_name(during.hosts[0].failure), during.hosts[0].detail);
    ck_assert_str_eq(turn_failure_name(TURN_FAIL_LOCAL), "localResourceLimit");
    ck_assert(during.hosts[0].reachable); /* kept: the server was not tried */
    ck_assert_int_eq(during.hosts[0].rtt_us, before.hosts[0].rtt_us);
    ck_assert_int_eq(during.hosts[0].checked_unix, before.hosts[0].checked_unix);
    ck_assert_ptr_nonnull(strstr(during.hosts[0].detail, "Too many open files"));
    ck_assert_ptr_nonnull(strstr(during.hosts[0].detail, "RLIMIT_NOFILE"));
    ck_assert_ptr_nonnull(strstr(during.hosts[0].detail, "its last result is kept"));
    ck_assert_uint_ge(during.hosts[0].probes[TURN_FAIL_LOCAL], 1);
    ck_assert_uint_eq(during.hosts[0].probes[TURN_FAIL_PORT_UNREACHABLE], 0);
    ck_assert_msg(turn_prober_is_reachable(prober, "srv-kept",
                                           (struct sockaddr *)&(struct sockaddr_in){
                                               .sin_family = AF_INET,
                                               .sin_port = htons(co.port),
                                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}),
                  "media would leave a server that was never tried");

    ck_assert_int_eq(first.hosts[0].failure, TURN_FAIL_LOCAL); /* nothing to keep: not reachable */
    ck_assert(!first.hosts[0].reachable);
    ck_assert_ptr_nonnull(strstr(first.hosts[0].detail, "it has no earlier result"));

    after = wait_for_failure("srv-kept", TURN_OK); /* descriptors again: probed for real */
    ck_assert_msg(after.hosts[0].reachable, "%s", after.hosts[0].detail);
    ck_assert_int_gt(after.hosts[0].checked_unix, 0);
    th_coturn_stop(&co);
}
END_TEST

/* Sockets of this process now: the entries of /proc/self/fd that are sockets. */
static int count_sockets(void)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!dir)
        return -1;
    while ((e = readdir(dir))) {
        char path[300], link[64];
        ssize_t len;

        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        len = readlink(path, link, sizeof(link) - 1);
        if (len > 0 && strncmp(link, "socket:", 7) == 0 && (size_t)len < sizeof(link))
            n++;
    }
    closedir(dir);
    return n;
}

struct sampler {
    pthread_t thread;
    atomic_bool stop;
    atomic_int peak;
};

/* Samples the socket count every half millisecond, at most 60,000 times (30 s and more). */
static void *sample_sockets(void *arg)
{
    struct sampler *sm = arg;

    for (int i = 0; i < 60000 && !atomic_load(&sm->stop); i++) {
        int n = count_sockets();

        if (n > atomic_load(&sm->peak))
            atomic_store(&sm->peak, n);
        usleep(500);
    }
    return NULL;
}

/* Issue 12: the prober holds at most cfg.max_sockets sockets at once (the daemon's reserve for
 * it); probes past the cap wait and start as sockets are released, and every server is still
 * probed. 10 servers with UDP and TCP are 20 probes against a cap of 4. */
START_TEST(test_socket_cap_queues_probes)
{
    struct turn_prober_config cfg = {.interval_us = 600 * 1000000LL,
                                     .software = "cb-test",
                                     .resolver_threads = 2,
                                     .max_sockets = 4};
    struct sampler sm = {.peak = 0};
    size_t open_now, peak, cap;
    int base;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&co, NULL);
    turn_prober_stop(prober); /* the fixture's has no cap */
    turn_txn_config_rfc(&cfg.txn);
    cfg.txn.budget_us = 3 * 1000000;
    cfg.txn.reliable_us = 3 * 1000000;
    ck_assert_int_eq(turn_prober_start(&cfg, &prober), 0);
    base = count_sockets();
    ck_assert_int_ge(base, 0);
    ck_assert_int_eq(pthread_create(&sm.thread, NULL, sample_sockets, &sm), 0);
    for (int i = 0; i < 10; i++) {
        char id[16];
        struct turn_server_spec s;

        snprintf(id, sizeof(id), "srv-%d", i);
        s = spec_for(id, "127.0.0.1", co.port, "secret");
        s.tcp_port = co.port;
        ck_assert_int_eq(turn_prober_set(prober, &s), 0);
        ck_assert_int_eq(turn_prober_wait(prober, id, turn_now_us() + 25 * 1000000, on_done, NULL),
                         0);
    }
    for (int i = 0; i < 10; i++) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 30;
        ck_assert_int_eq(sem_timedwait(&done_sem, &until), 0);
    }
    atomic_store(&sm.stop, true);
    pthread_join(sm.thread, NULL);
    turn_prober_sockets(prober, &open_now, &peak, &cap);

    for (int i = 0; i < 10; i++) {
        char id[16];
        struct turn_server_status st;

        snprintf(id, sizeof(id), "srv-%d", i);
        ck_assert_int_eq(turn_prober_get(prober, id, &st), 0);
        ck_assert_msg(st.probed, "%s: no results", id);
        ck_assert_uint_eq(st.nhosts, 2);
        for (size_t k = 0; k < 2; k++)
            ck_assert_msg(st.hosts[k].reachable, "%s %s: %s", id, st.hosts[k].tcp ? "tcp" : "udp",
                          st.hosts[k].detail);
    }
    ck_assert_msg(peak <= 4, "the prober held %zu sockets at once, its cap is 4", peak);
    ck_assert_uint_eq(peak, 4); /* as concurrent as the cap allows */
    ck_assert_uint_eq(open_now, 0);
    ck_assert_uint_eq(cap, 4);
    ck_assert_msg(atomic_load(&sm.peak) - base <= 4,
                  "/proc/self/fd showed %d probe sockets at once, the cap is 4",
                  atomic_load(&sm.peak) - base);
    th_coturn_stop(&co);
}
END_TEST

/* RFC 6298 with alpha 1/8 in integer microseconds: the first sample starts the history, each
 * later one moves it an eighth of the way (truncated toward zero). */
START_TEST(test_srtt_smoothing)
{
    ck_assert_int_eq(turn_srtt_update(-1, 40000), 40000);
    ck_assert_int_eq(turn_srtt_update(40000, 48000), 41000);
    ck_assert_int_eq(turn_srtt_update(41000, 33000), 40000);
    ck_assert_int_eq(turn_srtt_update(80000, 0), 70000);
    ck_assert_int_eq(turn_srtt_update(1000, 1007), 1000); /* 7/8 of a microsecond is lost */
    ck_assert_int_eq(turn_srtt_update(0, 800), 100);      /* 0 is a history, not "none" */
}
END_TEST

static struct turn_host_status host_of(const char *address, uint16_t port, bool tcp)
{
    struct turn_host_status h = {.port = port, .tcp = tcp};

    snprintf(h.address, sizeof(h.address), "%s", address);
    return h;
}

/* A host's history is keyed by address, port and transport, starts empty, and a full table
 * gives no entry rather than reusing another host's. */
START_TEST(test_history_keys_and_cap)
{
    struct turn_rtt_entry v[3];
    size_t n = 0;
    struct turn_host_status udp = host_of("192.0.2.1", 3478, false);
    struct turn_host_status tcp = host_of("192.0.2.1", 3478, true);
    struct turn_host_status other = host_of("192.0.2.2", 3478, false);
    struct turn_host_status fourth = host_of("2001:db8::1", 3478, false);
    struct turn_rtt_entry *e = turn_history_of(v, &n, 3, &udp);

    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->srtt_us, -1);
    ck_assert_uint_eq(e->probes[TURN_OK], 0);
    e->srtt_us = 1234;
    ck_assert_ptr_eq(turn_history_of(v, &n, 3, &udp), e);
    ck_assert_ptr_ne(turn_history_of(v, &n, 3, &tcp), e);
    ck_assert_ptr_nonnull(turn_history_of(v, &n, 3, &other));
    ck_assert_uint_eq(n, 3);
    ck_assert_ptr_null(turn_history_of(v, &n, 3, &fourth));
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(turn_history_of(v, &n, 3, &udp)->srtt_us, 1234);
}
END_TEST

/* One failure as the status page words it, word for word. */
struct wording_case {
    enum turn_failure failure;
    bool tcp;
    int code;
    const char *reason, *expect;
};

static const struct wording_case wordings[] = {
    {TURN_FAIL_TIMEOUT, false, 0, "",
     "no answer from 192.0.2.1 port 3478/UDP within 5.0 s: check that the TURN server runs and "
     "that firewalls let UDP 3478 through"},
    {TURN_FAIL_PORT_UNREACHABLE, true, 0, "Connection refused",
     "192.0.2.1 refused TCP port 3478 (Connection refused): nothing listens there; check the "
     "port in serverAddress or tcpPortNumberOverride"},
    {TURN_FAIL_WRONG_CREDENTIALS, false, 441, "Wrong Credentials",
     "441 Wrong Credentials: the server refuses these credentials (a wrong realm or username?)"},
    {TURN_FAIL_UNAUTHORIZED, false, 401, "Unauthorized",
     "401 Unauthorized after credentials: check the username and password configured on the "
     "TURN server"},
    {TURN_FAIL_INTEGRITY, false, 431, "Integrity Check Failure",
     "431 Integrity Check Failure, as Expressway answers a wrong password: check the TURN "
     "username and password"},
    {TURN_FAIL_QUOTA, false, 486, "Allocation Quota Reached",
     "486 Allocation Quota Reached: this TURN user has as many allocations as the server "
     "allows; raise the quota or use another user"},
    {TURN_FAIL_CAPACITY, false, 508, "Insufficient Capacity",
     "508 Insufficient Capacity: the TURN server has no relay ports left"},
    {TURN_FAIL_FORBIDDEN, false, 403, "Forbidden",
     "403 Forbidden: the TURN server refuses us (Forbidden)"},
    {TURN_FAIL_MISMATCH, false, 437, "Allocation Mismatch",
     "437 Allocation Mismatch (Allocation Mismatch)"},
    {TURN_FAIL_SERVER_ERROR, false, 500, "Server Error",
     "500 Server Error: the TURN server reports an error"},
    {TURN_FAIL_PROTOCOL, false, 0, "redirected a second time",
     "the server did not answer as a TURN server should (redirected a second time)"},
    {TURN_FAIL_PROTOCOL, false, 420, "Unknown Attribute",
     "the server did not answer as a TURN server should (420 Unknown Attribute)"},
};

static const char *wording(bool reachable, enum turn_failure f, bool tcp, int code,
                           const char *reason)
{
    static struct turn_host_status h;
    struct turn_alloc_info info = {.state = TURN_ALLOC_FAILED, .failure = f, .error_code = code};

    h = host_of("192.0.2.1", 3478, tcp);
    h.reachable = reachable;
    h.failure = f;
    snprintf(info.reason, sizeof(info.reason), "%s", reason);
    turn_describe(&h, &info, 5000000);
    return h.detail;
}

/* The sentences an administrator reads; a local failure names this host's limit and says
 * whether the last result is kept. */
START_TEST(test_failure_wording)
{
    const char *local = "callbridged could not open a socket to probe this host (Too many open "
                        "files";
    const char *d;

    for (size_t i = 0; i < sizeof(wordings) / sizeof(wordings[0]); i++) {
        const struct wording_case *w = &wordings[i];

        ck_assert_str_eq(wording(false, w->failure, w->tcp, w->code, w->reason), w->expect);
    }
    d = wording(false, TURN_FAIL_LOCAL, false, 0, "Too many open files");
    ck_assert_msg(strncmp(d, local, strlen(local)) == 0, "%s", d);
    ck_assert_ptr_nonnull(strstr(d, "it has no earlier result; raise LimitNOFILE="));
    d = wording(true, TURN_FAIL_LOCAL, false, 0, "Too many open files");
    ck_assert_ptr_nonnull(strstr(d, "its last result is kept"));
}
END_TEST

Suite *turn_prober_suite(void)
{
    Suite *s = suite_create("turn_prober");
    TCase *tc = tcase_create("prober");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_coturn_udp_and_tcp_reachable);
    tcase_add_test(tc, test_wrong_password_and_unreachable_and_dns);
    tcase_add_test(tc, test_back_to_back_cycles_under_quota);
    tcase_add_test(tc, test_redirect_followed_once);
    tcase_add_test(tc, test_expressway_431);
    tcase_add_test(tc, test_437_retried_from_a_fresh_port);
    tcase_add_test(tc, test_hostile_servers);
    tcase_add_test(tc, test_ipv6_loopback);
    tcase_add_test(tc, test_rtt_is_real);
    tcase_add_test(tc, test_no_socket_is_a_local_failure_not_the_servers);
    tcase_add_test(tc, test_socket_cap_queues_probes);
    suite_add_tcase(s, tc);
    tc = tcase_create("verdict");
    tcase_add_test(tc, test_srtt_smoothing);
    tcase_add_test(tc, test_history_keys_and_cap);
    tcase_add_test(tc, test_failure_wording);
    suite_add_tcase(s, tc);
    return s;
}
