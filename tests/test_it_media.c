/* tests/test_it_media.c: calls and call legs through the running daemon, with coturn as the TURN
 * server and UDP endpoints on loopback: media flows between the relayed addresses the legs'
 * status shows, the counters say so, an incoming leg is placed by the call matching, and bad
 * input is refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "tests/suites.h"
#include "turnclient/turnclient.h"
#include "turnclient/txn.h"

static struct th_daemon d;
static struct th_coturn co;
static char why[128];

static void start(void)
{
    th_daemon_coturn_start(&d, &co, why, sizeof(why));
}

static void stop(void)
{
    th_daemon_coturn_stop(&d, &co);
}

static long call(const char *method, const char *path, const char *form, char *out, size_t cap,
                 char *location)
{
    return th_admin_keep(&d, method, path, form, out, cap, location);
}

START_TEST(test_call_with_two_legs_carries_media)
{
    char form[256], body[8192], call_path[128], leg_a[128], leg_b[128], leg_c[128], value[128];
    static char metrics[65536];
    struct sockaddr_in ra, rb;
    unsigned short pa, pb;
    int fa, fb;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port);
    ck_assert_int_eq(call("POST", "/api/v1/turnServers", form, NULL, 0, value), 200);
    snprintf(form, sizeof(form), "%s/status", value); /* waits for the first probe */
    ck_assert_int_eq(call("GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
    ck_assert_int_eq(
        call("POST", "/api/v1/inboundDialPlanRules", "domain=media.example.com", NULL, 0, NULL),
        200);
    ck_assert_int_eq(
        call("POST", "/api/v1/coSpaces", "name=Media+Room&uri=media.room", NULL, 0, value), 200);
    snprintf(form, sizeof(form), "coSpace=%s", strrchr(value, '/') + 1);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call_path), 200);

    fa = th_udp_endpoint(&pa);
    fb = th_udp_endpoint(&pb);
    snprintf(form, sizeof(form), "remoteParty=alice@example.com&remoteMediaAddress=127.0.0.1:%u",
             pa);
    snprintf(body, sizeof(body), "%s/callLegs", call_path);
    ck_assert_int_eq(call("POST", body, form, NULL, 0, leg_a), 200);
    snprintf(form, sizeof(form), "remoteParty=bob@example.com&remoteMediaAddress=127.0.0.1:%u", pb);
    ck_assert_int_eq(call("POST", body, form, NULL, 0, leg_b), 200);
    th_leg_wait_connected(&d, leg_a, &ra);
    th_leg_wait_connected(&d, leg_b, &rb);

    for (int i = 0; i < 50; i++) { /* RTP from A, to its relayed address */
        uint8_t pkt[172] = {0x80, 0, (uint8_t)(i >> 8), (uint8_t)i};

        ck_assert_int_eq(sendto(fa, pkt, sizeof(pkt), 0, (struct sockaddr *)&ra, sizeof(ra)), 172);
    }
    for (int i = 0; i < 50; i++) { /* at B, from B's relayed address, in order */
        struct pollfd pfd = {fb, POLLIN, 0};
        uint8_t got[256];
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);

        ck_assert_msg(poll(&pfd, 1, 5000) == 1, "packet %d missing", i);
        ck_assert_int_eq(recvfrom(fb, got, sizeof(got), 0, (struct sockaddr *)&from, &flen), 172);
        ck_assert_uint_eq(got[3], (uint8_t)i);
        ck_assert_uint_eq(from.sin_port, rb.sin_port);
    }
    /* the media thread counts a datagram forwarded once its send has returned, which on a
     * loaded machine can be after B has it: the counters are read until they agree (1 s) */
    for (int i = 0; i < 50; i++) {
        ck_assert_int_eq(call("GET", leg_a, NULL, body, sizeof(body), NULL), 200);
        if (strstr(body, "<packetsForwarded>50</packetsForwarded>"))
            break;
        (void)usleep(20 * 1000);
    }
    ck_assert_msg(strstr(body, "<rtp><packetsReceived>50</packetsReceived><bytesReceived>"
                               "8600</bytesReceived><packetsForwarded>50</packetsForwarded>"),
                  "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<remoteParty>alice@example.com</remoteParty>"));
    /* a plain leg's RTP is forwarded as it comes: not encrypted */
    ck_assert_msg(strstr(body, "</durationSeconds><direction>incoming</direction><encryptedMedia>"
                               "false</encryptedMedia><unencryptedMedia>true</unencryptedMedia>"),
                  "%s", body);

    /* an incoming leg, placed by the call matching, joins the same call */
    ck_assert_int_eq(call("POST", "/api/v1/callLegs", "destination=media.room@media.example.com",
                          NULL, 0, leg_c),
                     200);
    ck_assert_int_eq(call("GET", call_path, NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "numCallLegs", value, sizeof(value));
    ck_assert_str_eq(value, "3");
    ck_assert_int_eq(call("GET", "/api/v1/system/status", NULL, body, sizeof(body), NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<callLegsActive>3</callLegsActive>"));
    ck_assert_int_eq(call("GET", "/api/v1/callLegs", NULL, body, sizeof(body), NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<callLegs total=\"3\">"));
    ck_assert_int_eq(call("GET", "/metrics", NULL, metrics, sizeof(metrics), NULL), 200);
    ck_assert_ptr_nonnull(strstr(metrics, "\ncallbridge_calls_active 1\n"));
    ck_assert_ptr_nonnull(strstr(metrics, "\ncallbridge_call_legs_active 3\n"));
    ck_assert_ptr_nonnull(
        strstr(metrics, "\ncallbridge_media_received_packets_total{class=\"rtp\"} 50\n"));

    /* ending the call ends its legs */
    ck_assert_int_eq(call("DELETE", call_path, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("GET", leg_a, NULL, body, sizeof(body), NULL), 404);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><callLegDoesNotExist />"
                           "</failureDetails>");
    ck_assert_int_eq(call("GET", "/api/v1/system/status", NULL, body, sizeof(body), NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<callLegsActive>0</callLegsActive><callLegsMaxActive>3"));
    /* the counters keep what the ended legs carried: they never go back */
    ck_assert_int_eq(call("GET", "/metrics", NULL, metrics, sizeof(metrics), NULL), 200);
    ck_assert_ptr_nonnull(strstr(metrics, "\ncallbridge_call_legs_active 0\n"));
    ck_assert_ptr_nonnull(
        strstr(metrics, "\ncallbridge_media_received_packets_total{class=\"rtp\"} 50\n"));
    ck_assert_ptr_nonnull(
        strstr(metrics, "\ncallbridge_media_forwarded_packets_total{class=\"rtp\"} 50\n"));
    ck_assert_ptr_nonnull(
        strstr(metrics, "\ncallbridge_media_received_bytes_total{class=\"rtp\"} 8600\n"));
    close(fa);
    close(fb);
}
END_TEST

START_TEST(test_bad_input_refused)
{
    char body[1024], call_path[128], value[160], form[160];

    ck_assert_int_eq(call("POST", "/api/v1/calls", "coSpace=6c0a3b8e-1c3e-4d2a-9a55-3d2f6c8b0a11",
                          body, sizeof(body), NULL),
                     400);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><coSpaceDoesNotExist />"
                           "</failureDetails>");
    ck_assert_int_eq(call("POST", "/api/v1/calls/6c0a3b8e-1c3e-4d2a-9a55-3d2f6c8b0a11/callLegs",
                          "remoteParty=x", body, sizeof(body), NULL),
                     404);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><callDoesNotExist />"
                           "</failureDetails>");
    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", "uri=bad.input", NULL, 0, value), 200);
    snprintf(form, sizeof(form), "coSpace=%s", strrchr(value, '/') + 1);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call_path), 200);
    snprintf(value, sizeof(value), "%s/callLegs", call_path);
    ck_assert_int_eq(
        call("POST", value, "remoteMediaAddress=not-an-address", body, sizeof(body), NULL), 400);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><parameterError "
                           "parameter=\"remoteMediaAddress\" error=\"invalidValue\" />"
                           "</failureDetails>");
    ck_assert_int_eq(call("POST", "/api/v1/callLegs", "destination=x@unknown.example.com", body,
                          sizeof(body), NULL),
                     400);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><noMatchingRule />"
                           "</failureDetails>");
    ck_assert_int_eq(
        call("GET", "/api/v1/calls?coSpaceFilter=nothing", NULL, body, sizeof(body), NULL), 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><calls total=\"0\"/>");
    ck_assert_int_eq(call("DELETE", call_path, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* The calls in coSpace (its id) now. */
static int calls_of(const char *cospace)
{
    char path[160], body[4096], total[16] = "";

    snprintf(path, sizeof(path), "/api/v1/calls?coSpaceFilter=%s", cospace);
    ck_assert_int_eq(call("GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(sscanf(body, "<?xml version=\"1.0\"?><calls total=\"%15[0-9]\"", total) == 1,
                  "%s", body);
    return atoi(total);
}

/* A call that a participant's arrival made (here an incoming leg placed by the call matching)
 * ends when its last leg goes, as a CMS coSpace call does; one made by POST /calls stays until
 * it is deleted. The next arrival makes a new call. */
START_TEST(test_a_call_ends_with_its_last_participant)
{
    char space[128], leg[128], leg2[128], first[4096], body[4096], form[160], call_path[128];
    const char *id;

    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", "name=Ends&uri=ends.room", NULL, 0, space),
                     200);
    id = strrchr(space, '/') + 1;
    ck_assert_int_eq(
        call("POST", "/api/v1/inboundDialPlanRules", "domain=ends.example.com", NULL, 0, NULL),
        200);
    ck_assert_int_eq(calls_of(id), 0);
    ck_assert_int_eq(
        call("POST", "/api/v1/callLegs", "destination=ends.room@ends.example.com", NULL, 0, leg),
        200);
    ck_assert_int_eq(
        call("POST", "/api/v1/callLegs", "destination=ends.room@ends.example.com", NULL, 0, leg2),
        200);
    ck_assert_int_eq(calls_of(id), 1);
    snprintf(form, sizeof(form), "/api/v1/calls?coSpaceFilter=%s", id);
    ck_assert_int_eq(call("GET", form, NULL, first, sizeof(first), NULL), 200);
    ck_assert_int_eq(call("DELETE", leg, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(calls_of(id), 1); /* one participant is still there */
    ck_assert_int_eq(call("DELETE", leg2, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(calls_of(id), 0);
    ck_assert_int_eq(
        call("POST", "/api/v1/callLegs", "destination=ends.room@ends.example.com", NULL, 0, leg),
        200);
    ck_assert_int_eq(call("GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_int_eq(calls_of(id), 1);
    ck_assert_msg(strcmp(body, first) != 0, "a new call, not the old one: %s", body);
    ck_assert_int_eq(call("DELETE", leg, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(calls_of(id), 0);
    /* an administrator's call stays without participants */
    snprintf(form, sizeof(form), "coSpace=%s", id);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call_path), 200);
    snprintf(form, sizeof(form), "%s/callLegs", call_path);
    ck_assert_int_eq(call("POST", form, "remoteParty=x", NULL, 0, leg), 200);
    ck_assert_int_eq(call("DELETE", leg, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("GET", call_path, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("DELETE", call_path, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("DELETE", space, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* A TURN server on the suite's coturn, probed (waits for the first probe). */
static void add_turn_server(void)
{
    char form[160], path[128], body[4096];

    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port);
    ck_assert_int_eq(call("POST", "/api/v1/turnServers", form, NULL, 0, path), 200);
    snprintf(form, sizeof(form), "%s/status", path);
    ck_assert_int_eq(call("GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
}

/* Issue 12, item 8: a call takes 32 legs; the 33rd is refused at POST with CMS's
 * participantLimitReached and one log line, and is never left connecting (on 37c43fb it was
 * answered 200 and stayed "waiting for the media thread"). A place freed is taken again. */
START_TEST(test_33rd_leg_refused_at_post)
{
    static char legs[33][128];
    char form[256], body[8192], call_path[128], legs_path[160], value[160], state[32];
    unsigned short port;
    int fd;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    add_turn_server();
    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", "name=Full&uri=full.room", NULL, 0, value),
                     200);
    snprintf(form, sizeof(form), "coSpace=%s", strrchr(value, '/') + 1);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call_path), 200);
    snprintf(legs_path, sizeof(legs_path), "%s/callLegs", call_path);
    fd = th_udp_endpoint(&port);
    snprintf(form, sizeof(form), "remoteParty=p@example.com&remoteMediaAddress=127.0.0.1:%u", port);
    for (int i = 0; i < 32; i++)
        ck_assert_int_eq(call("POST", legs_path, form, NULL, 0, legs[i]), 200);

    ck_assert_int_eq(call("POST", legs_path, form, body, sizeof(body), NULL), 400);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><participantLimitReached />"
                           "</failureDetails>");
    ck_assert_int_eq(call("POST", legs_path, "remoteParty=no-media", body, sizeof(body), NULL),
                     400); /* the call's limit counts every leg, with media or not */
    ck_assert_uint_eq(th_log_count(&d, "(participantLimitReached)"), 2);
    ck_assert_int_eq(call("GET", legs_path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<callLegs total=\"32\">"), "%s", body);
    for (int i = 0; i < 32; i++) { /* every leg admitted connects: none is left waiting */
        struct sockaddr_in relayed;

        th_leg_wait_connected(&d, legs[i], &relayed);
    }

    ck_assert_int_eq(call("DELETE", legs[31], NULL, NULL, 0, NULL), 200); /* a place frees */
    ck_assert_int_eq(call("POST", legs_path, form, NULL, 0, legs[32]), 200);
    for (int i = 0; i < 160; i++) {
        ck_assert_int_eq(call("GET", legs[32], NULL, body, sizeof(body), NULL), 200);
        th_xml_text(body, "state", state, sizeof(state));
        if (strcmp(state, "connecting") != 0)
            break;
        usleep(50 * 1000);
    }
    ck_assert_msg(strcmp(state, "connected") == 0, "%s", body);
    ck_assert_int_eq(call("DELETE", call_path, NULL, NULL, 0, NULL), 200);
    close(fd);
}
END_TEST

static int fd_send(void *userdata, const uint8_t *buf, size_t len)
{
    return send(*(int *)userdata, buf, len, 0) < 0 ? -errno : 0;
}

/* An allocation of the test's own on the coturn at port as alice (the legs' user), from a
 * socket of its own, held: never released, so coturn keeps it on that socket's 5-tuple. Returns
 * the socket, connected to coturn. */
static int held_allocation(unsigned short port)
{
    struct turn_alloc_config cfg = {.username = "alice",
                                    .password = "secret",
                                    .software = "it_media",
                                    .max_stale_nonce = 3,
                                    .send = fd_send};
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct turn_alloc_info info = {.state = TURN_ALLOC_ALLOCATING};
    struct turn_alloc *a;
    static int fd;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    turn_txn_config_rfc(&cfg.txn);
    cfg.userdata = &fd;
    ck_assert_int_eq(turn_alloc_new(&cfg, &a), 0);
    ck_assert_int_eq(turn_alloc_start(a, turn_now_us()), 0);
    for (int i = 0; i < 200 && info.state == TURN_ALLOC_ALLOCATING; i++) { /* at most ~10 s */
        struct pollfd pfd = {fd, POLLIN, 0};
        uint8_t buf[1500];
        ssize_t n;

        if (poll(&pfd, 1, 50) == 1 && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
            (void)turn_alloc_feed(a, buf, (size_t)n, turn_now_us());
        if (turn_now_us() >= turn_alloc_next_deadline(a))
            turn_alloc_on_timer(a, turn_now_us());
        turn_alloc_get_info(a, &info);
    }
    ck_assert_msg(info.state == TURN_ALLOC_READY, "the test's own allocation: %s", info.reason);
    turn_alloc_free(a); /* the client's state only: nothing is sent, coturn keeps it */
    return fd;
}

/* Deletes every TURN server the suite's earlier tests made, so that legs anchor on the one the
 * test adds. */
static void delete_turn_servers(void)
{
    char body[8192], path[128];
    const char *p;

    ck_assert_int_eq(call("GET", "/api/v1/turnServers", NULL, body, sizeof(body), NULL), 200);
    for (p = body; (p = strstr(p, "<turnServer id=\"")); p += 16) {
        snprintf(path, sizeof(path), "/api/v1/turnServers/%.36s", p + 16);
        ck_assert_int_eq(call("DELETE", path, NULL, NULL, 0, NULL), 200);
    }
}

/* The state a leg left "connecting" for (at most 8 s), with its GET body in body. */
static void leg_settled(const char *leg, char *state, size_t cap, char *body, size_t bcap)
{
    for (int i = 0; i < 160; i++) {
        ck_assert_int_eq(call("GET", leg, NULL, body, bcap, NULL), 200);
        th_xml_text(body, "state", state, cap);
        if (strcmp(state, "connecting") != 0)
            return;
        usleep(50 * 1000);
    }
}

/* RFC 8656 §7.4, 31dc391: coturn answers 437 allocationMismatch when it still holds an
 * allocation on the 5-tuple a leg's Allocate comes from (a released allocation lingering while
 * the kernel hands its port out again). A relay between the daemon and coturn gives the leg's
 * first port the 5-tuple of an allocation the test holds, so its first Allocate gets a real
 * 437; the leg allocates again at once from another port and connects without ever showing
 * failed, and carries media. Four such ports in a row: the leg gives up after 3 fresh ports,
 * shows failed with the reason, and is anchored again by the housekeeping's retry. Before
 * 31dc391 the leg failed at the first 437 (the first check here fails). */
START_TEST(test_leg_answered_437_allocates_from_a_fresh_port)
{
    char form[256], body[8192], path[128], call_path[128], legs_path[160], leg_a[128], leg_b[128],
        leg_c[128], state[32], value[160];
    struct sockaddr_in ra, rb;
    struct th_coturn own = {0};
    struct th_relay relay;
    unsigned short pa, pb;
    int fa, fb;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    delete_turn_servers();
    th_coturn_start(&own, NULL); /* 40 relay ports of its own: the earlier tests' may linger */
    th_relay_start(&relay, own.port, 0);
    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
             relay.port);
    ck_assert_int_eq(call("POST", "/api/v1/turnServers", form, NULL, 0, path), 200);
    snprintf(form, sizeof(form), "%s/status", path); /* the first probe, through the relay */
    ck_assert_int_eq(call("GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
    ck_assert_int_eq(
        call("POST", "/api/v1/coSpaces", "name=Mismatch&uri=mismatch.room", NULL, 0, value), 200);
    snprintf(form, sizeof(form), "coSpace=%s", strrchr(value, '/') + 1);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call_path), 200);
    snprintf(legs_path, sizeof(legs_path), "%s/callLegs", call_path);

    /* one 437: a fresh port at once */
    th_relay_hand_over(&relay, held_allocation(own.port));
    fa = th_udp_endpoint(&pa);
    fb = th_udp_endpoint(&pb);
    snprintf(form, sizeof(form), "remoteParty=a@example.com&remoteMediaAddress=127.0.0.1:%u", pa);
    ck_assert_int_eq(call("POST", legs_path, form, NULL, 0, leg_a), 200);
    leg_settled(leg_a, state, sizeof(state), body, sizeof(body));
    ck_assert_msg(strcmp(state, "connected") == 0, "%s", body);
    ck_assert_msg(strstr(body, "<anchors>2</anchors>"), "%s", body); /* the 437, the fresh port */
    ck_assert_uint_eq(th_relay_handed_over(&relay), 1); /* its first port met the held one */
    ck_assert_uint_eq(th_log_count(&d, "holds an allocation on this port (437): again from "
                                       "another port (1 of 3)"),
                      1);
    ck_assert_uint_eq(th_log_count(&d, "TURN allocation failed"), 0);
    snprintf(form, sizeof(form), "remoteParty=b@example.com&remoteMediaAddress=127.0.0.1:%u", pb);
    ck_assert_int_eq(call("POST", legs_path, form, NULL, 0, leg_b), 200);
    th_leg_wait_connected(&d, leg_a, &ra);
    th_leg_wait_connected(&d, leg_b, &rb);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 20, 2000), 20); /* A to B, through both */
    ck_assert_int_eq(th_relay_count(fb, &rb, fa, 0, 20, 2000), 20);

    /* four in a row: 3 fresh ports, then failed; the retry 2 s later connects */
    for (int i = 0; i < 4; i++)
        th_relay_hand_over(&relay, held_allocation(own.port));
    ck_assert_int_eq(call("POST", legs_path,
                          "remoteParty=c@example.com&remoteMediaAddress="
                          "127.0.0.1:9",
                          NULL, 0, leg_c),
                     200);
    leg_settled(leg_c, state, sizeof(state), body, sizeof(body));
    ck_assert_msg(strcmp(state, "failed") == 0, "%s", body);
    ck_assert_uint_eq(th_relay_handed_over(&relay), 5);
    ck_assert_uint_eq(th_log_count(&d, "another port (3 of 3)"), 1);
    ck_assert_uint_eq(th_log_count(&d, "TURN allocation failed: allocationMismatch"), 1);
    for (int i = 0; i < 100 && strcmp(state, "connected") != 0; i++) { /* at most 5 s */
        usleep(50 * 1000);
        ck_assert_int_eq(call("GET", leg_c, NULL, body, sizeof(body), NULL), 200);
        th_xml_text(body, "state", state, sizeof(state));
    }
    ck_assert_msg(strcmp(state, "connected") == 0, "%s", body);

    ck_assert_int_eq(call("DELETE", call_path, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("DELETE", path, NULL, NULL, 0, NULL), 200);
    th_relay_stop(&relay);
    th_coturn_stop(&own);
    close(fa);
    close(fb);
}
END_TEST

struct poster {
    const char *path;
    long status;
};

static void *post_leg(void *arg)
{
    struct poster *p = arg;
    struct th_resp r;

    th_admin(&d, "POST", p->path, "remoteParty=racer", &r);
    p->status = r.status;
    th_resp_free(&r);
    return NULL;
}

/* Admission is one step under the registry's lock: 8 POSTs at once for the last 4 places of a
 * call get 4 answers 200 and 4 participantLimitReached, never a 33rd leg. */
START_TEST(test_concurrent_posts_never_overfill_a_call)
{
    char form[160], body[4096], call_path[128], legs_path[160], value[160];
    struct poster p[8];
    pthread_t t[8];
    int ok = 0, full = 0;

    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", "uri=race.room", NULL, 0, value), 200);
    snprintf(form, sizeof(form), "coSpace=%s", strrchr(value, '/') + 1);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call_path), 200);
    snprintf(legs_path, sizeof(legs_path), "%s/callLegs", call_path);
    for (int i = 0; i < 28; i++)
        ck_assert_int_eq(call("POST", legs_path, "remoteParty=seated", NULL, 0, NULL), 200);
    for (int i = 0; i < 8; i++) {
        p[i] = (struct poster){.path = legs_path};
        ck_assert_int_eq(pthread_create(&t[i], NULL, post_leg, &p[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ok += p[i].status == 200;
        full += p[i].status == 400;
    }
    ck_assert_int_eq(ok, 4);
    ck_assert_int_eq(full, 4);
    ck_assert_int_eq(call("GET", legs_path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<callLegs total=\"32\">"), "%s", body);
    ck_assert_int_eq(call("DELETE", call_path, NULL, NULL, 0, NULL), 200);
}
END_TEST

Suite *it_media_suite(void)
{
    Suite *s = suite_create("it_media");
    TCase *tc = tcase_create("calls");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_call_with_two_legs_carries_media);
    tcase_add_test(tc, test_bad_input_refused);
    tcase_add_test(tc, test_a_call_ends_with_its_last_participant);
    tcase_add_test(tc, test_33rd_leg_refused_at_post);
    tcase_add_test(tc, test_concurrent_posts_never_overfill_a_call);
    tcase_add_test(tc, test_leg_answered_437_allocates_from_a_fresh_port);
    suite_add_tcase(s, tc);
    return s;
}
