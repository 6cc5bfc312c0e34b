/* tests/test_it_calls.c: calls in a cluster (docs/cluster.md "Calls in a cluster"): two real
 * callbridged nodes on one PostgreSQL (tests/pg_server.h), guests through the join page's
 * interface (host candidates: no TURN server needed).
 * - A coSpace's call lives on one node: a guest who arrives at the other node is sent to the
 *   hosting node's join page with a one-use ticket (the passcode in no URL and no log) and joins
 *   the same call there; each node's /calls shows its own calls.
 * - Two guests arriving at the two nodes at the same moment make one call, never two.
 * - A call that ended leaves the directory: the next guest makes a call where it arrives.
 * - A node killed with SIGKILL: once the others show it down, exactly one of them ends its call,
 *   with a callLegEnd (callBridgeFailure) per leg and a callEnd; its guests join again at a live
 *   node and get a new call there. Before that, fencing: a node paused (SIGSTOP) past the down
 *   time loses its call to another node; once it runs again it ends the call's legs and media
 *   itself, with no second callEnd/callLegEnd, and is shown up again.
 * - Media: a guest (scripts/bench/rtcpeer, over coturn) joins at one node, a second arrives at
 *   the other, follows the redirect, and the two exchange audio and video through the first.
 * - The CDR outbox shared by two nodes: each record reaches a receiver once, in order.
 * - A callBridgeGroup with loadBalancingEnabled: a new call goes to the least loaded live node
 *   of the group, its guest sent there. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "tests/cluster_helpers.h"
#include "tests/helpers.h"
#include "tests/pg_server.h"
#include "tests/skip.h"
#include "tests/suites.h"

#define NODES 3
#define POLL_MS 100
#define DOWN_POLLS 200 /* 20 s: a node heartbeating every second is down after 3 */

static struct th_pg primary;
static struct th_daemon nodes[NODES];
static const char *const names[NODES] = {"cb-a", "cb-b", "cb-c"};
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

/* PostgreSQL and n nodes. */
static bool cluster_up(size_t n)
{
    memset(nodes, 0, sizeof(nodes));
    memset(node_port, 0, sizeof(node_port));
    memset(&primary, 0, sizeof(primary));
    if (!th_pg_or_skip())
        return false;
    th_pg_start(&primary);
    for (size_t i = 0; i < n; i++)
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

    if (!cluster_up(2))
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
    for (size_t i = 0; i < 2; i++) {
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

    if (!cluster_up(2))
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

    if (!cluster_up(2))
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

/* A count from the cluster's database. */
static int db_count(const char *sql)
{
    char out[64];

    ck_assert_int_eq(th_pg_sql(&primary, "callbridge", sql, out, sizeof(out)), 0);
    return atoi(out);
}

/* Guest name joins callId id (passcode pc) at node i, following a redirect: the node it ends at,
 * or -1 when it was refused (body in out). */
static int join_following(size_t i, const char *id, const char *pc, const char *name, char *out,
                          size_t cap)
{
    char json[256], url[512], ticket[64];
    const char *p;

    (void)snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"passcode\":\"%s\",\"name\":\"%s\"}",
                   id, pc, name);
    if (join_at(i, json, out, cap) != 200)
        return -1;
    if (strstr(out, "\"session\""))
        return (int)i;
    json_str(out, "redirect", url, sizeof(url));
    p = strstr(url, "#handoff=");
    ck_assert_ptr_nonnull(p);
    (void)snprintf(ticket, sizeof(ticket), "%s", p + strlen("#handoff="));
    for (size_t k = 0; k < NODES; k++) {
        char want[64];

        (void)snprintf(want, sizeof(want), "https://127.0.0.1:%u/", node_port[k]);
        if (strncmp(url, want, strlen(want)) != 0)
            continue;
        (void)snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"handoff\":\"%s\"}", id, ticket);
        ck_assert_int_eq(join_at(k, json, out, cap), 200);
        ck_assert_msg(strstr(out, "\"session\""), "%s", out);
        return (int)k;
    }
    ck_abort_msg("redirect to no node: %s", url);
    return -1;
}

/* A count from node i's /metrics: the value of series. */
static double metric_at(size_t i, const char *series)
{
    static char body[65536];

    ck_assert_int_eq(th_admin_keep(&nodes[i], "GET", "/metrics", NULL, body, sizeof(body), NULL),
                     200);
    return th_metric(body, series, NULL);
}

/* The legs node i lists. */
static int legs_at(size_t i)
{
    char body[8192];
    const char *p;

    ck_assert_int_eq(
        th_admin_keep(&nodes[i], "GET", "/api/v1/callLegs", NULL, body, sizeof(body), NULL), 200);
    p = strstr(body, "<callLegs total=\"");
    ck_assert_msg(p, "%s", body);
    return atoi(p + strlen("<callLegs total=\""));
}

/* Does node i's system/database show node name up? */
static bool shown_up(size_t i, const char *name)
{
    char body[16384], needle[64];
    const char *p, *e;

    ck_assert_int_eq(
        th_admin_keep(&nodes[i], "GET", "/api/v1/system/database", NULL, body, sizeof(body), NULL),
        200);
    (void)snprintf(needle, sizeof(needle), " name=\"%s\"", name);
    if (!(p = strstr(body, needle)) || !(e = strstr(p, "/>")))
        return false;
    return memmem(p, (size_t)(e - p), "state=\"up\"", 10) != NULL;
}

/* Fencing (docs/cluster.md "A node shown down while alive"): node 1, hosting a call of two
 * legs, is paused (SIGSTOP) past the down time; another node ends its call with the CDRs. Once
 * it runs again (SIGCONT) node 1 ends the call's legs and their media itself, writes no second
 * callEnd or callLegEnd, and is shown up again. */
static void a_paused_node_is_fenced(void)
{
    char body[4096], sql[256], call[40];
    int k;

    cospace("5550013", "1357");
    ck_assert_int_eq(join_following(1, "5550013", "1357", "Di", body, sizeof(body)), 1);
    ck_assert_int_eq(join_following(0, "5550013", "1357", "Ed", body, sizeof(body)), 1);
    only_call(1, call, sizeof(call));
    ck_assert_int_eq(legs_at(1), 2);
    ck_assert(metric_at(1, "callbridge_call_legs_media_active") == 2);

    ck_assert_int_eq(kill(nodes[1].pid, SIGSTOP), 0);
    (void)snprintf(sql, sizeof(sql),
                   "SELECT count(*) FROM cdr_record WHERE type = 'callEnd' AND body LIKE "
                   "'%%<call id=\"%s\">%%'",
                   call);
    for (k = 0; k < DOWN_POLLS && db_count(sql) == 0; k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_int_eq(kill(nodes[1].pid, SIGCONT), 0);
    ck_assert_msg(k < DOWN_POLLS, "the paused node's call never ended");
    ck_assert_int_eq(db_count("SELECT count(*) FROM cdr_record WHERE node <> 'cb-b' AND type = "
                              "'callLegEnd' AND body LIKE '%<reason>callBridgeFailure</reason>%'"),
                     2);

    /* the paused node ends the legs at once (its next look at the directory, every second) */
    for (k = 0; k < 50 && legs_at(1) > 0; k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_msg(k < 50, "node 1 still lists the legs of a call it lost");
    ck_assert_int_eq(calls_at(1), 0);
    ck_assert(metric_at(1, "callbridge_call_legs_media_active") == 0);
    for (k = 0; k < DOWN_POLLS && !shown_up(0, names[1]); k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_msg(k < DOWN_POLLS, "node 1 is not shown up again");
    /* one end of the call, written by the node that took it: node 1 wrote none, not even at
     * its stop */
    th_daemon_stop(&nodes[1]);
    ck_assert_int_eq(db_count(sql), 1);
    ck_assert_int_eq(db_count("SELECT count(*) FROM cdr_record WHERE type = 'callLegEnd' AND "
                              "body NOT LIKE '%<reason>callBridgeFailure</reason>%'"),
                     0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM cdr_record WHERE node = 'cb-b' AND type IN "
                              "('callEnd', 'callLegEnd')"),
                     0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM cluster_call"), 0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM cluster_call_leg"), 0);
    node_start(1);
}

START_TEST(test_a_killed_nodes_calls_end_once_with_cdrs_and_its_guests_rejoin_elsewhere)
{
    char body[4096], form[64], call[40], sql[256];
    int k, n;

    if (!cluster_up(3))
        return;
    /* a receiver that never answers: the records stay in the outbox, where the test reads them */
    (void)snprintf(form, sizeof(form), "uri=http://127.0.0.1:%u/cdr", th_free_port());
    ck_assert_int_eq(
        th_admin_keep(&nodes[0], "POST", "/api/v1/system/cdrReceivers", form, NULL, 0, NULL), 200);
    a_paused_node_is_fenced();
    cospace("5550003", "8642");
    ck_assert_int_eq(join_following(1, "5550003", "8642", "Ada", body, sizeof(body)), 1);
    ck_assert_int_eq(join_following(0, "5550003", "8642", "Bob", body, sizeof(body)), 1);
    ck_assert_int_eq(join_following(2, "5550003", "8642", "Cy", body, sizeof(body)), 1);
    only_call(1, call, sizeof(call));

    th_daemon_kill9(&nodes[1]);
    /* once the others show it down, one of them ends its call: a callLegEnd for each of its
     * three legs and a callEnd, written by that node alone */
    (void)snprintf(sql, sizeof(sql),
                   "SELECT count(*) FROM cdr_record WHERE type = 'callEnd' AND body LIKE "
                   "'%%<call id=\"%s\">%%'",
                   call);
    for (k = 0; k < DOWN_POLLS && db_count(sql) == 0; k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_msg(k < DOWN_POLLS, "the dead node's call never ended");
    (void)usleep(3000 * 1000); /* both live nodes have looked at the directory since */
    ck_assert_int_eq(db_count(sql), 1);
    (void)snprintf(sql, sizeof(sql),
                   "SELECT count(*) FROM cdr_record WHERE type = 'callLegEnd' AND body LIKE "
                   "'%%<reason>callBridgeFailure</reason>%%'");
    ck_assert_int_eq(db_count(sql), 2 + 3); /* 2: a_paused_node_is_fenced's */
    (void)snprintf(sql, sizeof(sql),
                   "SELECT count(*) FROM cdr_record WHERE type = 'callEnd' AND body LIKE "
                   "'%%<callLegsCompleted>3</callLegsCompleted>%%'");
    ck_assert_int_eq(db_count(sql), 1);
    ck_assert_int_eq(db_count("SELECT count(*) FROM cluster_call"), 0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM cluster_call_leg"), 0);

    /* a guest of that call who joins again, at a live node, gets a new call there */
    n = join_following(0, "5550003", "8642", "Ada", body, sizeof(body));
    ck_assert_msg(n == 0, "%d: %s", n, body);
    ck_assert_int_eq(calls_at(0), 1);
    ck_assert_int_eq(join_following(2, "5550003", "8642", "Cy", body, sizeof(body)), 0);
}
END_TEST

/* ---- the CDR outbox shared by two nodes ------------------------------------------------------ */

/* A CDR receiver: every POST's body appended to bodies, answered 200. */
struct receiver {
    int fd;
    unsigned short port;
    pthread_t thread;
    pthread_mutex_t lock;
    char bodies[65536];
    size_t len;
    atomic_bool stop;
};

static void *receive(void *arg)
{
    struct receiver *rv = arg;

    while (!atomic_load(&rv->stop)) {
        struct pollfd p = {.fd = rv->fd, .events = POLLIN};
        char req[32768];
        size_t n = 0;
        int c;

        if (poll(&p, 1, 100) <= 0)
            continue;
        if ((c = accept(rv->fd, NULL, NULL)) < 0)
            continue;
        for (;;) { /* headers, then Content-Length bytes of body */
            struct pollfd q = {.fd = c, .events = POLLIN};
            const char *end, *cl;
            ssize_t k;

            req[n] = '\0';
            end = strstr(req, "\r\n\r\n");
            cl = strcasestr(req, "Content-Length:");
            if (end && strcasestr(req, "Expect: 100-continue") && n == (size_t)(end + 4 - req))
                (void)!write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
            if (end && cl && n >= (size_t)(end + 4 - req) + (size_t)atol(cl + 15)) {
                /* a receiver that takes its time: while one node's POST waits, the other's
                 * sender runs too */
                (void)usleep(300 * 1000);
                pthread_mutex_lock(&rv->lock);
                (void)snprintf(rv->bodies + rv->len, sizeof(rv->bodies) - rv->len, "%s", end + 4);
                rv->len += strlen(rv->bodies + rv->len);
                pthread_mutex_unlock(&rv->lock);
                (void)!write(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                             58);
                break;
            }
            if (n + 1 >= sizeof(req) || poll(&q, 1, 2000) <= 0 ||
                (k = read(c, req + n, sizeof(req) - 1 - n)) <= 0)
                break;
            n += (size_t)k;
        }
        (void)close(c);
    }
    return NULL;
}

static void receiver_start(struct receiver *rv)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);

    memset(rv, 0, sizeof(*rv));
    pthread_mutex_init(&rv->lock, NULL);
    rv->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(rv->fd, 0);
    ck_assert_int_eq(bind(rv->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(rv->fd, 16), 0);
    ck_assert_int_eq(getsockname(rv->fd, (struct sockaddr *)&a, &len), 0);
    rv->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&rv->thread, NULL, receive, rv), 0);
}

static void receiver_stop(struct receiver *rv)
{
    atomic_store(&rv->stop, true);
    (void)pthread_join(rv->thread, NULL);
    (void)close(rv->fd);
    pthread_mutex_destroy(&rv->lock);
}

static size_t occurrences(struct receiver *rv, const char *needle)
{
    size_t n = 0;

    pthread_mutex_lock(&rv->lock);
    for (const char *p = strstr(rv->bodies, needle); p; p = strstr(p + 1, needle))
        n++;
    pthread_mutex_unlock(&rv->lock);
    return n;
}

static void leave(size_t i, const char *join_body)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    char session[64], json[128];
    struct th_resp r;

    json_str(join_body, "session", session, sizeof(session));
    (void)snprintf(json, sizeof(json), "{\"session\":\"%s\"}", session);
    th_http(&nodes[i], nodes[i].ports[0], "POST", "/meeting/api/leave", NULL, NULL, hdr, json,
            strlen(json), &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
}

/* recordsPending of receiver path (its /api/v1/... path) on node i. */
static long pending_at(size_t i, const char *path)
{
    char body[4096];
    const char *p;

    ck_assert_int_eq(th_admin_keep(&nodes[i], "GET", path, NULL, body, sizeof(body), NULL), 200);
    p = strstr(body, "<recordsPending>");
    ck_assert_msg(p, "%s", body);
    return atol(p + strlen("<recordsPending>"));
}

/* Each record of rv once, in order within each POST; how many. */
static size_t records_once_in_order(struct receiver *rv)
{
    long seen[64];
    size_t nseen = 0;
    const char *p;

    for (const char *b = strstr(rv->bodies, "<records "); b; b = strstr(b + 1, "<records ")) {
        const char *e = strstr(b, "</records>");
        long last = 0;

        ck_assert_ptr_nonnull(e);
        for (p = strstr(b, "recordIndex=\""); p && p < e; p = strstr(p + 1, "recordIndex=\"")) {
            long idx = atol(p + strlen("recordIndex=\""));

            ck_assert_msg(idx > last, "out of order: %ld after %ld", idx, last);
            last = idx;
            for (size_t i = 0; i < nseen; i++)
                ck_assert_msg(seen[i] != idx, "record %ld was sent twice", idx);
            ck_assert_uint_lt(nseen, 64);
            seen[nseen++] = idx;
        }
    }
    return nseen;
}

/* A node killed with records unsent: node 0 sends them once the node is shown down, each once,
 * in the dead node's order; recordsPending is the same on both nodes before. */
static void a_dead_nodes_records_are_sent_by_a_live_node(const char *receiver)
{
    static struct receiver rv2;
    char body[4096], form[64];
    int k;

    /* the receiver is gone (rv stopped): node 1's records of a call wait in the outbox */
    ck_assert_int_eq(join_following(1, "5550005", "2222", "Cy", body, sizeof(body)), 1);
    leave(1, body);
    for (k = 0; k < 100 && db_count("SELECT count(*) FROM cdr_record WHERE node = 'cb-b' AND "
                                    "type = 'callEnd'") == 0;
         k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_msg(k < 100, "node 1 wrote no callEnd");
    ck_assert_int_eq(pending_at(0, receiver), 4);
    ck_assert_int_eq(pending_at(1, receiver), 4);
    th_daemon_kill9(&nodes[1]);
    receiver_start(&rv2);
    (void)snprintf(form, sizeof(form), "uri=http://127.0.0.1:%u/cdr", rv2.port);
    ck_assert_int_eq(th_admin_keep(&nodes[0], "PUT", receiver, form, NULL, 0, NULL), 200);
    for (k = 0; k < DOWN_POLLS && occurrences(&rv2, "type=\"callEnd\"") < 1; k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_msg(k < DOWN_POLLS, "the dead node's records never came");
    for (k = 0; k < 100 && pending_at(0, receiver) > 0; k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_int_eq(pending_at(0, receiver), 0);
    receiver_stop(&rv2);
    ck_assert_uint_eq(records_once_in_order(&rv2), 4);
    ck_assert_int_eq(db_count("SELECT count(*) FROM cdr_record WHERE node = 'cb-b'"), 0);
}

START_TEST(test_each_cdr_is_sent_once_by_its_node_in_its_order)
{
    static struct receiver rv;
    char form[64], body[4096], body2[4096], receiver[128];
    int k;

    if (!cluster_up(2))
        return;
    receiver_start(&rv);
    (void)snprintf(form, sizeof(form), "uri=http://127.0.0.1:%u/cdr", rv.port);
    ck_assert_int_eq(
        th_admin_keep(&nodes[0], "POST", "/api/v1/system/cdrReceivers", form, NULL, 0, receiver),
        200);
    cospace("5550004", "1111");
    cospace("5550005", "2222");
    /* a call on each node, each guest leaves: four records each */
    ck_assert_int_eq(join_following(0, "5550004", "1111", "Ada", body, sizeof(body)), 0);
    ck_assert_int_eq(join_following(1, "5550005", "2222", "Bob", body2, sizeof(body2)), 1);
    leave(0, body);
    leave(1, body2);
    for (k = 0; k < 100 && occurrences(&rv, "type=\"callEnd\"") < 2; k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_msg(k < 100, "not both callEnds: %s", rv.bodies);
    (void)usleep(2000 * 1000); /* anything sent twice has come by now */
    receiver_stop(&rv);        /* nothing more comes: its bodies are the test's */
    /* each record once; within each POST (one session: one node's run), in order */
    ck_assert_uint_eq(records_once_in_order(&rv), 8);
    a_dead_nodes_records_are_sent_by_a_live_node(receiver);
}
END_TEST

/* ---- callBridgeGroups with loadBalancingEnabled ----------------------------------------- */

/* The id of the callBridges object of node name, from node 0's list. */
static void bridge_of(const char *name, char *id, size_t cap)
{
    char body[8192], needle[64];
    const char *p;

    ck_assert_int_eq(th_admin_keep(&nodes[0], "GET", "/api/v1/callBridges?limit=100", NULL, body,
                                   sizeof(body), NULL),
                     200);
    (void)snprintf(needle, sizeof(needle), "<name>%s</name>", name);
    p = strstr(body, needle);
    ck_assert_msg(p, "%s", body);
    while (p > body && strncmp(p, "<callBridge id=\"", 16) != 0)
        p--;
    (void)snprintf(id, cap, "%.36s", p + 16);
}

/* Waits until the directory holds n legs. */
static void legs_written(int n)
{
    int k;

    for (k = 0; k < 50 && db_count("SELECT count(*) FROM cluster_call_leg") != n; k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_int_eq(db_count("SELECT count(*) FROM cluster_call_leg"), n);
}

START_TEST(test_a_balancing_group_places_a_new_call_on_its_least_loaded_node)
{
    char body[4096], loc[128], group[40], id[40], path[128];

    if (!cluster_up(3))
        return;
    for (int i = 0; i < 4; i++) {
        char call_id[24];

        (void)snprintf(call_id, sizeof(call_id), "777000%d", i);
        cospace(call_id, "4321");
    }
    /* out of any group: a new call goes where its guest arrives */
    ck_assert_int_eq(join_following(0, "7770000", "4321", "A1", body, sizeof(body)), 0);
    ck_assert_int_eq(join_following(0, "7770000", "4321", "A2", body, sizeof(body)), 0);
    ck_assert_int_eq(join_following(1, "7770001", "4321", "B1", body, sizeof(body)), 1);
    legs_written(3);

    /* the three nodes in a group that balances: the next new call goes to the node with no
     * legs, though its guest arrived at the busiest */
    ck_assert_int_eq(th_admin_keep(&nodes[0], "POST", "/api/v1/callBridgeGroups",
                                   "name=east&loadBalancingEnabled=true", NULL, 0, loc),
                     200);
    (void)snprintf(group, sizeof(group), "%.36s", strrchr(loc, '/') + 1);
    for (size_t i = 0; i < 3; i++) {
        char form[96];

        bridge_of(names[i], id, sizeof(id));
        (void)snprintf(path, sizeof(path), "/api/v1/callBridges/%s", id);
        (void)snprintf(form, sizeof(form), "callBridgeGroup=%s", group);
        ck_assert_int_eq(th_admin_keep(&nodes[0], "PUT", path, form, NULL, 0, NULL), 200);
    }
    ck_assert_int_eq(join_following(0, "7770002", "4321", "C1", body, sizeof(body)), 2);
    legs_written(4);
    /* and a guest of a running call still goes to its call, wherever it arrives */
    ck_assert_int_eq(join_following(2, "7770000", "4321", "A3", body, sizeof(body)), 0);
    legs_written(5);
    /* loads 3, 1, 1: the tie goes to the node with fewer calls... both have one: the node that
     * registered first */
    ck_assert_int_eq(join_following(0, "7770003", "4321", "D1", body, sizeof(body)), 1);
    ck_assert_int_eq(calls_at(0), 1);
    ck_assert_int_eq(calls_at(1), 2);
    ck_assert_int_eq(calls_at(2), 1);
}
END_TEST

/* ---- media through the hosting node (coturn, scripts/bench/rtcpeer) ----------------------- */

static struct th_coturn co;

/* rtcpeer (beside the daemon under test) as one guest of callId id with its secret, joining at
 * node i for seconds, its summary line to out; its pid. cacert holds both nodes' certificates. */
static pid_t peer_at(size_t i, const char *id, const char *secret, const char *cacert,
                     unsigned seconds, const char *out)
{
    char path[300], url[64], secs[16], *slash;
    pid_t pid;

    (void)snprintf(path, sizeof(path), "%s", th_daemon_path());
    slash = strrchr(path, '/');
    ck_assert_ptr_nonnull(slash);
    (void)snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "rtcpeer");
    ck_assert_msg(access(path, X_OK) == 0, "%s is not built", path);
    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%u", node_port[i]);
    (void)snprintf(secs, sizeof(secs), "%u", seconds);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        const char *argv[] = {"rtcpeer",  "--url",  url,        "--call-id", id,
                              "--secret", secret,   "--cacert", cacert,      "--seconds",
                              secs,       "--json", NULL};
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        (void)dup2(fd, STDOUT_FILENO);
        execv(path, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    return pid;
}

/* Waits (bounded) for rtcpeer pid to exit 0; its summary from out. */
static json_t *peer_done(pid_t pid, const char *out)
{
    char line[65536];
    int status = 0;
    pid_t w = 0;
    json_t *j;
    FILE *f;

    for (int k = 0; k < 300 && w == 0; k++)
        if ((w = waitpid(pid, &status, WNOHANG)) == 0)
            (void)usleep(POLL_MS * 1000);
    if (w == 0) {
        (void)kill(pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
        ck_abort_msg("rtcpeer did not exit within 30 s");
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rtcpeer exited with %d", status);
    f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
    (void)fclose(f);
    j = json_loads(line, 0, NULL);
    ck_assert_msg(j, "not a summary: %s", line);
    return j;
}

/* Packets of kind g received from leg. */
static long long got_from(json_t *g, const char *leg, const char *kind)
{
    json_t *rx = json_object_get(g, "received");
    long long n = 0;

    for (size_t i = 0; i < json_array_size(rx); i++) {
        json_t *s = json_array_get(rx, i);

        if (strcmp(json_string_value(json_object_get(s, "msid")), leg) == 0 &&
            strcmp(json_string_value(json_object_get(s, "kind")), kind) == 0)
            n += json_integer_value(json_object_get(s, "packets"));
    }
    return n;
}

START_TEST(test_media_flows_between_guests_who_arrived_at_two_nodes)
{
    char why[128], form[160], loc[128], body[4096], secret[64], cacert[160], out[2][160];
    char path[160];
    json_t *g[2];
    pid_t pid[2];
    int k;

    memset(&co, 0, sizeof(co));
    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn");
        return;
    }
    th_coturn_start(&co, NULL);
    if (!cluster_up(2))
        return;
    (void)snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
                   co.port);
    ck_assert_int_eq(th_admin_keep(&nodes[0], "POST", "/api/v1/turnServers", form, NULL, 0, loc),
                     200);
    (void)snprintf(path, sizeof(path), "%s/status", loc); /* each waits for its first probe */
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(th_admin_keep(&nodes[i], "GET", path, NULL, body, sizeof(body), NULL),
                         200);
        ck_assert_msg(strstr(body, "<status>success</status>"), "%s: %s", names[i], body);
    }
    ck_assert_int_eq(th_admin_keep(&nodes[0], "POST", "/api/v1/coSpaces",
                                   "name=Media&callId=5550009", NULL, 0, loc),
                     200);
    ck_assert_int_eq(th_admin_keep(&nodes[0], "GET", loc, NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "secret", secret, sizeof(secret));
    /* one file with both nodes' certificates, for the guest that is sent from one to the other */
    (void)snprintf(cacert, sizeof(cacert), "%s/both.pem", nodes[0].dir);
    {
        char cmd[512];

        (void)snprintf(cmd, sizeof(cmd), "cat %s %s > %s", nodes[0].cacert, nodes[1].cacert,
                       cacert);
        ck_assert_int_eq(system(cmd), 0);
    }
    for (size_t i = 0; i < 2; i++)
        (void)snprintf(out[i], sizeof(out[i]), "%s/peer-%zu.out", nodes[0].dir, i);

    pid[0] = peer_at(0, "5550009", secret, cacert, 10, out[0]);
    for (k = 0; k < 100 && calls_at(0) == 0; k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_int_eq(calls_at(0), 1);
    pid[1] = peer_at(1, "5550009", secret, cacert, 6, out[1]); /* arrives at the other node */
    g[1] = peer_done(pid[1], out[1]);
    g[0] = peer_done(pid[0], out[0]);
    /* both were in the first node's call; the second node made none */
    ck_assert_uint_eq(th_log_count(&nodes[1], "sent to node cb-a"), 1);
    ck_assert_uint_eq(th_log_count(&nodes[1], "joined coSpace"), 0);
    ck_assert_uint_eq(th_log_count(&nodes[0], "joined coSpace"), 2);
    for (int i = 0; i < 2; i++) {
        const char *from = json_string_value(json_object_get(g[1 - i], "leg"));

        ck_assert_msg(json_is_true(json_object_get(g[i], "connected")), "guest %d", i);
        ck_assert_int_gt(got_from(g[i], from, "audio"), 50);
        ck_assert_int_gt(got_from(g[i], from, "video"), 50);
    }
    json_decref(g[0]);
    json_decref(g[1]);
}
END_TEST

static void media_teardown(void)
{
    teardown();
    if (co.pid)
        th_coturn_stop(&co);
}

/* ---- the directory's store functions, on two connections as two nodes ------------------- */

static void directory_on(const char *location)
{
    struct store *a = NULL, *b = NULL;
    struct store_call_home c = {.call_id = "11111111-1111-1111-1111-111111111111",
                                .cospace = "22222222-2222-2222-2222-222222222222",
                                .correlator = "11111111-1111-1111-1111-111111111111",
                                .node = "cb-a"},
                           other = c, got;
    struct store_call_leg_home legs[4];
    struct store_handoff h = {.ticket_hash = "ab12",
                              .cospace = "c",
                              .access_method = "",
                              .name = "Ada"},
                         ht;
    size_t n = 9, more = 9;

    ck_assert_int_eq(store_open(location, &a), 0);
    ck_assert_int_eq(store_open(location, &b), 0);
    ck_assert_int_eq(store_call_claim(a, &c), 0);
    /* another node, another call id, the same coSpace: refused by the constraint */
    (void)snprintf(other.call_id, sizeof(other.call_id), "33333333-3333-3333-3333-333333333333");
    (void)snprintf(other.node, sizeof(other.node), "cb-b");
    ck_assert_int_eq(store_call_claim(b, &other), -EEXIST);
    ck_assert_int_eq(store_call_home_get(b, c.cospace, 3, &got), 0);
    ck_assert_str_eq(got.call_id, c.call_id);
    ck_assert_str_eq(got.node, "cb-a");
    ck_assert(!got.node_up); /* no such node registered */
    ck_assert_int_eq(store_call_leg_add(a, "leg-1", c.call_id, "cb-a"), 0);
    ck_assert_int_eq(store_call_leg_add(a, "leg-2", c.call_id, "cb-a"), 0);
    ck_assert_int_eq(store_call_leg_remove(a, "leg-2", "cb-b"), 0); /* not b's: kept */
    /* two nodes take the dead node's call: one has it, with its legs; the other nothing */
    ck_assert_int_eq(store_call_take(b, c.call_id, "cb-a", legs, 4, &n, &more), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(more, 0);
    ck_assert_int_eq(store_call_take(a, c.call_id, "cb-a", legs, 4, &n, &more), -ENOENT);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(store_call_home_get(a, c.cospace, 3, &got), -ENOENT);
    /* the coSpace is free again */
    ck_assert_int_eq(store_call_claim(b, &other), 0);
    ck_assert_int_eq(store_call_release(a, other.call_id, "cb-a"), -ENOENT); /* not a's */
    ck_assert_int_eq(store_call_release_node(b, "cb-b"), 1);
    /* a ticket is taken once */
    ck_assert_int_eq(store_handoff_put(a, &h, 60000), 0);
    ck_assert_int_eq(store_handoff_take(b, "ab12", &ht), 0);
    ck_assert_str_eq(ht.name, "Ada");
    ck_assert_int_eq(store_handoff_take(a, "ab12", &ht), -ENOENT);
    ck_assert_int_eq(store_handoff_put(a, &h, -1000), 0); /* expired */
    ck_assert_int_eq(store_handoff_take(b, "ab12", &ht), -ENOENT);
    store_close(a);
    store_close(b);
}

START_TEST(test_the_directory_on_postgresql)
{
    if (!th_pg_or_skip())
        return;
    memset(nodes, 0, sizeof(nodes));
    th_pg_start(&primary);
    directory_on(primary.url);
}
END_TEST

START_TEST(test_the_directory_on_sqlite)
{
    char dir[64], path[128];

    th_tmpdir(dir);
    (void)snprintf(path, sizeof(path), "%s/t.db", dir);
    directory_on(path);
    th_rmdir(dir);
}
END_TEST

Suite *it_calls_suite(void)
{
    Suite *s = suite_create("it_calls");
    TCase *tc = tcase_create("calls");

    tcase_set_tags(tc, "net pgserver");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_a_guest_at_another_node_is_sent_to_the_call);
    tcase_add_test(tc, test_two_guests_at_two_nodes_at_once_make_one_call);
    tcase_add_test(tc, test_a_call_that_ended_leaves_the_directory);
    tcase_add_test(tc,
                   test_a_killed_nodes_calls_end_once_with_cdrs_and_its_guests_rejoin_elsewhere);
    tcase_add_test(tc, test_each_cdr_is_sent_once_by_its_node_in_its_order);
    tcase_add_test(tc, test_a_balancing_group_places_a_new_call_on_its_least_loaded_node);
    suite_add_tcase(s, tc);
    tc = tcase_create("media");
    tcase_set_tags(tc, "net pgserver");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, media_teardown);
    tcase_add_test(tc, test_media_flows_between_guests_who_arrived_at_two_nodes);
    suite_add_tcase(s, tc);
    tc = tcase_create("directory");
    tcase_set_tags(tc, "pgserver");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_the_directory_on_postgresql);
    tcase_add_test(tc, test_the_directory_on_sqlite);
    suite_add_tcase(s, tc);
    return s;
}
