/* tests/test_it_monitor.c: monitoring through the real daemon: /system/alarms raised and cleared
 * by real faults (a TURN server, coturn, that stops answering; a data directory with less free
 * space than the threshold), call-leg alarms from real RTP with gaps and with jitter, the
 * /calls and /callLegs filters, every /system/status field, /system/load, /system/database,
 * the licensing objects and diagnostics; the database's disk filling up and read-only (root:
 * mounts); and the leg-alarm rules on their own. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/res/alarms.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static struct th_daemon d;
static struct th_coturn co;
static char why[128];

static void start(void)
{
    static const char *const args[] = {"--probe-interval", "1", NULL};

    memset(&d, 0, sizeof(d));
    if (th_coturn_available(why, sizeof(why)))
        th_coturn_start(&co, NULL);
    th_daemon_start(&d, "0", args);
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

/* GET path until its body contains (want true) or lacks needle, at most 15 s; the last body
 * into out. */
static bool poll_body(const char *path, const char *needle, bool want, char *out, size_t cap)
{
    for (int i = 0; i < 150; i++) {
        ck_assert_int_eq(call("GET", path, NULL, out, cap, NULL), 200);
        if ((strstr(out, needle) != NULL) == want)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

/* A TURN server on 127.0.0.1:port (coturn's alice); its path into loc[128], after its first
 * probe, whose verdict must be ok. */
static void add_turn(unsigned short port, char *loc)
{
    char form[128], body[4096];

    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret", port);
    ck_assert_int_eq(call("POST", "/api/v1/turnServers", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "%s/status", loc); /* waits for the first probe */
    ck_assert_int_eq(call("GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
}

/* A TURN server on coturn stops answering: turnServerUnavailable names it, keeps its id while
 * active, counts its time, shows in /metrics; pointed at a coturn that answers, it clears. */
START_TEST(test_turn_server_alarm_raised_and_cleared)
{
    char form[256], body[8192], loc[128], id[64], expect[256], alarm_id[64], again[64], t[16];
    struct th_coturn own = {0};

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&own, NULL); /* this test's own, which it stops */
    add_turn(own.port, loc);
    snprintf(id, sizeof(id), "%s", strrchr(loc, '/') + 1);
    ck_assert_int_eq(call("GET", "/api/v1/system/alarms", NULL, body, sizeof(body), NULL), 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><alarms total=\"0\"/>");

    th_coturn_stop(&own); /* the server stops answering */
    snprintf(expect, sizeof(expect),
             "alarm turnServerUnavailable raised for turnServer %s: connectFailure", id);
    for (int i = 0; i < 150 && th_log_count(&d, expect) == 0; i++) /* nobody reads the alarms */
        usleep(100 * 1000);
    ck_assert_uint_eq(th_log_count(&d, expect), 1);
    ck_assert_msg(
        poll_body("/api/v1/system/alarms", "turnServerUnavailable", true, body, sizeof(body)),
        "no alarm: %s", body);
    ck_assert_msg(strstr(body, "<alarms total=\"1\"><alarm id=\""), "%s", body);
    snprintf(expect, sizeof(expect),
             "<failureReason>connectFailure</failureReason>"
             "<turnServer>%s</turnServer></alarm>",
             id);
    ck_assert_msg(strstr(body, expect), "%s", body);
    th_xml_text(body, "activeTimeSeconds", t, sizeof(t));
    ck_assert_int_le(atoi(t), 2);
    sscanf(strstr(body, "<alarm id=\"") + 11, "%36s", alarm_id);
    sleep(2);
    ck_assert_int_eq(call("GET", "/api/v1/system/alarms", NULL, body, sizeof(body), NULL), 200);
    sscanf(strstr(body, "<alarm id=\"") + 11, "%36s", again);
    ck_assert_str_eq(again, alarm_id); /* the same alarm, older */
    th_xml_text(body, "activeTimeSeconds", t, sizeof(t));
    ck_assert_int_ge(atoi(t), 2);
    ck_assert_int_eq(call("GET", "/metrics", NULL, body, sizeof(body), NULL), 200);
    ck_assert(th_metric(body, "callbridge_alarms_active", "turnServerUnavailable") == 1);
    ck_assert(th_metric(body, "callbridge_alarms_active", "cdrConnectionFailure") == 0);

    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u", co.port); /* one that answers */
    ck_assert_int_eq(call("PUT", loc, form, NULL, 0, NULL), 200);
    snprintf(form, sizeof(form), "%s/status", loc);
    ck_assert_int_eq(call("GET", form, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
    ck_assert_int_eq(call("GET", "/api/v1/system/alarms", NULL, body, sizeof(body), NULL), 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><alarms total=\"0\"/>");
    snprintf(expect, sizeof(expect), "alarm turnServerUnavailable cleared for turnServer %s", id);
    ck_assert_uint_eq(th_log_count(&d, expect), 1);
    ck_assert_int_eq(call("DELETE", loc, NULL, NULL, 0, NULL), 200);
}
END_TEST

/* A data directory with less free space than --min-free-mb: databaseLowDiskSpace, and the
 * database's state says so; the fixture's daemon (64 MiB) has neither. */
START_TEST(test_low_disk_space_alarm)
{
    static const char *const args[] = {"--min-free-mb", "100000000", NULL}; /* 100 TB */
    struct th_daemon d2 = {0};
    struct th_resp r;

    /* on PostgreSQL (CB_TEST_PG) a node is a cluster member: docs/cluster.md */
    bool pg = getenv("CB_TEST_PG") != NULL;

    th_admin(&d, "GET", "/api/v1/system/database", NULL, &r);
    if (pg)
        ck_assert_msg(strstr(r.body, "<database clustered=\"enabled\"><cluster>"), "%s", r.body);
    else
        ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><database clustered=\"disabled\"/>");
    th_resp_free(&r);
    th_daemon_start(&d2, "0", args);
    th_admin(&d2, "GET", "/api/v1/system/alarms", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "<alarms total=\"1\"><alarm id=\""), "%s", r.body);
    ck_assert_msg(strstr(r.body, "<type>databaseLowDiskSpace</type><activeTimeSeconds>"), "%s",
                  r.body);
    th_resp_free(&r);
    th_admin(&d2, "GET", "/api/v1/system/database", NULL, &r);
    if (pg)
        ck_assert_msg(strstr(r.body, "<database clustered=\"enabled\">"
                                     "<error>databaseLowDiskSpace</error><cluster>"),
                      "%s", r.body);
    else
        ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><database clustered=\"disabled\">"
                                 "<error>databaseLowDiskSpace</error></database>");
    th_resp_free(&r);
    ck_assert_int_eq(th_daemon_stop(&d2), 0);
    th_rmdir(d2.dir);
}
END_TEST

/* A leg whose RTP comes with gaps (every fifth packet missing) has packetLoss; one whose
 * timestamps jump a second per packet sent back to back has excessiveJitter. */
static void send_rtp(int fd, const struct sockaddr_in *to, bool gaps, bool jumps)
{
    for (int i = 0; i < 60; i++) {
        uint32_t ts = jumps ? (uint32_t)i * 8000u : (uint32_t)i * 160u;
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

        if (gaps && i % 5 == 4)
            continue;
        ck_assert_int_eq(sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)to, sizeof(*to)),
                         172);
        usleep(2000);
    }
}

/* Once leg is connected: the relayed address its endpoint sends to. */
static void relay_of(const char *leg, struct sockaddr_in *ret)
{
    char body[8192], addr[64], port[16];

    ck_assert_msg(poll_body(leg, "<state>connected</state>", true, body, sizeof(body)), "%s: %s",
                  leg, body);
    th_xml_text(body, "relayedAddress", addr, sizeof(addr));
    th_xml_text(body, "relayedPortNumber", port, sizeof(port));
    *ret =
        (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
    ck_assert_int_eq(inet_pton(AF_INET, addr, &ret->sin_addr), 1);
}

/* Two tenants' calls; legs listed with tenant and alarms, filtered by every filter. */
START_TEST(test_call_and_leg_filters)
{
    char form[256], body[16384], loc[128], tenant[64], space_a[64], space_b[64], call_a[128];
    char call_b[128], leg_a[128], leg_b[128], path[256], expect[512];
    struct sockaddr_in ra, rb;
    unsigned short pa, pb;
    int fa, fb;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    add_turn(co.port, loc);
    ck_assert_int_eq(call("POST", "/api/v1/tenants", "name=Acme", NULL, 0, loc), 200);
    snprintf(tenant, sizeof(tenant), "%s", strrchr(loc, '/') + 1);
    snprintf(form, sizeof(form), "name=Acme+Room&uri=acme.room&tenant=%s", tenant);
    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    snprintf(space_a, sizeof(space_a), "%s", strrchr(loc, '/') + 1);
    ck_assert_int_eq(call("POST", "/api/v1/coSpaces", "name=Open+Room&uri=open.room", NULL, 0, loc),
                     200);
    snprintf(space_b, sizeof(space_b), "%s", strrchr(loc, '/') + 1);
    snprintf(form, sizeof(form), "coSpace=%s", space_a);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call_a), 200);
    snprintf(form, sizeof(form), "coSpace=%s", space_b);
    ck_assert_int_eq(call("POST", "/api/v1/calls", form, NULL, 0, call_b), 200);
    fa = th_udp_endpoint(&pa);
    fb = th_udp_endpoint(&pb);
    snprintf(form, sizeof(form), "remoteParty=alice@acme.com&remoteMediaAddress=127.0.0.1:%u", pa);
    snprintf(path, sizeof(path), "%s/callLegs", call_a);
    ck_assert_int_eq(call("POST", path, form, NULL, 0, leg_a), 200);
    snprintf(form, sizeof(form), "remoteParty=bob@open.org&remoteMediaAddress=127.0.0.1:%u", pb);
    snprintf(path, sizeof(path), "%s/callLegs", call_b);
    ck_assert_int_eq(call("POST", path, form, NULL, 0, leg_b), 200);
    relay_of(leg_a, &ra);
    relay_of(leg_b, &rb);

    /* /calls?tenantFilter */
    snprintf(path, sizeof(path), "/api/v1/calls?tenantFilter=%s", tenant);
    ck_assert_int_eq(call("GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<calls total=\"1\"><call id=\"") &&
                      strstr(body, strrchr(call_a, '/') + 1),
                  "%s", body);
    ck_assert_int_eq(call("GET", "/api/v1/calls?tenantFilter=0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10",
                          NULL, body, sizeof(body), NULL),
                     200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><calls total=\"0\"/>");
    ck_assert_int_eq(call("GET", "/api/v1/calls", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<calls total=\"2\">"), "%s", body);

    /* the list elements: name, remoteParty, originalRemoteParty, call, tenant (when the coSpace
     * has one), alarms (apiary.apib:3381) */
    snprintf(path, sizeof(path), "/api/v1/callLegs?tenantFilter=%s", tenant);
    ck_assert_int_eq(call("GET", path, NULL, body, sizeof(body), NULL), 200);
    snprintf(expect, sizeof(expect),
             "<callLegs total=\"1\"><callLeg id=\"%s\"><name></name><remoteParty>alice@acme.com"
             "</remoteParty><originalRemoteParty>alice@acme.com</originalRemoteParty><call>%s"
             "</call><tenant>%s</tenant><alarms/></callLeg></callLegs>",
             strrchr(leg_a, '/') + 1, strrchr(call_a, '/') + 1, tenant);
    ck_assert_msg(strstr(body, expect), "%s\nwanted %s", body, expect);
    ck_assert_int_eq(call("GET", "/api/v1/callLegs?filter=BOB", NULL, body, sizeof(body), NULL),
                     200);
    ck_assert_msg(strstr(body, "<callLegs total=\"1\">") && strstr(body, "bob@open.org"), "%s",
                  body);
    ck_assert_int_eq(
        call("GET", "/api/v1/callLegs?ownerIdSet=false", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<callLegs total=\"2\">"), "%s", body);
    ck_assert_int_eq(
        call("GET", "/api/v1/callLegs?ownerIdSet=true", NULL, body, sizeof(body), NULL), 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><callLegs total=\"0\"/>");
    ck_assert_int_eq(call("GET", "/api/v1/callLegs?alarms=all", NULL, body, sizeof(body), NULL),
                     200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><callLegs total=\"0\"/>");

    /* real media: gaps on A, jitter on B */
    send_rtp(fa, &ra, true, false);
    send_rtp(fb, &rb, false, true);
    ck_assert_msg(poll_body("/api/v1/callLegs?alarms=packetLoss", "<callLegs total=\"1\">", true,
                            body, sizeof(body)),
                  "%s", body);
    ck_assert_msg(strstr(body, "alice@acme.com") &&
                      strstr(body, "<alarms><packetLoss></packetLoss></alarms>"),
                  "%s", body);
    ck_assert_msg(poll_body("/api/v1/callLegs?alarms=excessiveJitter", "<callLegs total=\"1\">",
                            true, body, sizeof(body)),
                  "%s", body);
    ck_assert_msg(strstr(body, "bob@open.org") &&
                      strstr(body, "<excessiveJitter></excessiveJitter>"),
                  "%s", body);
    ck_assert_int_eq(call("GET", "/api/v1/callLegs?alarms=packetLoss%7CexcessiveJitter", NULL, body,
                          sizeof(body), NULL),
                     200);
    ck_assert_msg(strstr(body, "<callLegs total=\"2\">"), "%s", body);
    ck_assert_int_eq(
        call("GET", "/api/v1/callLegs?alarms=highRoundTripTime", NULL, body, sizeof(body), NULL),
        200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><callLegs total=\"0\"/>");
    snprintf(path, sizeof(path), "%s/callLegs?alarms=all", call_b);
    ck_assert_int_eq(call("GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<callLegs total=\"1\">") && strstr(body, "bob@open.org"), "%s",
                  body);

    /* bad values: 400 naming the parameter, byte-exact */
    ck_assert_int_eq(
        call("GET", "/api/v1/callLegs?alarms=packetloss", NULL, body, sizeof(body), NULL), 400);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><parameterError "
                           "parameter=\"alarms\" error=\"invalidValue\" /></failureDetails>");
    ck_assert_int_eq(
        call("GET", "/api/v1/callLegs?participantFilter=x", NULL, body, sizeof(body), NULL), 400);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><parameterError "
                           "parameter=\"participantFilter\" error=\"invalidValue\" "
                           "/></failureDetails>");
    ck_assert_int_eq(
        call("GET", "/api/v1/callLegs?ownerIdSet=maybe", NULL, body, sizeof(body), NULL), 400);
    ck_assert_int_eq(call("GET", "/api/v1/calls?tenantFilter=acme", NULL, body, sizeof(body), NULL),
                     400);

    /* callLegsCompleted counts the legs that went; bit rates are the media's */
    ck_assert_int_eq(call("DELETE", leg_a, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("GET", "/api/v1/system/status", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<callLegsActive>1</callLegsActive><callLegsMaxActive>2"
                               "</callLegsMaxActive><callLegsCompleted>1</callLegsCompleted>"),
                  "%s", body);
    ck_assert_int_eq(call("DELETE", call_a, NULL, NULL, 0, NULL), 200);
    ck_assert_int_eq(call("DELETE", call_b, NULL, NULL, 0, NULL), 200);
    close(fa);
    close(fb);
}
END_TEST

/* Every field of the apiary's status, in its order, and hostId kept across a restart. */
START_TEST(test_status_fields_and_host_id)
{
    static const char *const names[] = {"hostId",
                                        "softwareVersion",
                                        "uptimeSeconds",
                                        "cdrTime",
                                        "activated",
                                        "clusterEnabled",
                                        "clusterId",
                                        "cdrCorrelatorIndex",
                                        "callLegsActive",
                                        "callLegsMaxActive",
                                        "callLegsCompleted",
                                        "audioBitRateOutgoing",
                                        "audioBitRateIncoming",
                                        "videoBitRateOutgoing",
                                        "videoBitRateIncoming",
                                        "callbridgeVersion"};
    char body[4096], host[64], host2[64], v[96], *p;
    struct th_daemon own = {0};
    struct th_resp r;

    ck_assert_int_eq(call("GET", "/api/v1/system/status", NULL, body, sizeof(body), NULL), 200);
    p = strstr(body, "<status>");
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char open_tag[64];

        snprintf(open_tag, sizeof(open_tag), "<%s>", names[i]);
        ck_assert_msg(strncmp(p + (i ? 0 : 8), open_tag, strlen(open_tag)) == 0, "%s at %s",
                      names[i], p);
        p = strstr(p, "</");
        p = strchr(p, '>') + 1;
    }
    ck_assert_str_eq(p, "</status>");
    th_xml_text(body, "softwareVersion", v, sizeof(v));
    ck_assert_str_eq(v, "3.0.0");
    th_xml_text(body, "cdrTime", v, sizeof(v));
    ck_assert_uint_eq(strlen(v), 20);
    ck_assert_int_eq(v[19], 'Z');
    th_xml_text(body, "hostId", host, sizeof(host));
    ck_assert_uint_eq(strlen(host), 36);
    ck_assert_int_eq(
        call("GET", "/api/v1/system/MPLicenseUsage/knownHosts", NULL, body, sizeof(body), NULL),
        200);
    snprintf(v, sizeof(v), "<host id=\"%s\"/>", host);
    ck_assert_msg(strstr(body, v), "%s", body);
    ck_assert_int_eq(call("GET", "/api/v1/system/load", NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "mediaProcessingLoad", v, sizeof(v));
    ck_assert_msg(v[0] && atoi(v) >= 0 && atoi(v) <= 100, "%s", body);

    /* a daemon of this test's own, restarted on its data directory, keeps its hostId */
    th_daemon_start(&own, "0", NULL);
    th_admin(&own, "GET", "/api/v1/system/status", NULL, &r);
    th_xml_text(r.body, "hostId", host, sizeof(host));
    th_resp_free(&r);
    ck_assert_int_eq(th_daemon_stop(&own), 0);
    th_daemon_start(&own, "0", NULL);
    th_admin(&own, "GET", "/api/v1/system/status", NULL, &r);
    th_xml_text(r.body, "hostId", host2, sizeof(host2));
    th_resp_free(&r);
    ck_assert_int_eq(th_daemon_stop(&own), 0);
    th_rmdir(own.dir);
    ck_assert_uint_eq(strlen(host2), 36);
    ck_assert_str_eq(host2, host);
}
END_TEST

/* An open server's licensing: CMS's shapes, no licence claimed; no diagnostics collected. */
START_TEST(test_licensing_and_diagnostics)
{
    char body[4096];

    ck_assert_int_eq(call("GET", "/api/v1/clusterLicensing", NULL, body, sizeof(body), NULL), 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><clusterLicensing><features><callBridge>"
                           "<status>noLicense</status></callBridge><callBridgeNoEncryption>"
                           "<status>noLicense</status></callBridgeNoEncryption><customizations>"
                           "<status>noLicense</status></customizations><recording><status>"
                           "noLicense</status></recording></features></clusterLicensing>");
    ck_assert_int_eq(call("GET", "/api/v1/system/licensing", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<licensing><features><callBridge><status>noLicense</status>"
                               "</callBridge>") &&
                      !strstr(body, "activated") && !strstr(body, "<expiry>"),
                  "%s", body);
    ck_assert_int_eq(
        call("GET", "/api/v1/system/multipartyLicensing", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<personalLicenseLimit>0</personalLicenseLimit>"
                               "<sharedLicenseLimit>0</sharedLicenseLimit>"),
                  "%s", body);
    ck_assert_int_eq(call("GET", "/api/v1/system/multipartyLicensing/activePersonalLicenses", NULL,
                          body, sizeof(body), NULL),
                     200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><activePersonalLicenses total=\"0\"/>");
    ck_assert_int_eq(call("GET", "/api/v1/system/MPLicenseUsage?startTime=2019-05-16T18:44:52Z",
                          NULL, body, sizeof(body), NULL),
                     200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><MPLicenseUsage total=\"0\"/>");
    ck_assert_int_eq(call("GET", "/api/v1/system/MPLicenseUsage?endTime=yesterday", NULL, body,
                          sizeof(body), NULL),
                     400);
    ck_assert_int_eq(call("GET", "/api/v1/system/diagnostics", NULL, body, sizeof(body), NULL),
                     200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><diagnostics total=\"0\"/>");
    ck_assert_int_eq(
        call("GET", "/api/v1/system/diagnostics/e8dbb8af-ec7e-4db5-b51b-47e6c1a1a768/contents",
             NULL, body, sizeof(body), NULL),
        404);
    ck_assert_int_eq(call("POST", "/api/v1/system/alarms", "x=1", body, sizeof(body), NULL), 405);
    ck_assert_int_eq(call("GET", "/api/v1/system/alarms/x", NULL, body, sizeof(body), NULL), 404);
}
END_TEST

/* ---- the database's disk, for real (root: mounts in the daemon's namespace) ---------------- */

static bool skip_without_mounts(void)
{
    char reason[128];

    if (!th_is_root_or_skip())
        return true;
    if (th_mount_ns_available(reason, sizeof(reason)))
        return false;
    th_skip("%s", reason);
    return true;
}

/* Polls d's log, at most 15 s, for a line containing needle. */
static bool log_shows(const struct th_daemon *dm, const char *needle)
{
    for (int i = 0; i < 150 && th_log_count(dm, needle) == 0; i++)
        usleep(100 * 1000);
    return th_log_count(dm, needle) > 0;
}

/* A data directory on an 8 MiB tmpfs, the threshold at 2 MiB: filled, databaseLowDiskSpace is
 * raised without a read; the space given back, it clears. */
START_TEST(test_disk_filling_raises_and_clears)
{
    static const char *const args[] = {"--min-free-mb", "2", NULL};
    static struct th_daemon dm;
    char path[256], buf[65536];
    struct th_resp r;
    int fd;

    if (skip_without_mounts())
        return;
    memset(&dm, 0, sizeof(dm));
    dm.mount = TH_MOUNT_TMPFS;
    dm.tmpfs_size = 8 << 20;
    th_daemon_start(&dm, "0", args);
    th_admin(&dm, "GET", "/api/v1/system/alarms", NULL, &r);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><alarms total=\"0\"/>");
    th_resp_free(&r);
    snprintf(path, sizeof(path), "%s%s/filler", dm.root, dm.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    memset(buf, 'x', sizeof(buf));
    for (int i = 0; i < 200 && write(fd, buf, sizeof(buf)) > 0; i++) /* until the disk is full */
        ;
    ck_assert_int_eq(close(fd), 0);
    ck_assert(log_shows(&dm, "alarm databaseLowDiskSpace raised"));
    th_admin(&dm, "GET", "/api/v1/system/alarms", NULL, &r);
    ck_assert_msg(strstr(r.body, "<type>databaseLowDiskSpace</type>"), "%s", r.body);
    th_resp_free(&r);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert(log_shows(&dm, "alarm databaseLowDiskSpace cleared"));
    th_admin(&dm, "GET", "/api/v1/system/alarms", NULL, &r);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><alarms total=\"0\"/>");
    th_resp_free(&r);
    th_daemon_destroy(&dm);
}
END_TEST

/* A read-only data directory (PostgreSQL: a database that refuses writes):
 * databaseConnectionError, destinationReadOnly. */
START_TEST(test_read_only_database_alarm)
{
    static struct th_daemon dm;
    struct th_resp r;

    if (!th_on_pg() && skip_without_mounts()) /* on PostgreSQL no mount is needed */
        return;
    memset(&dm, 0, sizeof(dm));
    th_daemon_start(&dm, "0", NULL);
    ck_assert_int_eq(th_daemon_stop(&dm), 0);
    if (th_on_pg()) /* a database that refuses writes, as a standby does */
        th_pg_database_read_only(&dm, true);
    else
        dm.mount = TH_MOUNT_READ_ONLY;
    th_daemon_start(&dm, "0", NULL);
    th_admin(&dm, "GET", "/api/v1/system/alarms", NULL, &r);
    ck_assert_msg(strstr(r.body, "<type>databaseConnectionError</type><activeTimeSeconds>") &&
                      strstr(r.body, "<failureReason>destinationReadOnly</failureReason></alarm>"),
                  "%s", r.body);
    th_resp_free(&r);
    th_admin(&dm, "GET", "/api/v1/system/database", NULL, &r);
    if (th_on_pg()) /* a cluster member, not registered until the database takes writes */
        ck_assert_msg(strstr(r.body, "<?xml version=\"1.0\"?><database clustered=\"enabled\">"
                                     "<error>destinationReadOnly</error><cluster>"),
                      "%s", r.body);
    else
        ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><database clustered=\"disabled\">"
                                 "<error>destinationReadOnly</error></database>");
    th_resp_free(&r);
    ck_assert_int_eq(th_daemon_stop(&dm), 0);
    dm.mount = TH_MOUNT_NONE;
    if (th_on_pg())
        th_pg_database_read_only(&dm, false);
    th_daemon_destroy(&dm);
}
END_TEST

/* The leg-alarm rules and the alarms= syntax, on their own. */
START_TEST(test_leg_alarm_rules)
{
    struct media_leg_status m = {0};
    unsigned bits;

    ck_assert_uint_eq(api_leg_alarms(&m), 0);
    m.streams[MEDIA_TX_VIDEO].active = true;
    m.streams[MEDIA_TX_VIDEO].loss_percent = API_LEG_LOSS_PERCENT + 0.5;
    ck_assert_uint_eq(api_leg_alarms(&m), API_LEG_PACKET_LOSS);
    m.streams[MEDIA_TX_VIDEO].active = false; /* an inactive stream raises nothing */
    ck_assert_uint_eq(api_leg_alarms(&m), 0);
    m.rx_rtp.seen = m.rx_rtp.has_jitter = true;
    m.rx_rtp.jitter_ms = API_LEG_JITTER_MS + 1;
    ck_assert_uint_eq(api_leg_alarms(&m), API_LEG_EXCESSIVE_JITTER);
    ck_assert_int_eq(api_leg_alarms_parse("all", &bits), 0);
    ck_assert_uint_eq(bits, API_LEG_ALARMS_ALL);
    ck_assert_int_eq(api_leg_alarms_parse("highRoundTripTime,packetLoss", &bits), 0);
    ck_assert_uint_eq(bits, API_LEG_HIGH_RTT | API_LEG_PACKET_LOSS);
    ck_assert_int_eq(api_leg_alarms_parse("", &bits), -EINVAL);
    ck_assert_int_eq(api_leg_alarms_parse("packetLoss|", &bits), 0);
    ck_assert_int_eq(api_leg_alarms_parse("packetLossy", &bits), -EINVAL);
}
END_TEST

Suite *it_monitor_suite(void)
{
    Suite *s = suite_create("it_monitor");
    TCase *tc = tcase_create("monitor");
    TCase *unit = tcase_create("rules");
    TCase *root = tcase_create("disk");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_turn_server_alarm_raised_and_cleared);
    tcase_add_test(tc, test_low_disk_space_alarm);
    tcase_add_test(tc, test_call_and_leg_filters);
    tcase_add_test(tc, test_licensing_and_diagnostics);
    tcase_add_test(tc, test_status_fields_and_host_id);
    suite_add_tcase(s, tc);
    tcase_add_test(unit, test_leg_alarm_rules);
    suite_add_tcase(s, unit);
    tcase_set_tags(root, "net root");
    tcase_set_timeout(root, 60);
    tcase_add_test(root, test_disk_filling_raises_and_clears);
    tcase_add_test(root, test_read_only_database_alarm);
    suite_add_tcase(s, root);
    return s;
}
