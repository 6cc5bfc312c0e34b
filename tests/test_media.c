/* tests/test_media.c: the media anchor against coturn, with UDP endpoints on loopback: two legs
 * relay RTP both ways intact and in order, a third leg receives everything too, a stranger is
 * counted and dropped, and the counters match what was sent. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "api/http/tls.h"
#include "api/util.h"
#include "media/media.h"
#include "tests/helpers.h"
#include "tests/suites.h"
#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

static struct th_coturn co;
static struct turn_prober *prober;
static struct media *media;
static char why[128];
static sem_t probed;

static void on_probed(void *ctx)
{
    (void)ctx;
    sem_post(&probed);
}

static void setup(void)
{
    struct turn_prober_config pc = {.interval_us = 3600LL * 1000000, .resolver_threads = 1};
    struct media_config mc = {0};
    struct turn_server_spec s = {.id = "turn-a", .host = "127.0.0.1"};
    struct timespec until;

    if (!th_coturn_available(why, sizeof(why)))
        return;
    th_coturn_start(&co, NULL);
    turn_txn_config_rfc(&pc.txn);
    pc.txn.budget_us = 3 * 1000000;
    ck_assert_int_eq(turn_prober_start(&pc, &prober), 0);
    s.port = co.port;
    snprintf(s.username, sizeof(s.username), "alice");
    snprintf(s.password, sizeof(s.password), "secret");
    sem_init(&probed, 0, 0);
    ck_assert_int_eq(turn_prober_set(prober, &s), 0);
    turn_prober_wait(prober, "turn-a", turn_now_us() + 5 * 1000000, on_probed, NULL);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 6;
    ck_assert_int_eq(sem_timedwait(&probed, &until), 0);
    mc.prober = prober;
    ck_assert_int_eq(media_start(&mc, &media), 0);
}

static void teardown(void)
{
    media_stop(media);
    media = NULL;
    turn_prober_stop(prober);
    prober = NULL;
    th_coturn_stop(&co);
}

static struct sockaddr_in loopback_any(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

static int endpoint(struct sockaddr_in *ret)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *ret = sin;
    return fd;
}

/* Waits (at most 5 s) for leg on m to connect or fail; returns its status. */
static struct media_leg_status settled_on(struct media *m, const char *leg)
{
    struct media_leg_status st = {.state = MEDIA_LEG_CONNECTING};

    for (int i = 0; i < 100; i++) { /* added asynchronously: it appears, then settles */
        if (media_leg_get(m, leg, &st) == 0 && st.state != MEDIA_LEG_CONNECTING)
            break;
        usleep(50 * 1000);
    }
    return st;
}

/* Waits (at most 5 s) for leg on m to connect; returns its relayed address, and its status in
 * *ret_st when not NULL. */
static struct sockaddr_in connected_on(struct media *m, const char *leg,
                                       struct media_leg_status *ret_st)
{
    struct media_leg_status st = settled_on(m, leg);
    struct sockaddr_in relayed = {.sin_family = AF_INET};

    ck_assert_msg(st.state == MEDIA_LEG_CONNECTED, "%s: %s", leg, st.reason);
    inet_pton(AF_INET, st.relayed, &relayed.sin_addr);
    relayed.sin_port = htons(st.relayed_port);
    if (ret_st)
        *ret_st = st;
    return relayed;
}

/* Two endpoints as legs la and lb of call on m, both connected: their sockets in fd[] and the
 * relayed addresses they send to in to[]. */
static void two_legs_on(struct media *m, const char *call, const char *la, const char *lb,
                        int fd[2], struct sockaddr_in to[2])
{
    struct sockaddr_in a, b;

    fd[0] = endpoint(&a);
    fd[1] = endpoint(&b);
    media_leg_add(m, call, la, (struct sockaddr *)&a);
    media_leg_add(m, call, lb, (struct sockaddr *)&b);
    to[0] = connected_on(m, la, NULL);
    to[1] = connected_on(m, lb, NULL);
}

/* The same on the suite's media, anchored on the suite's coturn. */
static struct sockaddr_in connected(const char *leg)
{
    struct media_leg_status st;
    struct sockaddr_in relayed = connected_on(media, leg, &st);

    ck_assert_str_eq(st.turn_server, "turn-a");
    ck_assert_int_gt(st.lifetime_left_s, 500); /* coturn grants 600 s, shown from the start */
    return relayed;
}

/* A prober of a test's own, with alice:secret servers (id, port) probed once. */
static struct turn_prober *own_prober(int64_t interval_us, int64_t budget_us,
                                      const char *const *ids, const unsigned short *ports, size_t n)
{
    struct turn_prober_config pc = {.interval_us = interval_us, .resolver_threads = 1};
    struct turn_prober *p;

    turn_txn_config_rfc(&pc.txn);
    pc.txn.budget_us = budget_us;
    ck_assert_int_eq(turn_prober_start(&pc, &p), 0);
    for (size_t i = 0; i < n; i++) {
        struct turn_server_spec s = {.host = "127.0.0.1", .port = ports[i]};
        struct timespec until;

        snprintf(s.id, sizeof(s.id), "%s", ids[i]);
        snprintf(s.username, sizeof(s.username), "alice");
        snprintf(s.password, sizeof(s.password), "secret");
        turn_prober_set(p, &s);
        turn_prober_wait(p, ids[i], turn_now_us() + 3000000, on_probed, NULL);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 4;
        ck_assert_int_eq(sem_timedwait(&probed, &until), 0);
    }
    return p;
}

/* An RTP packet: version 2, payload type 0, sequence number seq, 160 bytes of payload. */
static size_t rtp(uint8_t *buf, uint16_t seq)
{
    memset(buf, 0, 172);
    buf[0] = 0x80;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    for (int i = 12; i < 172; i++)
        buf[i] = (uint8_t)(seq + i);
    return 172;
}

/* Receives n RTP packets within 5 s and checks they are intact and in order. */
static void expect_rtp(int fd, int n, const struct sockaddr_in *from_relay)
{
    for (int i = 0; i < n; i++) {
        struct pollfd pfd = {fd, POLLIN, 0};
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        uint8_t got[2048], want[2048];
        ssize_t len;

        ck_assert_msg(poll(&pfd, 1, 5000) == 1, "packet %d of %d missing", i, n);
        len = recvfrom(fd, got, sizeof(got), 0, (struct sockaddr *)&from, &flen);
        ck_assert_int_eq(len, (ssize_t)rtp(want, (uint16_t)i));
        ck_assert_msg(memcmp(got, want, (size_t)len) == 0, "packet %d changed or out of order", i);
        ck_assert_uint_eq(from.sin_port, from_relay->sin_port); /* it came from the relay */
    }
}

START_TEST(test_two_legs_relay_rtp_both_ways)
{
    struct sockaddr_in a, b, c, ra, rb;
    struct media_leg_status st;
    int fa, fb, fc;
    uint8_t buf[256];

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    fa = endpoint(&a);
    fb = endpoint(&b);
    ck_assert_int_eq(media_leg_add(media, "call-1", "leg-a", (struct sockaddr *)&a), 0);
    ck_assert_int_eq(media_leg_add(media, "call-1", "leg-b", (struct sockaddr *)&b), 0);
    ra = connected("leg-a");
    rb = connected("leg-b");
    for (int i = 0; i < 200; i++) { /* A to B, paced as a real sender would be, roughly */
        ck_assert_int_eq(
            sendto(fa, buf, rtp(buf, (uint16_t)i), 0, (struct sockaddr *)&ra, sizeof(ra)), 172);
        if (i % 20 == 19)
            usleep(1000);
    }
    expect_rtp(fb, 200, &rb);
    for (int i = 0; i < 50; i++)
        sendto(fb, buf, rtp(buf, (uint16_t)i), 0, (struct sockaddr *)&rb, sizeof(rb));
    expect_rtp(fa, 50, &ra);

    /* a stranger sends to A's relayed address: counted, dropped */
    fc = endpoint(&c);
    sendto(fc, "junk", 4, 0, (struct sockaddr *)&ra, sizeof(ra));
    for (int i = 0; i < 50; i++) {
        ck_assert_int_eq(media_leg_get(media, "leg-a", &st), 0);
        if (st.strangers)
            break;
        usleep(20 * 1000);
    }
    ck_assert_uint_eq(st.strangers, 1);
    ck_assert_uint_eq(st.cls[MEDIA_RTP].rx_packets, 200);
    ck_assert_uint_eq(st.cls[MEDIA_RTP].fwd_packets, 200);
    ck_assert_uint_eq(st.cls[MEDIA_RTP].rx_bytes, 200 * 172);
    ck_assert_uint_eq(st.cls[MEDIA_RTP].dropped, 0);
    ck_assert_int_eq(media_leg_get(media, "leg-b", &st), 0);
    ck_assert_uint_eq(st.cls[MEDIA_RTP].rx_packets, 50);
    {
        size_t active, max;

        media_leg_counts(media, &active, &max);
        ck_assert_uint_eq(active, 2);
    }
    close(fa);
    close(fb);
    close(fc);
}
END_TEST

/* Issue 12, item 4: the process runs out of descriptors while a call carries media and the
 * prober keeps probing (every second here). The new leg fails, saying why; the established
 * legs are never moved or torn down and keep carrying media; the new leg connects once there
 * are descriptors again. */
START_TEST(test_no_socket_fails_only_the_new_leg)
{
    static const char *const ids[] = {"turn-a"};
    struct turn_prober *fast;
    struct media_config mc = {0};
    struct media *m2;
    struct sockaddr_in c, to[2];
    struct media_leg_status sa, sb, sc;
    struct th_fd_fill fill;
    uint8_t buf[256];
    int fd[2], fc;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    fast = own_prober(1000000, 2000000, ids, &co.port, 1);
    mc.prober = fast;
    ck_assert_int_eq(media_start(&mc, &m2), 0);
    two_legs_on(m2, "call-nofd", "leg-na", "leg-nb", fd, to);
    fc = endpoint(&c);

    th_fd_exhaust(&fill);
    usleep(2500 * 1000); /* two probe cycles and two housekeeping ticks without descriptors */
    ck_assert_int_eq(media_leg_add(m2, "call-nofd", "leg-nc", (struct sockaddr *)&c), 0);
    sc = settled_on(m2, "leg-nc");
    for (int i = 0; i < 20; i++) /* A to B, through anchors made before */
        ck_assert_int_eq(
            sendto(fd[0], buf, rtp(buf, (uint16_t)i), 0, (struct sockaddr *)&to[0], sizeof(to[0])),
            172);
    (void)media_leg_get(m2, "leg-na", &sa);
    (void)media_leg_get(m2, "leg-nb", &sb);
    th_fd_restore(&fill);

    ck_assert_msg(sa.state == MEDIA_LEG_CONNECTED && sa.anchors == 1,
                  "leg a: state %d, %u anchors, %s", sa.state, sa.anchors, sa.reason);
    ck_assert_msg(sb.state == MEDIA_LEG_CONNECTED && sb.anchors == 1,
                  "leg b: state %d, %u anchors, %s", sb.state, sb.anchors, sb.reason);
    ck_assert_msg(sc.state == MEDIA_LEG_FAILED, "new leg: state %d, %s", sc.state, sc.reason);
    ck_assert_msg(strstr(sc.reason, "Too many open files") &&
                      strstr(sc.reason, "not of the TURN server"),
                  "%s", sc.reason);
    ck_assert(turn_prober_is_reachable(
        fast, "turn-a",
        (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET,
                                                 .sin_port = htons(co.port),
                                                 .sin_addr.s_addr = htonl(0x7f000001)}));
    expect_rtp(fd[1], 20, &to[1]);

    for (int i = 0; i < 100; i++) { /* descriptors again: it anchors at its next retry (2 s) */
        ck_assert_int_eq(media_leg_get(m2, "leg-nc", &sc), 0);
        if (sc.state == MEDIA_LEG_CONNECTED)
            break;
        usleep(50 * 1000);
    }
    ck_assert_msg(sc.state == MEDIA_LEG_CONNECTED, "%s", sc.reason);
    media_stop(m2);
    turn_prober_stop(fast);
    close(fd[0]);
    close(fd[1]);
    close(fc);
}
END_TEST

START_TEST(test_three_legs_fan_out)
{
    struct sockaddr_in a, b, d, ra, rb, rd;
    int fa, fb, fd;
    uint8_t buf[256];

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    fa = endpoint(&a);
    fb = endpoint(&b);
    fd = endpoint(&d);
    media_leg_add(media, "call-3", "leg-3a", (struct sockaddr *)&a);
    media_leg_add(media, "call-3", "leg-3b", (struct sockaddr *)&b);
    media_leg_add(media, "call-3", "leg-3d", (struct sockaddr *)&d);
    ra = connected("leg-3a");
    rb = connected("leg-3b");
    rd = connected("leg-3d");
    for (int i = 0; i < 30; i++)
        sendto(fa, buf, rtp(buf, (uint16_t)i), 0, (struct sockaddr *)&ra, sizeof(ra));
    expect_rtp(fb, 30, &rb);
    expect_rtp(fd, 30, &rd);
    ck_assert_int_eq(media_leg_remove(media, "leg-3d"), 0);
    for (int i = 0; i < 50 && media_leg_get(media, "leg-3d", &(struct media_leg_status){0}) == 0;
         i++)
        usleep(20 * 1000);
    ck_assert_int_eq(media_leg_get(media, "leg-3d", &(struct media_leg_status){0}), -ENOENT);
    close(fa);
    close(fb);
    close(fd);
}
END_TEST

START_TEST(test_failover_to_the_other_server)
{
    static const char *const ids[] = {"turn-1", "turn-2"};
    struct turn_prober *fast;
    struct media_config mc = {0};
    struct media *m2;
    struct th_coturn one, two;
    struct sockaddr_in to[2];
    struct media_leg_status st, sbst;
    char first[40];
    int fd[2];
    uint8_t buf[256];

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&one, NULL);
    th_coturn_start(&two, NULL);
    fast = own_prober(1000000, 500000, ids, (const unsigned short[]){one.port, two.port}, 2);
    mc.prober = fast;
    ck_assert_int_eq(media_start(&mc, &m2), 0);
    two_legs_on(m2, "call-f", "leg-fd[0]", "leg-fd[1]", fd, to);
    ck_assert_int_eq(media_leg_get(m2, "leg-fd[0]", &st), 0);
    snprintf(first, sizeof(first), "%s", st.turn_server);
    /* the server both legs are on goes away */
    th_coturn_stop(strcmp(first, "turn-1") == 0 ? &one : &two);
    for (int i = 0; i < 80; i++) { /* two probe intervals and a margin: 4 s at most */
        if (media_leg_get(m2, "leg-fd[0]", &st) == 0 &&
            media_leg_get(m2, "leg-fd[1]", &sbst) == 0 && strcmp(st.turn_server, first) != 0 &&
            strcmp(sbst.turn_server, first) != 0 && st.state == MEDIA_LEG_CONNECTED &&
            sbst.state == MEDIA_LEG_CONNECTED)
            break;
        usleep(50 * 1000);
    }
    ck_assert_msg(strcmp(st.turn_server, first) != 0, "still on %s (%s)", first, st.reason);
    ck_assert_int_eq(st.state, MEDIA_LEG_CONNECTED);
    ck_assert_uint_ge(st.anchors, 2);
    to[0] = connected_on(m2, "leg-fd[0]", NULL);
    to[1] = connected_on(m2, "leg-fd[1]", NULL);
    for (int i = 0; i < 20; i++) /* media flows again, through the new relayed addresses */
        sendto(fd[0], buf, rtp(buf, (uint16_t)i), 0, (struct sockaddr *)&to[0], sizeof(to[0]));
    expect_rtp(fd[1], 20, &to[1]);
    media_stop(m2);
    turn_prober_stop(fast);
    close(fd[0]);
    close(fd[1]);
    th_coturn_stop(&one);
    th_coturn_stop(&two);
}
END_TEST

/* coturn with lifetimes of a few seconds: media keeps flowing across several of them, because
 * the allocation, the permission and the channel are all refreshed in time. */
START_TEST(test_media_survives_short_lifetimes)
{
    static const char *const args[] = {"--max-allocate-lifetime=6", "--permission-lifetime=5",
                                       "--channel-lifetime=5", NULL};
    static const char *const ids[] = {"turn-short"};
    struct th_coturn shortlived;
    struct turn_prober *p2;
    struct media_config mc = {0};
    struct media *m2;
    struct sockaddr_in to[2];
    struct media_leg_status st;
    uint8_t buf[256];
    int fd[2];

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&shortlived, args);
    /* probed once: the anchor must live on refreshes alone */
    p2 = own_prober(3600LL * 1000000, 2000000, ids, &shortlived.port, 1);
    mc.prober = p2;
    ck_assert_int_eq(media_start(&mc, &m2), 0);
    two_legs_on(m2, "call-s", "leg-sa", "leg-sb", fd, to);
    for (int second = 0; second < 16; second++) { /* about three allocation lifetimes */
        sendto(fd[0], buf, rtp(buf, (uint16_t)second), 0, (struct sockaddr *)&to[0], sizeof(to[0]));
        {
            struct pollfd pfd = {fd[1], POLLIN, 0};
            uint8_t got[256];

            ck_assert_msg(poll(&pfd, 1, 2000) == 1, "no media after %d s", second);
            ck_assert_int_eq(recv(fd[1], got, sizeof(got), 0), 172);
            ck_assert_uint_eq(got[3], (uint8_t)second);
        }
        usleep(1000 * 1000);
    }
    ck_assert_int_eq(media_leg_get(m2, "leg-sa", &st), 0);
    ck_assert_uint_eq(st.anchors, 1); /* kept alive, not re-made */
    media_stop(m2);
    turn_prober_stop(p2);
    close(fd[0]);
    close(fd[1]);
    th_coturn_stop(&shortlived);
}
END_TEST

/* coturn allows alice three allocations at a time (two legs, and room for the probe's): legs
 * that are removed, and then a media module that stops, must give theirs back (Refresh
 * LIFETIME=0) for two new legs to connect. Without the release the new legs fail with 486
 * until the old allocations expire in 600 s (checked: the test fails with the release taken out).
 */
START_TEST(test_removal_and_stop_release_allocations)
{
    static const char *const args[] = {"--user-quota=3", NULL};
    static const char *const ids[] = {"turn-quota"};
    struct th_coturn quota;
    struct turn_prober *p2;
    struct media_config mc = {0};
    struct media *m2;
    struct sockaddr_in a, b;
    struct media_leg_status st;
    int fa, fb;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&quota, args);
    p2 = own_prober(3600LL * 1000000, 2000000, ids, &quota.port, 1);
    mc.prober = p2;
    fa = endpoint(&a);
    fb = endpoint(&b);
    for (int round = 0; round < 3; round++) {
        char leg_a[16], leg_b[16];

        snprintf(leg_a, sizeof(leg_a), "leg-q%da", round);
        snprintf(leg_b, sizeof(leg_b), "leg-q%db", round);
        if (round != 1)
            ck_assert_int_eq(media_start(&mc, &m2), 0);
        media_leg_add(m2, "call-q", leg_a, (struct sockaddr *)&a);
        media_leg_add(m2, "call-q", leg_b, (struct sockaddr *)&b);
        connected_on(m2, leg_a, NULL);
        connected_on(m2, leg_b, NULL);
        if (round == 0) { /* round 1 needs the removal to have released both */
            ck_assert_int_eq(media_leg_remove(m2, leg_a), 0);
            ck_assert_int_eq(media_leg_remove(m2, leg_b), 0);
            for (int i = 0; i < 100 && media_leg_get(m2, leg_b, &st) == 0; i++)
                usleep(20 * 1000);
            ck_assert_int_eq(media_leg_get(m2, leg_b, &st), -ENOENT);
        } else { /* round 2 needs the stop to have released both */
            media_stop(m2);
        }
        usleep(1500 * 1000); /* coturn frees the quota at its next timer tick after a release */
    }
    turn_prober_stop(p2);
    close(fa);
    close(fb);
    th_coturn_stop(&quota);
}
END_TEST

/* A full server is not a dead one: when its quota is spent by the legs on it, its probes fail
 * (486), and the legs stay where they are, media flowing. */
START_TEST(test_a_full_server_keeps_its_legs)
{
    static const char *const args[] = {"--total-quota=2", NULL};
    static const char *const ids[] = {"turn-full"};
    struct th_coturn full;
    struct turn_prober *p2;
    struct media_config mc = {0};
    struct media *m2;
    struct sockaddr_in to[2], srv = {.sin_family = AF_INET};
    struct media_leg_status st;
    uint8_t buf[256];
    int fd[2];

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&full, args);
    p2 = own_prober(3000000, 500000, ids, &full.port, 1);
    mc.prober = p2;
    ck_assert_int_eq(media_start(&mc, &m2), 0);
    usleep(1200 * 1000); /* coturn frees the first probe's quota at its next timer tick */
    two_legs_on(m2, "call-full", "leg-full-a", "leg-full-b", fd, to);
    srv.sin_port = htons(full.port);
    srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 80 && turn_prober_is_reachable(p2, "turn-full", (struct sockaddr *)&srv);
         i++) /* the next probe finds the quota spent */
        usleep(100 * 1000);
    ck_assert(!turn_prober_is_reachable(p2, "turn-full", (struct sockaddr *)&srv));
    ck_assert(!turn_prober_is_down(p2, "turn-full", (struct sockaddr *)&srv));
    usleep(1500 * 1000); /* a housekeeping tick after that probe */
    ck_assert_int_eq(media_leg_get(m2, "leg-full-a", &st), 0);
    ck_assert_msg(st.state == MEDIA_LEG_CONNECTED && st.anchors == 1, "state %d, %u anchors, %s",
                  st.state, st.anchors, st.reason);
    for (int i = 0; i < 20; i++)
        sendto(fd[0], buf, rtp(buf, (uint16_t)i), 0, (struct sockaddr *)&to[0], sizeof(to[0]));
    expect_rtp(fd[1], 20, &to[1]);
    media_stop(m2);
    turn_prober_stop(p2);
    close(fd[0]);
    close(fd[1]);
    th_coturn_stop(&full);
}
END_TEST

/* With no TURN server reachable a leg fails, and says why. */
START_TEST(test_no_reachable_server_fails_the_leg)
{
    static const char *const ids[] = {"turn-gone"};
    const unsigned short nobody = th_free_port();
    struct turn_prober *p2;
    struct media_config mc = {0};
    struct media *m2;
    struct sockaddr_in a;
    struct media_leg_status st;
    int fa;

    p2 = own_prober(3600LL * 1000000, 500000, ids, &nobody, 1);
    mc.prober = p2;
    ck_assert_int_eq(media_start(&mc, &m2), 0);
    fa = endpoint(&a);
    media_leg_add(m2, "call-n", "leg-n", (struct sockaddr *)&a);
    st = settled_on(m2, "leg-n");
    ck_assert_int_eq(st.state, MEDIA_LEG_FAILED);
    ck_assert_str_eq(st.reason, "no reachable TURN server");
    ck_assert_str_eq(st.turn_server, "");
    media_stop(m2);
    turn_prober_stop(p2);
    close(fa);
}
END_TEST

/* A TURN Data indication carrying an RTP packet from peer ip, port 9. */
static size_t data_indication(uint8_t buf[256], const char *ip)
{
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(9)};
    uint8_t tid[STUN_TID_LEN] = {7}, payload[256];
    struct stun_writer w;
    long n;

    inet_pton(AF_INET, ip, &peer.sin_addr);
    stun_writer_init(&w, buf, 256, STUN_DATA, STUN_INDICATION, tid);
    stun_put_addr(&w, STUN_ATTR_XOR_PEER_ADDRESS, (struct sockaddr *)&peer);
    stun_put_bytes(&w, STUN_ATTR_DATA, payload, rtp(payload, 1));
    n = stun_writer_finish(&w);
    ck_assert_int_gt(n, 0);
    return (size_t)n;
}

/* A two-leg call on a media thread and prober of its own, anchored on coturn through a UDP
 * relay (th_relay) that can inject what a damaged or hostile path would deliver. */
struct relayed_call {
    struct th_relay relay;
    struct turn_prober *prober;
    struct media *media;
    struct sockaddr_in to[2];
    int fd[2];
};

static void relayed_call_start(struct relayed_call *rc, const char *const *ids, const char *call,
                               const char *la, const char *lb)
{
    struct media_config mc = {0};

    th_relay_start(&rc->relay, co.port, 0);
    rc->prober = own_prober(3600LL * 1000000, 2000000, ids, &rc->relay.port, 1);
    mc.prober = rc->prober;
    ck_assert_int_eq(media_start(&mc, &rc->media), 0);
    two_legs_on(rc->media, call, la, lb, rc->fd, rc->to);
}

static void relayed_call_stop(struct relayed_call *rc)
{
    media_stop(rc->media);
    turn_prober_stop(rc->prober);
    th_relay_stop(&rc->relay);
    close(rc->fd[0]);
    close(rc->fd[1]);
}

/* Nothing of what was injected reached an endpoint (waiting up to wait_ms), and 10 RTP packets
 * from the first endpoint still reach the second: leg 'la' is connected and forwarded 10. */
static struct media_leg_status nothing_through_and_call_carries_on(struct relayed_call *rc,
                                                                   const char *la, int wait_ms)
{
    struct media_leg_status st;
    struct pollfd pfd = {rc->fd[0], POLLIN, 0};

    ck_assert_int_eq(poll(&pfd, 1, wait_ms), 0);
    pfd = (struct pollfd){rc->fd[1], POLLIN, 0};
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);
    for (int i = 0; i < 10; i++) {
        uint8_t buf[256];

        sendto(rc->fd[0], buf, rtp(buf, (uint16_t)i), 0, (struct sockaddr *)&rc->to[0],
               sizeof(rc->to[0]));
    }
    expect_rtp(rc->fd[1], 10, &rc->to[1]);
    ck_assert_int_eq(media_leg_get(rc->media, la, &st), 0);
    ck_assert_int_eq(st.state, MEDIA_LEG_CONNECTED);
    ck_assert_uint_eq(st.cls[MEDIA_RTP].fwd_packets, 10);
    return st;
}

/* What a damaged path could bring a leg from its TURN server's address: truncated ChannelData,
 * ChannelData on a channel never bound, a STUN header with nothing behind it, a datagram that
 * is neither, an empty one, and a well-formed Data indication from a peer without permission:
 * each is counted as malformed. A Data indication from the endpoint's address but another port
 * passes the permission (RFC 8656 permissions are by IP address) and is counted as a stranger.
 * A relay between the anchor and coturn delivers them; none reaches an endpoint, and the call's
 * media goes on untouched. */
START_TEST(test_malformed_from_the_server_is_counted_and_dropped)
{
    static const char *const ids[] = {"turn-via"};
    static const uint8_t truncated[] = {0x40, 0x00, 0x00, 0xc8, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    static const uint8_t unbound[] = {0x4a, 0xbc, 0x00, 0x0c, 0x80, 0, 0, 1,
                                      0,    0,    0,    0,    0,    0, 0, 1};
    static const uint8_t stun_header[] = {0x01, 0x01, 0x00, 0x50, 0x21, 0x12, 0xa4, 0x42, 1,  2,
                                          3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
    static const uint8_t neither[20] = {0xff, 0xee};
    uint8_t unpermitted[256], stranger[256];
    size_t unpermitted_len = data_indication(unpermitted, "127.0.0.2");
    size_t stranger_len = data_indication(stranger, "127.0.0.1");
    struct relayed_call rc;
    struct th_relay *relay = &rc.relay;
    struct media *m2;
    struct media_leg_status st;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    relayed_call_start(&rc, ids, "call-m", "leg-ma", "leg-mb");
    m2 = rc.media;
    th_relay_inject(relay, truncated, sizeof(truncated));
    th_relay_inject(relay, unbound, sizeof(unbound));
    th_relay_inject(relay, stun_header, sizeof(stun_header));
    th_relay_inject(relay, neither, sizeof(neither));
    th_relay_inject(relay, neither, 0);
    th_relay_inject(relay, unpermitted, unpermitted_len);
    th_relay_inject(relay, stranger, stranger_len);
    for (int i = 0; i < 60; i++) { /* published every second */
        if (media_leg_get(m2, "leg-mb", &st) == 0 && st.malformed >= 6 && st.strangers >= 1)
            break;
        usleep(50 * 1000);
    }
    for (int leg = 0; leg < 2; leg++) {
        ck_assert_int_eq(media_leg_get(m2, leg ? "leg-mb" : "leg-ma", &st), 0);
        ck_assert_uint_eq(st.malformed, 6);
        ck_assert_uint_eq(st.strangers, 1);
    }
    st = nothing_through_and_call_carries_on(&rc, "leg-ma", 200);
    ck_assert_uint_eq(st.cls[MEDIA_RTP].rx_packets, 10);
    ck_assert_uint_eq(st.strangers, 1);
    relayed_call_stop(&rc);
}
END_TEST

/* A flood from the TURN server's address: 20,000 ChannelData datagrams on a channel never
 * bound and 20,000 truncated ones to each leg's allocation, as fast as one thread sends. The
 * media thread counts what reaches it as malformed (the rest overflows its socket's receive
 * buffer in the kernel), forwards none, and the call carries on. */
START_TEST(test_flood_from_the_server_is_dropped)
{
    static const char *const ids[] = {"turn-flood"};
    static const uint8_t truncated[] = {0x40, 0x00, 0x00, 0xc8, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    static const uint8_t unbound[] = {0x4a, 0xbc, 0x00, 0x0c, 0x80, 0, 0, 1,
                                      0,    0,    0,    0,    0,    0, 0, 1};
    struct relayed_call rc;
    struct media_leg_status st;
    uint64_t seen = 0, last = 1;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    relayed_call_start(&rc, ids, "call-f", "leg-fa", "leg-fb");
    th_relay_flood(&rc.relay, unbound, sizeof(unbound), 20000);
    th_relay_flood(&rc.relay, truncated, sizeof(truncated), 20000);
    for (int i = 0; i < 40 && seen != last; i++) { /* until the count settles (published 1/s) */
        last = seen;
        usleep(1200 * 1000);
        ck_assert_int_eq(media_leg_get(rc.media, "leg-fa", &st), 0);
        seen = st.malformed;
    }
    ck_assert_uint_gt(seen, 0);
    ck_assert_uint_le(seen, 40000);
    (void)nothing_through_and_call_carries_on(&rc, "leg-fa", 0);
    fprintf(stderr,
            "flood: %llu of 40,000 datagrams reached the media thread and were counted "
            "malformed; the rest never reached its socket\n",
            (unsigned long long)seen);
    relayed_call_stop(&rc);
}
END_TEST

/* A program with its stdin on a pipe (returned in *ret_in) and stdout+stderr in out_path. */
static pid_t spawn(const char *const *argv, int *ret_in, const char *out_path)
{
    int in[2];
    pid_t pid;

    ck_assert_int_eq(pipe(in), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(in[0], STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        close(in[1]);
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(in[0]);
    *ret_in = in[1];
    return pid;
}

static bool wait_for_text(const char *path, const char *text, int ms)
{
    for (int i = 0; i < ms / 50; i++) {
        char *data = NULL;
        size_t len = 0;
        bool found = false;

        if (api_read_file(path, 1 << 20, &data, &len) == 0)
            found = strstr(data, text) != NULL;
        free(data);
        if (found)
            return true;
        usleep(50 * 1000);
    }
    return false;
}

static void end(pid_t pid)
{
    int status;

    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
}

/* DTLS end to end: openssl s_server behind one leg, s_client behind the other, through the
 * anchor: the handshake completes and data goes both ways. */
START_TEST(test_dtls_end_to_end)
{
    struct sockaddr_in srv = loopback_any(), cli = loopback_any(), rc;
    char dir[64], cert[128], key[128], srv_out[128], cli_out[128], accept[32], bind_to[32],
        connect_to[64];
    struct media_leg_status st;
    pid_t server, client;
    int server_in, client_in;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_tmpdir(dir);
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(srv_out, sizeof(srv_out), "%s/server.out", dir);
    snprintf(cli_out, sizeof(cli_out), "%s/client.out", dir);
    ck_assert_int_eq(api_tls_make_selfsigned("dtls.test", cert, key), 0);
    srv.sin_port = htons(th_free_port());
    cli.sin_port = htons(th_free_port());
    media_leg_add(media, "call-dtls", "leg-srv", (struct sockaddr *)&srv);
    media_leg_add(media, "call-dtls", "leg-cli", (struct sockaddr *)&cli);
    connected("leg-srv");
    rc = connected("leg-cli");
    snprintf(accept, sizeof(accept), "127.0.0.1:%u", ntohs(srv.sin_port));
    snprintf(bind_to, sizeof(bind_to), "127.0.0.1:%u", ntohs(cli.sin_port));
    snprintf(connect_to, sizeof(connect_to), "127.0.0.1:%u", ntohs(rc.sin_port));
    {
        const char *sargv[] = {"openssl", "s_server", "-dtls1_2", "-accept", accept, "-cert",
                               cert,      "-key",     key,        "-quiet",  NULL};
        const char *cargv[] = {"openssl", "s_client", "-dtls1_2", "-connect", connect_to,
                               "-bind",   bind_to,    "-quiet",   NULL};

        server = spawn(sargv, &server_in, srv_out);
        usleep(300 * 1000);
        client = spawn(cargv, &client_in, cli_out);
    }
    usleep(1500 * 1000); /* the handshake crosses the anchor */
    ck_assert_int_eq(write(client_in, "hello-from-client\n", 18), 18);
    ck_assert_msg(wait_for_text(srv_out, "hello-from-client", 10000), "server got nothing");
    ck_assert_int_eq(write(server_in, "hello-from-server\n", 18), 18);
    ck_assert_msg(wait_for_text(cli_out, "hello-from-server", 10000), "client got nothing");
    ck_assert_int_eq(media_leg_get(media, "leg-cli", &st), 0);
    ck_assert_uint_gt(st.cls[MEDIA_DTLS].rx_packets, 2); /* handshake and data */
    ck_assert_uint_eq(st.cls[MEDIA_DTLS].rx_packets, st.cls[MEDIA_DTLS].fwd_packets);
    close(server_in);
    close(client_in);
    end(client);
    end(server);
    th_rmdir(dir);
}
END_TEST

/* Waits (at most 3 s) for the published RTP figures to count n packets. */
static struct media_leg_status rtp_status(const char *leg, uint64_t n)
{
    struct media_leg_status st;

    for (int i = 0; i < 60; i++) {
        ck_assert_int_eq(media_leg_get(media, leg, &st), 0);
        if (st.rx_rtp.received >= n)
            break;
        usleep(50 * 1000);
    }
    return st;
}

START_TEST(test_rtp_loss_in_status)
{
    struct sockaddr_in a, b, ra;
    struct media_leg_status st;
    uint8_t buf[256];
    int fa, fb;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    fa = endpoint(&a);
    fb = endpoint(&b);
    media_leg_add(media, "call-loss", "leg-la", (struct sockaddr *)&a);
    media_leg_add(media, "call-loss", "leg-lb", (struct sockaddr *)&b);
    ra = connected("leg-la");
    connected("leg-lb");
    for (int i = 0; i < 100; i++) { /* sequence numbers 0..99, five of them never sent */
        if (i % 20 == 7)
            continue;
        sendto(fa, buf, rtp(buf, (uint16_t)i), 0, (struct sockaddr *)&ra, sizeof(ra));
    }
    st = rtp_status("leg-la", 95);
    ck_assert(st.rx_rtp.seen);
    ck_assert_uint_eq(st.rx_rtp.received, 95);
    ck_assert_uint_eq(st.rx_rtp.expected, 100);
    ck_assert_uint_eq(st.rx_rtp.lost, 5);
    ck_assert_double_eq_tol(st.rx_rtp.loss_percent, 5.0, 0.01);
    ck_assert(st.rx_rtp.has_jitter); /* payload type 0: 8 kHz */
    ck_assert_uint_eq(st.rx_rtp.payload_type, 0);
    close(fa);
    close(fb);
}
END_TEST

/* RTP from GStreamer (audiotestsrc ! rtpL16pay ! udpsink) through a two-leg call. */
START_TEST(test_gstreamer_rtp_through_the_anchor)
{
    struct sockaddr_in a = loopback_any(), b, ra, rb;
    struct media_leg_status st;
    char dst_port[32], src_port[32];
    int fb, received = 0, status;
    int last_seq = -1;
    pid_t gst;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    if (access("/usr/bin/gst-launch-1.0", X_OK) != 0) {
        th_skip_missing_dep("gst-launch-1.0");
        return;
    }
    a.sin_port = htons(th_free_port()); /* GStreamer sends from here */
    fb = endpoint(&b);
    media_leg_add(media, "call-gst", "leg-ga", (struct sockaddr *)&a);
    media_leg_add(media, "call-gst", "leg-gb", (struct sockaddr *)&b);
    ra = connected("leg-ga");
    rb = connected("leg-gb");
    snprintf(dst_port, sizeof(dst_port), "port=%u", ntohs(ra.sin_port));
    snprintf(src_port, sizeof(src_port), "bind-port=%u", ntohs(a.sin_port));
    gst = fork();
    ck_assert_int_ge(gst, 0);
    if (gst == 0) {
        int null = open("/dev/null", O_WRONLY);

        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execl("/usr/bin/gst-launch-1.0", "gst-launch-1.0", "-q", "audiotestsrc", "num-buffers=200",
              "samplesperbuffer=160", "is-live=true", "!",
              "audio/x-raw,format=S16BE,rate=8000,channels=1", "!", "rtpL16pay", "!", "udpsink",
              "host=127.0.0.1", dst_port, "bind-address=127.0.0.1", src_port, (char *)NULL);
        _exit(127);
    }
    for (;;) { /* at B: from B's relayed address, sequence numbers one by one */
        struct pollfd pfd = {fb, POLLIN, 0};
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        uint8_t got[2048];
        ssize_t n;

        if (poll(&pfd, 1, 3000) != 1)
            break;
        n = recvfrom(fb, got, sizeof(got), 0, (struct sockaddr *)&from, &flen);
        ck_assert_int_eq(n, 12 + 320); /* header and 160 16-bit samples */
        ck_assert_uint_eq(got[0] >> 6, 2);
        ck_assert_uint_eq(from.sin_port, rb.sin_port);
        if (last_seq >= 0)
            ck_assert_int_eq((got[2] << 8 | got[3]), (last_seq + 1) & 0xffff);
        last_seq = got[2] << 8 | got[3];
        received++;
    }
    ck_assert_int_eq(waitpid(gst, &status, 0), gst);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "gst-launch-1.0 failed");
    ck_assert_int_eq(received, 200);
    st = rtp_status("leg-ga", 200);
    ck_assert_uint_eq(st.cls[MEDIA_RTP].rx_packets, 200);
    ck_assert_uint_eq(st.cls[MEDIA_RTP].fwd_packets, 200);
    ck_assert_uint_eq(st.rx_rtp.received, 200);
    ck_assert_uint_eq(st.rx_rtp.lost, 0);
    close(fb);
}
END_TEST

Suite *media_suite(void)
{
    Suite *s = suite_create("media");
    TCase *tc = tcase_create("anchor");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_two_legs_relay_rtp_both_ways);
    tcase_add_test(tc, test_three_legs_fan_out);
    tcase_add_test(tc, test_no_socket_fails_only_the_new_leg);
    tcase_add_test(tc, test_failover_to_the_other_server);
    tcase_add_test(tc, test_media_survives_short_lifetimes);
    tcase_add_test(tc, test_malformed_from_the_server_is_counted_and_dropped);
    tcase_add_test(tc, test_flood_from_the_server_is_dropped);
    tcase_add_test(tc, test_removal_and_stop_release_allocations);
    tcase_add_test(tc, test_no_reachable_server_fails_the_leg);
    tcase_add_test(tc, test_a_full_server_keeps_its_legs);
    tcase_add_test(tc, test_dtls_end_to_end);
    tcase_add_test(tc, test_rtp_loss_in_status);
    tcase_add_test(tc, test_gstreamer_rtp_through_the_anchor);
    suite_add_tcase(s, tc);
    return s;
}
