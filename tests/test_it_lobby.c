/* tests/test_it_lobby.c: call leg profiles that govern guests, through the running daemon (with
 * coturn for the guests' TURN server): guests join through /meeting/api/ as a page does (by a
 * coSpace's access methods, each with its callLegProfile), and what each level of the
 * precedence (leg > access method > coSpace > tenant > system) gives them shows in the
 * callLegProfileTrace and in the media path (what the media thread withholds); the self-mute
 * rights (403 when refused, in force when allowed, changed live by allowAllMuteSelf); and CMS's
 * lobby: a guest that needs activation waits deactivated until an activator joins, each
 * deactivationMode when the last activator leaves, a locked call with lockMode all and
 * needsActivation, unlocking, and an administrator's deactivated=false. The browser side is
 * tests/webrtc/lobby_test.py. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/helpers.h"
#include "tests/suites.h"

static struct th_daemon d;
static struct th_coturn co;
static char why[128];

static long api(const char *method, const char *path, const char *form, char *out, size_t cap,
                char *location)
{
    return th_admin_keep(&d, method, path, form, out, cap, location);
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
    ck_assert_int_eq(api("POST", "/api/v1/turnServers", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "%s/status", loc); /* waits for the first probe */
    ck_assert_int_eq(api("GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
}

static void stop(void)
{
    th_daemon_coturn_stop(&d, &co);
}

/* POSTs form to collection; the new object's id into id (37 bytes). */
static void create(const char *collection, const char *form, char *id)
{
    char loc[160];

    ck_assert_int_eq(api("POST", collection, form, NULL, 0, loc), 200);
    snprintf(id, 37, "%s", strrchr(loc, '/') + 1);
}

/* An access method of coSpace cs with callId and callLegProfile clp (NULL: none). */
static void access_method(const char *cs, const char *call_id, const char *clp)
{
    char path[128], form[160], id[40];

    snprintf(path, sizeof(path), "/api/v1/coSpaces/%s/accessMethods", cs);
    snprintf(form, sizeof(form), "callId=%s%s%s", call_id, clp ? "&callLegProfile=" : "",
             clp ? clp : "");
    create(path, form, id);
}

struct guest {
    char session[64];
    char leg[96]; /* /api/v1/callLegs/<id> */
};

/* A guest joins by callId (no passcode) as name: 200 expected. */
static void join(const char *call_id, const char *name, struct guest *g)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    char json[160];
    struct th_resp r;
    json_t *j;

    snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"name\":\"%s\"}", call_id, name);
    th_http(&d, d.ports[0], "POST", "/meeting/api/join", NULL, NULL, hdr, json, strlen(json), &r);
    ck_assert_msg(r.status == 200, "%s joining %s: %ld %s", name, call_id, r.status, r.body);
    j = json_loads(r.body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    snprintf(g->session, sizeof(g->session), "%s",
             json_string_value(json_object_get(j, "session")));
    snprintf(g->leg, sizeof(g->leg), "/api/v1/callLegs/%s",
             json_string_value(json_object_get(j, "leg")));
    json_decref(j);
    th_resp_free(&r);
}

/* A guest's signalling request; its status. */
static long signal_as(const struct guest *g, const char *verb, const char *extra)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    char path[64], json[256];
    struct th_resp r;
    long status;

    snprintf(path, sizeof(path), "/meeting/api/%s", verb);
    snprintf(json, sizeof(json), "{\"session\":\"%s\"%s%s}", g->session, extra ? "," : "",
             extra ? extra : "");
    th_http(&d, d.ports[0], "POST", path, NULL, NULL, hdr, json, strlen(json), &r);
    status = r.status;
    th_resp_free(&r);
    return status;
}

/* The page's own mute (one a guest's page may send every 250 ms: waits that long first). */
static long mute(const struct guest *g, const char *extra)
{
    usleep(300 * 1000);
    return signal_as(g, "mute", extra);
}

/* The member key of the guest's latest "self" event: 1 true, 0 false, -1 none yet. */
static int self_flag(const struct guest *g, const char *key)
{
    char path[160];
    struct th_resp r;
    json_t *j, *ev;
    size_t i;
    int v = -1;

    snprintf(path, sizeof(path), "/meeting/api/events?session=%s&after=0", g->session);
    th_http(&d, d.ports[0], "GET", path, NULL, NULL, NULL, NULL, 0, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    j = json_loads(r.body, 0, NULL);
    json_array_foreach(json_object_get(j, "events"), i, ev)
    {
        const char *type = json_string_value(json_object_get(ev, "type"));

        if (type && strcmp(type, "self") == 0 && json_is_boolean(json_object_get(ev, key)))
            v = json_is_true(json_object_get(ev, key));
    }
    json_decref(j);
    th_resp_free(&r);
    return v;
}

static void wait_self(const struct guest *g, const char *key, bool on)
{
    for (int i = 0; i < 80; i++) {
        if (self_flag(g, key) == (int)on)
            return;
        usleep(50 * 1000);
    }
    ck_abort_msg("%s never told its page %s=%d (now %d)", g->leg, key, on, self_flag(g, key));
}

/* Waits until GET path shows <name>on</name> (at most 4 s). */
static void wait_shows(const char *path, const char *name, bool on)
{
    static char body[16384];
    char needle[96];

    snprintf(needle, sizeof(needle), "<%s>%s</%s>", name, on ? "true" : "false", name);
    for (int i = 0; i < 80; i++) {
        ck_assert_int_eq(api("GET", path, NULL, body, sizeof(body), NULL), 200);
        if (strstr(body, needle))
            return;
        usleep(50 * 1000);
    }
    ck_abort_msg("%s never showed %s: %s", path, needle, body);
}

/* In the lobby: the leg says deactivated, the media thread withholds all four directions, and
 * the page says it waits. Or out of it. */
static void in_lobby(const struct guest *g, bool lobby)
{
    wait_shows(g->leg, "deactivated", lobby);
    wait_self(g, "lobby", lobby);
    wait_shows(g->leg, "rxAudioWithheld", lobby);
    wait_shows(g->leg, "txVideoWithheld", lobby);
}

static void expect_body(const char *path, const char *needle, bool present)
{
    static char body[16384];

    ck_assert_int_eq(api("GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg((strstr(body, needle) != NULL) == present, "%s %s %s: %s", path,
                  present ? "lacks" : "has", needle, body);
}

START_TEST(test_each_level_takes_effect_and_the_trace_shows_it)
{
    char sys[40], ten[40], cs_p[40], am_p[40], tenant[40], cs[40], call[40], form[400];
    char trace[160], needle[256];
    struct guest g = {0};

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    /* system: labels off, video mute on; tenant: audio muted; coSpace: video mute lifted;
     * access method: no self-mute */
    create("/api/v1/callLegProfiles", "name=sys&participantLabels=false&txVideoMute=true", sys);
    create("/api/v1/callLegProfiles", "name=ten&rxAudioMute=true", ten);
    create("/api/v1/callLegProfiles", "name=cs&txVideoMute=false&rxVideoMute=true", cs_p);
    create("/api/v1/callLegProfiles", "name=am&muteSelfAllowed=false&rxVideoMute=false", am_p);
    snprintf(form, sizeof(form), "callLegProfile=%s", sys);
    ck_assert_int_eq(api("PUT", "/api/v1/system/profiles", form, NULL, 0, NULL), 200);
    snprintf(form, sizeof(form), "name=T&callLegProfile=%s", ten);
    create("/api/v1/tenants", form, tenant);
    snprintf(form, sizeof(form), "name=Levels&tenant=%s&callLegProfile=%s", tenant, cs_p);
    create("/api/v1/coSpaces", form, cs);
    access_method(cs, "610001", am_p);
    snprintf(form, sizeof(form), "coSpace=%s", cs);
    create("/api/v1/calls", form, call);

    join("610001", "Levels", &g);
    /* in the media path: rxAudioMute from the tenant, rxVideoMute lifted by the access method
     * over the coSpace, txVideoMute lifted by the coSpace over the system */
    wait_shows(g.leg, "rxAudioWithheld", true);
    wait_shows(g.leg, "rxVideoWithheld", false);
    wait_shows(g.leg, "txVideoWithheld", false);
    wait_self(&g, "participantLabels", false);
    wait_self(&g, "muteSelfAllowed", false);
    wait_self(&g, "audioMuted", true);
    /* the trace: each level's profile with its scope and id, what it sets */
    snprintf(trace, sizeof(trace), "%s/callLegProfileTrace", g.leg);
    snprintf(needle, sizeof(needle), "<profile scope=\"global\"><callLegProfile id=\"%s\">", sys);
    expect_body(trace, needle, true);
    snprintf(needle, sizeof(needle), "<profile scope=\"tenant\"><callLegProfile id=\"%s\">", ten);
    expect_body(trace, needle, true);
    snprintf(needle, sizeof(needle), "<profile scope=\"coSpace\"><callLegProfile id=\"%s\">", cs_p);
    expect_body(trace, needle, true);
    snprintf(needle, sizeof(needle),
             "<profile scope=\"accessMethod\"><callLegProfile id=\"%s\">"
             "<muteSelfAllowed>false</muteSelfAllowed><rxVideoMute>false</rxVideoMute>",
             am_p);
    expect_body(trace, needle, true);
    expect_body(trace, "scope=\"callLeg\"", false);

    /* self-mute refused by the access method's profile: 403, nothing changes */
    ck_assert_int_eq(mute(&g, "\"audio\":false"), 403);
    wait_shows(g.leg, "rxAudioWithheld", true);
    /* the leg's own level wins over every profile */
    ck_assert_int_eq(api("PUT", g.leg, "rxAudioMute=false&muteSelfAllowed=true", NULL, 0, NULL),
                     200);
    wait_shows(g.leg, "rxAudioWithheld", false);
    expect_body(trace,
                "<profile scope=\"callLeg\"><callLegProfile><muteSelfAllowed>true</"
                "muteSelfAllowed><rxAudioMute>false</rxAudioMute></callLegProfile></profile>",
                true);
    wait_self(&g, "muteSelfAllowed", true);
    /* now the page may mute itself, in the media path */
    ck_assert_int_eq(mute(&g, "\"audio\":true"), 200);
    wait_shows(g.leg, "rxAudioWithheld", true);
    wait_self(&g, "audioMuted", true);
    ck_assert_int_eq(mute(&g, "\"audio\":\"yes\""), 400);
    /* the system's profile unset: participantLabels is true again, at once, and the trace
     * no longer has a global level */
    ck_assert_int_eq(api("PUT", "/api/v1/system/profiles", "callLegProfile=", NULL, 0, NULL), 200);
    wait_self(&g, "participantLabels", true);
    expect_body(trace, "scope=\"global\"", false);
    snprintf(form, sizeof(form), "/api/v1/calls/%s", call);
    ck_assert_int_eq(api("DELETE", form, NULL, NULL, 0, NULL), 200);
}
END_TEST

START_TEST(test_self_mute_rights_follow_the_profile_and_allow_all_mute_self)
{
    char clp[40], cs[40], call[48], path[96], form[160];
    struct guest g = {0};

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    create("/api/v1/callLegProfiles",
           "name=nomute&muteSelfAllowed=false&videoMuteSelfAllowed=false", clp);
    snprintf(form, sizeof(form), "name=Rights&callId=620001&callLegProfile=%s", clp);
    create("/api/v1/coSpaces", form, cs);
    snprintf(form, sizeof(form), "coSpace=%s", cs);
    create("/api/v1/calls", form, call);
    snprintf(path, sizeof(path), "/api/v1/calls/%s", call);
    join("620001", "Quiet", &g);
    wait_self(&g, "muteSelfAllowed", false);
    wait_self(&g, "videoMuteSelfAllowed", false);
    ck_assert_int_eq(mute(&g, "\"audio\":true"), 403);
    ck_assert_int_eq(mute(&g, "\"video\":true"), 403);
    wait_shows(g.leg, "rxAudioWithheld", false);
    wait_shows(g.leg, "rxVideoWithheld", false);
    /* the call's allowAllMuteSelf gives everyone the audio right, live */
    ck_assert_int_eq(api("PUT", path, "allowAllMuteSelf=true", NULL, 0, NULL), 200);
    wait_self(&g, "muteSelfAllowed", true);
    ck_assert_int_eq(mute(&g, "\"audio\":true"), 200);
    wait_shows(g.leg, "rxAudioWithheld", true);
    ck_assert_int_eq(mute(&g, "\"video\":true"), 403); /* video still refused */
    ck_assert_int_eq(mute(&g, "\"audio\":false"), 200);
    /* a page that mutes faster than a hand would is told to slow down, and nothing changes */
    ck_assert_int_eq(signal_as(&g, "mute", "\"audio\":true"), 429);
    wait_shows(g.leg, "rxAudioWithheld", false);
    ck_assert_int_eq(api("PUT", path, "allowAllMuteSelf=false", NULL, 0, NULL), 200);
    wait_self(&g, "muteSelfAllowed", false);
    ck_assert_int_eq(mute(&g, "\"audio\":true"), 403);
    /* an administrator grants the leg its video right */
    ck_assert_int_eq(api("PUT", g.leg, "videoMuteSelfAllowed=true", NULL, 0, NULL), 200);
    wait_self(&g, "videoMuteSelfAllowed", true);
    ck_assert_int_eq(mute(&g, "\"video\":true"), 200);
    wait_shows(g.leg, "rxVideoWithheld", true);
    /* the profile itself changed: the legs it governs follow at once (their own level stays) */
    snprintf(form, sizeof(form), "/api/v1/callLegProfiles/%s", clp);
    ck_assert_int_eq(api("PUT", form, "muteSelfAllowed=true&txAudioMute=true", NULL, 0, NULL), 200);
    wait_self(&g, "muteSelfAllowed", true);
    wait_shows(g.leg, "txAudioWithheld", true);
    ck_assert_int_eq(mute(&g, "\"audio\":true"), 200);
    ck_assert_int_eq(api("DELETE", path, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* A coSpace with a host access method (callId host, activator) and a guest one (callId guest,
 * needsActivation with the given deactivationMode and time); its call into call. */
static void lobby_space(const char *name, const char *host, const char *guest, const char *mode,
                        int seconds, const char *call_profile, char *call)
{
    char hp[40], gp[40], cs[40], form[256];

    create("/api/v1/callLegProfiles", "name=host&needsActivation=false", hp);
    snprintf(form, sizeof(form),
             "name=guest&needsActivation=true&deactivationMode=%s&deactivationModeTime=%d", mode,
             seconds);
    create("/api/v1/callLegProfiles", form, gp);
    snprintf(form, sizeof(form), "name=%s%s%s", name, call_profile ? "&callProfile=" : "",
             call_profile ? call_profile : "");
    create("/api/v1/coSpaces", form, cs);
    access_method(cs, host, hp);
    access_method(cs, guest, gp);
    snprintf(form, sizeof(form), "coSpace=%s", cs);
    create("/api/v1/calls", form, call);
}

START_TEST(test_a_guest_waits_until_an_activator_joins_and_is_deactivated_when_it_leaves)
{
    char call[40], path[96], part[96];
    struct guest host = {0}, guest = {0};

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    lobby_space("Lobby", "630001", "630002", "deactivate", 0, NULL, call);
    snprintf(path, sizeof(path), "/api/v1/calls/%s", call);
    join("630002", "Early", &guest);
    in_lobby(&guest, true);
    join("630001", "Host", &host);
    in_lobby(&guest, false);
    expect_body(host.leg, "<deactivated>false</deactivated>", true);
    snprintf(part, sizeof(part), "/api/v1/participants/%s", strrchr(guest.leg, '/') + 1);
    expect_body(part, "<isActivator>false</isActivator>", true);
    snprintf(part, sizeof(part), "/api/v1/participants/%s", strrchr(host.leg, '/') + 1);
    expect_body(part, "<isActivator>true</isActivator>", true);
    /* the last activator leaves: back to the lobby at once (deactivationModeTime 0) */
    ck_assert_int_eq(signal_as(&host, "leave", NULL), 200);
    in_lobby(&guest, true);
    /* an administrator lets it in without an activator (CMS 2.9's deactivated=false) */
    ck_assert_int_eq(api("PUT", guest.leg, "deactivated=false", NULL, 0, NULL), 200);
    in_lobby(&guest, false);
    ck_assert_int_eq(api("PUT", guest.leg, "deactivated=maybe", NULL, 0, NULL), 400);
    ck_assert_int_eq(api("DELETE", path, NULL, NULL, 0, NULL), 200);
}
END_TEST

START_TEST(test_disconnect_and_remain_activated_when_the_last_activator_leaves)
{
    char call_a[40], call_b[40], path[96];
    struct guest host_a = {0}, host_b = {0}, gone = {0}, stays = {0};
    long status = 200;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    lobby_space("Disconnect", "640001", "640002", "disconnect", 1, NULL, call_a);
    lobby_space("Remain", "650001", "650002", "remainActivated", 0, NULL, call_b);
    join("640001", "HostA", &host_a);
    join("640002", "Gone", &gone);
    join("650001", "HostB", &host_b);
    join("650002", "Stays", &stays);
    in_lobby(&gone, false);
    in_lobby(&stays, false);
    ck_assert_int_eq(signal_as(&host_a, "leave", NULL), 200);
    ck_assert_int_eq(signal_as(&host_b, "leave", NULL), 200);
    /* disconnect after deactivationModeTime (1 s): the leg goes, its page is told */
    expect_body(gone.leg, "<deactivated>false</deactivated>", true);
    for (int i = 0; i < 60 && status == 200; i++) {
        usleep(100 * 1000);
        status = api("GET", gone.leg, NULL, NULL, 0, NULL);
    }
    ck_assert_int_eq(status, 404);
    ck_assert_int_eq(mute(&gone, "\"audio\":true"), 410);
    snprintf(path, sizeof(path), "/api/v1/calls/%s", call_a);
    ck_assert_int_eq(api("DELETE", path, NULL, NULL, 0, NULL), 200);
    /* remainActivated: still in the meeting */
    in_lobby(&stays, false);
    snprintf(path, sizeof(path), "/api/v1/calls/%s", call_b);
    ck_assert_int_eq(api("DELETE", path, NULL, NULL, 0, NULL), 200);
}
END_TEST

START_TEST(test_a_locked_call_keeps_new_guests_in_the_lobby_until_unlocked)
{
    char call[40], call2[40], path[96], cp[40];
    struct guest host = {0}, host2 = {0}, guest = {0}, host3 = {0}, host4 = {0}, guest2 = {0};

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    /* lockMode all (the default): everyone new waits, activators too */
    lobby_space("LockAll", "660001", "660002", "deactivate", 0, NULL, call);
    snprintf(path, sizeof(path), "/api/v1/calls/%s", call);
    join("660001", "Host", &host);
    ck_assert_int_eq(api("PUT", path, "locked=true", NULL, 0, NULL), 200);
    join("660002", "Late", &guest);
    join("660001", "LateHost", &host2);
    in_lobby(&guest, true);
    in_lobby(&host2, true);
    in_lobby(&host, false); /* already in: not deactivated by the lock */
    ck_assert_int_eq(api("PUT", path, "locked=false", NULL, 0, NULL), 200);
    in_lobby(&guest, false);
    in_lobby(&host2, false);
    ck_assert_int_eq(api("DELETE", path, NULL, NULL, 0, NULL), 200);

    /* lockMode needsActivation: activators still join a locked call */
    create("/api/v1/callProfiles", "lockMode=needsActivation", cp);
    lobby_space("LockNeeds", "670001", "670002", "deactivate", 0, cp, call2);
    snprintf(path, sizeof(path), "/api/v1/calls/%s", call2);
    join("670001", "Host3", &host3);
    ck_assert_int_eq(api("PUT", path, "locked=true", NULL, 0, NULL), 200);
    join("670001", "Host4", &host4);
    join("670002", "Late2", &guest2);
    in_lobby(&host4, false);
    in_lobby(&guest2, true);
    ck_assert_int_eq(api("PUT", path, "locked=false", NULL, 0, NULL), 200);
    in_lobby(&guest2, false);
    ck_assert_int_eq(api("DELETE", path, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* Legs the API adds get their coSpace's profile too: counted in the media path. */
START_TEST(test_plain_legs_join_muted_and_wait_in_the_lobby_in_the_media_path)
{
    char clp[40], cs[40], call[96], leg_a[128], leg_b[128], form[160];
    struct sockaddr_in ra, rb;
    unsigned short pa, pb;
    int fa, fb;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    /* rxAudioMute from the coSpace's profile: A's audio is withheld, its video goes */
    create("/api/v1/callLegProfiles", "name=muted&rxAudioMute=true", clp);
    snprintf(form, sizeof(form), "name=Plain&callLegProfile=%s", clp);
    create("/api/v1/coSpaces", form, cs);
    snprintf(form, sizeof(form), "coSpace=%s", cs);
    ck_assert_int_eq(api("POST", "/api/v1/calls", form, NULL, 0, call), 200);
    fa = th_udp_endpoint(&pa);
    fb = th_udp_endpoint(&pb);
    th_media_leg(&d, call, pa, leg_a, &ra);
    th_media_leg(&d, call, pb, leg_b, &rb);
    (void)rb;
    wait_shows(leg_a, "rxAudioWithheld", true);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 20, 500), 0);  /* PCMU: audio */
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 26, 5, 2000), 5); /* JPEG: video */
    expect_body(leg_a, "<packetsDropped>20</packetsDropped>", true);
    ck_assert_int_eq(api("PUT", leg_a, "rxAudioMute=false", NULL, 0, NULL), 200);
    wait_shows(leg_a, "rxAudioWithheld", false);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 20, 2000), 20);
    ck_assert_int_eq(api("DELETE", call, NULL, NULL, 0, NULL), 200);

    /* needsActivation: both wait, nothing passes; one made an activator admits the other */
    create("/api/v1/callLegProfiles", "name=waits&needsActivation=true", clp);
    snprintf(form, sizeof(form), "name=PlainLobby&callLegProfile=%s", clp);
    create("/api/v1/coSpaces", form, cs);
    snprintf(form, sizeof(form), "coSpace=%s", cs);
    ck_assert_int_eq(api("POST", "/api/v1/calls", form, NULL, 0, call), 200);
    th_media_leg(&d, call, pa, leg_a, &ra);
    th_media_leg(&d, call, pb, leg_b, &rb);
    wait_shows(leg_a, "deactivated", true);
    wait_shows(leg_b, "deactivated", true);
    wait_shows(leg_a, "rxAudioWithheld", true);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 20, 500), 0);
    ck_assert_int_eq(api("PUT", leg_b, "needsActivation=false", NULL, 0, NULL), 200);
    wait_shows(leg_a, "deactivated", false);
    wait_shows(leg_b, "deactivated", false);
    wait_shows(leg_a, "rxAudioWithheld", false);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 20, 2000), 20);
    /* B is no activator any more: A goes back to the lobby (deactivate, 0 s) on the next tick */
    ck_assert_int_eq(api("PUT", leg_b, "needsActivation=true", NULL, 0, NULL), 200);
    wait_shows(leg_a, "deactivated", true);
    ck_assert_int_eq(th_relay_count(fa, &ra, fb, 0, 20, 500), 0);
    ck_assert_int_eq(api("DELETE", call, NULL, NULL, 0, NULL), 200);
    close(fa);
    close(fb);
}
END_TEST

Suite *it_lobby_suite(void)
{
    Suite *s = suite_create("it_lobby");
    TCase *tc = tcase_create("lobby");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_each_level_takes_effect_and_the_trace_shows_it);
    tcase_add_test(tc, test_self_mute_rights_follow_the_profile_and_allow_all_mute_self);
    tcase_add_test(tc,
                   test_a_guest_waits_until_an_activator_joins_and_is_deactivated_when_it_leaves);
    tcase_add_test(tc, test_disconnect_and_remain_activated_when_the_last_activator_leaves);
    tcase_add_test(tc, test_a_locked_call_keeps_new_guests_in_the_lobby_until_unlocked);
    tcase_add_test(tc, test_plain_legs_join_muted_and_wait_in_the_lobby_in_the_media_path);
    suite_add_tcase(s, tc);
    return s;
}
