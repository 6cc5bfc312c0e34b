/* tests/test_it_media.c: calls and call legs through the running daemon, with coturn as the TURN
 * server and UDP endpoints on loopback: media flows between the relayed addresses the legs'
 * status shows, the counters say so, an incoming leg is placed by the call matching, and bad
 * input is refused. */
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "tests/suites.h"

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
    suite_add_tcase(s, tc);
    return s;
}
