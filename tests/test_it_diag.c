/* tests/test_it_diag.c: call diagnostics through the real daemon, with a coturn and RTP legs
 * whose media is real: a collection names its legs, their state, TURN server and counters and
 * the log lines of a leg that joined while it ran; the CMS reasons for unknown ids; the bound on
 * collections and on one collection's size. Also conversationIdQuery. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <sys/wait.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/res/diag.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define NOID "0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10"
#define FAIL(x) "<?xml version=\"1.0\"?><failureDetails><" x " /></failureDetails>"
#define PE(p, e)                                                                                   \
    "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"" p "\" error=\"" e        \
    "\" /></failureDetails>"

static struct th_daemon d;
static struct th_coturn co;
static char why[128];

static void start(void)
{
    memset(&d, 0, sizeof(d));
    if (th_coturn_available(why, sizeof(why)))
        th_coturn_start(&co, NULL);
    th_daemon_start(&d, "0", NULL);
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

/* method path (form) answers status with exactly body. */
static void expect(const char *method, const char *path, const char *form, long status,
                   const char *body)
{
    char out[4096];

    ck_assert_int_eq(call(method, path, form, out, sizeof(out), NULL), status);
    ck_assert_str_eq(out, body);
}

/* GET path until its body contains needle, at most 15 s; the last body into out. */
static bool poll_body(const char *path, const char *needle, char *out, size_t cap)
{
    for (int i = 0; i < 150; i++) {
        ck_assert_int_eq(call("GET", path, NULL, out, cap, NULL), 200);
        if (strstr(out, needle))
            return true;
        usleep(100 * 1000);
    }
    return false;
}

static const char *id_of(const char *loc)
{
    return strrchr(loc, '/') + 1;
}

/* A coSpace named name and a call in it: the call's path into call_loc[128], the space's id
 * into space[64]. */
static void space_and_call(const char *name, char *space, char *call_loc)
{
    char form[256], loc[128];

    snprintf(form, sizeof(form), "name=%s", name);
    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    snprintf(space, 64, "%s", id_of(loc));
    snprintf(form, sizeof(form), "coSpace=%s", space);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call_loc), 200);
}

/* A leg of call_loc whose media comes from a UDP endpoint of the test (its socket *ret_fd);
 * its path into leg[128]; once connected, where the endpoint sends to into *relay. */
static void media_leg(const char *call_loc, const char *party, int *ret_fd, char *leg,
                      struct sockaddr_in *relay)
{
    char form[256], path[256];
    unsigned short port;

    *ret_fd = th_udp_endpoint(&port);
    snprintf(form, sizeof(form), "remoteParty=%s&remoteMediaAddress=127.0.0.1:%u", party, port);
    snprintf(path, sizeof(path), "%s/callLegs", call_loc);
    ck_assert_int_eq(call("POST", path, form, NULL, 0, leg), 200);
    th_leg_wait_connected(&d, leg, relay);
}

/* 60 RTP packets (PCMU, ssrc 7), every fifth one missing: 48 received, and of the 59 up to the
 * last one sent (58), 11 lost. */
static void send_rtp_with_gaps(int fd, const struct sockaddr_in *to)
{
    for (int i = 0; i < 60; i++) {
        uint32_t ts = (uint32_t)i * 160u;
        uint8_t pkt[172] = {0x80,
                            0,
                            (uint8_t)(i >> 8),
                            (uint8_t)i,
                            (uint8_t)(ts >> 24),
                            (uint8_t)(ts >> 16),
                            (uint8_t)(ts >> 8),
                            (uint8_t)ts,
                            0,
                            0,
                            0,
                            7};

        if (i % 5 == 4)
            continue;
        ck_assert_int_eq(sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)to, sizeof(*to)),
                         172);
        usleep(2000);
    }
}

/* A TURN server on the fixture's coturn, probed; its id into out[64]. */
static void add_turn(char *out)
{
    char form[256], body[4096], loc[128];

    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port);
    ck_assert_int_eq(call("POST", "/api/v1/turnServers", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "%s/status", loc);
    ck_assert_int_eq(call("GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%.3000s", body);
    snprintf(out, 64, "%s", id_of(loc));
}

/* A call with two RTP legs, one losing packets, and a third that joins and leaves while the
 * collection runs: the contents name every leg, their state, TURN server, relayed address and
 * real counters, the third's own log lines, and the end of the period. */
START_TEST(test_call_diagnostics_name_legs_and_counters)
{
    char turn[64], space[64], call_loc[128], leg_a[128], leg_b[128], leg_c[128], diag[128];
    char path[256], body[65536], expect_line[512], item[2048];
    struct sockaddr_in ra, rb, rc;
    struct th_resp r;
    int fa, fb, fc;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    add_turn(turn);
    space_and_call("Diag+Room", space, call_loc);
    media_leg(call_loc, "alice@example.com", &fa, leg_a, &ra);
    media_leg(call_loc, "bob@example.com", &fb, leg_b, &rb);

    snprintf(path, sizeof(path), "%s/diagnostics", call_loc);
    ck_assert_int_eq(call("POST", path, "durationSeconds=4", NULL, 0, diag), 200);
    ck_assert_msg(strncmp(diag, "/api/v1/system/diagnostics/", 27) == 0 && strlen(diag) == 63, "%s",
                  diag);
    send_rtp_with_gaps(fa, &ra);
    media_leg(call_loc, "carol@example.com", &fc, leg_c, &rc); /* joins while it runs */
    sleep(2);                                                  /* a look sees carol */
    ck_assert_int_eq(call("DELETE", leg_c, NULL, NULL, 0, NULL), 200);

    snprintf(path, sizeof(path), "%s/contents", diag);
    ck_assert_msg(poll_body(path, "collection ended: its period is over", body, sizeof(body)), "%s",
                  body);
    snprintf(expect_line, sizeof(expect_line),
             "Diagnostics %s:\n\n\"Diag Room\" (%s)\n  coSpace: %s\n  correlator: %s\n",
             id_of(diag), id_of(call_loc), space, id_of(call_loc));
    ck_assert_msg(strncmp(body, expect_line, strlen(expect_line)) == 0, "%.3000s", body);
    snprintf(expect_line, sizeof(expect_line), "callLeg %s (alice@example.com): state connected",
             id_of(leg_a));
    ck_assert_msg(strstr(body, expect_line), "%.3000s\nwanted %s", body, expect_line);
    snprintf(expect_line, sizeof(expect_line), "callLeg %s (bob@example.com): state connected",
             id_of(leg_b));
    ck_assert_msg(strstr(body, expect_line), "%.3000s\nwanted %s", body, expect_line);
    snprintf(expect_line, sizeof(expect_line), "callLeg %s: turnServer %s, relayed address ",
             id_of(leg_a), turn);
    ck_assert_msg(strstr(body, expect_line), "%.3000s\nwanted %s", body, expect_line);
    /* the real counters of alice's stream: 48 received, 11 lost */
    snprintf(expect_line, sizeof(expect_line),
             "callLeg %s: rxRtp ssrc 7 payloadType 0 packetsReceived 48 packetsLost 11 "
             "packetLossPercentage 18.6 jitter ",
             id_of(leg_a));
    ck_assert_msg(strstr(body, expect_line), "%.3000s\nwanted %s", body, expect_line);
    snprintf(expect_line, sizeof(expect_line), "callLeg %s: rtp packetsReceived 48 ", id_of(leg_a));
    ck_assert_msg(strstr(body, expect_line), "%.3000s\nwanted %s", body, expect_line);
    /* carol: found by a look, her anchoring logged by the media thread, her leaving */
    snprintf(expect_line, sizeof(expect_line), "callLeg %s (carol@example.com) is in the call",
             id_of(leg_c));
    ck_assert_msg(strstr(body, expect_line), "%.3000s\nwanted %s", body, expect_line);
    snprintf(expect_line, sizeof(expect_line), "callLeg %s: anchored on turnServer %s",
             id_of(leg_c), turn);
    ck_assert_msg(strstr(body, expect_line), "%.3000s\nwanted %s", body, expect_line);
    snprintf(expect_line, sizeof(expect_line), "callLeg %s (carol@example.com) left the call",
             id_of(leg_c));
    ck_assert_msg(strstr(body, expect_line), "%.3000s\nwanted %s", body, expect_line);
    ck_assert_msg(strstr(body, "  collecting: ") && strstr(body, ", ended: its period is over\n"),
                  "%s", body);

    /* text/plain */
    th_admin(&d, "GET", path, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strncmp(r.content_type, "text/plain", 10) == 0, "%s", r.content_type);
    th_resp_free(&r);

    /* the list and the item, as the apiary shapes them */
    ck_assert_int_eq(call("GET", "/api/v1/system/diagnostics", NULL, item, sizeof(item), NULL),
                     200);
    snprintf(expect_line, sizeof(expect_line),
             "<?xml version=\"1.0\"?><diagnostics total=\"1\"><diagnostics id=\"%s\"><label>Diag "
             "Room</label></diagnostics></diagnostics>",
             id_of(diag));
    ck_assert_str_eq(item, expect_line);
    ck_assert_int_eq(call("GET", diag, NULL, item, sizeof(item), NULL), 200);
    snprintf(expect_line, sizeof(expect_line),
             "<?xml version=\"1.0\"?><diagnostics id=\"%s\"><label>Diag Room</label><coSpace>%s"
             "</coSpace><callCorrelator>%s</callCorrelator><timestamp>",
             id_of(diag), space, id_of(call_loc));
    ck_assert_msg(strncmp(item, expect_line, strlen(expect_line)) == 0, "%s", item);
    snprintf(expect_line, sizeof(expect_line), "<contentsSize>%zu</contentsSize>", strlen(body));
    ck_assert_msg(strstr(item, expect_line), "%s\nwanted %s", item, expect_line);

    ck_assert_int_eq(call("DELETE", call_loc, NULL, NULL, 0, NULL), 200);
    close(fa);
    close(fb);
    close(fc);
}
END_TEST

/* A collection ends with its call; the coSpace's POST collects for the space's call. */
START_TEST(test_collection_ends_with_its_call_and_cospace_post)
{
    char space[64], call_loc[128], diag[128], diag2[128], path[256], body[16384], want[256];

    space_and_call("Short+Room", space, call_loc);
    snprintf(path, sizeof(path), "/api/v1/coSpaces/%s/diagnostics", space);
    ck_assert_int_eq(call("POST", path, NULL, NULL, 0, diag), 200);
    snprintf(path, sizeof(path), "%s/diagnostics", call_loc);
    ck_assert_int_eq(call("POST", path, NULL, NULL, 0, diag2), 200);
    ck_assert_str_ne(diag, diag2);
    ck_assert_int_eq(call("GET", diag, NULL, body, sizeof(body), NULL), 200);
    snprintf(want, sizeof(want), "<coSpace>%s</coSpace><callCorrelator>%s</callCorrelator>", space,
             id_of(call_loc));
    ck_assert_msg(strstr(body, want), "%.3000s", body);
    ck_assert_int_eq(call("DELETE", call_loc, NULL, NULL, 0, NULL), 200);
    snprintf(path, sizeof(path), "%s/contents", diag);
    ck_assert_msg(poll_body(path, "collection ended: the call ended", body, sizeof(body)), "%s",
                  body);
    ck_assert_msg(strstr(body, ", ended: the call ended\n"), "%.3000s", body);
    /* the filters */
    snprintf(path, sizeof(path), "/api/v1/system/diagnostics?coSpaceFilter=%s", space);
    ck_assert_int_eq(call("GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<diagnostics total=\"2\">"), "%.3000s", body);
    snprintf(path, sizeof(path), "/api/v1/system/diagnostics?callCorrelatorFilter=%s",
             id_of(call_loc));
    ck_assert_int_eq(call("GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<diagnostics total=\"2\">"), "%.3000s", body);
    expect("GET", "/api/v1/system/diagnostics?coSpaceFilter=" NOID, NULL, 200,
           "<?xml version=\"1.0\"?><diagnostics total=\"0\"/>");
}
END_TEST

/* The CMS reasons: unknown calls, coSpaces and collections; bad parameters; the method. */
START_TEST(test_unknown_ids_answer_cms_reasons)
{
    char space[64], call_loc[128], path[256], body[4096];

    expect("POST", "/api/v1/calls/" NOID "/diagnostics", NULL, 404, FAIL("callDoesNotExist"));
    expect("POST", "/api/v1/calls/not-an-id/diagnostics", NULL, 404, FAIL("callDoesNotExist"));
    expect("GET", "/api/v1/system/diagnostics/" NOID, NULL, 404, FAIL("diagnosticsDoesNotExist"));
    expect("GET", "/api/v1/system/diagnostics/" NOID "/contents", NULL, 404,
           FAIL("diagnosticsDoesNotExist"));
    expect("GET", "/api/v1/system/diagnostics/x/contents", NULL, 404,
           FAIL("diagnosticsDoesNotExist"));
    expect("POST", "/api/v1/coSpaces/" NOID "/diagnostics", NULL, 404, FAIL("coSpaceDoesNotExist"));
    expect("GET", "/api/v1/system/diagnostics?coSpaceFilter=x", NULL, 400,
           PE("coSpaceFilter", "invalidValue"));
    expect("GET", "/api/v1/system/diagnostics?callCorrelatorFilter=x", NULL, 400,
           PE("callCorrelatorFilter", "invalidValue"));

    space_and_call("Refusals", space, call_loc);
    snprintf(path, sizeof(path), "%s/diagnostics", call_loc);
    expect("POST", path, "durationSeconds=0", 400, PE("durationSeconds", "invalidValue"));
    expect("POST", path, "durationSeconds=601", 400, PE("durationSeconds", "invalidValue"));
    ck_assert_int_eq(call("GET", path, NULL, body, sizeof(body), NULL), 405);
    ck_assert_int_eq(call("DELETE", call_loc, NULL, NULL, 0, NULL), 200);
    snprintf(path, sizeof(path), "/api/v1/coSpaces/%s/diagnostics", space);
    expect("POST", path, NULL, 400, FAIL("callDoesNotExist")); /* no call now */
    ck_assert_int_eq(call("GET", "/api/v1/system/diagnostics?coSpaceFilter=" NOID, NULL, body,
                          sizeof(body), NULL),
                     200); /* nothing was stored by the refusals */
}
END_TEST

/* At most API_DIAG_MAX collections: the oldest goes first. */
START_TEST(test_bound_on_collections)
{
    char space[64], call_loc[128], path[256], body[16384], first[128], loc[128], want[128];

    space_and_call("Bounded", space, call_loc);
    snprintf(path, sizeof(path), "%s/diagnostics", call_loc);
    ck_assert_int_eq(call("POST", path, NULL, NULL, 0, first), 200);
    for (int i = 0; i < API_DIAG_MAX; i++)
        ck_assert_int_eq(call("POST", path, NULL, NULL, 0, loc), 200);
    snprintf(path, sizeof(path), "/api/v1/system/diagnostics?coSpaceFilter=%s&limit=100", space);
    ck_assert_int_eq(call("GET", path, NULL, body, sizeof(body), NULL), 200);
    snprintf(want, sizeof(want), "<diagnostics total=\"%d\">", API_DIAG_MAX);
    ck_assert_msg(strstr(body, want), "%.3000s", body);
    ck_assert_msg(!strstr(body, id_of(first)) && strstr(body, id_of(loc)), "%.3000s", body);
    expect("GET", first, NULL, 404, FAIL("diagnosticsDoesNotExist"));
    ck_assert_int_eq(call("GET", "/api/v1/system/diagnostics", NULL, body, sizeof(body), NULL),
                     200);
    ck_assert_msg(strstr(body, want), "%.3000s",
                  body); /* every coSpace's count: the node's bound */
    ck_assert_int_eq(call("DELETE", call_loc, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* One collection's text stops at API_DIAG_BYTES and says so. */
START_TEST(test_bound_on_one_collection)
{
    struct api_diag_text t = {0};
    char line[200];
    int r = 0, n = 0;

    memset(line, 'x', sizeof(line));
    while (r == 0 && n < 10000) {
        r = api_diag_text_append(&t, line, sizeof(line));
        n++;
    }
    ck_assert_int_eq(r, -E2BIG);
    ck_assert_int_lt(n, 10000);
    ck_assert_uint_le(t.len, API_DIAG_BYTES);
    ck_assert_uint_eq(strlen(t.buf), t.len);
    ck_assert_msg(strstr(t.buf, "[the rest was left out"), "no truncation line");
    ck_assert_int_eq(api_diag_text_append(&t, "y", 1), -E2BIG);
    ck_assert_ptr_null(strchr(t.buf, 'y'));
    api_diag_text_done(&t);
}
END_TEST

/* conversationIdQuery: live calls by id and callCorrelator, legs by id; gone when they go. */
START_TEST(test_conversation_id_query)
{
    char space[64], call_loc[128], form[256], corr_call[128], leg[128], path[256], want[512];

    expect("GET", "/api/v1/conversationIdQuery", NULL, 400, PE("conversationId", "missing"));
    expect("GET", "/api/v1/conversationIdQuery?conversationId=", NULL, 400,
           PE("conversationId", "missing"));
    expect("GET", "/api/v1/conversationIdQuery?conversationId=" NOID, NULL, 200,
           "<?xml version=\"1.0\"?><conversationIdQuery><conversationId>" NOID
           "</conversationId><found>false</found></conversationIdQuery>");
    ck_assert_int_eq(call("POST", "/api/v1/conversationIdQuery", NULL, want, sizeof(want), NULL),
                     405);

    space_and_call("Conversations", space, call_loc);
    snprintf(path, sizeof(path), "/api/v1/conversationIdQuery?conversationId=%s", id_of(call_loc));
    snprintf(want, sizeof(want),
             "<?xml version=\"1.0\"?><conversationIdQuery><conversationId>%s</conversationId>"
             "<found>true</found></conversationIdQuery>",
             id_of(call_loc));
    expect("GET", path, NULL, 200, want);
    snprintf(form, sizeof(form), "coSpace=%s&callCorrelator=%s", space,
             "11111111-2222-4333-8444-555555555555");
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, corr_call), 200);
    expect("GET", "/api/v1/conversationIdQuery?conversationId=11111111-2222-4333-8444-555555555555",
           NULL, 200,
           "<?xml version=\"1.0\"?><conversationIdQuery><conversationId>11111111-2222-4333-8444-"
           "555555555555</conversationId><found>true</found></conversationIdQuery>");
    snprintf(path, sizeof(path), "%s/callLegs", call_loc);
    ck_assert_int_eq(call("POST", path, "remoteParty=dave@example.com", NULL, 0, leg), 200);
    snprintf(path, sizeof(path), "/api/v1/conversationIdQuery?conversationId=%s", id_of(leg));
    ck_assert_int_eq(call("GET", path, NULL, want, sizeof(want), NULL), 200);
    ck_assert_msg(strstr(want, "<found>true</found>"), "%s", want);

    ck_assert_int_eq(call("DELETE", call_loc, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("GET", path, NULL, want, sizeof(want), NULL), 200);
    ck_assert_msg(strstr(want, "<found>false</found>"), "%s", want);
    snprintf(path, sizeof(path), "/api/v1/conversationIdQuery?conversationId=%s", id_of(call_loc));
    ck_assert_int_eq(call("GET", path, NULL, want, sizeof(want), NULL), 200);
    ck_assert_msg(strstr(want, "<found>false</found>"), "%s", want);
    ck_assert_int_eq(call("DELETE", corr_call, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* A tenant's participantLimit counts the legs of all its calls: a leg added to either call, or
 * an incoming one placed by the call matching, is refused with tenantParticipantLimitReached
 * (CMS's reason for the owning tenant's limit) once
 * the tenant has that many; a space of no tenant is not limited; a PUT on the tenant applies to
 * the next leg; a leg that leaves frees its place. */
START_TEST(test_tenant_participant_limit)
{
    char tenant[128], form[256], loc[128], s1[64], s2[64], s3[64], call1[128], call2[128];
    char call3[128], path1[256], path2[256], path3[256], leg[128], body[4096];

    ck_assert_int_eq(
        call("POST", "/api/v1/tenants", "name=Limited&participantLimit=2", NULL, 0, tenant), 200);
    snprintf(form, sizeof(form), "name=T1&uri=t1.room&tenant=%s", id_of(tenant));
    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    snprintf(s1, sizeof(s1), "%s", id_of(loc));
    snprintf(form, sizeof(form), "name=T2&tenant=%s", id_of(tenant));
    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    snprintf(s2, sizeof(s2), "%s", id_of(loc));
    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", "name=Free", NULL, 0, loc), 200);
    snprintf(s3, sizeof(s3), "%s", id_of(loc));
    snprintf(form, sizeof(form), "coSpace=%s", s1);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call1), 200);
    snprintf(form, sizeof(form), "coSpace=%s", s2);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call2), 200);
    snprintf(form, sizeof(form), "coSpace=%s", s3);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call3), 200);
    snprintf(path1, sizeof(path1), "%s/callLegs", call1);
    snprintf(path2, sizeof(path2), "%s/callLegs", call2);
    snprintf(path3, sizeof(path3), "%s/callLegs", call3);

    ck_assert_int_eq(call("POST", path1, "remoteParty=a@example.com", NULL, 0, leg), 200);
    ck_assert_int_eq(call("POST", path2, "remoteParty=b@example.com", NULL, 0, NULL), 200);
    expect("POST", path1, "remoteParty=c@example.com", 400, FAIL("tenantParticipantLimitReached"));
    expect("POST", path2, "remoteParty=c@example.com", 400, FAIL("tenantParticipantLimitReached"));
    ck_assert_int_eq(
        call("POST", "/api/v1/inboundDialPlanRules", "domain=limits.example", NULL, 0, loc), 200);
    expect("POST", "/api/v1/callLegs", "destination=t1.room@limits.example", 400,
           FAIL("tenantParticipantLimitReached"));
    ck_assert_int_eq(call("DELETE", loc, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("POST", path3, "remoteParty=free@example.com", NULL, 0, NULL), 200);
    ck_assert_int_eq(call("GET", call1, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<numCallLegs>1</numCallLegs>"), "%s", body); /* none stored */

    ck_assert_int_eq(call("PUT", tenant, "participantLimit=3", NULL, 0, NULL), 200);
    ck_assert_int_eq(call("POST", path1, "remoteParty=c@example.com", NULL, 0, NULL), 200);
    expect("POST", path2, "remoteParty=d@example.com", 400, FAIL("tenantParticipantLimitReached"));
    ck_assert_int_eq(call("DELETE", leg, NULL, NULL, 0, NULL), 200); /* a leaves */
    ck_assert_int_eq(call("POST", path2, "remoteParty=d@example.com", NULL, 0, NULL), 200);
    ck_assert_int_eq(call("PUT", tenant, "participantLimit=", NULL, 0, NULL), 200); /* none */
    ck_assert_int_eq(call("POST", path2, "remoteParty=e@example.com", NULL, 0, NULL), 200);

    ck_assert_int_eq(call("DELETE", call1, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("DELETE", call2, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("DELETE", call3, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* GET leg's status reason and dialOut block contain all of want (NULL-ended). */
static void leg_has(const char *leg, const char *const *want)
{
    char body[8192];

    ck_assert_int_eq(call("GET", leg, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<state>failed</state>") && !strstr(body, "connected"), "%s", body);
    for (size_t i = 0; want[i]; i++)
        ck_assert_msg(strstr(body, want[i]), "%s\nwanted %s", body, want[i]);
}

/* Dial-out goes through the outbound dial plan: no rule is noMatchingRule; the matching rule
 * of the highest priority that serves this node and this call's tenant is shown, with those its
 * failureAction continue passed on to; the dial transforms apply first; never connected. */
START_TEST(test_dial_out_applies_outbound_rules)
{
    char space[64], call_loc[128], legs[192], leg[128], r1[128], r2[128], form[512], group[128];
    char other[128], want_rule[128], want_r1[128];

    space_and_call("Dialler", space, call_loc);
    snprintf(legs, sizeof(legs), "%s/callLegs", call_loc);
    ck_assert_int_eq(call("POST", legs, "remoteParty=bob@sip.example.com", NULL, 0, leg), 200);
    leg_has(leg, (const char *const[]){"<reason>noMatchingRule</reason>",
                                       "<dialOut><destination>bob@sip.example.com</destination>"
                                       "<outboundDialPlanRulesTried>0</outboundDialPlanRulesTried>"
                                       "</dialOut>",
                                       NULL});

    ck_assert_int_eq(call("POST", "/api/v1/outboundDialPlanRules",
                          "domain=*.example.com&priority=1&failureAction=continue", NULL, 0, r1),
                     200);
    ck_assert_int_eq(call("POST", "/api/v1/outboundDialPlanRules",
                          "domain=sip.example.com&priority=5&localFromDomain=cb.example.com", NULL,
                          0, r2),
                     200);
    ck_assert_int_eq(call("POST", "/api/v1/callBridgeGroups", "name=elsewhere", NULL, 0, group),
                     200);
    snprintf(form, sizeof(form),
             "domain=sip.example.com&priority=10&scope=callBridgeGroup&callBridgeGroup=%s",
             id_of(group));
    ck_assert_int_eq(call("POST", "/api/v1/outboundDialPlanRules", form, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("POST", "/api/v1/tenants", "name=Other", NULL, 0, other), 200);
    snprintf(form, sizeof(form), "domain=sip.example.com&priority=20&tenant=%s", id_of(other));
    ck_assert_int_eq(call("POST", "/api/v1/outboundDialPlanRules", form, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("POST", "/api/v1/outboundDialPlanRules", "domain=other.org&priority=99",
                          NULL, 0, NULL),
                     200);

    snprintf(want_rule, sizeof(want_rule), "<outboundDialPlanRule>%s</outboundDialPlanRule>",
             id_of(r2));
    snprintf(want_r1, sizeof(want_r1), "<outboundDialPlanRule>%s</outboundDialPlanRule>",
             id_of(r1));
    ck_assert_int_eq(call("POST", legs, "remoteParty=bob@sip.example.com", NULL, 0, leg), 200);
    leg_has(leg, (const char *const[]){"<reason>noSipDialOut</reason>", want_rule,
                                       "<outboundDialPlanRulesTried>1<", NULL});
    /* a SIP URI with parameters, in another case */
    ck_assert_int_eq(
        call("POST", legs, "remoteParty=sip:carol@SIP.Example.com%3Btransport%3Dtls", NULL, 0, leg),
        200);
    leg_has(leg, (const char *const[]){"<reason>noSipDialOut</reason>", want_rule, NULL});
    /* continue: the next rule is tried too */
    ck_assert_int_eq(call("PUT", r2, "failureAction=continue", NULL, 0, NULL), 200);
    ck_assert_int_eq(call("POST", legs, "remoteParty=bob@sip.example.com", NULL, 0, leg), 200);
    leg_has(leg, (const char *const[]){want_rule, "<outboundDialPlanRulesTried>2<", NULL});
    /* only the wildcard serves another subdomain */
    ck_assert_int_eq(call("POST", legs, "remoteParty=dave@video.example.com", NULL, 0, leg), 200);
    leg_has(leg, (const char *const[]){want_r1, "<outboundDialPlanRulesTried>1<", NULL});
    /* a bare number has no domain: no rule; a dial transform that adds one routes it */
    ck_assert_int_eq(call("POST", legs, "remoteParty=4455", NULL, 0, leg), 200);
    leg_has(leg, (const char *const[]){"<reason>noMatchingRule</reason>", NULL});
    ck_assert_int_eq(call("POST", "/api/v1/dialTransforms",
                          "type=raw&match=($1/^44/)&transform=$1{}@sip.example.com&priority=3",
                          NULL, 0, NULL),
                     200);
    ck_assert_int_eq(call("POST", legs, "remoteParty=4455", NULL, 0, leg), 200);
    leg_has(leg, (const char *const[]){"<reason>noSipDialOut</reason>", want_rule,
                                       "<destination>4455@sip.example.com</destination>", NULL});
    ck_assert_int_eq(call("POST", "/api/v1/dialTransforms",
                          "type=raw&match=($1/^666/)&action=deny&priority=9", NULL, 0, NULL),
                     200);
    ck_assert_int_eq(call("POST", legs, "remoteParty=666@sip.example.com", NULL, 0, leg), 200);
    leg_has(leg, (const char *const[]){"<reason>dialTransformDeny</reason>", NULL});
    /* participants dial out the same way */
    snprintf(legs, sizeof(legs), "%s/participants", call_loc);
    ck_assert_int_eq(call("POST", legs, "remoteParty=erin@sip.example.com", NULL, 0, leg), 200);
    snprintf(form, sizeof(form), "/api/v1/callLegs/%s", id_of(leg));
    leg_has(form, (const char *const[]){"<reason>noSipDialOut</reason>", want_rule, NULL});
    ck_assert_int_eq(call("DELETE", call_loc, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* ---- a CDR receiver: an HTTP server on 127.0.0.1 that keeps every body ---------------------- */

struct cdr_sink {
    int fd;
    unsigned short port;
    atomic_int stop;
    pthread_t thread;
    pthread_mutex_t lock;
    char bodies[65536];
    size_t len;
};

/* One request on c: its body is kept, 200 answered. */
static void sink_one(struct cdr_sink *k, int c)
{
    char buf[16384];
    size_t head, len;

    if (th_http_read_request(c, buf, sizeof(buf), &head, &len)) {
        pthread_mutex_lock(&k->lock);
        if (k->len + len < sizeof(k->bodies) - 1) {
            memcpy(k->bodies + k->len, buf + head, len);
            k->len += len;
            k->bodies[k->len] = '\0';
        }
        pthread_mutex_unlock(&k->lock);
        (void)!write(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 57);
    }
    close(c);
}

static void *sink_run(void *arg)
{
    struct cdr_sink *k = arg;
    struct pollfd p = {.fd = k->fd, .events = POLLIN};

    while (!atomic_load(&k->stop))
        if (poll(&p, 1, 100) == 1) {
            int c = accept(k->fd, NULL, NULL);

            if (c >= 0)
                sink_one(k, c);
        }
    return NULL;
}

static void sink_start(struct cdr_sink *k)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);

    memset(k, 0, sizeof(*k));
    pthread_mutex_init(&k->lock, NULL);
    k->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(k->fd, 0);
    ck_assert_int_eq(bind(k->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(k->fd, 16), 0);
    ck_assert_int_eq(getsockname(k->fd, (struct sockaddr *)&a, &len), 0);
    k->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&k->thread, NULL, sink_run, k), 0);
}

static void sink_stop(struct cdr_sink *k)
{
    atomic_store(&k->stop, 1);
    pthread_join(k->thread, NULL);
    close(k->fd);
    pthread_mutex_destroy(&k->lock);
}

/* Whether the bodies received so far contain needle, waited for at most 10 s. */
static bool sink_has(struct cdr_sink *k, const char *needle)
{
    for (int i = 0; i < 100; i++) {
        bool found;

        pthread_mutex_lock(&k->lock);
        found = strstr(k->bodies, needle) != NULL;
        pthread_mutex_unlock(&k->lock);
        if (found)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

/* A dial-out's CDRs: outgoing, never connected, and its end names the reason and the rule. */
START_TEST(test_dial_out_cdr_names_the_rule)
{
    char space[64], call_loc[128], legs[192], leg[128], rule[128], rcv[128], form[128];
    char want[256];
    struct cdr_sink k;

    sink_start(&k);
    snprintf(form, sizeof(form), "uri=http://127.0.0.1:%u/cdr", k.port);
    ck_assert_int_eq(call("POST", "/api/v1/system/cdrReceivers", form, NULL, 0, rcv), 200);
    ck_assert_int_eq(
        call("POST", "/api/v1/outboundDialPlanRules", "domain=cdr.example.net", NULL, 0, rule),
        200);
    space_and_call("Dial+CDR", space, call_loc);
    snprintf(legs, sizeof(legs), "%s/callLegs", call_loc);
    ck_assert_int_eq(call("POST", legs, "remoteParty=frank@cdr.example.net", NULL, 0, leg), 200);
    ck_assert_int_eq(call("DELETE", leg, NULL, NULL, 0, NULL), 200);
    snprintf(want, sizeof(want), "<callLeg id=\"%s\"><reason>noSipDialOut</reason>", id_of(leg));
    ck_assert_msg(sink_has(&k, want), "%s\nwanted %s", k.bodies, want);
    snprintf(want, sizeof(want), "<outboundDialPlanRule>%s</outboundDialPlanRule>", id_of(rule));
    ck_assert_msg(sink_has(&k, want), "%s", k.bodies);
    ck_assert_msg(sink_has(&k, "<remoteParty>frank@cdr.example.net</remoteParty>"
                               "<type>sip</type><direction>outgoing</direction>"),
                  "%s", k.bodies);
    snprintf(want, sizeof(want), "<callLeg id=\"%s\"><state>connected</state>", id_of(leg));
    ck_assert_msg(!strstr(k.bodies, want), "%s", k.bodies);
    ck_assert_msg(!strstr(k.bodies, "callLegUpdate"), "%s", k.bodies);
    ck_assert_int_eq(call("DELETE", call_loc, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("DELETE", rcv, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("DELETE", rule, NULL, NULL, 0, NULL), 200);
    sink_stop(&k);
}
END_TEST

/* ---- leg alarms ----------------------------------------------------------------------------- */

/* RTP from fd to `to`: count packets (PCMU, ssrc 9) from sequence number *seq, every fifth one
 * missing when gaps; *seq moves on. */
static void send_rtp_run(int fd, const struct sockaddr_in *to, int count, bool gaps, int *seq)
{
    for (int i = 0; i < count; i++, (*seq)++) {
        uint32_t ts = (uint32_t)*seq * 160u;
        uint8_t pkt[172] = {0x80,
                            0,
                            (uint8_t)(*seq >> 8),
                            (uint8_t)*seq,
                            (uint8_t)(ts >> 24),
                            (uint8_t)(ts >> 16),
                            (uint8_t)(ts >> 8),
                            (uint8_t)ts,
                            0,
                            0,
                            0,
                            9};

        if (gaps && i % 5 == 4)
            continue;
        ck_assert_int_eq(sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)to, sizeof(*to)),
                         172);
        usleep(2000);
    }
}

/* GET path after a look at the alarms (GET /system/alarms looks) until it contains needle
 * (want) or not, at most 15 s. */
static bool alarms_poll(const char *path, const char *needle, bool want, char *out, size_t cap)
{
    for (int i = 0; i < 75; i++) {
        ck_assert_int_eq(call("GET", "/api/v1/system/alarms", NULL, out, cap, NULL), 200);
        ck_assert_int_eq(call("GET", path, NULL, out, cap, NULL), 200);
        if ((strstr(out, needle) != NULL) == want)
            return true;
        usleep(200 * 1000);
    }
    return false;
}

/* A leg losing packets has packetLoss, on GET /callLegs/<id> and in ?alarms=; once its packets
 * come through whole again, the alarm clears (it is a current condition, not a history). */
START_TEST(test_packet_loss_alarm_raised_and_cleared)
{
    char turn[64], space[64], call_loc[128], leg[128], body[16384], want[256];
    struct sockaddr_in relay;
    int fd, seq = 0;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    add_turn(turn);
    space_and_call("Lossy+Room", space, call_loc);
    media_leg(call_loc, "lossy@example.com", &fd, leg, &relay);
    ck_assert_int_eq(call("GET", leg, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(!strstr(body, "<alarms>"), "%s", body); /* none before any media */

    send_rtp_run(fd, &relay, 100, true, &seq); /* 20% lost */
    ck_assert_msg(
        alarms_poll(leg, "<alarms><packetLoss></packetLoss></alarms>", true, body, sizeof(body)),
        "%s", body);
    snprintf(want, sizeof(want), "callLeg %s: alarm packetLoss raised", id_of(leg));
    ck_assert_uint_eq(th_log_count(&d, want), 1);
    ck_assert_int_eq(
        call("GET", "/api/v1/callLegs?alarms=packetLoss", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, id_of(leg)), "%s", body);
    sleep(1);
    ck_assert_int_eq(call("GET", leg, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<packetLoss>"), "%s", body); /* silence keeps it */

    /* whole again, for a while: a window clears it when its loss is at most half the
     * threshold, which a loaded machine's drops can deny a few windows (at most 60, ~6 s) */
    for (int i = 0; i < 60 && strstr(body, "<alarms>"); i++) {
        send_rtp_run(fd, &relay, 30, false, &seq);
        ck_assert_int_eq(call("GET", "/api/v1/system/alarms", NULL, body, sizeof(body), NULL),
                         200); /* a look: one window */
        ck_assert_int_eq(call("GET", leg, NULL, body, sizeof(body), NULL), 200);
    }
    ck_assert_msg(!strstr(body, "<alarms>"), "%s", body);
    snprintf(want, sizeof(want), "callLeg %s: alarm packetLoss cleared", id_of(leg));
    ck_assert_uint_eq(th_log_count(&d, want), 1);
    ck_assert_int_eq(
        call("GET", "/api/v1/callLegs?alarms=packetLoss", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(!strstr(body, id_of(leg)), "%s", body);
    ck_assert_int_eq(call("DELETE", call_loc, NULL, NULL, 0, NULL), 200);
    close(fd);
}
END_TEST

/* Two WebRTC guests (rtcpeer, sending RTCP as browsers do) whose path to the TURN server is
 * slowed by 200 ms each way (a relay in front of coturn, given to guests as its clientAddress):
 * callbridged measures the round trip from their receiver reports and raises
 * highRoundTripTime on both legs. A daemon of its own, so that the slowed TURN server is the
 * only one. */
START_TEST(test_high_round_trip_time_alarm_from_rtcp)
{
    static const char *const args[] = {"--probe-interval", "3600", "--guest-timeout", "5", NULL};
    char form[256], loc[128], body[16384], secret[64], path[300], url[64], out[160];
    char diag[128] = "";
    static char big[65536];
    struct th_daemon d2 = {0};
    struct th_relay rel;
    const char *argv[20];
    int status = 0;
    pid_t pid, w = 0;
    bool found = false;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_relay_start(&rel, co.port, 200 * 1000);
    th_daemon_start(&d2, "0", args);
    snprintf(form, sizeof(form),
             "serverAddress=127.0.0.1:%u&clientAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port, rel.port);
    ck_assert_int_eq(th_admin_keep(&d2, "POST", "/api/v1/turnServers", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "%s/status", loc);
    ck_assert_int_eq(th_admin_keep(&d2, "GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
    ck_assert_int_eq(
        th_admin_keep(&d2, "POST", "/api/v1/coSpaces", "name=Far&callId=818181", NULL, 0, loc),
        200);
    ck_assert_int_eq(th_admin_keep(&d2, "GET", loc, NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "secret", secret, sizeof(secret));

    snprintf(body, sizeof(body), "%s", th_daemon_path());
    snprintf(path, sizeof(path), "%s/rtcpeer", dirname(body));
    ck_assert_msg(access(path, X_OK) == 0, "%s is not built", path);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", d2.ports[0]);
    snprintf(out, sizeof(out), "%s/rtcpeer.out", d2.dir);
    argv[0] = "rtcpeer";
    memcpy(&argv[1],
           (const char *const[]){"--url", url, "--call-id", "818181", "--secret", secret,
                                 "--cacert", d2.cacert, "--guests", "2", "--seconds", "14",
                                 "--video-kbps", "0", "--rtcp-reports", NULL},
           16 * sizeof(*argv));
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        execv(path, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    for (int i = 0; i < 100 && !found; i++) { /* at most 20 s */
        usleep(200 * 1000);
        if (!diag[0]) { /* diagnostics of the guests' call, as soon as there is one */
            const char *c;

            ck_assert_int_eq(
                th_admin_keep(&d2, "GET", "/api/v1/calls", NULL, body, sizeof(body), NULL), 200);
            if ((c = strstr(body, "<call id=\""))) {
                snprintf(form, sizeof(form), "/api/v1/calls/%.36s/diagnostics", c + 10);
                ck_assert_int_eq(
                    th_admin_keep(&d2, "POST", form, "durationSeconds=30", NULL, 0, diag), 200);
            }
        }
        ck_assert_int_eq(
            th_admin_keep(&d2, "GET", "/api/v1/system/alarms", NULL, body, sizeof(body), NULL),
            200);
        ck_assert_int_eq(th_admin_keep(&d2, "GET", "/api/v1/callLegs?alarms=highRoundTripTime",
                                       NULL, body, sizeof(body), NULL),
                         200);
        found = strstr(body, "<callLegs total=\"2\">") != NULL;
    }
    ck_assert_msg(found, "%s", body);
    ck_assert_msg(strstr(body, "<highRoundTripTime></highRoundTripTime>"), "%s", body);
    ck_assert_uint_ge(th_log_count(&d2, "alarm highRoundTripTime raised"), 2);
    /* the call's diagnostics have the guests' ICE and DTLS, their streams and the alarm */
    ck_assert_msg(diag[0], "no call seen");
    snprintf(form, sizeof(form), "%s/contents", diag);
    for (int i = 0; i < 40; i++) { /* counters every 5 s: at most 8 s more */
        ck_assert_int_eq(th_admin_keep(&d2, "GET", form, NULL, big, sizeof(big), NULL), 200);
        if (strstr(big, ": rxAudio codec opus packets "))
            break;
        usleep(200 * 1000);
    }
    ck_assert_msg(strstr(big, "DTLS starts") && strstr(big, "ICE selected pair relay") &&
                      strstr(big, ": rxAudio codec opus packets ") &&
                      strstr(big, "alarm highRoundTripTime raised") &&
                      strstr(big, "a web app guest (WebRTC)"),
                  "...%s", big + (strlen(big) > 3000 ? strlen(big) - 3000 : 0));
    for (int i = 0; i < 250 && w == 0; i++) { /* it runs 14 s: at most 25 more */
        w = waitpid(pid, &status, WNOHANG);
        if (w == 0)
            usleep(100 * 1000);
    }
    if (w == 0) {
        (void)kill(pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
    }
    ck_assert_msg(w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "rtcpeer: %d", status);
    ck_assert_int_eq(th_daemon_stop(&d2), 0);
    th_rmdir(d2.dir);
    th_relay_stop(&rel);
}
END_TEST

Suite *it_diag_suite(void)
{
    Suite *s = suite_create("it_diag");
    TCase *tc = tcase_create("diag");
    TCase *unit = tcase_create("bounds");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_call_diagnostics_name_legs_and_counters);
    tcase_add_test(tc, test_collection_ends_with_its_call_and_cospace_post);
    tcase_add_test(tc, test_unknown_ids_answer_cms_reasons);
    tcase_add_test(tc, test_bound_on_collections);
    tcase_add_test(tc, test_conversation_id_query);
    tcase_add_test(tc, test_tenant_participant_limit);
    tcase_add_test(tc, test_dial_out_applies_outbound_rules);
    tcase_add_test(tc, test_dial_out_cdr_names_the_rule);
    tcase_add_test(tc, test_packet_loss_alarm_raised_and_cleared);
    tcase_add_test(tc, test_high_round_trip_time_alarm_from_rtcp);
    suite_add_tcase(s, tc);
    tcase_add_test(unit, test_bound_on_one_collection);
    suite_add_tcase(s, unit);
    return s;
}
