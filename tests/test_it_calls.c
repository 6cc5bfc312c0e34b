/* tests/test_it_calls.c: calls in a cluster (docs/cluster.md "Calls in a cluster"): two real
 * callbridged nodes on one PostgreSQL (tests/pg_server.h), guests through the join page's
 * interface (host candidates: no TURN server needed).
 * - A coSpace's call lives on one node: a guest who arrives at the other node is sent to the
 *   hosting node's join page with a one-use ticket (the passcode in no URL and no log) and joins
 *   the same call there; each node's /calls shows its own calls.
 * - Two guests arriving at the two nodes at the same moment make one call, never two.
 * - A call that ended leaves the directory: the next guest makes a call where it arrives. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/cluster_helpers.h"
#include "tests/helpers.h"
#include "tests/pg_server.h"
#include "tests/suites.h"

#define NODES 2
#define POLL_MS 100

static struct th_pg primary;
static struct th_daemon nodes[NODES];
static const char *const names[NODES] = {"cb-a", "cb-b"};
static unsigned short node_port[NODES];

/* Node i listening on a port chosen first, so that its --node-address is where it is. */
static void node_start(size_t i)
{
    static const char *const extra[] = {"--host-candidate", "127.0.0.1", "--guest-timeout", "60",
                                        NULL};
    char listen[8], address[64];

    if (!node_port[i])
        node_port[i] = th_free_port();
    (void)snprintf(listen, sizeof(listen), "%u", node_port[i]);
    (void)snprintf(address, sizeof(address), "https://127.0.0.1:%u", node_port[i]);
    th_cluster_node_start(&nodes[i], &nodes[0], primary.url, names[i], address, listen, extra);
}

static bool cluster_up(void)
{
    memset(nodes, 0, sizeof(nodes));
    memset(node_port, 0, sizeof(node_port));
    memset(&primary, 0, sizeof(primary));
    if (!th_cluster_pg_or_skip())
        return false;
    th_pg_start(&primary);
    for (size_t i = 0; i < NODES; i++)
        node_start(i);
    return true;
}

static void teardown(void)
{
    for (size_t i = 0; i < NODES; i++)
        if (nodes[i].dir[0])
            th_daemon_destroy(&nodes[i]);
    th_pg_stop(&primary);
}

/* POST /meeting/api/join on node i: the status, the body into out. */
static long join_at(size_t i, const char *json, char *out, size_t cap)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    struct th_resp r;
    long status;

    th_http(&nodes[i], nodes[i].ports[0], "POST", "/meeting/api/join", NULL, NULL, hdr, json,
            strlen(json), &r);
    status = r.status;
    (void)snprintf(out, cap, "%s", r.body ? r.body : "");
    th_resp_free(&r);
    return status;
}

/* The JSON string member key of body into out ("" when absent). */
static void json_str(const char *body, const char *key, char *out, size_t cap)
{
    char needle[64];
    const char *p;

    (void)snprintf(needle, sizeof(needle), "\"%s\":\"", key);
    p = strstr(body, needle);
    out[0] = '\0';
    if (p) {
        p += strlen(needle);
        (void)snprintf(out, cap, "%.*s", (int)strcspn(p, "\""), p);
    }
}

/* A coSpace with this callId and passcode, made on node 0. */
static void cospace(const char *call_id, const char *passcode)
{
    char form[128];

    (void)snprintf(form, sizeof(form), "name=Room%s&callId=%s&passcode=%s", call_id, call_id,
                   passcode);
    ck_assert_int_eq(th_admin_keep(&nodes[0], "POST", "/api/v1/coSpaces", form, NULL, 0, NULL),
                     200);
}

/* The number of calls node i shows. */
static int calls_at(size_t i)
{
    char body[8192];
    const char *p;

    ck_assert_int_eq(
        th_admin_keep(&nodes[i], "GET", "/api/v1/calls", NULL, body, sizeof(body), NULL), 200);
    p = strstr(body, "<calls total=\"");
    ck_assert_msg(p, "%s", body);
    return atoi(p + strlen("<calls total=\""));
}

/* The id of the only call node i shows. */
static void only_call(size_t i, char *id, size_t cap)
{
    char body[8192];
    const char *p;

    ck_assert_int_eq(
        th_admin_keep(&nodes[i], "GET", "/api/v1/calls", NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<calls total=\"1\">"), "%s", body);
    p = strstr(body, "<call id=\"");
    ck_assert_ptr_nonnull(p);
    (void)snprintf(id, cap, "%.36s", p + strlen("<call id=\""));
}

START_TEST(test_a_guest_at_another_node_is_sent_to_the_call)
{
    char body[4096], url[512], want[128], ticket[64], json[256], call[40], path[128];
    const char *p;

    if (!cluster_up())
        return;
    cospace("5550001", "2468");
    ck_assert_int_eq(join_at(0, "{\"callId\":\"5550001\",\"passcode\":\"2468\",\"name\":\"Ada\"}",
                             body, sizeof(body)),
                     200);
    ck_assert_msg(strstr(body, "\"session\":\""), "%s", body);

    /* at the other node: admitted there, and sent to the node hosting the call */
    ck_assert_int_eq(join_at(1, "{\"callId\":\"5550001\",\"passcode\":\"2468\",\"name\":\"Bob\"}",
                             body, sizeof(body)),
                     200);
    ck_assert_msg(!strstr(body, "\"session\""), "a second call was made at %s: %s", names[1], body);
    json_str(body, "redirect", url, sizeof(url));
    (void)snprintf(want, sizeof(want),
                   "https://127.0.0.1:%u/meeting/5550001#handoff=", node_port[0]);
    ck_assert_msg(strncmp(url, want, strlen(want)) == 0, "redirect %s, not to %s", url, want);
    ck_assert_msg(!strstr(url, "2468"), "the passcode is in the URL: %s", url);
    json_str(body, "callBridge", want, sizeof(want));
    ck_assert_str_eq(want, names[0]);
    p = strstr(url, "#handoff=") + strlen("#handoff=");
    (void)snprintf(ticket, sizeof(ticket), "%s", p);

    /* a wrong ticket is refused as a wrong passcode is */
    ck_assert_int_eq(join_at(0, "{\"callId\":\"5550001\",\"handoff\":\"x\"}", body, sizeof(body)),
                     403);
    /* the page at the hosting node joins with the ticket: the name is the one typed at the
     * other node, the call is the first guest's */
    (void)snprintf(json, sizeof(json), "{\"callId\":\"5550001\",\"handoff\":\"%s\"}", ticket);
    ck_assert_int_eq(join_at(0, json, body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "\"session\":\""), "%s", body);
    ck_assert_msg(strstr(body, "\"name\":\"Bob\""), "%s", body);
    /* once */
    ck_assert_int_eq(join_at(0, json, body, sizeof(body)), 403);

    only_call(0, call, sizeof(call));
    ck_assert_int_eq(calls_at(1), 0); /* each node shows the calls it hosts */
    (void)snprintf(path, sizeof(path), "/api/v1/calls/%s/callLegs", call);
    ck_assert_int_eq(th_admin_keep(&nodes[0], "GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<callLegs total=\"2\">"), "%s", body);
    (void)snprintf(path, sizeof(path), "/api/v1/calls/%s", call);
    ck_assert_int_eq(th_admin_keep(&nodes[1], "GET", path, NULL, body, sizeof(body), NULL), 404);

    /* neither node logged the passcode or the ticket */
    for (size_t i = 0; i < NODES; i++) {
        ck_assert_uint_eq(th_log_count(&nodes[i], "2468"), 0);
        ck_assert_uint_eq(th_log_count(&nodes[i], ticket), 0);
    }
}
END_TEST

struct racer {
    size_t node;
    const char *json;
    pthread_barrier_t *start;
    long status;
    char body[2048];
};

static void *race(void *arg)
{
    struct racer *r = arg;

    (void)pthread_barrier_wait(r->start);
    r->status = join_at(r->node, r->json, r->body, sizeof(r->body));
    return NULL;
}

START_TEST(test_two_guests_at_two_nodes_at_once_make_one_call)
{
    enum { ROUNDS = 6 };

    if (!cluster_up())
        return;
    for (int k = 0; k < ROUNDS; k++) {
        char id[24], json[2][160];
        struct racer r[2];
        pthread_barrier_t start;
        pthread_t t[2];
        int sessions = 0;

        (void)snprintf(id, sizeof(id), "66600%d", k);
        cospace(id, "1357");
        (void)pthread_barrier_init(&start, NULL, 2);
        for (size_t i = 0; i < 2; i++) {
            (void)snprintf(json[i], sizeof(json[i]),
                           "{\"callId\":\"%s\",\"passcode\":\"1357\",\"name\":\"G%zu\"}", id, i);
            r[i] = (struct racer){.node = i, .json = json[i], .start = &start};
            ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
        }
        for (size_t i = 0; i < 2; i++) {
            (void)pthread_join(t[i], NULL);
            ck_assert_msg(r[i].status == 200, "%ld %s", r[i].status, r[i].body);
            if (strstr(r[i].body, "\"session\""))
                sessions++;
            else
                ck_assert_msg(strstr(r[i].body, "\"redirect\""), "%s", r[i].body);
        }
        (void)pthread_barrier_destroy(&start);
        ck_assert_int_ge(sessions, 1);
        ck_assert_int_eq(calls_at(0) + calls_at(1), k + 1); /* one call per coSpace */
    }
}
END_TEST

START_TEST(test_a_call_that_ended_leaves_the_directory)
{
    char body[4096], session[64], json[128];
    int k;

    if (!cluster_up())
        return;
    cospace("5550002", "9753");
    ck_assert_int_eq(join_at(0, "{\"callId\":\"5550002\",\"passcode\":\"9753\",\"name\":\"Ada\"}",
                             body, sizeof(body)),
                     200);
    json_str(body, "session", session, sizeof(session));
    ck_assert_str_ne(session, "");
    (void)snprintf(json, sizeof(json), "{\"session\":\"%s\"}", session);
    {
        static const char *const hdr[] = {"Content-Type: application/json", NULL};
        struct th_resp r;

        th_http(&nodes[0], nodes[0].ports[0], "POST", "/meeting/api/leave", NULL, NULL, hdr, json,
                strlen(json), &r);
        ck_assert_int_eq(r.status, 200);
        th_resp_free(&r);
    }
    ck_assert_int_eq(calls_at(0), 0);
    /* the removal is written by a thread of its own: soon, not at once */
    for (k = 0; k < 50; k++) {
        ck_assert_int_eq(join_at(1,
                                 "{\"callId\":\"5550002\",\"passcode\":\"9753\",\"name\":\"Bob\"}",
                                 body, sizeof(body)),
                         200);
        if (strstr(body, "\"session\""))
            break;
        (void)usleep(POLL_MS * 1000);
    }
    ck_assert_msg(k < 50, "the ended call stayed in the directory: %s", body);
    ck_assert_int_eq(calls_at(1), 1);
    ck_assert_int_eq(calls_at(0), 0);
}
END_TEST

Suite *it_calls_suite(void)
{
    Suite *s = suite_create("it_calls");
    TCase *tc = tcase_create("calls");

    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_a_guest_at_another_node_is_sent_to_the_call);
    tcase_add_test(tc, test_two_guests_at_two_nodes_at_once_make_one_call);
    tcase_add_test(tc, test_a_call_that_ended_leaves_the_directory);
    suite_add_tcase(s, tc);
    return s;
}
