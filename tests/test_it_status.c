/* tests/test_it_status.c: GET /api/v1/turnServers/<id>/status through the real daemon, with
 * coturn as the TURN server, checked element by element (libxml2 parses the answers), and the
 * turnServerUnavailable alarm that follows each verdict. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
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

/* "name=value;" for each element child of node, in document order. */
static void fields(xmlNodePtr node, char *out, size_t cap)
{
    size_t o = 0;

    out[0] = '\0';
    for (xmlNodePtr c = node->children; c; c = c->next) {
        xmlChar *v;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        v = xmlNodeGetContent(c);
        o += (size_t)snprintf(out + o, cap - o, "%s=%s;", (const char *)c->name,
                              c->children && c->children->type == XML_ELEMENT_NODE ? "{}"
                                                                                   : (char *)v);
        xmlFree(v);
        ck_assert_uint_lt(o, cap);
    }
}

/* fields() of a status's root, without the elements that name the node whose view it is: on
 * PostgreSQL the daemon is a cluster member and its status names it (callBridge, callBridgeName;
 * docs/cluster.md), on SQLite it is alone and they are absent. */
static void root_fields(xmlNodePtr root, char *out, size_t cap)
{
    static const char *const names[] = {"callBridge=", "callBridgeName="};

    fields(root, out, cap);
    for (size_t i = 0; i < 2; i++) {
        char *p = strstr(out, names[i]), *end;

        ck_assert_msg(th_on_pg() == (p != NULL), "%s on %s: %s", names[i],
                      th_on_pg() ? "PostgreSQL" : "SQLite", out);
        if (!p)
            continue;
        end = strchr(p, ';');
        ck_assert_ptr_nonnull(end);
        memmove(p, end + 1, strlen(end + 1) + 1);
    }
}

/* Replaces the value of name=...; in s by '*' (for values that change from run to run). */
static void blur(char *s, const char *name)
{
    char key[64], *p, *end;

    snprintf(key, sizeof(key), "%s=", name);
    p = strstr(s, key);
    if (!p)
        return;
    p += strlen(key);
    end = strchr(p, ';');
    memmove(p + 1, end, strlen(end) + 1);
    *p = '*';
}

static const char *create(const char *form)
{
    static char path[300];
    struct th_resp r;

    th_admin(&d, "POST", "/api/v1/turnServers", form, &r);
    ck_assert_int_eq(r.status, 200);
    snprintf(path, sizeof(path), "%s/status", r.location);
    th_resp_free(&r);
    return path;
}

/* GETs a status and returns the parsed document (caller frees). */
static xmlDocPtr get_status(const char *path)
{
    struct th_resp r;
    xmlDocPtr doc;

    th_admin(&d, "GET", path, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/xml");
    doc = xmlReadMemory(r.body, (int)r.len, NULL, NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq((const char *)xmlDocGetRootElement(doc)->name, "turnServer");
    th_resp_free(&r);
    return doc;
}

START_TEST(test_status_success_udp_and_tcp)
{
    char form[256], got[2048], want[2048];
    xmlDocPtr doc;
    xmlNodePtr root, host;
    int hosts = 0;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    snprintf(form, sizeof(form),
             "serverAddress=127.0.0.1:%u&username=alice&password=secret&tcpPortNumberOverride=%u",
             co.port, co.port);
    doc = get_status(create(form)); /* waits for the first probe, then answers */
    root = xmlDocGetRootElement(doc);
    root_fields(root, got, sizeof(got));
    ck_assert_str_eq(got, "status=success;host={};host={};");
    for (host = root->children; host; host = host->next) {
        const char *transport = hosts == 0 ? "udp" : "tcp";

        if (host->type != XML_ELEMENT_NODE || strcmp((const char *)host->name, "host") != 0)
            continue;
        fields(host, got, sizeof(got));
        blur(got, "roundTripTimeMs");
        blur(got, "mappedPortNumber");
        blur(got, "relayedPortNumber");
        blur(got, "lastCheckTime");
        snprintf(want, sizeof(want),
                 "address=127.0.0.1;portNumber=%u;reachable=true;roundTripTimeMs=*;"
                 "mappedAddress=127.0.0.1;mappedPortNumber=*;transport=%s;"
                 "relayedAddress=127.0.0.1;relayedPortNumber=*;numAllocations=0;lastCheckTime=*;",
                 co.port, transport);
        ck_assert_str_eq(got, want);
        hosts++;
    }
    ck_assert_int_eq(hosts, 2);
    xmlFreeDoc(doc);
}
END_TEST

/* Whether GET /system/alarms has turnServerUnavailable for the TURN server of status path
 * ".../turnServers/<id>/status" with reason (NULL: any reason). */
static bool turn_alarm(const char *path, const char *reason)
{
    char id[64], want[256];
    const char *p = strstr(path, "turnServers/") + 12;
    struct th_resp r;
    bool found;

    snprintf(id, sizeof(id), "%.36s", p);
    if (reason)
        snprintf(want, sizeof(want),
                 "<failureReason>%s</failureReason><turnServer>%s</turnServer></alarm>", reason,
                 id);
    else
        snprintf(want, sizeof(want), "<turnServer>%s</turnServer>", id);
    th_admin(&d, "GET", "/api/v1/system/alarms", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    found = strstr(r.body, want) && strstr(r.body, "<type>turnServerUnavailable</type>");
    th_resp_free(&r);
    return found;
}

START_TEST(test_status_wrong_password_then_fixed)
{
    char form[256], got[2048], want[1024], path[300];
    xmlDocPtr doc;
    struct th_resp r;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=wrong",
             co.port);
    snprintf(path, sizeof(path), "%s", create(form));
    doc = get_status(path);
    root_fields(xmlDocGetRootElement(doc), got, sizeof(got));
    ck_assert_str_eq(got, "status=failure;host={};");
    fields(xmlDocGetRootElement(doc)->children->next, got, sizeof(got));
    blur(got, "lastCheckTime");
    snprintf(want, sizeof(want),
             "address=127.0.0.1;portNumber=%u;reachable=false;transport=udp;numAllocations=0;"
             "failureReason=unauthorized;errorCode=401;failureDetail=401 Unauthorized after "
             "credentials: check the username and password configured on the TURN server;"
             "lastCheckTime=*;",
             co.port);
    ck_assert_str_eq(got, want);
    xmlFreeDoc(doc);
    ck_assert(turn_alarm(path, "authenticationFailure")); /* /system/alarms says so too */

    /* the administrator fixes the password: the server is probed again at once */
    *strrchr(path, '/') = '\0';
    th_admin(&d, "PUT", path, "password=secret", &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    strcat(path, "/status");
    doc = get_status(path);
    root_fields(xmlDocGetRootElement(doc), got, sizeof(got));
    ck_assert_str_eq(got, "status=success;host={};");
    xmlFreeDoc(doc);
    ck_assert(!turn_alarm(path, NULL)); /* and the alarm is gone */
}
END_TEST

START_TEST(test_status_dns_failure_and_unknown_ids)
{
    char got[1024], path[300];
    xmlDocPtr doc;
    struct th_resp r;

    snprintf(path, sizeof(path), "%s", create("serverAddress=turn.nowhere.invalid:3478"));
    doc = get_status(path);
    root_fields(xmlDocGetRootElement(doc), got, sizeof(got));
    ck_assert_str_eq(got, "status=dnsFailure;failureReason=dnsFailure;failureDetail=the name "
                          "turn.nowhere.invalid does not resolve (Name or service not known): "
                          "check DNS, or use an IP address in serverAddress;");
    xmlFreeDoc(doc);
    ck_assert(turn_alarm(path, "dnsFailure"));

    *strrchr(path, '/') = '\0';
    th_admin(&d, "DELETE", path, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    strcat(path, "/status");
    th_admin(&d, "GET", path, NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><failureDetails><turnServerDoesNotExist />"
                             "</failureDetails>");
    th_resp_free(&r);
    ck_assert(!turn_alarm(path, NULL)); /* a server deleted has no alarm */
    th_admin(&d, "GET", "/api/v1/turnServers/%7B%7BturnServerID%7D%7D/status", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    th_resp_free(&r);
    th_admin(&d, "POST", path, NULL, &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(r.allow, "GET");
    th_resp_free(&r);
}
END_TEST

/* The text of the first <host>'s child 'name' in a status answer, or "". */
static void host_field(xmlDocPtr doc, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    for (xmlNodePtr h = xmlDocGetRootElement(doc)->children; h; h = h->next) {
        if (h->type != XML_ELEMENT_NODE || strcmp((const char *)h->name, "host") != 0)
            continue;
        for (xmlNodePtr c = h->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0) {
                xmlChar *v = xmlNodeGetContent(c);

                snprintf(out, cap, "%s", (const char *)v);
                xmlFree(v);
                return;
            }
        }
        return;
    }
}

START_TEST(test_status_default_ports_by_type)
{
    static const char *const cases[][2] = {{"cms", "3478"},
                                           {"acano", "3478"},
                                           {"expressway", "3478"},
                                           {"standard", "3478"},
                                           {"lyncEdge", "443"}};
    char form[128], port[16];

    for (size_t i = 0; i < 5; i++) {
        xmlDocPtr doc;

        snprintf(form, sizeof(form), "serverAddress=127.0.0.1&type=%s", cases[i][0]);
        doc = get_status(create(form));
        host_field(doc, "portNumber", port, sizeof(port));
        ck_assert_msg(strcmp(port, cases[i][1]) == 0, "%s: port %s", cases[i][0], port);
        xmlFreeDoc(doc);
    }
}
END_TEST

START_TEST(test_status_shared_secret)
{
    static const char *const args[] = {"--use-auth-secret", "--static-auth-secret=api-s3cret",
                                       NULL};
    struct th_coturn rest;
    char form[256], value[64];
    xmlDocPtr doc;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&rest, args);
    snprintf(form, sizeof(form),
             "serverAddress=127.0.0.1:%u&username=callbridge&useShortTermCredentials=true"
             "&sharedSecret=api-s3cret",
             rest.port);
    doc = get_status(create(form));
    host_field(doc, "reachable", value, sizeof(value));
    ck_assert_str_eq(value, "true");
    xmlFreeDoc(doc);
    snprintf(form, sizeof(form),
             "serverAddress=127.0.0.1:%u&username=callbridge&useShortTermCredentials=true"
             "&sharedSecret=not-the-secret",
             rest.port);
    doc = get_status(create(form));
    host_field(doc, "failureReason", value, sizeof(value));
    ck_assert_str_eq(value, "unauthorized");
    xmlFreeDoc(doc);
    th_coturn_stop(&rest);
}
END_TEST

/* ---- /metrics ---------------------------------------------------------------------------- */

/* Exit status of promtool check metrics on text. */
static int promtool(const char *text)
{
    char path[] = "/tmp/cb-metrics-XXXXXX", cmd[128];
    int fd = mkstemp(path), r;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s >/dev/null 2>&1", path);
    r = system(cmd);
    unlink(path);
    return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static char *scrape(void)
{
    struct th_resp r;
    char *body;

    th_admin(&d, "GET", "/metrics", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    body = strdup(r.body);
    th_resp_free(&r);
    return body;
}

START_TEST(test_metrics_turn_hosts_and_requests)
{
    char form[256], good[300], bad[300], series[400], rtt_ms[32];
    xmlDocPtr doc;
    const char *sys = "callbridge_api_requests_total{method=\"GET\",collection=\"system\","
                      "status=\"200\"}";
    const char *other404 = "callbridge_api_requests_total{method=\"GET\",collection=\"other\","
                           "status=\"404\"}";
    double sys0, nf0;
    struct th_resp r;
    char *body;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    /* promtool must tell a bad exposition from a good one, or its verdict below means nothing */
    ck_assert_int_ne(promtool("# TYPE x counter\nx{a=\"1\" 1\n"), 0);

    th_http(&d, d.ports[0], "GET", "/metrics", NULL, NULL, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 401); /* Basic auth, as for the API */
    th_resp_free(&r);

    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port);
    doc = get_status(strcpy(good, create(form))); /* waits for the first probe */
    host_field(doc, "roundTripTimeMs", rtt_ms, sizeof(rtt_ms));
    xmlFreeDoc(doc);
    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=wrong",
             co.port);
    xmlFreeDoc(get_status(strcpy(bad, create(form))));
    *strrchr(good, '/') = '\0'; /* ".../<id>/status" -> ".../<id>" -> "<id>" */
    *strrchr(bad, '/') = '\0';

    body = scrape();
    ck_assert_msg(promtool(body) == 0, "promtool check metrics failed on:\n%s", body);
    snprintf(series, sizeof(series), "callbridge_turn_host_reachable{turn_server=\"%s\"",
             strrchr(good, '/') + 1);
    ck_assert(th_metric(body, series, "transport=\"udp\"") == 1);
    snprintf(series, sizeof(series), "callbridge_turn_host_rtt_seconds{turn_server=\"%s\"",
             strrchr(good, '/') + 1);
    /* the RTT the status gives, in seconds; none when the only sample was a retransmitted
     * request (Karn's rule), as under a sanitizer's slower first probe */
    if (rtt_ms[0])
        ck_assert_msg(th_metric(body, series, NULL) >= 0 &&
                          fabs(th_metric(body, series, NULL) * 1000 - atof(rtt_ms)) < 2,
                      "%s: %s ms in the status", series, rtt_ms);
    else
        ck_assert(th_metric(body, series, NULL) == -1);
    snprintf(series, sizeof(series), "callbridge_turn_probes_total{turn_server=\"%s\"",
             strrchr(good, '/') + 1);
    ck_assert(th_metric(body, series, "result=\"ok\"") >= 1);
    ck_assert(th_metric(body, series, "result=\"unauthorized\"") == -1);
    snprintf(series, sizeof(series), "callbridge_turn_host_reachable{turn_server=\"%s\"",
             strrchr(bad, '/') + 1);
    ck_assert(th_metric(body, series, "transport=\"udp\"") == 0);
    snprintf(series, sizeof(series), "callbridge_turn_host_rtt_seconds{turn_server=\"%s\"",
             strrchr(bad, '/') + 1);
    ck_assert(th_metric(body, series, NULL) == -1);
    snprintf(series, sizeof(series), "callbridge_turn_probes_total{turn_server=\"%s\"",
             strrchr(bad, '/') + 1);
    ck_assert(th_metric(body, series, "result=\"unauthorized\"") >= 1);
    ck_assert(th_metric(body, series, "result=\"ok\"") == -1);
    ck_assert(th_metric(body, "callbridge_call_legs_active ", NULL) == 0);
    sys0 = th_metric(body, sys, NULL);
    nf0 = th_metric(body, other404, NULL);
    free(body);

    /* three answered status requests and one 404 later, the counters moved by exactly that */
    for (int i = 0; i < 3; i++) {
        th_admin(&d, "GET", "/api/v1/system/status", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        th_resp_free(&r);
    }
    th_admin(&d, "GET", "/api/v1/noSuchThing", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    th_resp_free(&r);
    body = scrape();
    ck_assert(th_metric(body, sys, NULL) == (sys0 < 0 ? 0 : sys0) + 3);
    ck_assert(th_metric(body, other404, NULL) == (nf0 < 0 ? 0 : nf0) + 1);
    ck_assert(
        th_metric(body, "callbridge_api_request_duration_seconds_bucket{le=\"+Inf\"}", NULL) ==
        th_metric(body, "callbridge_api_request_duration_seconds_count", NULL));
    ck_assert(th_metric(body, "callbridge_api_request_duration_seconds_count", NULL) >= 6);
    ck_assert_int_eq(promtool(body), 0);
    free(body);
}
END_TEST

Suite *it_status_suite(void)
{
    Suite *s = suite_create("it_status");
    TCase *tc = tcase_create("status");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_status_success_udp_and_tcp);
    tcase_add_test(tc, test_status_wrong_password_then_fixed);
    tcase_add_test(tc, test_status_dns_failure_and_unknown_ids);
    tcase_add_test(tc, test_status_default_ports_by_type);
    tcase_add_test(tc, test_status_shared_secret);
    tcase_add_test(tc, test_metrics_turn_hosts_and_requests);
    suite_add_tcase(s, tc);
    return s;
}
