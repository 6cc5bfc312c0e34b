/* tests/test_it_guest.c: the guest interface (/meeting) through the running daemon, with coturn
 * as the TURN server: the join page and its headers, who may join (the same 403 for an unknown
 * meeting ID, a wrong passcode, a wrong secret and a space closed to non-members), the throttle,
 * malformed requests, and a joined guest as the administrator sees it: a webApp call leg, its
 * first offer (ice-lite, the relayed candidate on the TURN server), a refused answer, leaving and
 * being dropped, and a page joining again with its rejoin credential (used once, revoked by a
 * copy, a leave or a removal). The media itself is tested with real browsers (tests/webrtc/). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "media/rtc.h"
#include "tests/helpers.h"
#include "tests/suites.h"
#include "turnclient/stun.h"

static struct th_daemon d;
static struct th_coturn co;
static char why[128];
static char call_id[32] = "424242", secret[64], passcode[] = "8642";

static long admin(const char *method, const char *path, const char *form, char *out, size_t cap,
                  char *location)
{
    return th_admin_keep(&d, method, path, form, out, cap, location);
}

/* A guest request: no credentials, a JSON body. */
static void guest(const char *method, const char *path, const char *json, struct th_resp *r)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};

    th_http(&d, d.ports[0], method, path, NULL, NULL, hdr, json, json ? strlen(json) : 0, r);
}

/* The value of "key":"..." in a JSON text (no escapes in what the tests read). */
static void json_text(const char *body, const char *key, char *out, size_t cap)
{
    char needle[64];
    const char *p;
    size_t n;

    snprintf(needle, sizeof(needle), "\"%s\":\"", key);
    p = body ? strstr(body, needle) : NULL;
    out[0] = '\0';
    if (!p)
        return;
    p += strlen(needle);
    n = strcspn(p, "\"");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static void start(void)
{
    char form[256], loc[128], body[4096];

    th_daemon_coturn_start(&d, &co, why, sizeof(why));
    if (!co.pid)
        return;
    snprintf(form, sizeof(form),
             "serverAddress=127.0.0.1:%u&clientAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port, co.port);
    ck_assert_int_eq(admin("POST", "/api/v1/turnServers", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "%s/status", loc); /* waits for the first probe */
    ck_assert_int_eq(admin("GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
    snprintf(form, sizeof(form), "name=Guest+Room&callId=%s&passcode=%s", call_id, passcode);
    ck_assert_int_eq(admin("POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    ck_assert_int_eq(admin("GET", loc, NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "secret", secret, sizeof(secret));
    ck_assert_msg(secret[0], "a coSpace with a callId gets a secret: %s", body);
    ck_assert_int_eq(admin("POST", "/api/v1/coSpaces",
                           "name=Members+Only&callId=535353&"
                           "nonMemberAccess=false",
                           NULL, 0, NULL),
                     200);
}

static void stop(void)
{
    th_daemon_coturn_stop(&d, &co);
}

START_TEST(test_join_page_is_served_with_its_headers)
{
    struct th_resp r;
    char path[64];

    snprintf(path, sizeof(path), "/meeting/%s?secret=x&name=A", call_id);
    th_http(&d, d.ports[0], "GET", path, NULL, NULL, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/html; charset=utf-8");
    ck_assert_msg(strstr(r.body, "join.js"), "%s", r.body);
    th_resp_free(&r);
    th_http(&d, d.ports[0], "GET", "/meeting/static/join.js", NULL, NULL, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    th_http(&d, d.ports[0], "GET", "/meeting/static/nothing.js", NULL, NULL, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 404);
    th_resp_free(&r);
    /* the guest interface never opens the API: no credentials, no API object */
    th_http(&d, d.ports[0], "GET", "/api/v1/coSpaces", NULL, NULL, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 401);
    th_resp_free(&r);
    th_http(&d, d.ports[0], "GET", "/meeting/api/join", NULL, NULL, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 404);
    th_resp_free(&r);
}
END_TEST

START_TEST(test_wrong_credentials_all_answer_the_same_403)
{
    char json[4][256], first[512] = "";
    struct th_resp r;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_http_source = "127.0.0.7"; /* a client of its own: the throttle counts per address */
    snprintf(json[0], sizeof(json[0]), "{\"callId\":\"999999\",\"passcode\":\"%s\",\"name\":\"A\"}",
             passcode);
    snprintf(json[1], sizeof(json[1]), "{\"callId\":\"%s\",\"passcode\":\"1111\",\"name\":\"A\"}",
             call_id);
    snprintf(json[2], sizeof(json[2]), "{\"callId\":\"%s\",\"secret\":\"nope\",\"name\":\"A\"}",
             call_id);
    snprintf(json[3], sizeof(json[3]), "{\"callId\":\"535353\",\"name\":\"A\"}");
    for (int i = 0; i < 4; i++) {
        guest("POST", "/meeting/api/join", json[i], &r);
        ck_assert_msg(r.status == 403, "%d: %ld %s", i, r.status, r.body);
        if (i == 0)
            snprintf(first, sizeof(first), "%s", r.body);
        ck_assert_str_eq(r.body, first); /* no hint which it was */
        th_resp_free(&r);
    }
    th_http_source = NULL;
    {
        static char metrics[65536];

        ck_assert_int_eq(admin("GET", "/metrics", NULL, metrics, sizeof(metrics), NULL), 200);
        ck_assert_msg(th_metric(metrics, "callbridge_guest_joins_total", "refused") >= 4, "%s",
                      metrics);
    }
}
END_TEST

START_TEST(test_guesses_are_throttled)
{
    struct th_resp r;
    int throttled = 0;

    th_http_source = "127.0.0.8";
    for (int i = 0; i < 20 && !throttled; i++) {
        guest("POST", "/meeting/api/join", "{\"callId\":\"1\",\"passcode\":\"2\",\"name\":\"x\"}",
              &r);
        ck_assert_msg(r.status == 403 || r.status == 429, "%ld", r.status);
        throttled = r.status == 429;
        if (throttled)
            ck_assert_msg(atoi(r.retry_after) > 0, "Retry-After: %s", r.retry_after);
        th_resp_free(&r);
    }
    ck_assert_msg(throttled, "20 wrong guesses in a row were never throttled");
    /* another client is not affected */
    th_http_source = "127.0.0.9";
    guest("POST", "/meeting/api/join", "{\"callId\":\"1\",\"passcode\":\"2\",\"name\":\"x\"}", &r);
    ck_assert_int_eq(r.status, 403);
    th_resp_free(&r);
    th_http_source = NULL;
}
END_TEST

START_TEST(test_malformed_requests_get_400_naming_the_problem)
{
    static const struct {
        const char *body, *needle;
    } cases[] = {
        {"not json", "not a JSON object"},
        {"[1,2]", "not a JSON object"},
        {"{\"callId\":5,\"name\":\"a\"}", "callId"},
        {"{\"callId\":\"1\",\"name\":\"\"}", "name"},
        {"{\"callId\":\"1\",\"name\":\"a\\u0001b\"}", "name"},
        {"{\"callId\":\"1\",\"name\":\"a\",\"name\":\"b\"}", "duplicate"},
    };
    struct th_resp r;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        guest("POST", "/meeting/api/join", cases[i].body, &r);
        ck_assert_msg(r.status == 400, "%s: %ld %s", cases[i].body, r.status, r.body);
        ck_assert_msg(strstr(r.body, cases[i].needle), "%s: %s", cases[i].body, r.body);
        th_resp_free(&r);
    }
    guest("GET", "/meeting/api/events?session=nonsense", NULL, &r);
    ck_assert_int_eq(r.status, 410);
    th_resp_free(&r);
    {
        static char big[70 * 1024];

        memset(big, ' ', sizeof(big) - 1);
        big[0] = '{';
        big[sizeof(big) - 2] = '}';
        guest("POST", "/meeting/api/join", big, &r); /* over the body limit: JSON, not XML */
        ck_assert_int_eq(r.status, 413);
        ck_assert_str_eq(r.content_type, "application/json");
        ck_assert_msg(strstr(r.body, "requestTooLarge"), "%s", r.body);
        th_resp_free(&r);
    }
}
END_TEST

/* Joins with the secret; returns the session token and leg id. */
static void join(const char *name, char *session, char *leg)
{
    char json[256];
    struct th_resp r;

    snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"secret\":\"%s\",\"name\":\"%s\"}", call_id,
             secret, name);
    guest("POST", "/meeting/api/join", json, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    json_text(r.body, "session", session, 64);
    json_text(r.body, "leg", leg, 64);
    ck_assert_msg(strstr(r.body, "\"iceTransportPolicy\":\"relay\""), "%s", r.body);
    {
        char url[64];

        snprintf(url, sizeof(url), "turn:127.0.0.1:%u?transport=udp", co.port);
        ck_assert_msg(strstr(r.body, url), "the page gets the clientAddress: %s", r.body);
    }
    th_resp_free(&r);
}

/* Polls events until one containing needle arrives (at most 10 s); copies the body. */
static void wait_event(const char *session, const char *needle, char *out, size_t cap)
{
    char path[160];
    struct th_resp r;

    for (int i = 0; i < 20; i++) {
        snprintf(path, sizeof(path), "/meeting/api/events?session=%s&after=0", session);
        guest("GET", path, NULL, &r);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        if (strstr(r.body, needle)) {
            snprintf(out, cap, "%s", r.body);
            th_resp_free(&r);
            return;
        }
        th_resp_free(&r);
        usleep(500 * 1000);
    }
    ck_abort_msg("no event with %s", needle);
}

START_TEST(test_a_guest_is_a_call_leg_with_an_offer)
{
    char session[64], leg[64], path[160], json[512], body[16384];
    static char events[65536];
    struct th_resp r;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    join("Ada Lovelace", session, leg);
    wait_event(session, "\"type\":\"offer\"", events, sizeof(events));
    ck_assert_msg(strstr(events, "a=ice-lite"), "%s", events);
    ck_assert_msg(strstr(events, "typ relay"), "%s", events);
    ck_assert_msg(strstr(events, "a=fingerprint:sha-256 "), "%s", events);
    ck_assert_msg(strstr(events, "\"type\":\"roster\""), "%s", events);
    ck_assert_msg(strstr(events, "Ada Lovelace"), "%s", events);
    snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg);
    ck_assert_int_eq(admin("GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<remoteParty>Ada Lovelace</remoteParty>"), "%s", body);
    ck_assert_msg(strstr(body, "<subType>webApp</subType>"), "%s", body);
    ck_assert_msg(strstr(body,
                         "<direction>incoming</direction><encryptedMedia>true</encryptedMedia>"
                         "<unencryptedMedia>false</unencryptedMedia>"),
                  "%s", body);
    ck_assert_msg(strstr(body, "<localCandidate>relay 127.0.0.1:"), "%s", body);
    {
        static char metrics[65536];

        ck_assert_int_eq(admin("GET", "/metrics", NULL, metrics, sizeof(metrics), NULL), 200);
        ck_assert_msg(th_metric(metrics, "callbridge_guests_active", NULL) >= 1, "%s", metrics);
        ck_assert_msg(th_metric(metrics, "callbridge_guest_joins_total", "joined") >= 1, "%s",
                      metrics);
    }
    /* an answer that is not SDP: 400 naming the problem, and the leg is untouched */
    snprintf(json, sizeof(json), "{\"session\":\"%s\",\"sdp\":\"v=0\\r\\nnonsense\\r\\n\"}",
             session);
    guest("POST", "/meeting/api/answer", json, &r);
    ck_assert_msg(r.status == 400 && strstr(r.body, "badSdp") && strstr(r.body, "line"), "%ld %s",
                  r.status, r.body);
    th_resp_free(&r);
    ck_assert_int_eq(admin("GET", path, NULL, body, sizeof(body), NULL), 200);
    /* leaving removes the leg, and the session answers 410 once its end was read */
    snprintf(json, sizeof(json), "{\"session\":\"%s\"}", session);
    guest("POST", "/meeting/api/leave", json, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    ck_assert_int_eq(admin("GET", path, NULL, NULL, 0, NULL), 404);
    wait_event(session, "\"reason\":\"left\"", events, sizeof(events));
}
END_TEST

START_TEST(test_the_administrator_drops_a_guest)
{
    char session[64], leg[64], path[160];
    static char events[65536];

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    join("Bob", session, leg);
    snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg);
    ck_assert_int_eq(admin("DELETE", path, NULL, NULL, 0, NULL), 200);
    wait_event(session, "\"reason\":\"dropped\"", events, sizeof(events));
    ck_assert_int_eq(admin("GET", path, NULL, NULL, 0, NULL), 404);
}
END_TEST

/* POSTs a join whose body is {"rejoin":"<cred>"}; the answer in *r. */
static void join_again(const char *cred, struct th_resp *r)
{
    char json[128];

    snprintf(json, sizeof(json), "{\"rejoin\":\"%s\"}", cred);
    guest("POST", "/meeting/api/join", json, r);
}

/* A page joins again with its rejoin credential, without the secret or the passcode: once per
 * credential (the answer gives the next one), replacing its old leg; a copy shown after its use
 * is refused (rejoinUsed) and revokes the chain; leaving and being removed revoke it too
 * (rejoinExpired). */
START_TEST(test_a_page_joins_again_with_its_rejoin_credential)
{
    char session[64], leg[64], s2[64], leg2[64], r1[64], r2[64], path[160], json[256];
    static char events[65536];
    struct th_resp r;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_http_source = "127.0.0.12"; /* the refusals below count as failed logins of this one */
    /* joined by passcode (the form): the answer carries a credential */
    snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"passcode\":\"%s\",\"name\":\"Cy\"}", call_id,
             passcode);
    guest("POST", "/meeting/api/join", json, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    json_text(r.body, "session", session, sizeof(session));
    json_text(r.body, "leg", leg, sizeof(leg));
    json_text(r.body, "rejoin", r1, sizeof(r1));
    ck_assert_msg(strlen(r1) == 32, "a join answers a rejoin credential: %s", r.body);
    th_resp_free(&r);

    /* the page joins again: a new leg under the same name, the old one gone, a new credential */
    join_again(r1, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    json_text(r.body, "session", s2, sizeof(s2));
    json_text(r.body, "leg", leg2, sizeof(leg2));
    json_text(r.body, "rejoin", r2, sizeof(r2));
    ck_assert_msg(strstr(r.body, "\"name\":\"Cy\"") && s2[0] && strcmp(leg2, leg) != 0, "%s",
                  r.body);
    ck_assert_msg(strlen(r2) == 32 && strcmp(r2, r1) != 0, "%s", r.body);
    th_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg);
    ck_assert_int_eq(admin("GET", path, NULL, NULL, 0, NULL), 404);
    wait_event(session, "joined again", events, sizeof(events));
    snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg2);
    ck_assert_int_eq(admin("GET", path, NULL, events, sizeof(events), NULL), 200);
    ck_assert_msg(strstr(events, "<remoteParty>Cy</remoteParty>"), "%s", events);

    /* the next one works the same, once */
    join_again(r2, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    json_text(r.body, "leg", leg, sizeof(leg));
    json_text(r.body, "session", s2, sizeof(s2));
    json_text(r.body, "rejoin", r2, sizeof(r2));
    ck_assert_msg(strlen(r2) == 32 && strcmp(leg, leg2) != 0, "%s", r.body);
    th_resp_free(&r);

    /* a copy of a used credential: refused, and the chain with it (the current one too) */
    join_again(r1, &r);
    ck_assert_msg(r.status == 403 && strstr(r.body, "\"error\":\"rejoinUsed\""), "%ld %s", r.status,
                  r.body);
    th_resp_free(&r);
    join_again(r2, &r);
    ck_assert_msg(r.status == 403 && strstr(r.body, "\"error\":\"rejoinExpired\""), "%ld %s",
                  r.status, r.body);
    th_resp_free(&r);
    snprintf(json, sizeof(json), "{\"session\":\"%s\"}", s2);
    guest("POST", "/meeting/api/leave", json, &r);
    th_resp_free(&r);

    /* leaving revokes it */
    snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"secret\":\"%s\",\"name\":\"Di\"}", call_id,
             secret);
    guest("POST", "/meeting/api/join", json, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    json_text(r.body, "session", session, sizeof(session));
    json_text(r.body, "rejoin", r1, sizeof(r1));
    th_resp_free(&r);
    snprintf(json, sizeof(json), "{\"session\":\"%s\"}", session);
    guest("POST", "/meeting/api/leave", json, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    join_again(r1, &r);
    ck_assert_msg(r.status == 403 && strstr(r.body, "rejoinExpired"), "%ld %s", r.status, r.body);
    th_resp_free(&r);

    /* so does being removed by the administrator */
    snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"secret\":\"%s\",\"name\":\"Ed\"}", call_id,
             secret);
    guest("POST", "/meeting/api/join", json, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    json_text(r.body, "session", session, sizeof(session));
    json_text(r.body, "leg", leg, sizeof(leg));
    json_text(r.body, "rejoin", r1, sizeof(r1));
    th_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg);
    ck_assert_int_eq(admin("DELETE", path, NULL, NULL, 0, NULL), 200);
    wait_event(session, "\"reason\":\"dropped\"", events, sizeof(events));
    join_again(r1, &r);
    ck_assert_msg(r.status == 403 && strstr(r.body, "rejoinExpired"), "%ld %s", r.status, r.body);
    th_resp_free(&r);
    th_http_source = NULL;
}
END_TEST

/* ---- a daemon whose guests time out after 2 s ---------------------------------------------- */

static void start_short(void)
{
    static const char *const args[] = {"--probe-interval", "3600", "--guest-timeout", "2", NULL};
    char form[256], loc[128], body[4096];

    memset(&d, 0, sizeof(d));
    if (th_coturn_available(why, sizeof(why)))
        th_coturn_start(&co, NULL);
    th_daemon_start(&d, "0", args);
    if (!co.pid)
        return;
    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port);
    ck_assert_int_eq(admin("POST", "/api/v1/turnServers", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "%s/status", loc);
    ck_assert_int_eq(admin("GET", form, NULL, body, sizeof(body), NULL), 200);
    snprintf(form, sizeof(form), "name=Quiet+Room&callId=%s", call_id);
    ck_assert_int_eq(admin("POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    ck_assert_int_eq(admin("GET", loc, NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "secret", secret, sizeof(secret));
}

START_TEST(test_a_silent_guest_is_dropped_with_the_reason)
{
    char session[64], leg[64], path[160];
    static char events[65536];

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    join("Silent", session, leg);
    /* it never answered the offer: the time for ICE starts at the answer */
    wait_event(session, "signallingFailed: no answer to the offer in 2 s", events, sizeof(events));
    ck_assert_msg(strstr(events, "\"reason\":\"failed\""), "%s", events);
    snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg);
    ck_assert_int_eq(admin("GET", path, NULL, NULL, 0, NULL), 404); /* and its allocation gone */
}
END_TEST

START_TEST(test_the_browsers_turn_refusal_names_the_ice_failure)
{
    char session[64], leg[64], json[256];
    static char events[65536];
    struct th_resp r;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    join("Refused", session, leg);
    snprintf(json, sizeof(json),
             "{\"session\":\"%s\",\"error\":{\"code\":401,\"text\":\"Unauthorized\","
             "\"url\":\"turn:127.0.0.1:3478?transport=udp\"}}",
             session);
    guest("POST", "/meeting/api/candidate", json, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    wait_event(session, "unauthorized - check credentials", events, sizeof(events));
    ck_assert_msg(strstr(events, "iceFailed: the browser's TURN server turn:127.0.0.1:3478"), "%s",
                  events);
}
END_TEST

/* ---- host candidates, no TURN server ---------------------------------------------------- */

/* A daemon with no TURN server (and args), and a coSpace. */
static void start_without_turn(const char *const *args)
{
    char form[128], loc[128], body[4096];

    memset(&d, 0, sizeof(d));
    memset(&co, 0, sizeof(co));
    th_daemon_start(&d, "0", args);
    snprintf(form, sizeof(form), "name=Direct+Room&callId=%s", call_id);
    ck_assert_int_eq(admin("POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    ck_assert_int_eq(admin("GET", loc, NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "secret", secret, sizeof(secret));
}

static void start_host(void)
{
    static const char *const args[] = {"--host-candidate", "127.0.0.1", NULL};

    start_without_turn(args);
}

static void start_bare(void)
{
    start_without_turn(NULL);
}

/* Neither a TURN server nor a host candidate: no path for media, and the join says so. */
START_TEST(test_without_turn_or_host_candidates_a_join_is_refused)
{
    char json[256], body[4096];
    struct th_resp r;

    snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"secret\":\"%s\",\"name\":\"Nowhere\"}",
             call_id, secret);
    guest("POST", "/meeting/api/join", json, &r);
    ck_assert_msg(r.status == 503 && strstr(r.body, "noReachableTurnServer"), "%ld %s", r.status,
                  r.body);
    th_resp_free(&r);
    ck_assert_int_eq(admin("GET", "/api/v1/callLegs", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<callLegs total=\"0\""), "no leg was made: %s", body);
    ck_assert_int_eq(admin("GET", "/api/v1/calls", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<calls total=\"0\""), "nor a call: %s", body);
}
END_TEST

/* The port of the offer's "127.0.0.1 <port> typ host" candidate (0: none). */
static unsigned host_port(const char *events)
{
    const char *p = strstr(events, " 127.0.0.1 ");
    char type[8] = "";
    unsigned port = 0;

    if (!p || sscanf(p, " 127.0.0.1 %u typ %7s", &port, type) != 2 ||
        strncmp(type, "host", 4) != 0) /* "host\r\n..." in the JSON text */
        return 0;
    return port;
}

/* Sends a datagram from a socket connected to 127.0.0.1:port; returns the socket. */
static int send_to_port(unsigned port, const char *data)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(send(fd, data, strlen(data), 0), (ssize_t)strlen(data));
    return fd;
}

/* A guest joins with no TURN server: the answer and the offer are host-only. Returns the port
 * of the offer's host candidate; session and leg are set. */
static unsigned join_direct(const char *name, char *session, char *leg)
{
    char json[256];
    static char events[65536];
    struct th_resp r;
    unsigned port;

    snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"secret\":\"%s\",\"name\":\"%s\"}", call_id,
             secret, name);
    guest("POST", "/meeting/api/join", json, &r);
    ck_assert_msg(r.status == 200, "no TURN server, but host candidates: %ld %s", r.status, r.body);
    ck_assert_msg(strstr(r.body, "\"iceServers\":[]"), "%s", r.body);
    ck_assert_msg(strstr(r.body, "\"iceTransportPolicy\":\"all\""), "%s", r.body);
    json_text(r.body, "session", session, 64);
    json_text(r.body, "leg", leg, 64);
    th_resp_free(&r);
    wait_event(session, "\"type\":\"offer\"", events, sizeof(events));
    ck_assert_msg(!strstr(events, "typ relay"), "%s", events);
    port = host_port(events);
    ck_assert_msg(port > 0, "the offer has a host candidate on 127.0.0.1: %s", events);
    return port;
}

/* The leg's packetsFromStrangers once it reached at least want (published every second). */
static int strangers_of(const char *path, int want)
{
    char body[16384], n[32] = "";

    for (int i = 0; i < 30; i++) {
        ck_assert_int_eq(admin("GET", path, NULL, body, sizeof(body), NULL), 200);
        th_xml_text(body, "packetsFromStrangers", n, sizeof(n));
        if (atoi(n) >= want)
            break;
        usleep(100 * 1000);
    }
    return atoi(n);
}

START_TEST(test_host_candidates_carry_a_guest_without_turn)
{
    char json[256], session[64], leg[64], path[160], body[16384];
    struct th_resp r;
    unsigned port = join_direct("Direct", session, leg);
    int fd;

    snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg);
    ck_assert_int_eq(admin("GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<state>connecting</state>"), "%s", body);
    /* what is not a valid check's is a stranger's: counted, never answered */
    fd = send_to_port(port, "\x80\x60 not from a valid pair");
    ck_assert_int_eq(strangers_of(path, 1), 1);
    close(fd);
    /* leaving closes the port: the next datagram gets the kernel's port unreachable */
    snprintf(json, sizeof(json), "{\"session\":\"%s\"}", session);
    guest("POST", "/meeting/api/leave", json, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    ck_assert_int_eq(admin("GET", path, NULL, NULL, 0, NULL), 404);
    /* the call was the guest's alone: it ended with it */
    ck_assert_int_eq(admin("GET", "/api/v1/calls", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<calls total=\"0\""), "%s", body);
    {
        char buf[16];
        ssize_t got = -1;

        fd = send_to_port(port, "anyone there?");
        for (int i = 0; i < 20 && got < 0; i++) {
            got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (got < 0 && errno == ECONNREFUSED)
                break;
            usleep(50 * 1000);
        }
        ck_assert_msg(got < 0 && errno == ECONNREFUSED, "the port is closed: %zd %s", got,
                      strerror(errno));
        close(fd);
    }
}
END_TEST

/* A Binding request with a wrong USERNAME, as a guesser or a forged-source flood sends. */
static size_t wrong_check(uint8_t *buf, size_t cap, unsigned i)
{
    static const char key[] = "not the leg's password";
    uint8_t tid[12] = {0x5a, (uint8_t)i};
    struct stun_writer w;
    long n;

    stun_writer_init(&w, buf, cap, STUN_BINDING, STUN_REQUEST, tid);
    stun_put_str(&w, STUN_ATTR_USERNAME, "guess:guess");
    stun_put_integrity(&w, (const uint8_t *)key, strlen(key));
    stun_put_fingerprint(&w);
    n = stun_writer_finish(&w);
    ck_assert_int_gt(n, 0);
    return (size_t)n;
}

/* Anyone can send to a host candidate, with any source address: a 401 answers a wrong check
 * (RFC 8489), but only RTC_REFUSALS_PER_S a second, and each one counts as a stranger's. */
START_TEST(test_a_strangers_checks_are_answered_sparingly)
{
    enum { BURST = 5 * RTC_REFUSALS_PER_S };
    char json[256], session[64], leg[64], path[160];
    unsigned port = join_direct("Sparing", session, leg);
    uint8_t buf[256];
    struct th_resp r;
    struct stun_msg m;
    int fd = send_to_port(port, ""), answered = 0;
    ssize_t got;

    snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg);
    for (unsigned i = 0; i < BURST; i++) {
        size_t n = wrong_check(buf, sizeof(buf), i);

        ck_assert_int_eq(send(fd, buf, n, 0), (ssize_t)n);
    }
    /* the empty datagram is one too (not STUN, not from a valid pair) */
    ck_assert_int_eq(strangers_of(path, BURST + 1), BURST + 1);
    while ((got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        ck_assert_int_eq(stun_decode_datagram(buf, (size_t)got, &m), 0);
        ck_assert_int_eq(m.cls, STUN_ERROR);
        ck_assert_int_eq(m.error_code, 401);
        answered++;
    }
    /* the burst may straddle two of the limit's seconds */
    ck_assert_msg(answered >= 1 && answered <= 2 * RTC_REFUSALS_PER_S, "%d of %d answered",
                  answered, BURST);
    close(fd);
    snprintf(json, sizeof(json), "{\"session\":\"%s\"}", session);
    guest("POST", "/meeting/api/leave", json, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
}
END_TEST

Suite *it_guest_suite(void)
{
    Suite *s = suite_create("it_guest");
    TCase *tc = tcase_create("guests");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_join_page_is_served_with_its_headers);
    tcase_add_test(tc, test_wrong_credentials_all_answer_the_same_403);
    tcase_add_test(tc, test_guesses_are_throttled);
    tcase_add_test(tc, test_malformed_requests_get_400_naming_the_problem);
    tcase_add_test(tc, test_a_guest_is_a_call_leg_with_an_offer);
    tcase_add_test(tc, test_the_administrator_drops_a_guest);
    tcase_add_test(tc, test_a_page_joins_again_with_its_rejoin_credential);
    suite_add_tcase(s, tc);
    tc = tcase_create("silence");
    tcase_add_unchecked_fixture(tc, start_short, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_a_silent_guest_is_dropped_with_the_reason);
    tcase_add_test(tc, test_the_browsers_turn_refusal_names_the_ice_failure);
    suite_add_tcase(s, tc);
    tc = tcase_create("host candidates");
    tcase_add_unchecked_fixture(tc, start_host, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_host_candidates_carry_a_guest_without_turn);
    tcase_add_test(tc, test_a_strangers_checks_are_answered_sparingly);
    suite_add_tcase(s, tc);
    tc = tcase_create("no media path");
    tcase_add_unchecked_fixture(tc, start_bare, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_without_turn_or_host_candidates_a_join_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
