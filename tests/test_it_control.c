/* tests/test_it_control.c: call control and participants through the running daemon (with
 * coturn for the media): PUT /calls/<id> and PUT /callLegs/<id> and what GET shows of them,
 * their refusals (nothing changed by a refused PUT), the participants collections, a dial-out
 * that cannot be dialled, a mute that stops a plain leg's packets reaching the other leg and
 * lets them through again when lifted, a locked call that keeps a guest in the lobby, and what a
 * guest's page is told (the call's message, its name label, its mute). */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/helpers.h"
#include "tests/suites.h"

#define NIL "6c0a3b8e-1c3e-4d2a-9a55-3d2f6c8b0a11"
#define FAIL(inner) "<?xml version=\"1.0\"?><failureDetails>" inner "</failureDetails>"

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

static long api(const char *method, const char *path, const char *form, char *out, size_t cap,
                char *location)
{
    return th_admin_keep(&d, method, path, form, out, cap, location);
}

/* A coSpace (name, and callId when not NULL) and a call of it; the call's path into call. */
static void new_call(const char *name, const char *call_id, char *call)
{
    char form[160], loc[128];

    snprintf(form, sizeof(form), "name=%s%s%s", name, call_id ? "&callId=" : "",
             call_id ? call_id : "");
    ck_assert_int_eq(api("POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "coSpace=%s", strrchr(loc, '/') + 1);
    ck_assert_int_eq(api("POST", "/api/v1/calls", form, NULL, 0, call), 200);
}

static void expect_in(const char *path, const char *needle)
{
    static char body[16384];

    ck_assert_int_eq(api("GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, needle), "%s lacks %s: %s", path, needle, body);
}

static void expect_refused(const char *method, const char *path, const char *form, long status,
                           const char *answer)
{
    char body[1024];

    ck_assert_int_eq(api(method, path, form, body, sizeof(body), NULL), status);
    ck_assert_str_eq(body, answer);
}

START_TEST(test_put_call_is_shown_and_refusals_change_nothing)
{
    char call[128], path[192], body[4096], space[64], form[192], other[128], leg[128];

    new_call("Control+Room", NULL, call);
    expect_in(call, "<locked>false</locked><recording>false</recording><recordingStatus>false"
                    "</recordingStatus><streaming>false</streaming>");
    ck_assert_int_eq(api("PUT", call,
                         "locked=true&recording=true&messageText=Back+at+ten&messagePosition=top&"
                         "messageDuration=permanent&allowAllMuteSelf=true",
                         NULL, 0, NULL),
                     200);
    /* recording asked for, and honestly not happening: no recorder here */
    expect_in(call, "<locked>true</locked><recording>true</recording><recordingStatus>false"
                    "</recordingStatus>");
    expect_in(call, "<allowAllMuteSelf>true</allowAllMuteSelf>");
    expect_in(call, "<messageText>Back at ten</messageText><messagePosition>top</messagePosition>"
                    "<messageDuration>permanent</messageDuration>");
    /* in the order of the apiary's example (apiary.apib:3106) */
    expect_in(call, "</name><callType>coSpace</callType><coSpace>");
    expect_in(call, "</coSpace><callCorrelator>");
    expect_in(call, "</callCorrelator><durationSeconds>");
    expect_in(call, "<numCallLegs>0</numCallLegs><maxCallLegs>0</maxCallLegs>"
                    "<numParticipantsLocal>0");
    expect_in(call, "<activeWhenEmpty>false</activeWhenEmpty><endpointRecording>false"
                    "</endpointRecording></call>");
    expect_refused("PUT", call, "locked=false&messagePosition=left", 400,
                   FAIL("<parameterError parameter=\"messagePosition\" error=\"invalidValue\" />"));
    expect_refused("PUT", call, "messageDuration=soon", 400,
                   FAIL("<parameterError parameter=\"messageDuration\" error=\"invalidValue\" />"));
    expect_in(call, "<locked>true</locked>"); /* the refused PUT changed nothing */
    expect_refused("PUT", "/api/v1/calls/" NIL, "locked=true", 404, FAIL("<callDoesNotExist />"));
    /* POST /calls takes the same parameters, checked before the call is made */
    ck_assert_int_eq(api("GET", call, NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "coSpace", space, sizeof(space));
    snprintf(form, sizeof(form), "coSpace=%s&locked=perhaps", space);
    expect_refused("POST", "/api/v1/calls", form, 400,
                   FAIL("<parameterError parameter=\"locked\" error=\"invalidValue\" />"));
    expect_in("/api/v1/calls", "<calls total=\"1\">");
    /* a list item: name, coSpace, callCorrelator (apiary.apib:2820) */
    snprintf(form, sizeof(form), "</name><coSpace>%s</coSpace><callCorrelator>", space);
    expect_in("/api/v1/calls", form);
    snprintf(form, sizeof(form), "coSpace=%s&callCorrelator=nope", space);
    expect_refused("POST", "/api/v1/calls", form, 400,
                   FAIL("<parameterError parameter=\"callCorrelator\" error=\"invalidValue\" />"));
    snprintf(form, sizeof(form),
             "coSpace=%s&locked=true&joinAudioMuteOverride=true&name=Board&callCorrelator=" NIL,
             space);
    ck_assert_int_eq(api("POST", "/api/v1/calls", form, NULL, 0, other), 200);
    expect_in(other, "<name>Board</name>");
    expect_in(other, "<callCorrelator>" NIL "</callCorrelator>");
    expect_refused("PUT", other, "name=Other", 400,
                   FAIL("<parameterError parameter=\"name\" error=\"invalidValue\" />"));
    expect_in(other, "<locked>true</locked>");
    expect_in(other, "<joinAudioMuteOverride>true</joinAudioMuteOverride>");
    /* a leg that joins it comes muted */
    snprintf(path, sizeof(path), "%s/callLegs", other);
    ck_assert_int_eq(api("POST", path, "remoteParty=sip:dan@example.com", NULL, 0, leg), 200);
    expect_in(leg, "<rxAudioMute>true</rxAudioMute>");
    ck_assert_int_eq(api("DELETE", other, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(api("PUT", call, "messageDuration=30", NULL, 0, NULL), 200);
    expect_in(call, "<messageTimeRemaining>");
    snprintf(path, sizeof(path), "%s/nothing", call);
    expect_refused("GET", path, NULL, 404, FAIL("<unrecognizedObject />"));
    ck_assert_int_eq(api("DELETE", call, NULL, NULL, 0, NULL), 200);
}
END_TEST

START_TEST(test_put_leg_participants_and_a_dial_out_that_fails)
{
    char call[128], legs[192], leg[128], leg2[128], path[256], form[256], body[8192];
    const char *id;

    new_call("Roster+Room", NULL, call);
    snprintf(legs, sizeof(legs), "%s/callLegs", call);
    ck_assert_int_eq(api("POST", legs, "remoteParty=sip:bob@example.com", NULL, 0, leg), 200);
    /* no SIP here: the leg failed at once, with its reason, and never says connected (no
     * outbound rule here: noMatchingRule; one that matches gives noSipDialOut, it_diag) */
    expect_in(leg, "<state>failed</state>");
    expect_in(leg, "<reason>noMatchingRule</reason>");
    expect_in(leg, "</call><direction>outgoing</direction><canMove>false</canMove>");
    expect_in(leg, "</durationSeconds><direction>outgoing</direction>");
    ck_assert_int_eq(api("PUT", leg,
                         "rxAudioMute=true&chosenLayout=speakerOnly&nameLabelOverride=Bob+B", NULL,
                         0, NULL),
                     200);
    expect_in(leg, "<configuration><chosenLayout>speakerOnly</chosenLayout><rxAudioMute>true"
                   "</rxAudioMute><nameLabelOverride>Bob B</nameLabelOverride></configuration>");
    expect_refused("PUT", leg, "remoteParty=sip:eve@example.com", 400,
                   FAIL("<parameterError parameter=\"remoteParty\" error=\"invalidValue\" />"));
    expect_refused("PUT", leg, "rxAudioMute=false&chosenLayout=sideways", 400,
                   FAIL("<parameterError parameter=\"chosenLayout\" error=\"invalidValue\" />"));
    expect_refused("PUT", leg, "dtmfSequence=1234", 400,
                   FAIL("<parameterError parameter=\"dtmfSequence\" error=\"unsupported\" />"));
    expect_in(leg, "<rxAudioMute>true</rxAudioMute>"); /* unchanged */
    expect_refused("PUT", "/api/v1/callLegs/" NIL, "rxAudioMute=true", 404,
                   FAIL("<callLegDoesNotExist />"));

    /* a participant is its one leg */
    id = strrchr(leg, '/') + 1;
    expect_in("/api/v1/participants?filter=bob", "<participants total=\"1\">");
    snprintf(path, sizeof(path), "<participant id=\"%s\"><name>Bob B</name>", id);
    expect_in("/api/v1/participants", path);
    snprintf(path, sizeof(path), "/api/v1/participants/%s", id);
    expect_in(path, "<numCallLegs>1</numCallLegs><isActivator>true</isActivator><status><state>"
                    "failed</state>"); /* as its leg: never connected */
    expect_in(path, "<nameLabelOverride>Bob B</nameLabelOverride>");
    snprintf(path, sizeof(path), "/api/v1/participants/%s/callLegs", id);
    snprintf(form, sizeof(form), "<callLegs total=\"1\"><callLeg id=\"%s\">", id);
    expect_in(path, form);
    snprintf(path, sizeof(path), "%s/participants", call);
    ck_assert_int_eq(api("POST", path, "remoteParty=sip:carol@example.com", NULL, 0, leg2), 200);
    ck_assert_msg(strncmp(leg2, "/api/v1/participants/", 21) == 0, "%s", leg2);
    expect_in(path, "<participants total=\"2\">");
    expect_in("/api/v1/participants?tenantFilter=" NIL, "<participants total=\"0\"");

    /* everyone muted, then one of them unmuted by the selected mode */
    snprintf(path, sizeof(path), "%s/participants/*", call);
    ck_assert_int_eq(api("PUT", path, "txVideoMute=true", NULL, 0, NULL), 200);
    snprintf(form, sizeof(form), "txVideoMute=false&mode=selected&filterIds=%s", id);
    ck_assert_int_eq(api("PUT", path, form, NULL, 0, NULL), 200);
    expect_in(leg, "<txVideoMute>false</txVideoMute>");
    expect_in(leg2, "<txVideoMute>true</txVideoMute>");
    expect_refused("PUT", path, "filterIds=nope", 400,
                   FAIL("<parameterError parameter=\"filterIds\" error=\"invalidValue\" />"));

    /* one participant of the call, by the call's path */
    snprintf(path, sizeof(path), "%s/participants/%s", call, strrchr(leg2, '/') + 1);
    ck_assert_int_eq(api("PUT", path, "importance=5", NULL, 0, NULL), 200);
    expect_in(leg2, "<importance>5</importance>");
    snprintf(path, sizeof(path), "/api/v1/calls/" NIL "/participants/%s", id);
    expect_refused("PUT", path, "importance=1", 404, FAIL("<callDoesNotExist />"));
    snprintf(path, sizeof(path), "%s/participants/%s", call, strrchr(leg2, '/') + 1);
    ck_assert_int_eq(api("DELETE", path, NULL, NULL, 0, NULL), 200);
    expect_refused("GET", leg2, NULL, 404, FAIL("<participantDoesNotExist />"));

    /* a leg's sub-resources */
    snprintf(path, sizeof(path), "%s/generateKeyFrame", leg);
    expect_refused("POST", path, NULL, 400, FAIL("<invalidOperation />"));
    ck_assert_int_eq(api("GET", path, NULL, body, sizeof(body), NULL), 405);
    snprintf(path, sizeof(path), "%s/cameraControl", leg);
    expect_refused("PUT", path, "pan=sideways", 400,
                   FAIL("<parameterError parameter=\"pan\" error=\"invalidValue\" />"));
    expect_refused("PUT", path, "pan=left", 400, FAIL("<invalidOperation />"));
    snprintf(path, sizeof(path), "%s/callLegProfileTrace", leg);
    snprintf(form, sizeof(form), "<callLegProfileTrace callLeg=\"%s\"><profile scope=\"callLeg\">",
             id);
    expect_in(path, form);
    expect_in(path, "<rxAudioMute>true</rxAudioMute>");
    ck_assert_int_eq(api("DELETE", call, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* Waits until the media thread has element name true or false on leg (at most 4 s). */
static void wait_in_force(const char *leg, const char *name, bool on)
{
    char body[8192], needle[96];

    snprintf(needle, sizeof(needle), "<%s>%s</%s>", name, on ? "true" : "false", name);
    for (int i = 0; i < 80; i++) {
        ck_assert_int_eq(api("GET", leg, NULL, body, sizeof(body), NULL), 200);
        if (strstr(body, needle))
            return;
        usleep(50 * 1000);
    }
    ck_abort_msg("%s never showed %s: %s", leg, needle, body);
}

START_TEST(test_mute_stops_a_legs_packets_and_unmute_lets_them_through)
{
    char form[256], body[4096], call[128], leg_a[128], leg_b[128], loc[128], all[192];
    struct sockaddr_in ra, rb;
    unsigned short pa, pb;
    int fa, fb;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port);
    ck_assert_int_eq(api("POST", "/api/v1/turnServers", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "%s/status", loc); /* waits for the first probe */
    ck_assert_int_eq(api("GET", form, NULL, body, sizeof(body), NULL), 200);
    new_call("Mute+Room", NULL, call);
    fa = th_udp_endpoint(&pa);
    fb = th_udp_endpoint(&pb);
    th_media_leg(&d, call, pa, leg_a, &ra);
    th_media_leg(&d, call, pb, leg_b, &rb);
    (void)rb;

    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 20, 2000), 20); /* PCMU: audio */
    ck_assert_int_eq(api("PUT", leg_a, "rxAudioMute=true", NULL, 0, NULL), 200);
    wait_in_force(leg_a, "rxAudioWithheld", true);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 20, 500), 0);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 26, 5, 2000), 5); /* JPEG: video still goes */
    expect_in(leg_a, "<packetsDropped>20</packetsDropped>");
    ck_assert_int_eq(api("PUT", leg_a, "rxAudioMute=false", NULL, 0, NULL), 200);
    wait_in_force(leg_a, "rxAudioWithheld", false);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 20, 2000), 20);

    /* everyone's incoming audio muted at once: B gets nothing of A's */
    snprintf(all, sizeof(all), "%s/participants/*", call);
    ck_assert_int_eq(api("PUT", all, "txAudioMute=true", NULL, 0, NULL), 200);
    wait_in_force(leg_b, "txAudioWithheld", true);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 10, 500), 0);
    ck_assert_int_eq(api("PUT", all, "txAudioMute=false", NULL, 0, NULL), 200);
    wait_in_force(leg_b, "txAudioWithheld", false);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 10, 2000), 10);
    ck_assert_int_eq(api("DELETE", call, NULL, NULL, 0, NULL), 200);
    close(fa);
    close(fb);
}
END_TEST

/* A guest request: no credentials, a JSON body. */
static void guest_join(const char *json, struct th_resp *r)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};

    th_http(&d, d.ports[0], "POST", "/meeting/api/join", NULL, NULL, hdr, json, strlen(json), r);
}

/* The string member key of the JSON object text into out. */
static void json_member(const char *text, const char *key, char *out, size_t cap)
{
    json_t *j = json_loads(text, 0, NULL);
    const char *v = json_string_value(json_object_get(j, key));

    ck_assert_msg(v, "no %s in %s", key, text);
    snprintf(out, cap, "%s", v);
    json_decref(j);
}

/* Polls the guest's events until one holds every needle (at most 10 s). */
static void wait_events(const char *session, const char *a, const char *b)
{
    char path[160];
    struct th_resp r;

    snprintf(path, sizeof(path), "/meeting/api/events?session=%s&after=0", session);
    for (int i = 0; i < 40; i++) {
        th_http(&d, d.ports[0], "GET", path, NULL, NULL, NULL, NULL, 0, &r);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        if (strstr(r.body, a) && (!b || strstr(r.body, b))) {
            th_resp_free(&r);
            return;
        }
        th_resp_free(&r);
        usleep(250 * 1000);
    }
    ck_abort_msg("no events with %s and %s", a, b ? b : "");
}

START_TEST(test_locked_call_keeps_a_guest_in_the_lobby)
{
    char form[256], body[4096], loc[128], call[128], session[128], leg[128] = "/api/v1/callLegs/";
    struct th_resp r;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    snprintf(form, sizeof(form),
             "serverAddress=127.0.0.1:%u&clientAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port, co.port);
    ck_assert_int_eq(api("POST", "/api/v1/turnServers", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "%s/status", loc);
    ck_assert_int_eq(api("GET", form, NULL, body, sizeof(body), NULL), 200);
    new_call("Locked+Room", "717171", call);
    ck_assert_int_eq(api("PUT", call, "locked=true", NULL, 0, NULL), 200);
    /* CMS's lobby (lockMode all, the default): the guest waits, deactivated (tests/test_it_lobby.c)
     */
    guest_join("{\"callId\":\"717171\",\"name\":\"Late\"}", &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    json_member(r.body, "session", session, sizeof(session));
    json_member(r.body, "leg", leg + strlen(leg), sizeof(leg) - strlen(leg));
    th_resp_free(&r);
    expect_in(call, "<numCallLegs>1</numCallLegs>");
    expect_in(leg, "<deactivated>true</deactivated>");
    ck_assert_int_eq(
        api("PUT", call, "locked=false&messageText=Welcome&messageDuration=60", NULL, 0, NULL),
        200);
    expect_in(leg, "<deactivated>false</deactivated>");
    expect_in("/api/v1/participants?filter=late", "<participants total=\"1\">");
    /* the message set as the call was unlocked is on its page */
    wait_events(session, "\"type\":\"message\"", "\"text\":\"Welcome\"");
    /* the host renames and mutes it: its roster says so, and its media path withholds */
    ck_assert_int_eq(api("PUT", leg, "nameLabelOverride=Renamed&rxAudioMute=true", NULL, 0, NULL),
                     200);
    wait_events(session, "\"name\":\"Renamed\"", "\"audioMuted\":true");
    wait_in_force(leg, "rxAudioWithheld", true);
    snprintf(form, sizeof(form), "%s/generateKeyFrame", leg);
    ck_assert_int_eq(api("POST", form, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(api("DELETE", call, NULL, NULL, 0, NULL), 200);
}
END_TEST

Suite *it_control_suite(void)
{
    Suite *s = suite_create("it_control");
    TCase *tc = tcase_create("control");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_put_call_is_shown_and_refusals_change_nothing);
    tcase_add_test(tc, test_put_leg_participants_and_a_dial_out_that_fails);
    tcase_add_test(tc, test_mute_stops_a_legs_packets_and_unmute_lets_them_through);
    tcase_add_test(tc, test_locked_call_keeps_a_guest_in_the_lobby);
    suite_add_tcase(s, tc);
    return s;
}
