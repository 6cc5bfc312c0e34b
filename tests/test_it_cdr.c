/* tests/test_it_cdr.c: call detail records against a real HTTP receiver: a plain HTTP server
 * thread of this test on a free loopback port that records every POST body. A call with legs
 * gives callStart, callLegStart, callLegUpdate, callLegEnd and callEnd in order with consistent
 * correlators and durations; a receiver closed in the middle of calls and opened again gets
 * every record afterwards, in order, once; a restart of callbridged with records pending
 * delivers them; calls in progress when callbridged stops get their ends, delivered after the
 * restart; a leg whose media fails ends with mediaFailure; a guest who joins through the
 * join page and leaves is a guest connection that ends with remoteTeardown, and its call with it;
 * /system/cdrReceivers follows the API conventions. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "tests/suites.h"

/* ---- the receiver ------------------------------------------------------------------------- */

struct receiver {
    unsigned short port;
    int fd, wake[2];
    pthread_t thread;
    pthread_mutex_t lock;
    char *bodies; /* every body received, each followed by '\n' */
    size_t len, posts;
};

static struct receiver rcv = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};
static struct th_daemon d;

/* Reads one request on c and keeps its body; answers 200 and closes. */
static void serve_one(struct receiver *r, int c)
{
    static char buf[1 << 20];
    size_t head, len;

    if (th_http_read_request(c, buf, sizeof(buf), &head, &len)) {
        pthread_mutex_lock(&r->lock);
        r->bodies = realloc(r->bodies, r->len + len + 2);
        ck_assert_ptr_nonnull(r->bodies);
        memcpy(r->bodies + r->len, buf + head, len);
        r->len += len;
        r->bodies[r->len++] = '\n';
        r->bodies[r->len] = '\0';
        r->posts++;
        pthread_mutex_unlock(&r->lock);
        (void)!write(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 57);
    }
    (void)close(c);
}

static void *serve(void *arg)
{
    struct receiver *r = arg;
    struct pollfd p[2] = {{.fd = r->fd, .events = POLLIN}, {.fd = r->wake[0], .events = POLLIN}};

    while (poll(p, 2, -1) > 0 && !(p[1].revents & POLLIN)) {
        int c = accept(r->fd, NULL, NULL);

        if (c >= 0)
            serve_one(r, c);
    }
    return NULL;
}

/* Opens the receiver on its port (a free one the first time). */
static void receiver_open(struct receiver *r)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;

    if (!r->port)
        r->port = th_free_port();
    a.sin_port = htons(r->port);
    r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(r->fd, 0);
    ck_assert_int_eq(setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    ck_assert_int_eq(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(r->fd, 16), 0);
    ck_assert_int_eq(pipe(r->wake), 0);
    ck_assert_int_eq(pthread_create(&r->thread, NULL, serve, r), 0);
}

/* Closes it: connections are refused until it opens again. */
static void receiver_close(struct receiver *r)
{
    if (r->fd < 0)
        return;
    (void)!write(r->wake[1], "x", 1);
    pthread_join(r->thread, NULL);
    (void)close(r->fd);
    (void)close(r->wake[0]);
    (void)close(r->wake[1]);
    r->fd = -1;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Waits (at most timeout_s) until the receiver has n occurrences of needle. */
static bool wait_for(const char *needle, size_t n, int timeout_s)
{
    for (int i = 0; i < timeout_s * 20; i++) {
        size_t have;

        pthread_mutex_lock(&rcv.lock);
        have = rcv.bodies ? count_of(rcv.bodies, needle) : 0;
        pthread_mutex_unlock(&rcv.lock);
        if (have >= n)
            return true;
        (void)usleep(50000);
    }
    return false;
}

/* One record as received. */
struct rec {
    char type[24], id[40], call[40], reason[32];
    long index, correlator, duration, completed, max_active;
};

static void attr(const char *p, const char *name, char *out, size_t cap)
{
    const char *a = strstr(p, name), *q;

    out[0] = '\0';
    if (!a || (q = strchr(a + strlen(name), '"'), !q))
        return;
    (void)snprintf(out, cap, "%.*s", (int)(q - a - strlen(name)), a + strlen(name));
}

static long num_in(const char *p, const char *end, const char *el)
{
    char open[48];
    const char *v;

    (void)snprintf(open, sizeof(open), "<%s>", el);
    v = strstr(p, open);
    return v && v < end ? strtol(v + strlen(open), NULL, 10) : -1;
}

static void text_in(const char *p, const char *end, const char *el, char *out, size_t cap)
{
    char open[48];
    const char *v, *e;

    out[0] = '\0';
    (void)snprintf(open, sizeof(open), "<%s>", el);
    v = strstr(p, open);
    if (v && v < end && (e = strchr(v + strlen(open), '<')))
        (void)snprintf(out, cap, "%.*s", (int)(e - v - strlen(open)), v + strlen(open));
}

/* Every record received, in the order received; returns how many (at most cap). */
static size_t records(struct rec *out, size_t cap)
{
    size_t n = 0;
    char v[40];

    pthread_mutex_lock(&rcv.lock);
    for (const char *p = rcv.bodies; p && n < cap && (p = strstr(p, "<record type=\""));) {
        const char *end = strstr(p, "</record>");
        struct rec *r = &out[n++];

        ck_assert_ptr_nonnull(end);
        memset(r, 0, sizeof(*r));
        attr(p, "type=\"", r->type, sizeof(r->type));
        attr(p, "recordIndex=\"", v, sizeof(v));
        r->index = strtol(v, NULL, 10);
        attr(p, "correlatorIndex=\"", v, sizeof(v));
        r->correlator = strtol(v, NULL, 10);
        attr(strchr(p + 1, '<'), "id=\"", r->id, sizeof(r->id));
        text_in(p, end, "call", r->call, sizeof(r->call));
        text_in(p, end, "reason", r->reason, sizeof(r->reason));
        r->duration = num_in(p, end, "durationSeconds");
        r->completed = num_in(p, end, "callLegsCompleted");
        r->max_active = num_in(p, end, "callLegsMaxActive");
        p = end;
    }
    pthread_mutex_unlock(&rcv.lock);
    return n;
}

/* ---- the daemon --------------------------------------------------------------------------- */

/* A fresh receiver (nothing received, a new port) and a daemon started with args. */
static void start_with(const char *const *args)
{
    memset(&d, 0, sizeof(d));
    free(rcv.bodies);
    rcv.bodies = NULL;
    rcv.len = rcv.posts = 0;
    rcv.port = 0;
    th_daemon_start(&d, "0", args);
}

static void start(void)
{
    start_with(NULL);
}

static void stop(void)
{
    receiver_close(&rcv);
    /* a clean exit: under ASan a leak or an error of the sender would make it fail */
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    th_daemon_destroy(&d);
}

static void post(const char *path, const char *form, char *ret_id)
{
    struct th_resp r;

    th_admin(&d, "POST", path, form, &r);
    ck_assert_msg(r.status == 200, "POST %s %s: %ld %s", path, form, r.status,
                  r.body ? r.body : "");
    if (ret_id)
        (void)snprintf(ret_id, 40, "%s", th_location_id(&r));
    th_resp_free(&r);
}

static long del(const char *path)
{
    struct th_resp r;
    long s;

    th_admin(&d, "DELETE", path, NULL, &r);
    s = r.status;
    th_resp_free(&r);
    return s;
}

static void add_receiver(char *ret_id)
{
    char form[80];

    (void)snprintf(form, sizeof(form), "uri=http://127.0.0.1:%u/cdr", rcv.port);
    post("/api/v1/system/cdrReceivers", form, ret_id);
}

/* A call with n legs that connect: incoming ones, placed by the call matching (a leg dialled
 * out through /calls/<id>/callLegs cannot be placed here and never connects). */
static void make_call(int n, char call[40], char legs[][40])
{
    static int made;
    char space[40], form[160];
    int k = ++made;

    (void)snprintf(form, sizeof(form), "domain=cdr%d.example", k);
    post("/api/v1/inboundDialPlanRules", form, NULL);
    (void)snprintf(form, sizeof(form), "name=cdr&uri=cdr%d.room", k);
    post("/api/v1/coSpaces", form, space);
    (void)snprintf(form, sizeof(form), "coSpace=%s", space);
    post("/api/v1/calls", form, call);
    for (int i = 0; i < n; i++) {
        (void)snprintf(form, sizeof(form),
                       "destination=cdr%d.room@cdr%d.example&remoteParty=party%d@example.com", k, k,
                       i);
        post("/api/v1/callLegs", form, legs[i]);
    }
}

static void end_call(const char *call)
{
    char path[96];

    (void)snprintf(path, sizeof(path), "/api/v1/calls/%s", call);
    ck_assert_int_eq(del(path), 200);
}

/* recordIndex goes up by one from the first record to the last: none lost, none twice. */
static void assert_consecutive(const struct rec *r, size_t n)
{
    for (size_t i = 1; i < n; i++)
        ck_assert_msg(r[i].index == r[i - 1].index + 1, "record %zu: index %ld after %ld", i,
                      r[i].index, r[i - 1].index);
}

/* ---- tests -------------------------------------------------------------------------------- */

START_TEST(test_call_records_in_order)
{
    char rid[40], call[40], legs[2][40], path[96];
    struct rec r[16];
    static const char *const types[] = {"callStart",    "callLegStart",  "callLegUpdate",
                                        "callLegStart", "callLegUpdate", "callLegEnd",
                                        "callLegEnd",   "callEnd"};
    size_t n;

    receiver_open(&rcv);
    add_receiver(rid);
    make_call(2, call, legs);
    (void)usleep(1100000); /* the first leg lasts a second */
    (void)snprintf(path, sizeof(path), "/api/v1/callLegs/%s", legs[0]);
    ck_assert_int_eq(del(path), 200);
    end_call(call);
    ck_assert_msg(wait_for("type=\"callEnd\"", 1, 10), "no callEnd within 10 s");
    n = records(r, 16);
    ck_assert_uint_eq(n, 8);
    assert_consecutive(r, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(r[i].type, types[i]);
        ck_assert_int_eq(r[i].correlator, (long)i); /* the call's own sequence */
    }
    ck_assert_str_eq(r[0].id, call);
    ck_assert_str_eq(r[7].id, call);
    ck_assert_str_eq(r[1].id, legs[0]);
    ck_assert_str_eq(r[1].call, call);
    ck_assert_str_eq(r[2].id, legs[0]);
    ck_assert_str_eq(r[3].id, legs[1]);
    ck_assert_str_eq(r[5].id, legs[0]);
    ck_assert_str_eq(r[6].id, legs[1]);
    ck_assert_str_eq(r[5].reason, "localTeardown");
    ck_assert_int_ge(r[5].duration, 1);
    ck_assert_int_le(r[5].duration, 5);
    ck_assert_int_eq(r[7].completed, 2);
    ck_assert_int_eq(r[7].max_active, 2);
    ck_assert_int_ge(r[7].duration, r[5].duration);
    pthread_mutex_lock(&rcv.lock);
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<records session=\""));
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<remoteParty>party0@example.com</remoteParty>"));
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<state>connected</state>"));
    /* one declaration per body: the records inside have none */
    ck_assert_uint_eq(count_of(rcv.bodies, "<?xml"), rcv.posts);
    ck_assert_uint_eq(count_of(rcv.bodies, "</records>"), rcv.posts);
    pthread_mutex_unlock(&rcv.lock);
}
END_TEST

/* Reads GET of the receiver into out. */
static void get_receiver(const char *rid, char *out, size_t cap)
{
    char path[96];

    (void)snprintf(path, sizeof(path), "/api/v1/system/cdrReceivers/%s", rid);
    ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, out, cap, NULL), 200);
}

START_TEST(test_receiver_down_then_back_gets_everything_once)
{
    char rid[40], call[40], legs[1][40], body[2048], text[32];
    struct rec r[64];
    size_t n;

    receiver_open(&rcv);
    add_receiver(rid);
    make_call(1, call, legs);
    ck_assert(wait_for("type=\"callLegUpdate\"", 1, 10));
    receiver_close(&rcv); /* in the middle of a call */
    end_call(call);
    for (int i = 0; i < 3; i++) {
        make_call(1, call, legs);
        end_call(call);
    }
    /* the sender notices, says so, and holds the records */
    for (int i = 0; i < 100; i++) {
        get_receiver(rid, body, sizeof(body));
        th_xml_text(body, "recordsPending", text, sizeof(text));
        if (strstr(body, "<alarm>true</alarm>") && atoi(text) == 2 + 3 * 5)
            break;
        (void)usleep(100000);
    }
    ck_assert_msg(strstr(body, "<alarm>true</alarm>"), "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<lastFailureReason>"));
    ck_assert_int_eq(atoi(text), 2 + 3 * 5);
    {
        static char metrics[65536];

        for (int i = 0; i < 120; i++) { /* the next attempt, after its backoff, counts them */
            ck_assert_int_eq(
                th_admin_keep(&d, "GET", "/metrics", NULL, metrics, sizeof(metrics), NULL), 200);
            if (th_metric(metrics, "callbridge_cdr_records_pending", NULL) == 17)
                break;
            (void)usleep(100000);
        }
        ck_assert_double_eq(th_metric(metrics, "callbridge_cdr_receivers_failing", NULL), 1);
        ck_assert_double_eq(th_metric(metrics, "callbridge_cdr_records_pending", NULL), 17);
    }
    { /* the system alarms name it (polled by the alarm watch every 5 s, and on each GET) */
        static char alarms[16384];

        for (int i = 0; i < 120; i++) {
            ck_assert_int_eq(th_admin_keep(&d, "GET", "/api/v1/system/alarms", NULL, alarms,
                                           sizeof(alarms), NULL),
                             200);
            if (strstr(alarms, "cdrConnectionFailure") && strstr(alarms, rid))
                break;
            (void)usleep(100000);
        }
        ck_assert_msg(strstr(alarms, "cdrConnectionFailure") && strstr(alarms, rid), "%s", alarms);
    }
    (void)sleep(2); /* down for a while: the sender backs off */
    receiver_open(&rcv);
    ck_assert_msg(wait_for("type=\"callEnd\"", 4, 20), "not every callEnd within 20 s");
    n = records(r, 64);
    ck_assert_uint_eq(n, 3 + 2 + 3 * 5); /* nothing lost, nothing twice */
    assert_consecutive(r, n);
    ck_assert_str_eq(r[n - 1].type, "callEnd");
    for (int i = 0; i < 50; i++) { /* the state follows */
        get_receiver(rid, body, sizeof(body));
        if (strstr(body, "<alarm>false</alarm>"))
            break;
        (void)usleep(100000);
    }
    ck_assert_msg(strstr(body, "<alarm>false</alarm>"), "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<recordsPending>0</recordsPending>"));
    ck_assert_ptr_nonnull(strstr(body, "<lastSuccess>"));
}
END_TEST

START_TEST(test_restart_delivers_pending_records)
{
    char rid[40], call[40], legs[1][40], body[2048], text[32];
    struct rec r[32];
    size_t n;

    receiver_open(&rcv);
    add_receiver(rid);
    receiver_close(&rcv);
    make_call(1, call, legs);
    end_call(call);
    for (int i = 0; i < 100; i++) {
        get_receiver(rid, body, sizeof(body));
        th_xml_text(body, "recordsPending", text, sizeof(text));
        if (atoi(text) == 5)
            break;
        (void)usleep(100000);
    }
    ck_assert_int_eq(atoi(text), 5);
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    receiver_open(&rcv);
    th_daemon_start(&d, "0", NULL); /* the same data directory */
    ck_assert_msg(wait_for("type=\"callEnd\"", 1, 10), "pending records not delivered");
    n = records(r, 32);
    ck_assert_uint_eq(n, 5);
    assert_consecutive(r, n);
    ck_assert_str_eq(r[0].type, "callStart");
}
END_TEST

/* SIGTERM with a call of two legs in progress and the receiver down: the legs' callLegEnd and
 * the call's callEnd are in the outbox when the process exits, and the next start delivers them
 * after the records the receiver already had. */
START_TEST(test_stop_ends_calls_in_progress)
{
    char rid[40], call[40], legs[2][40];
    struct rec r[16];
    size_t n;

    receiver_open(&rcv);
    add_receiver(rid);
    make_call(2, call, legs);
    ck_assert_msg(wait_for("type=\"callLegUpdate\"", 2, 10), "the call's records did not come");
    (void)usleep(1100000); /* the call lasts a second */
    receiver_close(&rcv);
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    receiver_open(&rcv);
    th_daemon_start(&d, "0", NULL); /* the same data directory */
    ck_assert_msg(wait_for("type=\"callEnd\"", 1, 10), "no callEnd after the restart");
    n = records(r, 16);
    ck_assert_uint_eq(n, 8);
    assert_consecutive(r, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(r[i].correlator, (long)i);
    ck_assert_str_eq(r[5].type, "callLegEnd");
    ck_assert_str_eq(r[6].type, "callLegEnd");
    ck_assert(strcmp(r[5].id, legs[0]) == 0 || strcmp(r[5].id, legs[1]) == 0);
    ck_assert(strcmp(r[6].id, legs[0]) == 0 || strcmp(r[6].id, legs[1]) == 0);
    ck_assert_str_ne(r[5].id, r[6].id);
    ck_assert_str_eq(r[5].reason, "localTeardown");
    ck_assert_str_eq(r[6].reason, "localTeardown");
    ck_assert_int_ge(r[5].duration, 1);
    ck_assert_str_eq(r[7].type, "callEnd");
    ck_assert_str_eq(r[7].id, call);
    ck_assert_int_eq(r[7].completed, 2);
    ck_assert_int_eq(r[7].max_active, 2);
    ck_assert_int_ge(r[7].duration, 1);
    pthread_mutex_lock(&rcv.lock);
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<remoteTeardown>false</remoteTeardown>"));
    pthread_mutex_unlock(&rcv.lock);
}
END_TEST

/* A leg with media and no TURN server to anchor it: the media thread fails it, and its end
 * says so. */
START_TEST(test_failed_media_leg_ends_with_media_failure)
{
    char rid[40], call[40], space[40], form[96], path[96], leg[40], body[4096];
    unsigned short port;
    int fd = th_udp_endpoint(&port);
    struct rec r[16];
    size_t n;

    receiver_open(&rcv);
    add_receiver(rid);
    post("/api/v1/coSpaces", "name=media", space);
    (void)snprintf(form, sizeof(form), "coSpace=%s", space);
    post("/api/v1/calls", form, call);
    (void)snprintf(path, sizeof(path), "/api/v1/calls/%s/callLegs", call);
    (void)snprintf(form, sizeof(form),
                   "remoteParty=rtp@example.com&remoteMediaAddress=127.0.0.1:%u", port);
    post(path, form, leg);
    (void)snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg);
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, body, sizeof(body), NULL), 200);
        if (strstr(body, "<state>failed</state>"))
            break;
        (void)usleep(100000);
    }
    ck_assert_msg(strstr(body, "<state>failed</state>"), "%s", body);
    (void)usleep(500000); /* the sender looks every 100 ms */
    ck_assert_int_eq(del(path), 200);
    end_call(call);
    (void)close(fd);
    ck_assert(wait_for("type=\"callEnd\"", 1, 10));
    n = records(r, 16);
    ck_assert_uint_eq(n, 4); /* never connected: no callLegUpdate */
    ck_assert_str_eq(r[1].type, "callLegStart");
    ck_assert_str_eq(r[2].type, "callLegEnd");
    ck_assert_str_eq(r[2].reason, "mediaFailure");
    pthread_mutex_lock(&rcv.lock);
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<mediaFailureReason>"));
    pthread_mutex_unlock(&rcv.lock);
}
END_TEST

static void expect(const char *method, const char *path, const char *form, long status,
                   const char *body)
{
    char out[1024];

    ck_assert_int_eq(th_admin_keep(&d, method, path, form, out, sizeof(out), NULL), status);
    if (body)
        ck_assert_str_eq(out, body);
}

#define FAIL(x) "<?xml version=\"1.0\"?><failureDetails><" x " /></failureDetails>"

START_TEST(test_receivers_api)
{
    char ids[4][40], path[96], loc[128], out[1024];

    ck_assert_int_eq(
        th_admin_keep(&d, "GET", "/api/v1/system/cdrReceivers?", NULL, out, sizeof(out), NULL),
        200);
    ck_assert_msg(strstr(out, "<cdrReceivers total=\"0\" maximum=\"4\""), "%s", out);
    for (int i = 0; i < 4; i++) {
        char form[64];

        (void)snprintf(form, sizeof(form), "uri=https://cdr%d.example.com/cdr", i);
        ck_assert_int_eq(
            th_admin_keep(&d, "POST", "/api/v1/system/cdrReceivers", form, NULL, 0, loc), 200);
        ck_assert_int_eq(strncmp(loc, "/api/v1/system/cdrReceivers/", 28), 0);
        (void)snprintf(ids[i], sizeof(ids[i]), "%.36s", loc + 28);
    }
    expect("POST", "/api/v1/system/cdrReceivers", "uri=http://x.example.com/", 400,
           FAIL("tooManyCdrReceivers"));
    ck_assert_int_eq(
        th_admin_keep(&d, "GET", "/api/v1/system/cdrReceivers", NULL, out, sizeof(out), NULL), 200);
    ck_assert_ptr_nonnull(strstr(out, "<cdrReceivers total=\"4\" maximum=\"4\">"));
    ck_assert_ptr_nonnull(strstr(out, "<uri>https://cdr3.example.com/cdr</uri>"));
    (void)snprintf(path, sizeof(path), "/api/v1/system/cdrReceivers/%s", ids[0]);
    expect("PUT", path, "uri=ftp://x.example.com/", 400,
           "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"uri\" "
           "error=\"invalidValue\" /></failureDetails>");
    expect("PUT", path, "uri=http://moved.example.com:8444/cdr", 200, NULL);
    ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, out, sizeof(out), NULL), 200);
    ck_assert_ptr_nonnull(strstr(out, "<uri>http://moved.example.com:8444/cdr</uri>"));
    expect("DELETE", path, NULL, 200, NULL);
    expect("GET", path, NULL, 404, FAIL("cdrReceiverDoesNotExist"));
    expect("PUT", path, "uri=http://a.example.com/", 404, FAIL("cdrReceiverDoesNotExist"));
    expect("DELETE", path, NULL, 404, FAIL("cdrReceiverDoesNotExist"));
    expect("POST", path, NULL, 405, NULL);
    expect("GET", "/api/v1/system/cdrReceivers/x/y", NULL, 404, FAIL("unrecognizedObject"));
    expect("POST", "/api/v1/system/cdrReceivers", "uri=notaurl", 400, NULL);
    /* the Postman collection's spelling */
    ck_assert_int_eq(th_admin_keep(&d, "POST", "/api/v1/system/cdrReceivers",
                                   "url=http://postman.example.com/cdr", NULL, 0, loc),
                     200);
    ck_assert_int_eq(th_admin_keep(&d, "GET", loc, NULL, out, sizeof(out), NULL), 200);
    ck_assert_ptr_nonnull(strstr(out, "<uri>http://postman.example.com/cdr</uri>"));
    expect("PUT", loc, "url=gopher://x", 400,
           "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"url\" "
           "error=\"invalidValue\" /></failureDetails>");
    expect("PUT", loc, "url=", 200, NULL); /* kept, without a uri */
    ck_assert_int_eq(th_admin_keep(&d, "GET", loc, NULL, out, sizeof(out), NULL), 200);
    ck_assert_ptr_null(strstr(out, "<uri>"));
    expect("POST", "/api/v1/system/cdrReceivers", "uri=http://back.example.com/", 400,
           FAIL("tooManyCdrReceivers"));
}
END_TEST

/* ---- a guest through the join page (a host candidate: no TURN server needed) -------------- */

static void start_host(void)
{
    /* a guest that never answers its offer is failed after 2 s */
    static const char *const args[] = {"--host-candidate", "127.0.0.1", "--guest-timeout", "2",
                                       NULL};

    start_with(args);
}

/* The guest interface's JSON answer to a POST. */
static void guest_post(const char *path, const char *json, char *session)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    struct th_resp r;
    const char *p;

    th_http(&d, d.ports[0], "POST", path, NULL, NULL, hdr, json, strlen(json), &r);
    ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body ? r.body : "");
    if (session) {
        p = strstr(r.body, "\"session\":\"");
        ck_assert_ptr_nonnull(p);
        (void)snprintf(session, 64, "%.*s", (int)strcspn(p + 11, "\""), p + 11);
    }
    th_resp_free(&r);
}

/* With a receiver: a coSpace with call_id, and a guest called name joins it through the join
 * page; its session into session (64 bytes). */
static void guest_joins(const char *call_id, const char *name, char *session)
{
    char rid[40], form[64], loc[128], body[4096], secret[64], json[256];

    receiver_open(&rcv);
    add_receiver(rid);
    (void)snprintf(form, sizeof(form), "name=Room&callId=%s", call_id);
    ck_assert_int_eq(th_admin_keep(&d, "POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    ck_assert_int_eq(th_admin_keep(&d, "GET", loc, NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "secret", secret, sizeof(secret));
    (void)snprintf(json, sizeof(json), "{\"callId\":\"%s\",\"secret\":\"%s\",\"name\":\"%s\"}",
                   call_id, secret, name);
    guest_post("/meeting/api/join", json, session);
}

START_TEST(test_a_guest_who_leaves)
{
    char json[256], session[64];
    struct rec r[16];
    size_t n;

    guest_joins("777111", "Ada <Lovelace>", session);
    (void)snprintf(json, sizeof(json), "{\"session\":\"%s\"}", session);
    guest_post("/meeting/api/leave", json, NULL);
    ck_assert_msg(wait_for("type=\"callEnd\"", 1, 10), "no callEnd: the call ends with its guest");
    n = records(r, 16);
    ck_assert_uint_eq(n, 4); /* the browser never connected: no callLegUpdate */
    ck_assert_str_eq(r[0].type, "callStart");
    ck_assert_str_eq(r[1].type, "callLegStart");
    ck_assert_str_eq(r[2].type, "callLegEnd");
    ck_assert_str_eq(r[2].reason, "remoteTeardown");
    ck_assert_str_eq(r[3].type, "callEnd");
    ck_assert_int_eq(r[3].completed, 1);
    pthread_mutex_lock(&rcv.lock);
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<displayName>Ada &lt;Lovelace&gt;</displayName>"));
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<guestConnection>true</guestConnection>"));
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<subType>webApp</subType>"));
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<remoteTeardown>true</remoteTeardown>"));
    pthread_mutex_unlock(&rcv.lock);
}
END_TEST

START_TEST(test_a_silent_guest_ends_with_media_failure)
{
    char session[64];
    struct rec r[16];
    size_t n;

    guest_joins("777222", "Silent", session);
    ck_assert_msg(wait_for("type=\"callEnd\"", 1, 15), "the silent guest was not failed");
    n = records(r, 16);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(r[2].type, "callLegEnd");
    ck_assert_str_eq(r[2].reason, "mediaFailure");
    pthread_mutex_lock(&rcv.lock);
    ck_assert_msg(strstr(rcv.bodies, "<mediaFailureReason>signallingFailed"), "%s", rcv.bodies);
    ck_assert_ptr_nonnull(strstr(rcv.bodies, "<remoteTeardown>false</remoteTeardown>"));
    pthread_mutex_unlock(&rcv.lock);
}
END_TEST

/* ---- a leg anchored on a TURN server: its state comes from the media thread ---------------- */

static struct th_coturn co;
/* between callbridged and coturn: slow, so that connecting takes a while */
static struct th_relay relay;

static void start_turn(void)
{
    char why[256];

    memset(&d, 0, sizeof(d));
    free(rcv.bodies);
    rcv.bodies = NULL;
    rcv.len = rcv.posts = 0;
    rcv.port = 0;
    th_daemon_coturn_start(&d, &co, why, sizeof(why));
}

static void stop_turn(void)
{
    if (relay.port)
        th_relay_stop(&relay);
    memset(&relay, 0, sizeof(relay));
    receiver_close(&rcv);
    th_daemon_coturn_stop(&d, &co); /* the daemon must exit cleanly */
}

/* The media thread tells the sender when a leg's state changes: the callLegUpdate of an RTP leg
 * that connects on coturn comes with no other event to wake the sender. coturn is reached through
 * a relay that holds each datagram 150 ms, so the leg is still connecting when the sender first
 * looks at it (as its start is recorded): only the media thread's word can bring the update. */
START_TEST(test_media_states_come_from_the_media_thread)
{
    char rid[40], call[40], space[40], form[128], path[96], leg[40], body[4096];
    unsigned short port;
    struct sockaddr_in relayed;
    int fd = th_udp_endpoint(&port);

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        (void)close(fd);
        return;
    }
    receiver_open(&rcv);
    add_receiver(rid);
    th_relay_start(&relay, co.port, 150000);
    (void)snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
                   relay.port);
    post("/api/v1/turnServers", form, leg);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status", leg);
    ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body); /* probed: reachable */
    post("/api/v1/coSpaces", "name=turn", space);
    (void)snprintf(form, sizeof(form), "coSpace=%s", space);
    post("/api/v1/calls", form, call);
    (void)snprintf(path, sizeof(path), "/api/v1/calls/%s/callLegs", call);
    (void)snprintf(form, sizeof(form),
                   "remoteParty=rtp@example.com&remoteMediaAddress=127.0.0.1:%u", port);
    post(path, form, leg);
    (void)snprintf(path, sizeof(path), "/api/v1/callLegs/%s", leg);
    th_leg_wait_connected(&d, path, &relayed);
    ck_assert_msg(wait_for("<state>connected</state>", 1, 10),
                  "no callLegUpdate for the connected leg within 10 s");
    (void)close(fd);
    ck_assert_int_eq(del(path), 200);
    end_call(call);
    ck_assert(wait_for("type=\"callEnd\"", 1, 10));
}
END_TEST

Suite *it_cdr_suite(void)
{
    Suite *s = suite_create("it_cdr");
    TCase *tc = tcase_create("cdr");

    tcase_add_checked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_call_records_in_order);
    tcase_add_test(tc, test_receiver_down_then_back_gets_everything_once);
    tcase_add_test(tc, test_restart_delivers_pending_records);
    tcase_add_test(tc, test_stop_ends_calls_in_progress);
    tcase_add_test(tc, test_receivers_api);
    tcase_add_test(tc, test_failed_media_leg_ends_with_media_failure);
    suite_add_tcase(s, tc);

    tc = tcase_create("guest");
    tcase_add_checked_fixture(tc, start_host, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_a_guest_who_leaves);
    tcase_add_test(tc, test_a_silent_guest_ends_with_media_failure);
    suite_add_tcase(s, tc);

    tc = tcase_create("turn");
    tcase_add_checked_fixture(tc, start_turn, stop_turn);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_media_states_come_from_the_media_thread);
    suite_add_tcase(s, tc);
    return s;
}
