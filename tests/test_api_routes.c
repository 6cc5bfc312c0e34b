/* tests/test_api_routes.c: the router and /api/v1/turnServers through api_route(), with a real
 * store on disk and real sealing; no HTTP. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "api/api.h"
#include "api/metrics.h"
#include "api/reply.h"
#include "api/res/parse.h"
#include "api/res/registry.h"
#include "api/res/routes.h"
#include "api/res/resource.h"
#include "api/res/system.h"
#include "api/util.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define PE(p)                                                                                      \
    "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"" p                        \
    "\" error=\"invalidValue\" /></failureDetails>"
#define NOTURN "<?xml version=\"1.0\"?><failureDetails><turnServerDoesNotExist /></failureDetails>"

static struct th_ctx ctx;

static void setup(void)
{
    th_ctx_open(&ctx);
}

static void teardown(void)
{
    th_ctx_close(&ctx);
}

/* Routes and returns the status; the body is kept in *body (caller frees) when body != NULL. */
static int route(enum api_method m, const char *path, const char *query, const char *form,
                 char **body)
{
    struct api_reply r;

    th_route(&ctx, m, path, query, form, &r);
    if (body)
        *body = r.body ? r.body : strdup("");
    else
        free(r.body);
    return r.status;
}

/* POSTs a TURN server and copies its id into id[37]. */
static void create(const char *form, char id[37])
{
    struct api_reply r;

    th_route(&ctx, API_POST, "/api/v1/turnServers", NULL, form, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(r.body);
    ck_assert_int_eq(strncmp(r.location, "/api/v1/turnServers/", 20), 0);
    ck_assert_uint_eq(strlen(r.location), 20 + 36);
    memcpy(id, r.location + 20, 37);
}

static void expect(enum api_method m, const char *path, const char *query, const char *form,
                   int status, const char *body)
{
    char *got;

    ck_assert_int_eq(route(m, path, query, form, &got), status);
    ck_assert_str_eq(got, body);
    free(got);
}

/* The number of TURN servers stored. */
static size_t stored(void)
{
    struct store_query all = {0};
    size_t total = 0;

    ck_assert_int_eq(store_row_count(ctx.st, api_res_turn_servers.table, &all, &total), 0);
    return total;
}

static size_t count(const char *body, const char *needle)
{
    size_t n = 0;

    for (const char *p = body; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* True when the database files contain 'needle' anywhere (secrets must not be in clear). */
static bool db_contains(const char *needle)
{
    static const char *const files[] = {"callbridge.db", "callbridge.db-wal"};
    bool found = false;

    for (size_t i = 0; i < 2; i++) {
        char path[128], *data = NULL;
        size_t len = 0;

        (void)snprintf(path, sizeof(path), "%s/%s", ctx.dir, files[i]);
        if (api_read_file(path, 64 << 20, &data, &len) == 0)
            found |= memmem(data, len, needle, strlen(needle)) != NULL;
        free(data);
    }
    return found;
}

START_TEST(test_create_get_hides_secrets)
{
    char id[37], path[96], want[1024], *body;

    create("serverAddress=10.0.0.1&clientAddress=turn.example.com&username=u1&password=p4ss-word"
           "&type=Cms&sharedSecret=shh-secret",
           id);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
    (void)snprintf(want, sizeof(want),
                   "<?xml version=\"1.0\"?><turnServer id=\"%s\"><serverAddress>10.0.0.1"
                   "</serverAddress><clientAddress>turn.example.com</clientAddress><username>u1"
                   "</username><numRegistrations>0</numRegistrations><type>cms</type>"
                   "<useShortTermCredentials>false</useShortTermCredentials></turnServer>",
                   id);
    ck_assert_str_eq(body, want);
    free(body);
    ck_assert(!db_contains("p4ss-word"));
    ck_assert(!db_contains("shh-secret"));
    ck_assert(db_contains("turn.example.com")); /* the check itself can see plain text */
}
END_TEST

START_TEST(test_secret_sealed_to_its_row)
{
    struct store_turn t;
    char id[37], out[64];

    create("password=first", id);
    ck_assert_int_eq(store_turn_get(ctx.st, id, &t), 0);
    ck_assert_uint_gt(t.password_len, 0);
    {
        char aad[64];

        (void)snprintf(aad, sizeof(aad), "%s/password", id);
        ck_assert_int_eq(
            api_secret_open(&ctx.api.secret, aad, t.password, t.password_len, out, sizeof(out)), 5);
        ck_assert_str_eq(out, "first");
    }
    {
        char path[96];

        (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
        ck_assert_int_eq(route(API_PUT, path, NULL, "password=second", NULL), 200);
        ck_assert_int_eq(store_turn_get(ctx.st, id, &t), 0);
        (void)snprintf(path, sizeof(path), "%s/password", id);
        ck_assert_int_eq(
            api_secret_open(&ctx.api.secret, path, t.password, t.password_len, out, sizeof(out)),
            6);
        ck_assert_str_eq(out, "second");
    }
}
END_TEST

START_TEST(test_defaults_and_type_case)
{
    static const char *const types[][2] = {{"acano", "acano"},
                                           {"CMS", "cms"},
                                           {"Expressway", "expressway"},
                                           {"lyncedge", "lyncEdge"},
                                           {"STANDARD", "standard"}};
    char id[37], path[96], *body, form[64], want[64];

    create("", id); /* the Postman collection's POST with no body */
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "<type>standard</type>"));
    ck_assert_ptr_nonnull(strstr(body, "<numRegistrations>0</numRegistrations>"));
    ck_assert_ptr_null(strstr(body, "<password"));
    free(body);
    for (size_t i = 0; i < 5; i++) {
        (void)snprintf(form, sizeof(form), "type=%s", types[i][0]);
        ck_assert_int_eq(route(API_PUT, path, NULL, form, NULL), 200);
        ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
        (void)snprintf(want, sizeof(want), "<type>%s</type>", types[i][1]);
        ck_assert_msg(strstr(body, want), "%s -> %s", types[i][0], body);
        free(body);
    }
}
END_TEST

START_TEST(test_invalid_values_answer_parameter_error)
{
    static const char *const cases[][2] = {
        {"type=bogus", "type"},
        {"numRegistrations=abc", "numRegistrations"},
        {"numRegistrations=-1", "numRegistrations"},
        {"numRegistrations=99999999999999999999999", "numRegistrations"},
        {"tcpPortNumberOverride=0", "tcpPortNumberOverride"},
        {"tcpPortNumberOverride=65536", "tcpPortNumberOverride"},
        {"tcpPortNumberOverride=44x", "tcpPortNumberOverride"},
        {"serverAddress=bad+host%21", "serverAddress"},
        {"serverAddress=1.2.3.999", "serverAddress"},
        {"serverAddress=%5B%3A%3A1", "serverAddress"},
        {"clientAddress=host%3A0", "clientAddress"},
        {"clientAddress=host%3A70000", "clientAddress"},
        {"useShortTermCredentials=maybe", "useShortTermCredentials"},
        {"username=a%01b", "username"},
        {"serverAddress=ok.example.com&type=nope", "type"},
    };
    char body[512], *got;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(route(API_POST, "/api/v1/turnServers", NULL, cases[i][0], &got), 400);
        (void)snprintf(body, sizeof(body),
                       "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"%s\" "
                       "error=\"invalidValue\" /></failureDetails>",
                       cases[i][1]);
        ck_assert_msg(strcmp(got, body) == 0, "%s: %s", cases[i][0], got);
        free(got);
    }
    ck_assert_uint_eq(stored(), 0); /* nothing was written */
}
END_TEST

START_TEST(test_unknown_parameters_ignored_booleans_any_case)
{
    static const char *const yes[] = {"true", "True", "TRUE", "tRuE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    char id[37], path[96], form[64], *body;

    create("serverAddress=x.example.com&sipRecordeUri=typo&bogusParam=1", id);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    for (size_t i = 0; i < 4 + 3; i++) {
        bool on = i < 4;

        (void)snprintf(form, sizeof(form), "useShortTermCredentials=%s", on ? yes[i] : no[i - 4]);
        ck_assert_int_eq(route(API_PUT, path, NULL, form, NULL), 200);
        ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
        ck_assert_ptr_nonnull(
            strstr(body, on ? "<useShortTermCredentials>true" : "<useShortTermCredentials>false"));
        free(body);
    }
}
END_TEST

START_TEST(test_long_password_refused)
{
    char form[400] = "password=", id[37];

    memset(form + 9, 'x', 256);
    form[9 + 256] = '\0';
    expect(API_POST, "/api/v1/turnServers", NULL, form, 400, PE("password"));
    form[9 + 255] = '\0'; /* 255 bytes is the longest */
    create(form, id);
}
END_TEST

/* A control character in a password or shared secret can never match what a TURN server
 * holds (RFC 8265 OpaqueString refuses them): refused like other text, nothing stored, and a
 * PUT leaves the sealed value as it was (issue 12, item 12). */
START_TEST(test_secrets_with_control_characters_refused)
{
    static const char *const cases[][2] = {
        {"password=a%01b", "password"},        {"password=a%7Fb", "password"},
        {"password=tab%09", "password"},       {"password=%0A", "password"},
        {"sharedSecret=s%01", "sharedSecret"}, {"sharedSecret=%7F", "sharedSecret"},
        {"username=u%7F", "username"},
    };
    struct store_turn t;
    char id[37], path[96], aad[64], out[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256];

        (void)snprintf(body, sizeof(body),
                       "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"%s\" "
                       "error=\"invalidValue\" /></failureDetails>",
                       cases[i][1]);
        expect(API_POST, "/api/v1/turnServers", NULL, cases[i][0], 400, body);
    }
    ck_assert_uint_eq(stored(), 0); /* nothing was written */

    create("password=first&sharedSecret=shared", id);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    expect(API_PUT, path, NULL, "password=x%01y", 400, PE("password"));
    expect(API_PUT, path, NULL, "sharedSecret=x%7Fy", 400, PE("sharedSecret"));
    ck_assert_int_eq(store_turn_get(ctx.st, id, &t), 0);
    (void)snprintf(aad, sizeof(aad), "%s/password", id);
    ck_assert_int_eq(
        api_secret_open(&ctx.api.secret, aad, t.password, t.password_len, out, sizeof(out)), 5);
    ck_assert_str_eq(out, "first");
    (void)snprintf(aad, sizeof(aad), "%s/sharedSecret", id);
    ck_assert_int_eq(api_secret_open(&ctx.api.secret, aad, t.shared_secret, t.shared_secret_len,
                                     out, sizeof(out)),
                     6);
    ck_assert_str_eq(out, "shared");
    create("password=caf%C3%A9+and+spaces~", id); /* printable UTF-8 stays valid */
}
END_TEST

START_TEST(test_host_port_forms)
{
    static const char *const good[] = {
        "turn.example.com", "turn.example.com:443", "192.0.2.1", "192.0.2.1:3478",
        "2001:db8::1",      "[2001:db8::1]:3478",   "[::1]",     "localhost.",
        "expressway-e1"};
    static const char *const bad[] = {
        "",      "-bad.example.com", "a..b",     "1.2.3.4.5", "[::1]:",     "[::1]x",
        "host:", "host:-1",          "host:080", "::zz",      "under_score"};

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(api_is_host_port(good[i]), "refused %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!api_is_host_port(bad[i]), "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_references_checked)
{
    char id[37], path[96], *body;
    sqlite3 *db;
    char dbpath[128];

    expect(API_POST, "/api/v1/turnServers", NULL, "callBridge=6c0a3b8e-1c3e-4d2a-9a55-3d2f6c8b0a11",
           400,
           "<?xml version=\"1.0\"?><failureDetails><callBridgeDoesNotExist /></failureDetails>");
    expect(API_POST, "/api/v1/turnServers", NULL, "callBridge=not-an-id", 400,
           "<?xml version=\"1.0\"?><failureDetails><callBridgeDoesNotExist /></failureDetails>");
    expect(
        API_POST, "/api/v1/turnServers", NULL,
        "callBridgeGroup=6c0a3b8e-1c3e-4d2a-9a55-3d2f6c8b0a11", 400,
        "<?xml version=\"1.0\"?><failureDetails><callBridgeGroupDoesNotExist /></failureDetails>");
    /* a call bridge that exists (its API arrives with issue 3) is accepted and echoed */
    (void)snprintf(dbpath, sizeof(dbpath), "%s/callbridge.db", ctx.dir);
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "INSERT INTO call_bridge (id, name) VALUES "
                                  "('6c0a3b8e-1c3e-4d2a-9a55-3d2f6c8b0a11', 'cb1')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    create("callBridge=6C0A3B8E-1C3E-4D2A-9A55-3D2F6C8B0A11", id);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
    ck_assert_ptr_nonnull(
        strstr(body, "<callBridge>6c0a3b8e-1c3e-4d2a-9a55-3d2f6c8b0a11</callBridge>"));
    free(body);
    ck_assert_int_eq(route(API_PUT, path, NULL, "callBridge=", NULL), 200);
    ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
    ck_assert_ptr_null(strstr(body, "<callBridge>"));
    free(body);
}
END_TEST

START_TEST(test_put_is_partial_and_empty_unsets)
{
    char id[37], path[96], *body;

    create("serverAddress=a.example.com&clientAddress=b.example.com&username=u&"
           "numRegistrations=3&tcpPortNumberOverride=3478&type=expressway",
           id);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    ck_assert_int_eq(route(API_PUT, path, NULL, "clientAddress=c.example.com", NULL), 200);
    ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "<serverAddress>a.example.com</serverAddress>"
                                       "<clientAddress>c.example.com</clientAddress>"
                                       "<username>u</username><numRegistrations>3"
                                       "</numRegistrations><type>expressway</type>"
                                       "<tcpPortNumberOverride>3478</tcpPortNumberOverride>"));
    free(body);
    ck_assert_int_eq(route(API_PUT, path, NULL, "username=&tcpPortNumberOverride=&type=", NULL),
                     200);
    ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
    ck_assert_ptr_null(strstr(body, "<username>"));
    ck_assert_ptr_null(strstr(body, "<tcpPortNumberOverride>"));
    ck_assert_ptr_nonnull(strstr(body, "<type>standard</type>"));
    free(body);
    /* an invalid PUT changes nothing */
    expect(API_PUT, path, NULL, "clientAddress=x.example.com&type=bogus", 400, PE("type"));
    ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "<clientAddress>c.example.com</clientAddress>"));
    free(body);
}
END_TEST

START_TEST(test_unknown_ids_and_delete)
{
    char id[37], path[96];

    expect(API_GET, "/api/v1/turnServers/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10", NULL, NULL, 404,
           NOTURN);
    expect(API_PUT, "/api/v1/turnServers/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10", NULL, "username=x",
           404, NOTURN);
    expect(API_DELETE, "/api/v1/turnServers/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10", NULL, NULL, 404,
           NOTURN);
    expect(API_GET, "/api/v1/turnServers/{{turnServerID}}", NULL, NULL, 404, NOTURN);
    create("serverAddress=d.example.com", id);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    expect(API_DELETE, path, NULL, NULL, 200, "");
    expect(API_GET, path, NULL, NULL, 404, NOTURN);
    expect(API_DELETE, path, NULL, NULL, 404, NOTURN);
}
END_TEST

START_TEST(test_paths_and_methods)
{
    static const char *const unknown[] = {"/api/v1/system/profile",
                                          "/api/v2/turnServers",
                                          "/",
                                          "/api/v1",
                                          "/api/v1//turnServers",
                                          "/other"};
    struct api_reply r;
    char *body;

    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        expect(API_GET, unknown[i], NULL, NULL, 404,
               "<?xml version=\"1.0\"?><failureDetails><unrecognizedObject /></failureDetails>");
    ck_assert_int_eq(route(API_GET, "/API/V1/TURNSERVERS/", NULL, NULL, &body), 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><turnServers total=\"0\"/>");
    free(body);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnservers", "", NULL, NULL), 200);
    th_route(&ctx, API_PUT, "/api/v1/turnServers", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(r.allow, "GET, POST");
    free(r.body);
    th_route(&ctx, API_POST, "/api/v1/turnServers/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10", NULL, NULL,
             &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(r.allow, "GET, PUT, DELETE");
    free(r.body);
    th_route(&ctx, API_OTHER, "/api/v1/system/status", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(r.allow, "GET");
    free(r.body);
    ck_assert_int_eq(route(API_GET, "/api/v1/system/status", NULL, NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "<status><softwareVersion>" API_CMS_LEVEL
                                       "</softwareVersion><uptimeSeconds>"));
    ck_assert_ptr_nonnull(strstr(body, "<callLegsActive>0</callLegsActive>"));
    free(body);
}
END_TEST

/* One route table gives every 405 its Allow header, including the calls collections, which
 * parsed their own paths before and answered 405 without one. */
START_TEST(test_405_has_allow_from_the_table)
{
    static const char inval[] =
        "<?xml version=\"1.0\"?><failureDetails><invalidOperation /></failureDetails>";
    static const struct {
        enum api_method method;
        const char *path, *allow;
    } cases[] = {
        {API_PUT, "/api/v1/calls", "GET, POST"},
        {API_DELETE, "/api/v1/calls/", "GET, POST"},
        {API_POST, "/api/v1/calls/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10", "GET, PUT, DELETE"},
        {API_DELETE, "/api/v1/calls/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10/callLegs", "GET, POST"},
        {API_POST, "/api/v1/callLegs/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10", "GET, PUT, DELETE"},
        {API_OTHER, "/API/V1/CALLLEGS", "GET, POST"},
        {API_POST, "/api/v1/turnServers/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10/status", "GET"},
        {API_PUT, "/api/v1/coSpaces/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10/meetingEntryDetail",
         "GET"},
        {API_POST, "/metrics", "GET"},
    };
    struct api_reply r;

    ck_assert_int_eq(api_calls_new(&ctx.api.calls), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        th_route(&ctx, cases[i].method, cases[i].path, NULL, NULL, &r);
        ck_assert_int_eq(r.status, 405);
        ck_assert_ptr_nonnull(r.allow);
        ck_assert_str_eq(r.allow, cases[i].allow);
        ck_assert_str_eq(r.body, inval);
        free(r.body);
    }
    /* a path no route has is 404, whatever the method */
    expect(API_PUT, "/api/v1/calls/0b9f9c3c-5d7e-4c8e-a3b4-2a2f6f0e9d10/other", NULL, NULL, 404,
           "<?xml version=\"1.0\"?><failureDetails><unrecognizedObject /></failureDetails>");
    api_calls_free(ctx.api.calls);
    ctx.api.calls = NULL;
    /* without a call registry the calls collections do not exist */
    expect(API_PUT, "/api/v1/calls", NULL, NULL, 404,
           "<?xml version=\"1.0\"?><failureDetails><unrecognizedObject /></failureDetails>");
}
END_TEST

/* A leg with a host candidate holds two sockets (its relay's and its own): the budget that
 * RLIMIT_NOFILE leaves is counted in pairs, after the prober's share, and --max-legs still caps
 * it. */
START_TEST(test_the_leg_budget_counts_each_legs_sockets)
{
    struct api_calls *c;
    struct api_calls_budget b;
    size_t prober = api_calls_prober_sockets(1000);

    ck_assert_int_eq(api_calls_new(&c), 0);
    ck_assert_uint_eq(prober, 125);
    ck_assert_uint_eq(api_calls_set_budget(c, 1000, 0, 1), 1000 - prober);
    ck_assert_uint_eq(api_calls_set_budget(c, 1000, 0, 2), (1000 - prober) / 2);
    api_calls_budget(c, &b);
    ck_assert_uint_eq(b.budget, (1000 - prober) / 2);
    ck_assert_uint_eq(api_calls_set_budget(c, 1000, 100, 2), 100);
    ck_assert_uint_eq(api_calls_set_budget(c, 1000, 500, 2), (1000 - prober) / 2); /* too many */
    ck_assert_uint_eq(api_calls_set_budget(c, -1, 0, 2), API_CALLS_UNLIMITED_BUDGET);
    api_calls_free(c);
}
END_TEST

/* Every collection of the table is a metrics label, and requests are counted under it. */
START_TEST(test_every_route_has_a_metrics_label)
{
    static const char *const expected[] = {"turnServers",
                                           "coSpaces",
                                           "inboundDialPlanRules",
                                           "tenants",
                                           "callBridges",
                                           "callBridgeGroups",
                                           "calls",
                                           "callLegs",
                                           "participants",
                                           "callMatching",
                                           "outboundDialPlanRules",
                                           "forwardingDialPlanRules",
                                           "dialTransforms",
                                           "tenantGroups",
                                           "ivrs",
                                           "accessQuery",
                                           "uriUsageQuery",
                                           "conversationIdQuery", /* part diag */
                                           "system",
                                           "callLegProfiles",
                                           "callProfiles",
                                           "dtmfProfiles",
                                           "callBrandingProfiles",
                                           "ivrBrandingProfiles",
                                           "dialInSecurityProfiles",
                                           "compatibilityProfiles",
                                           "userProfiles",
                                           "layoutTemplates",
                                           "webBridgeProfiles",
                                           "webBridges",
                                           "users",
                                           "coSpaceTemplates",
                                           "coSpaceBulkParameterSets",
                                           "coSpaceBulkSyncs",
                                           "ldapServers",
                                           "ldapMappings",
                                           "ldapSources",
                                           "ldapSyncs",
                                           "directorySearchLocations",
                                           "ldapUserCoSpaceTemplateSources",
                                           "clusterLicensing",
                                           "metrics",
                                           "other"};
    struct api_metrics_labels labels = {.of = api_route_label};
    struct api_metrics *m;
    char path[96], line[160], *text = NULL;
    size_t len = 0;
    FILE *f;

    labels.n = api_route_labels(labels.names, API_METRICS_MAX_LABELS);
    ck_assert_uint_eq(labels.n, sizeof(expected) / sizeof(expected[0]));
    for (size_t i = 0; i < labels.n; i++)
        ck_assert_str_eq(labels.names[i], expected[i]);
    ck_assert_str_eq(api_route_label("/metrics"), "metrics");
    ck_assert_str_eq(api_route_label("/api/v1/COSPACES/x/meetingEntryDetail"), "coSpaces");
    ck_assert_str_eq(api_route_label("/api/v1/nothing"), "other");
    ck_assert_int_eq(api_metrics_new(&labels, &m), 0);
    for (size_t i = 0; i + 2 < labels.n; i++) {
        (void)snprintf(path, sizeof(path), "/api/v1/%s/x", labels.names[i]);
        ck_assert_str_eq(api_route_label(path), labels.names[i]);
        api_metrics_request(m, "GET", path, 200, 1000);
    }
    api_metrics_request(m, "GET", "/metrics", 200, 1000);
    api_metrics_request(m, "GET", "/elsewhere", 404, 1000);
    f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    api_metrics_render(f, m);
    ck_assert_int_eq(fclose(f), 0);
    for (size_t i = 0; i < labels.n; i++) {
        (void)snprintf(
            line, sizeof(line),
            "callbridge_api_requests_total{method=\"GET\",collection=\"%s\",status=\"%d\"} "
            "1\n",
            labels.names[i], i + 1 == labels.n ? 404 : 200);
        ck_assert_msg(strstr(text, line), "no %s", line);
    }
    free(text);
    api_metrics_free(m);
}
END_TEST

START_TEST(test_list_paging_and_filter)
{
    char form[96], id[37], *body;

    for (int i = 0; i < 25; i++) {
        (void)snprintf(form, sizeof(form), "serverAddress=s%02d.example.com&clientAddress=%s", i,
                       i % 5 == 0 ? "Edge.Example.ORG" : "c.example.com");
        create(form, id);
    }
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", NULL, NULL, &body), 200);
    ck_assert_uint_eq(count(body, "<turnServer id="), API_PAGE_DEFAULT);
    ck_assert_ptr_nonnull(strstr(body, "<turnServers total=\"25\">"));
    ck_assert_ptr_nonnull(strstr(body, "s00.example.com"));
    ck_assert_ptr_null(strstr(body, "s20.example.com"));
    free(body);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", "limit=1", NULL, &body), 200);
    ck_assert_uint_eq(count(body, "<turnServer id="), 1);
    ck_assert_ptr_nonnull(strstr(body, "total=\"25\""));
    free(body);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", "offset=20&limit=10", NULL, &body), 200);
    ck_assert_uint_eq(count(body, "<turnServer id="), 5);
    ck_assert_ptr_nonnull(strstr(body, "s20.example.com"));
    free(body);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", "offset=25", NULL, &body), 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><turnServers total=\"25\"/>");
    free(body);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", "FILTER=edge.example.org", NULL, &body),
                     200);
    ck_assert_uint_eq(count(body, "<turnServer id="), 5);
    ck_assert_ptr_nonnull(strstr(body, "total=\"5\""));
    free(body);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", "filter=s1", NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "total=\"10\""));
    free(body);
    expect(API_GET, "/api/v1/turnServers", "limit=-1", NULL, 400, PE("limit"));
    expect(API_GET, "/api/v1/turnServers", "offset=abc", NULL, 400, PE("offset"));
    expect(API_GET, "/api/v1/turnServers", "offset=99999999999999999999999999", NULL, 400,
           PE("offset"));
}
END_TEST

START_TEST(test_list_pages_never_stale)
{
    char id[37], path[96], *body;

    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", NULL, NULL, &body), 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><turnServers total=\"0\"/>");
    free(body);
    create("serverAddress=one.example.com", id); /* a create invalidates */
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", NULL, NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "total=\"1\""));
    ck_assert_ptr_nonnull(strstr(body, "one.example.com"));
    free(body);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    ck_assert_int_eq(route(API_PUT, path, NULL, "serverAddress=two.example.com", NULL), 200);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", NULL, NULL, &body), 200);
    ck_assert_ptr_null(strstr(body, "one.example.com")); /* so does an update */
    ck_assert_ptr_nonnull(strstr(body, "two.example.com"));
    free(body);
    /* the same page under another query is another entry */
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", "filter=one", NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "total=\"0\""));
    free(body);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", "filter=two", NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "total=\"1\""));
    free(body);
    ck_assert_int_eq(route(API_DELETE, path, NULL, NULL, NULL), 200); /* and a delete */
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", "filter=two", NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "total=\"0\""));
    free(body);
    /* a refused write leaves cached pages as they were, and they are still right */
    ck_assert_int_eq(route(API_POST, "/api/v1/turnServers", NULL, "type=bogus", NULL), 400);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", NULL, NULL, &body), 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><turnServers total=\"0\"/>");
    free(body);
}
END_TEST

/* Two writers, each with its own connection to the same database file, create a coSpace with
 * the same uri at the same moment: the check and the insert share one write transaction, so
 * exactly one wins and the other is told duplicateCoSpaceUri. */
struct racer {
    struct api *api;
    char path[160];
    pthread_barrier_t *go;
    int status;
    char body[256];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct api_params q = {0}, f = {0};
    struct api_request req = {
        .method = API_POST, .path = "/api/v1/coSpaces", .query = &q, .form = &f, .user = "t"};
    struct api_reply reply = {0};
    struct store *st;

    ck_assert_int_eq(store_open(r->path, &st), 0);
    static const char form[] = "name=racer&uri=same-room";

    ck_assert_int_eq(api_params_parse(&f, form, strlen(form)), 0);
    pthread_barrier_wait(r->go);
    api_route(r->api, st, &req, &reply);
    r->status = reply.status;
    snprintf(r->body, sizeof(r->body), "%s", reply.body ? reply.body : "");
    api_reply_done(&reply);
    api_params_done(&f);
    store_close(st);
    return NULL;
}

START_TEST(test_concurrent_writers_one_uri)
{
    for (int round = 0; round < 20; round++) {
        struct racer a = {0}, b = {0};
        pthread_barrier_t go;
        pthread_t ta, tb;
        char *body;

        th_ctx_close(&ctx);
        th_ctx_open(&ctx);
        pthread_barrier_init(&go, NULL, 2);
        a.api = b.api = &ctx.api;
        a.go = b.go = &go;
        snprintf(a.path, sizeof(a.path), "%s/callbridge.db", ctx.dir);
        snprintf(b.path, sizeof(b.path), "%s/callbridge.db", ctx.dir);
        pthread_create(&ta, NULL, race, &a);
        pthread_create(&tb, NULL, race, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        ck_assert_msg((a.status == 200) != (b.status == 200), "round %d: %d and %d", round,
                      a.status, b.status);
        ck_assert_str_eq(a.status == 200 ? b.body : a.body,
                         "<?xml version=\"1.0\"?><failureDetails><duplicateCoSpaceUri />"
                         "</failureDetails>");
        ck_assert_int_eq(route(API_GET, "/api/v1/coSpaces", "filter=same-room", NULL, &body), 200);
        ck_assert_msg(strstr(body, "total=\"1\""), "%s", body);
        free(body);
    }
}
END_TEST

START_TEST(test_limit_capped)
{
    char *body;

    ck_assert_int_eq(store_begin(ctx.st), 0);
    for (int i = 0; i < API_PAGE_MAX + 5; i++) {
        struct store_row row = {0};
        char id[STORE_ID_LEN + 1];

        ck_assert_int_eq(api_uuid_new(id), 0);
        ck_assert_int_eq(store_row_set(&row, 0, id), 0);
        ck_assert_int_eq(store_row_set(&row, 5, "standard"), 0); /* type */
        ck_assert_int_eq(store_row_set(&row, 10, "0"), 0);       /* useShortTermCredentials */
        ck_assert_int_eq(store_row_insert(ctx.st, api_res_turn_servers.table, &row), 0);
        store_row_done(&row);
    }
    ck_assert_int_eq(store_commit(ctx.st), 0); /* written around the API: no cached page yet */
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", "limit=5000", NULL, &body), 200);
    ck_assert_uint_eq(count(body, "<turnServer id="), API_PAGE_MAX);
    ck_assert_ptr_nonnull(strstr(body, "total=\"1005\""));
    free(body);
}
END_TEST

/* Runs sql on the test's database through a connection of its own. */
static void db_exec(const char *sql)
{
    char dbpath[128];
    sqlite3 *db;

    (void)snprintf(dbpath, sizeof(dbpath), "%s/callbridge.db", ctx.dir);
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A write that fails after every value was checked and sealed (a trigger refuses the row) is
 * answered as a store error, not as a missing callBridge (as turnServers once did), and leaves
 * nothing: no server, no changed one, and the list as it was. */
START_TEST(test_write_failing_part_way_leaves_nothing)
{
    char id[37], path[96], *body;

    create("serverAddress=kept.example.com", id);
    db_exec("CREATE TRIGGER refuse_insert BEFORE INSERT ON turn_server WHEN NEW.username = 'boom' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END;"
            "CREATE TRIGGER refuse_update BEFORE UPDATE ON turn_server WHEN NEW.username = 'boom' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END;");
    ck_assert_int_eq(
        route(API_POST, "/api/v1/turnServers", NULL,
              "serverAddress=new.example.com&password=p4ss&sharedSecret=s&username=boom", &body),
        400);
    ck_assert_ptr_nonnull(strstr(body, "<failureDetails>"));
    ck_assert_ptr_null(strstr(body, "DoesNotExist")); /* it named no reference */
    free(body);
    ck_assert_int_eq(route(API_GET, "/api/v1/turnServers", NULL, NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "<turnServers total=\"1\">"));
    ck_assert_ptr_null(strstr(body, "new.example.com"));
    free(body);
    ck_assert(!db_contains("new.example.com"));
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    ck_assert_int_eq(
        route(API_PUT, path, NULL, "serverAddress=changed.example.com&username=boom", NULL), 400);
    ck_assert_int_eq(route(API_GET, path, NULL, NULL, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "<serverAddress>kept.example.com</serverAddress>"));
    ck_assert_ptr_null(strstr(body, "<username>"));
    free(body);
}
END_TEST

/* A callBridgeGroup deleted after a client learnt its id answers callBridgeGroupDoesNotExist on
 * POST and PUT (not callBridgeDoesNotExist), as a coSpace names a deleted tenant
 * tenantDoesNotExist: the same engine checks both inside the write's transaction. */
START_TEST(test_vanished_call_bridge_group_named)
{
    char group[37], tenant[37], id[37], form[128], path[96];
    struct api_reply r;

    th_route(&ctx, API_POST, "/api/v1/callBridgeGroups", NULL, "name=g1", &r);
    ck_assert_int_eq(r.status, 200);
    memcpy(group, r.location + strlen("/api/v1/callBridgeGroups/"), 37);
    th_route(&ctx, API_POST, "/api/v1/tenants", NULL, "name=t1", &r);
    ck_assert_int_eq(r.status, 200);
    memcpy(tenant, r.location + strlen("/api/v1/tenants/"), 37);
    (void)snprintf(form, sizeof(form), "callBridgeGroup=%s", group);
    create(form, id);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    ck_assert_int_eq(route(API_PUT, path, NULL, "callBridgeGroup=", NULL), 200);
    (void)snprintf(path, sizeof(path), "/api/v1/callBridgeGroups/%s", group);
    ck_assert_int_eq(route(API_DELETE, path, NULL, NULL, NULL), 200);
    (void)snprintf(path, sizeof(path), "/api/v1/tenants/%s", tenant);
    ck_assert_int_eq(route(API_DELETE, path, NULL, NULL, NULL), 200);

    expect(
        API_POST, "/api/v1/turnServers", NULL, form, 400,
        "<?xml version=\"1.0\"?><failureDetails><callBridgeGroupDoesNotExist /></failureDetails>");
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s", id);
    expect(
        API_PUT, path, NULL, form, 400,
        "<?xml version=\"1.0\"?><failureDetails><callBridgeGroupDoesNotExist /></failureDetails>");
    (void)snprintf(form, sizeof(form), "tenant=%s", tenant);
    expect(API_POST, "/api/v1/coSpaces", NULL, form, 400,
           "<?xml version=\"1.0\"?><failureDetails><tenantDoesNotExist /></failureDetails>");
}
END_TEST

Suite *api_routes_suite(void)
{
    Suite *s = suite_create("api_routes");
    TCase *tc = tcase_create("turnServers");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_create_get_hides_secrets);
    tcase_add_test(tc, test_secret_sealed_to_its_row);
    tcase_add_test(tc, test_defaults_and_type_case);
    tcase_add_test(tc, test_invalid_values_answer_parameter_error);
    tcase_add_test(tc, test_unknown_parameters_ignored_booleans_any_case);
    tcase_add_test(tc, test_long_password_refused);
    tcase_add_test(tc, test_secrets_with_control_characters_refused);
    tcase_add_test(tc, test_host_port_forms);
    tcase_add_test(tc, test_references_checked);
    tcase_add_test(tc, test_put_is_partial_and_empty_unsets);
    tcase_add_test(tc, test_unknown_ids_and_delete);
    tcase_add_test(tc, test_paths_and_methods);
    tcase_add_test(tc, test_405_has_allow_from_the_table);
    tcase_add_test(tc, test_every_route_has_a_metrics_label);
    tcase_add_test(tc, test_list_paging_and_filter);
    tcase_add_test(tc, test_list_pages_never_stale);
    tcase_add_test(tc, test_limit_capped);
    tcase_add_test(tc, test_concurrent_writers_one_uri);
    tcase_add_test(tc, test_write_failing_part_way_leaves_nothing);
    tcase_add_test(tc, test_vanished_call_bridge_group_named);
    tcase_add_test(tc, test_the_leg_budget_counts_each_legs_sockets);
    suite_add_tcase(s, tc);
    return s;
}
