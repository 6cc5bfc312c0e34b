/* tests/test_turn_alloc.c: the allocation state machine against a real coturn on loopback
 * (success, data both ways through the relay, release, bad credentials, stale nonce, quota,
 * shared-secret credentials), and against scripted answers for what coturn never sends
 * (Expressway's 431, forged answers, redirects, error mapping, timeouts). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "tests/suites.h"
#include "turnclient/cred.h"
#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- a driver: one UDP socket to the server, fed into the state machine ------------------- */
struct drv {
    int fd;
    struct turn_alloc *a;
    uint8_t got[256];
    size_t got_len;
    struct sockaddr_storage got_from;
    uint8_t sent[4]; /* the first bytes of the last datagram sent to the server */
};

static int drv_send(void *userdata, const uint8_t *buf, size_t len)
{
    struct drv *d = userdata;

    memcpy(d->sent, buf, len < sizeof(d->sent) ? len : sizeof(d->sent));
    return send(d->fd, buf, len, 0) < 0 ? -errno : 0;
}

static struct sockaddr_in g_peer; /* the one peer of the live tests */

/* The driver's data path, as media's: peer data is decoded here, answers go to the machine. A
 * ChannelData frame is the peer's when it comes on the channel bound to it. */
static void drv_input(struct drv *d, const uint8_t *buf, size_t len)
{
    struct turn_data data;
    int r = turn_data_decode(buf, len, false, &data);

    if (r < 0) {
        turn_alloc_feed(d->a, buf, len, now_us());
        return;
    }
    if (data.channel) {
        ck_assert_uint_eq(data.channel, turn_alloc_channel(d->a, (struct sockaddr *)&g_peer));
        memcpy(&d->got_from, &g_peer, sizeof(g_peer));
    } else {
        ck_assert(turn_alloc_has_permission(d->a, (struct sockaddr *)&data.peer));
        memcpy(&d->got_from, &data.peer, sizeof(struct sockaddr_in));
    }
    d->got_len = data.len < sizeof(d->got) ? data.len : sizeof(d->got);
    memcpy(d->got, data.ptr, d->got_len);
}

static struct sockaddr_in loopback(unsigned short port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

static void drv_open(struct drv *d, unsigned short port, const char *user, const char *pass)
{
    struct turn_alloc_config cfg = {.username = user,
                                    .password = pass,
                                    .software = "cb-test",
                                    .max_stale_nonce = 3,
                                    .send = drv_send,
                                    .userdata = d};
    struct sockaddr_in sin = loopback(port);

    memset(d, 0, sizeof(*d));
    turn_txn_config_rfc(&cfg.txn);
    cfg.txn.budget_us = 5 * 1000000;
    d->fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(connect(d->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(turn_alloc_new(&cfg, &d->a), 0);
}

static void drv_close(struct drv *d)
{
    turn_alloc_free(d->a);
    close(d->fd);
}

static enum turn_alloc_state state(const struct drv *d)
{
    struct turn_alloc_info info;

    turn_alloc_get_info(d->a, &info);
    return info.state;
}

/* Runs the loop until done(d) or max_us passed. */
static void drv_run(struct drv *d, bool (*done)(const struct drv *), int64_t max_us)
{
    int64_t end = now_us() + max_us;

    while (!done(d) && now_us() < end) {
        int64_t next = turn_alloc_next_deadline(d->a), now = now_us();
        int64_t wait = (next < end ? next : end) - now;
        struct pollfd pfd = {d->fd, POLLIN, 0};

        if (poll(&pfd, 1, wait > 0 ? (int)((wait + 999) / 1000) : 0) > 0) {
            uint8_t buf[2048];
            ssize_t n = recv(d->fd, buf, sizeof(buf), 0);

            if (n > 0)
                drv_input(d, buf, (size_t)n);
            else if (n < 0)
                turn_alloc_on_error(d->a, -errno);
        }
        turn_alloc_on_timer(d->a, now_us());
    }
}

static bool settled(const struct drv *d)
{
    enum turn_alloc_state s = state(d);

    return s != TURN_ALLOC_ALLOCATING && s != TURN_ALLOC_RELEASING;
}

static bool have_data(const struct drv *d)
{
    return d->got_len > 0;
}

static bool peer_ready(const struct drv *d)
{
    return turn_alloc_peer_ready(d->a, (const struct sockaddr *)&g_peer) ||
           state(d) != TURN_ALLOC_READY;
}

/* A UDP socket on loopback playing the remote media endpoint. */
static int peer_socket(struct sockaddr_in *ret_addr)
{
    struct sockaddr_in sin = loopback(0);
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *ret_addr = sin;
    return fd;
}

static ssize_t recv_within(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from, int ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    socklen_t len = sizeof(*from);

    if (poll(&pfd, 1, ms) <= 0)
        return -1;
    return recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &len);
}

static struct th_coturn co;
static char skip_why[128];

static void co_start(void)
{
    if (th_coturn_available(skip_why, sizeof(skip_why)))
        th_coturn_start(&co, NULL);
}

static void co_stop(void)
{
    th_coturn_stop(&co);
}

#define NEED_COTURN()                                                                              \
    do {                                                                                           \
        if (!co.pid) {                                                                             \
            th_skip_missing_dep("coturn");                                                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Allocates, relays data both ways through a channel and through Send/Data indications,
 * then releases. */
static void relay_round_trip(uint16_t channel)
{
    struct sockaddr_in peer, from;
    struct turn_alloc_info info;
    uint8_t buf[256];
    struct drv d;
    int pfd;
    ssize_t n;
    char text[INET_ADDRSTRLEN];

    drv_open(&d, co.port, "alice", "secret");
    ck_assert_int_eq(turn_alloc_start(d.a, now_us()), 0);
    drv_run(&d, settled, 5 * 1000000);
    turn_alloc_get_info(d.a, &info);
    ck_assert_msg(info.state == TURN_ALLOC_READY, "state %d: %s %s", info.state,
                  turn_failure_name(info.failure), info.reason);
    ck_assert(info.has_mapped);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&info.mapped)->sin_addr, text, sizeof(text));
    ck_assert_str_eq(text, "127.0.0.1");
    ck_assert_uint_ge(ntohs(((struct sockaddr_in *)&info.relayed)->sin_port), co.min_port);
    ck_assert_uint_le(ntohs(((struct sockaddr_in *)&info.relayed)->sin_port), co.max_port);
    ck_assert_uint_eq(info.lifetime_s, 600);
    ck_assert_int_ge(info.rtt_us, 0);

    pfd = peer_socket(&peer);
    g_peer = peer;
    ck_assert_int_eq(turn_alloc_add_peer(d.a, (struct sockaddr *)&peer, channel, now_us()), 0);
    drv_run(&d, peer_ready, 5 * 1000000);
    ck_assert(turn_alloc_peer_ready(d.a, (struct sockaddr *)&peer));
    ck_assert_int_eq(turn_alloc_send(d.a, (struct sockaddr *)&peer, (const uint8_t *)"hello", 5),
                     0);
    n = recv_within(pfd, buf, sizeof(buf), &from, 3000);
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
    ck_assert_uint_eq(from.sin_port, ((struct sockaddr_in *)&info.relayed)->sin_port);
    ck_assert_int_eq(sendto(pfd, "world!", 6, 0, (struct sockaddr *)&from, sizeof(from)), 6);
    drv_run(&d, have_data, 3 * 1000000);
    ck_assert_uint_eq(d.got_len, 6);
    ck_assert_int_eq(memcmp(d.got, "world!", 6), 0);
    ck_assert_uint_eq(((struct sockaddr_in *)&d.got_from)->sin_port, peer.sin_port);

    ck_assert_int_eq(turn_alloc_release(d.a, now_us()), 0);
    drv_run(&d, settled, 5 * 1000000);
    ck_assert_int_eq(state(&d), TURN_ALLOC_RELEASED);
    ck_assert_uint_eq(turn_alloc_dropped(d.a), 0);
    close(pfd);
    drv_close(&d);
}

START_TEST(test_coturn_channel_round_trip)
{
    NEED_COTURN();
    relay_round_trip(0x4000);
}
END_TEST

START_TEST(test_coturn_send_indication_round_trip)
{
    NEED_COTURN();
    relay_round_trip(0);
}
END_TEST

static bool channel_bound(const struct drv *d)
{
    return turn_alloc_channel(d->a, (const struct sockaddr *)&g_peer) != 0 ||
           state(d) != TURN_ALLOC_READY;
}

/* A WebRTC leg permits a browser's candidate and then binds a channel to the same address:
 * from then on its data goes in ChannelData (the slot with the channel is the one found). */
START_TEST(test_coturn_channel_after_permission)
{
    struct sockaddr_in peer, from;
    uint8_t buf[64];
    struct drv d;
    int pfd;

    NEED_COTURN();
    drv_open(&d, co.port, "alice", "secret");
    ck_assert_int_eq(turn_alloc_start(d.a, now_us()), 0);
    drv_run(&d, settled, 5 * 1000000);
    ck_assert_int_eq(state(&d), TURN_ALLOC_READY);
    pfd = peer_socket(&peer);
    g_peer = peer;
    ck_assert_int_eq(turn_alloc_add_peer(d.a, (struct sockaddr *)&peer, 0, now_us()), 0);
    drv_run(&d, peer_ready, 5 * 1000000);
    ck_assert_int_eq(turn_alloc_add_peer(d.a, (struct sockaddr *)&peer, 0x4001, now_us()), 0);
    drv_run(&d, channel_bound, 5 * 1000000);
    ck_assert_uint_eq(turn_alloc_channel(d.a, (struct sockaddr *)&peer), 0x4001);
    ck_assert_int_eq(turn_alloc_send(d.a, (struct sockaddr *)&peer, (const uint8_t *)"hello", 5),
                     0);
    ck_assert_uint_eq((unsigned)d.sent[0] << 8 | d.sent[1], 0x4001); /* ChannelData */
    ck_assert_int_eq(recv_within(pfd, buf, sizeof(buf), &from, 3000), 5);
    ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
    close(pfd);
    drv_close(&d);
}
END_TEST

START_TEST(test_coturn_wrong_password_unauthorized)
{
    struct turn_alloc_info info;
    struct drv d;

    NEED_COTURN();
    drv_open(&d, co.port, "alice", "not-the-password");
    ck_assert_int_eq(turn_alloc_start(d.a, now_us()), 0);
    drv_run(&d, settled, 5 * 1000000);
    turn_alloc_get_info(d.a, &info);
    ck_assert_int_eq(info.state, TURN_ALLOC_FAILED);
    ck_assert_int_eq(info.failure, TURN_FAIL_UNAUTHORIZED);
    ck_assert_int_eq(info.error_code, 401);
    ck_assert_str_eq(turn_failure_name(info.failure), "unauthorized");
    drv_close(&d);
}
END_TEST

START_TEST(test_nothing_listening_port_unreachable)
{
    struct turn_alloc_info info;
    struct drv d;

    drv_open(&d, th_free_port(), "alice", "secret");
    ck_assert_int_eq(turn_alloc_start(d.a, now_us()), 0);
    drv_run(&d, settled, 6 * 1000000);
    turn_alloc_get_info(d.a, &info);
    ck_assert_int_eq(info.state, TURN_ALLOC_FAILED);
    ck_assert_int_eq(info.failure, TURN_FAIL_PORT_UNREACHABLE); /* ICMP on loopback */
    drv_close(&d);
}
END_TEST

/* Allocates on a fresh socket to port with these credentials; returns the final info. */
static struct turn_alloc_info allocate_once(unsigned short port, const char *user, const char *pass,
                                            bool release)
{
    struct turn_alloc_info info;
    struct drv d;

    drv_open(&d, port, user, pass);
    ck_assert_int_eq(turn_alloc_start(d.a, now_us()), 0);
    drv_run(&d, settled, 5 * 1000000);
    turn_alloc_get_info(d.a, &info);
    if (release && info.state == TURN_ALLOC_READY) {
        ck_assert_int_eq(turn_alloc_release(d.a, now_us()), 0);
        drv_run(&d, settled, 5 * 1000000);
        ck_assert_int_eq(state(&d), TURN_ALLOC_RELEASED);
    }
    drv_close(&d);
    return info;
}

/* Starts an allocation and releases it while its authenticated Allocate (the one after the
 * 401) is in flight, before its answer: the server may make the allocation, and only a
 * Refresh LIFETIME=0 takes it away again before its 600 s (a call leg dropped while it
 * allocates: media/leg.c). */
static void release_in_flight(unsigned short port)
{
    struct pollfd pfd;
    uint8_t buf[2048];
    ssize_t n;
    struct drv d;

    drv_open(&d, port, "alice", "secret");
    ck_assert_int_eq(turn_alloc_start(d.a, now_us()), 0);
    pfd = (struct pollfd){d.fd, POLLIN, 0};
    ck_assert_int_eq(poll(&pfd, 1, 5000), 1); /* the 401 */
    n = recv(d.fd, buf, sizeof(buf), 0);
    ck_assert_int_gt(n, 0);
    drv_input(&d, buf, (size_t)n); /* sends the authenticated Allocate at once */
    ck_assert_int_eq(state(&d), TURN_ALLOC_ALLOCATING);
    ck_assert_int_eq(turn_alloc_release(d.a, now_us()), 0);
    drv_run(&d, settled, 5 * 1000000);
    ck_assert_int_eq(state(&d), TURN_ALLOC_RELEASED);
    drv_close(&d);
}

/* coturn frees an allocation about a second after answering Refresh LIFETIME=0 (measured
 * here: 1.0 s), so probes a few seconds apart keep succeeding under --user-quota=1 only
 * because each one is released; one that is merely abandoned holds the quota for 600 s. */
START_TEST(test_coturn_quota_released_allocations_do_not_count)
{
    static const char *const args[] = {"--user-quota=1", NULL};
    struct turn_alloc_info info;
    struct th_coturn q;

    if (!th_coturn_available(skip_why, sizeof(skip_why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&q, args);
    for (int i = 0; i < 3; i++) {
        info = allocate_once(q.port, "alice", "secret", true);
        ck_assert_msg(info.state == TURN_ALLOC_READY, "round %d: %s", i,
                      turn_failure_name(info.failure));
        (void)usleep(1500 * 1000);
    }
    release_in_flight(q.port); /* its allocation goes as well */
    (void)usleep(1500 * 1000);
    info = allocate_once(q.port, "alice", "secret", true);
    ck_assert_msg(info.state == TURN_ALLOC_READY, "after a release in flight: %s %d",
                  turn_failure_name(info.failure), info.error_code);
    (void)usleep(1500 * 1000);
    info = allocate_once(q.port, "alice", "secret", false); /* abandoned, not released */
    ck_assert_int_eq(info.state, TURN_ALLOC_READY);
    (void)usleep(1500 * 1000);
    info = allocate_once(q.port, "alice", "secret", true);
    ck_assert_int_eq(info.failure, TURN_FAIL_QUOTA);
    ck_assert_int_eq(info.error_code, 486);
    th_coturn_stop(&q);
}
END_TEST

START_TEST(test_coturn_shared_secret)
{
    static const char *const args[] = {"--use-auth-secret", "--static-auth-secret=s3cret-shared",
                                       NULL};
    char user[64], pass[32];
    struct turn_alloc_info info;
    struct th_coturn r;

    if (!th_coturn_available(skip_why, sizeof(skip_why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&r, args);
    ck_assert_int_eq(
        turn_cred_rest("s3cret-shared", "callbridge", time(NULL) + 3600, user, sizeof(user), pass),
        0);
    info = allocate_once(r.port, user, pass, true);
    ck_assert_msg(info.state == TURN_ALLOC_READY, "%s %s", turn_failure_name(info.failure),
                  info.reason);
    ck_assert_int_eq(
        turn_cred_rest("s3cret-shared", "callbridge", time(NULL) - 60, user, sizeof(user), pass),
        0);
    info = allocate_once(r.port, user, pass, false); /* expired */
    ck_assert_int_eq(info.failure, TURN_FAIL_UNAUTHORIZED);
    ck_assert_int_eq(
        turn_cred_rest("another-secret", "callbridge", time(NULL) + 3600, user, sizeof(user), pass),
        0);
    info = allocate_once(r.port, user, pass, false); /* wrong secret */
    ck_assert_int_eq(info.failure, TURN_FAIL_UNAUTHORIZED);
    th_coturn_stop(&r);
}
END_TEST

static bool three_seconds(const struct drv *d)
{
    static int64_t until;

    (void)d;
    if (!until)
        until = now_us() + 3 * 1000000;
    return now_us() >= until;
}

START_TEST(test_coturn_stale_nonce_relearned)
{
    static const char *const args[] = {"--stale-nonce=1", NULL};
    struct sockaddr_in peer;
    struct th_coturn s;
    struct drv d;
    int pfd;

    if (!th_coturn_available(skip_why, sizeof(skip_why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&s, args);
    drv_open(&d, s.port, "alice", "secret");
    ck_assert_int_eq(turn_alloc_start(d.a, now_us()), 0);
    drv_run(&d, settled, 5 * 1000000);
    ck_assert_int_eq(state(&d), TURN_ALLOC_READY);
    drv_run(&d, three_seconds, 4 * 1000000); /* the nonce expires */
    pfd = peer_socket(&peer);
    g_peer = peer;
    ck_assert_int_eq(turn_alloc_add_peer(d.a, (struct sockaddr *)&peer, 0x4001, now_us()), 0);
    drv_run(&d, peer_ready, 5 * 1000000); /* 438, new nonce, retried */
    ck_assert(turn_alloc_peer_ready(d.a, (struct sockaddr *)&peer));
    ck_assert_int_eq(turn_alloc_release(d.a, now_us()), 0);
    drv_run(&d, settled, 5 * 1000000);
    ck_assert_int_eq(state(&d), TURN_ALLOC_RELEASED);
    close(pfd);
    drv_close(&d);
    th_coturn_stop(&s);
}
END_TEST

/* ---- scripted answers (no sockets, injected clock) ---------------------------------------- */
struct script {
    uint8_t last[TURN_TXN_MAX_MSG];
    size_t last_len;
    unsigned sends;
};

static int script_send(void *userdata, const uint8_t *buf, size_t len)
{
    struct script *s = userdata;

    memcpy(s->last, buf, len);
    s->last_len = len;
    s->sends++;
    return 0;
}

static struct turn_alloc *script_alloc(struct script *s, const char *pass)
{
    struct turn_alloc_config cfg = {.username = "alice",
                                    .password = pass,
                                    .max_stale_nonce = 2,
                                    .send = script_send,
                                    .userdata = s};
    struct turn_alloc *a;

    memset(s, 0, sizeof(*s));
    turn_txn_config_rfc(&cfg.txn);
    ck_assert_int_eq(turn_alloc_new(&cfg, &a), 0);
    ck_assert_int_eq(turn_alloc_start(a, 0), 0);
    return a;
}

/* The request last sent, decoded. */
static struct stun_msg last_request(const struct script *s)
{
    struct stun_msg m;

    ck_assert_int_eq(stun_decode_datagram(s->last, s->last_len, &m), 0);
    ck_assert_uint_eq(m.cls, STUN_REQUEST);
    return m;
}

static const uint8_t alice_key[16] = {0xb0, 0xa2, 0xc4, 0x76, 0xb8, 0x9d, 0x2f, 0x90,
                                      0x85, 0xdd, 0x46, 0x34, 0x30, 0xf4, 0x61, 0x7c};

/* Answers the last request: an error (code != 0) or a success; signed with key when given. */
static void answer(struct turn_alloc *a, const struct script *s, int code, const char *reason,
                   const uint8_t *key, int64_t now)
{
    struct stun_msg req = last_request(s);
    struct sockaddr_in relayed = loopback(50123), mapped = loopback(40000);
    uint8_t buf[512];
    struct stun_writer w;
    long n;

    stun_writer_init(&w, buf, sizeof(buf), req.method, code ? STUN_ERROR : STUN_SUCCESS, req.tid);
    if (code) {
        stun_put_error(&w, code, reason);
        if (code == 401 || code == 438) {
            stun_put_str(&w, STUN_ATTR_REALM, "test.local");
            stun_put_str(&w, STUN_ATTR_NONCE, code == 401 ? "e5dccdcee07d20e1" : "fresh-nonce-2");
        }
        if (code == 300) {
            struct sockaddr_in alt = loopback(3479);

            stun_put_addr(&w, STUN_ATTR_ALTERNATE_SERVER, (struct sockaddr *)&alt);
        }
    } else if (req.method == STUN_ALLOCATE) {
        stun_put_addr(&w, STUN_ATTR_XOR_RELAYED_ADDRESS, (struct sockaddr *)&relayed);
        stun_put_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, (struct sockaddr *)&mapped);
        stun_put_u32(&w, STUN_ATTR_LIFETIME, 600);
    } else if (req.method == STUN_REFRESH) {
        stun_put_u32(&w, STUN_ATTR_LIFETIME, req.has_lifetime ? req.lifetime : 600);
    }
    if (key)
        stun_put_integrity(&w, key, 16);
    n = stun_writer_finish(&w);
    ck_assert_int_gt(n, 0);
    turn_alloc_feed(a, buf, (size_t)n, now);
}

static struct turn_alloc_info info_of(const struct turn_alloc *a)
{
    struct turn_alloc_info info;

    turn_alloc_get_info(a, &info);
    return info;
}

START_TEST(test_script_challenge_then_expressway_431)
{
    struct script s;
    struct turn_alloc *a = script_alloc(&s, "secret");
    struct stun_msg req = last_request(&s);

    ck_assert(!req.username.ptr); /* the first Allocate carries no credentials */
    ck_assert(req.has_requested_transport);
    answer(a, &s, 401, "Unauthorized", NULL, 1000);
    req = last_request(&s);
    ck_assert_uint_eq(s.sends, 2);
    ck_assert_int_eq(memcmp(req.username.ptr, "alice", 5), 0);
    ck_assert_int_eq(stun_check_integrity(&req, alice_key, 16), 0); /* signed with the key */
    ck_assert_int_eq(stun_check_fingerprint(&req), 0);
    answer(a, &s, 431, "Integrity Check Failure", NULL, 2000);
    ck_assert_int_eq(info_of(a).state, TURN_ALLOC_FAILED);
    ck_assert_int_eq(info_of(a).failure, TURN_FAIL_INTEGRITY);
    ck_assert_str_eq(info_of(a).reason, "Integrity Check Failure");
    ck_assert_uint_eq(s.sends, 2); /* no loop */
    turn_alloc_free(a);
}
END_TEST

START_TEST(test_script_forged_success_dropped)
{
    static const uint8_t wrong_key[16] = {1};
    struct script s;
    struct turn_alloc *a = script_alloc(&s, "secret");

    answer(a, &s, 401, "Unauthorized", NULL, 1000);
    answer(a, &s, 0, NULL, NULL, 2000);      /* success without integrity */
    answer(a, &s, 0, NULL, wrong_key, 3000); /* success signed with another key */
    ck_assert_int_eq(info_of(a).state, TURN_ALLOC_ALLOCATING);
    ck_assert_uint_eq(turn_alloc_dropped(a), 2);
    answer(a, &s, 0, NULL, alice_key, 4000);
    ck_assert_int_eq(info_of(a).state, TURN_ALLOC_READY);
    ck_assert_int_eq(info_of(a).rtt_us, 3000); /* Karn: the authenticated Allocate, sent once */
    turn_alloc_free(a);
}
END_TEST

START_TEST(test_script_error_mapping)
{
    static const struct {
        int code;
        const char *reason;
        enum turn_failure want;
    } cases[] = {
        {401, "Unauthorized", TURN_FAIL_UNAUTHORIZED},
        {403, "Forbidden", TURN_FAIL_FORBIDDEN},
        {437, "Allocation mismatch: wrong credentials", TURN_FAIL_WRONG_CREDENTIALS},
        {437, "Mismatched allocation: wrong transaction ID", TURN_FAIL_MISMATCH},
        {441, "Wrong Credentials", TURN_FAIL_WRONG_CREDENTIALS},
        {486, "Allocation Quota Reached", TURN_FAIL_QUOTA},
        {508, "Cannot create socket", TURN_FAIL_CAPACITY},
        {500, "Server Error", TURN_FAIL_SERVER_ERROR},
        {420, "Unknown Attribute", TURN_FAIL_PROTOCOL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct script s;
        struct turn_alloc *a = script_alloc(&s, "secret");

        answer(a, &s, 401, "Unauthorized", NULL, 10);
        answer(a, &s, cases[i].code, cases[i].reason, NULL, 20);
        ck_assert_int_eq(info_of(a).state, TURN_ALLOC_FAILED);
        ck_assert_msg(info_of(a).failure == cases[i].want, "%d %s -> %s", cases[i].code,
                      cases[i].reason, turn_failure_name(info_of(a).failure));
        ck_assert_int_eq(info_of(a).error_code, cases[i].code);
        turn_alloc_free(a);
    }
}
END_TEST

START_TEST(test_script_redirect_stale_nonce_cap)
{
    struct script s;
    struct turn_alloc *a = script_alloc(&s, "secret");
    struct turn_alloc_info info;
    char text[INET_ADDRSTRLEN];

    answer(a, &s, 300, "Try Alternate", NULL, 10);
    info = info_of(a);
    ck_assert_int_eq(info.state, TURN_ALLOC_REDIRECT);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&info.alternate)->sin_addr, text, sizeof(text));
    ck_assert_str_eq(text, "127.0.0.1");
    ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&info.alternate)->sin_port), 3479);
    turn_alloc_free(a);

    a = script_alloc(&s, "secret");
    answer(a, &s, 401, "Unauthorized", NULL, 10);
    answer(a, &s, 438, "Stale Nonce", NULL, 20); /* retried with the new nonce */
    ck_assert_int_eq(memcmp(last_request(&s).nonce.ptr, "fresh-nonce-2", 13), 0);
    answer(a, &s, 438, "Stale Nonce", NULL, 30);
    ck_assert_int_eq(info_of(a).state, TURN_ALLOC_ALLOCATING);
    answer(a, &s, 438, "Stale Nonce", NULL, 40); /* third: over max_stale_nonce = 2 */
    ck_assert_int_eq(info_of(a).state, TURN_ALLOC_FAILED);
    ck_assert_uint_eq(s.sends, 4);
    turn_alloc_free(a);
}
END_TEST

START_TEST(test_script_refresh_and_timeout)
{
    struct script s;
    struct turn_alloc *a = script_alloc(&s, "secret");
    int64_t t;

    answer(a, &s, 401, "Unauthorized", NULL, 10);
    answer(a, &s, 0, NULL, alice_key, 20);
    ck_assert_int_eq(info_of(a).state, TURN_ALLOC_READY);
    t = turn_alloc_next_deadline(a);
    ck_assert_int_eq(t, 20 + 540LL * 1000000); /* a minute before the 600 s run out */
    turn_alloc_on_timer(a, t);
    ck_assert_uint_eq(last_request(&s).method, STUN_REFRESH);
    ck_assert_uint_eq(last_request(&s).lifetime, 600);
    answer(a, &s, 438, "Stale Nonce", NULL, t + 5); /* re-nonce, then success */
    answer(a, &s, 0, NULL, alice_key, t + 10);
    ck_assert_int_eq(info_of(a).state, TURN_ALLOC_READY);
    ck_assert_int_eq(turn_alloc_next_deadline(a), t + 10 + 540LL * 1000000);
    turn_alloc_free(a);

    a = script_alloc(&s, "secret"); /* nobody answers: 7 sends, then timeout at 39.5 s */
    while (info_of(a).state == TURN_ALLOC_ALLOCATING)
        turn_alloc_on_timer(a, turn_alloc_next_deadline(a));
    ck_assert_int_eq(info_of(a).failure, TURN_FAIL_TIMEOUT);
    ck_assert_uint_eq(s.sends, 7);
    turn_alloc_free(a);
}
END_TEST

Suite *turn_alloc_suite(void)
{
    Suite *s = suite_create("turn_alloc");
    TCase *script = tcase_create("scripted");
    TCase *live = tcase_create("coturn");

    tcase_add_test(script, test_script_challenge_then_expressway_431);
    tcase_add_test(script, test_script_forged_success_dropped);
    tcase_add_test(script, test_script_error_mapping);
    tcase_add_test(script, test_script_redirect_stale_nonce_cap);
    tcase_add_test(script, test_script_refresh_and_timeout);
    suite_add_tcase(s, script);

    tcase_add_unchecked_fixture(live, co_start, co_stop);
    tcase_set_tags(live, "net");
    tcase_set_timeout(live, 60);
    tcase_add_test(live, test_coturn_channel_round_trip);
    tcase_add_test(live, test_coturn_send_indication_round_trip);
    tcase_add_test(live, test_coturn_channel_after_permission);
    tcase_add_test(live, test_coturn_wrong_password_unauthorized);
    tcase_add_test(live, test_nothing_listening_port_unreachable);
    tcase_add_test(live, test_coturn_quota_released_allocations_do_not_count);
    tcase_add_test(live, test_coturn_shared_secret);
    tcase_add_test(live, test_coturn_stale_nonce_relearned);
    suite_add_tcase(s, live);
    return s;
}
