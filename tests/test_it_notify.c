/* tests/test_it_notify.c: several callbridged nodes on one PostgreSQL database (issue 16): a
 * write through one node is seen through another at once (list pages, objects) and reaches its
 * long-lived state (the prober's TURN servers, the legs' call leg profiles, the CDR receivers);
 * the primary lost: reads from the replica, writes 503 databaseNotReady, and after the
 * replica's promotion writes again on the same daemon with nothing acknowledged lost
 * (synchronous replication), each acknowledged write read back by its id and value. Real
 * servers throughout: PostgreSQL (tests/pg_server.h), coturn, callbridged. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/res/cache.h"
#include "store/pg/pg.h"
#include "tests/cluster_helpers.h"
#include "tests/helpers.h"
#include "tests/pg_server.h"
#include "tests/suites.h"

static char scratch[4096]; /* answers the tests do not look at */

static int64_t mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GETs d's /metrics until the series has the value want, at most 10 s (100 polls: a probe on
 * loopback takes milliseconds, a node hears of another's write in one round trip); returns the
 * last value read (-1: the series absent). */
static double metric_becomes(const struct th_daemon *d, const char *series, double want)
{
    double v = -1;

    for (int i = 0; i < 100; i++) {
        struct th_resp r;

        th_admin(d, "GET", "/metrics", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        v = th_metric(r.body, series, NULL);
        th_resp_free(&r);
        if (v == want)
            break;
        (void)usleep(100 * 1000);
    }
    return v;
}

/* Starts node a, then node b on the same database with a's key (th_cluster_node_start). */
static void start_two(struct th_daemon *a, struct th_daemon *b, const char *url,
                      const char *const *more)
{
    (void)unsetenv("CB_TEST_PG"); /* these daemons get the database the test gives them */
    memset(a, 0, sizeof(*a));
    memset(b, 0, sizeof(*b));
    th_cluster_node_start(a, a, url, "node-a", NULL, "0", more);
    th_cluster_node_start(b, a, url, "node-b", NULL, "0", more);
}

/* GET path (under /api/v1) on d, asserting 200, into body. */
static void get(const struct th_daemon *d, const char *path, char *body, size_t cap)
{
    (void)th_api_v1(d, "GET", path, NULL, 200, body, cap);
}

/* ---- planner statistics after a bulk write ---------------------------------------------- */

/* A coSpaceBulkSync leaves PostgreSQL's statistics current (store_analyze): without the ANALYZE
 * the next sync ran against plans made while the table was empty (5,000 spaces: 42 s instead
 * of 8 s in a measurement). Checked by what the server records: a manual ANALYZE of cospace
 * that counted the sync's rows. */
START_TEST(test_a_bulk_sync_leaves_the_statistics_current)
{
    char page[512], form[256], set[40], out[128];
    struct th_daemon a, b;
    struct th_pg pg;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&pg);
    start_two(&a, &b, pg.url, NULL);
    ck_assert_int_eq(th_pg_sql(&pg, "callbridge",
                               "SELECT last_analyze IS NULL FROM pg_stat_user_tables "
                               "WHERE relname = 'cospace'",
                               out, sizeof(out)),
                     0);
    ck_assert_str_eq(out, "t");
    (void)snprintf(form, sizeof(form),
                   "startIndex=100&endIndex=399&coSpaceUriMapping=bulk.$index$"
                   "&coSpaceCallIdMapping=$index$");
    (void)snprintf(
        set, sizeof(set), "%s",
        th_api_v1(&a, "POST", "coSpaceBulkParameterSets", form, 200, page, sizeof(page)));
    (void)snprintf(form, sizeof(form), "cospaceBulkParameterSet=%s", set);
    (void)th_api_v1(&a, "POST", "coSpaceBulkSyncs", form, 200, page, sizeof(page));
    get(&b, "coSpaces?limit=1", page, sizeof(page));
    ck_assert_ptr_nonnull(strstr(page, "total=\"300\""));
    ck_assert_int_eq(th_pg_sql(&pg, "callbridge",
                               "SELECT s.last_analyze IS NOT NULL, c.reltuples FROM "
                               "pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                               "WHERE s.relname = 'cospace'",
                               out, sizeof(out)),
                     0);
    ck_assert_str_eq(out, "t|300"); /* analyzed with the sync's own rows counted */
    ck_assert_int_eq(th_daemon_stop(&a), 0);
    ck_assert_int_eq(th_daemon_stop(&b), 0);
    th_rmdir(a.dir);
    th_rmdir(b.dir);
    th_pg_stop(&pg);
}
END_TEST

/* ---- a write on one node, read on the other at once -------------------------------------- */

/* For many rounds: B's list page is cached (read twice), A writes, and B's very next GET of the
 * list and of the object shows the write. Without the change mark B answers the list from its
 * cache (the page from before A's write). */
START_TEST(test_a_write_on_one_node_is_read_on_the_other_at_once)
{
    static char body[256 * 1024];
    struct th_daemon a, b;
    struct th_pg pg;
    char path[96], form[160], want[96], id[40];
    enum { ROUNDS = 40 };

    if (!th_pg_or_skip())
        return;
    th_pg_start(&pg);
    start_two(&a, &b, pg.url, NULL);
    for (int i = 0; i < ROUNDS; i++) {
        get(&b, "coSpaces?limit=1000", body, sizeof(body));
        get(&b, "coSpaces?limit=1000", body, sizeof(body)); /* now from B's cache */
        (void)snprintf(form, sizeof(form), "name=room%d&uri=room%d&callId=%d", i, i, 70000 + i);
        (void)snprintf(id, sizeof(id), "%s",
                       th_api_v1(&a, "POST", "coSpaces", form, 200, scratch, sizeof(scratch)));
        ck_assert_str_ne(id, "");
        get(&b, "coSpaces?limit=1000", body, sizeof(body));
        (void)snprintf(want, sizeof(want), "<coSpace id=\"%s\">", id);
        ck_assert_msg(strstr(body, want), "round %d: B's list misses A's new coSpace", i);
        (void)snprintf(want, sizeof(want), "<coSpaces total=\"%d\">", i + 1);
        ck_assert_msg(strstr(body, want), "round %d: B's list: %.200s", i, body);
        /* another page of the same list: its total (from B's totals, api_list_total) agrees */
        get(&b, "coSpaces?limit=1&offset=1", body, sizeof(body));
        (void)snprintf(want, sizeof(want), "<coSpaces total=\"%d\"", i + 1);
        ck_assert_msg(strstr(body, want), "round %d: B's second page: %.200s", i, body);
        (void)snprintf(path, sizeof(path), "coSpaces/%s", id);
        get(&b, path, body, sizeof(body));
        ck_assert_ptr_nonnull(strstr(body, "<name>room"));

        /* PUT on A: B's cached page (read again first) goes */
        get(&b, "coSpaces?limit=1000", body, sizeof(body));
        (void)snprintf(form, sizeof(form), "name=renamed%d", i);
        (void)th_api_v1(&a, "PUT", path, form, 200, scratch, sizeof(scratch));
        get(&b, "coSpaces?limit=1000", body, sizeof(body));
        (void)snprintf(want, sizeof(want), "<name>renamed%d</name>", i);
        ck_assert_msg(strstr(body, want), "round %d: B's list shows the name from before", i);
        get(&b, path, body, sizeof(body));
        ck_assert_ptr_nonnull(strstr(body, want));

        /* every other round, DELETE on A: gone from B's list and object at once */
        if (i % 2 == 1) {
            get(&b, "coSpaces?limit=1000", body, sizeof(body));
            (void)th_api_v1(&a, "DELETE", path, NULL, 200, scratch, sizeof(scratch));
            get(&b, "coSpaces?limit=1000", body, sizeof(body));
            (void)snprintf(want, sizeof(want), "<coSpace id=\"%s\">", id);
            ck_assert_msg(!strstr(body, want), "round %d: B's list still shows a deleted one", i);
            (void)snprintf(want, sizeof(want), "<coSpaces total=\"%d\">", i);
            ck_assert_msg(strstr(body, want), "round %d: B's list: %.200s", i, body);
            (void)th_api_v1(&b, "GET", path, NULL, 404, body, sizeof(body));
            (void)th_api_v1(&a, "POST", "coSpaces", "name=filler", 200, scratch,
                            sizeof(scratch)); /* totals */
        }
    }
    /* and the other way round, once: B writes, A reads */
    get(&a, "coSpaces?limit=1000", body, sizeof(body));
    (void)snprintf(id, sizeof(id), "%s",
                   th_api_v1(&b, "POST", "coSpaces", "name=fromB", 200, scratch, sizeof(scratch)));
    get(&a, "coSpaces?limit=1000", body, sizeof(body));
    (void)snprintf(want, sizeof(want), "<coSpace id=\"%s\">", id);
    ck_assert_ptr_nonnull(strstr(body, want));
    ck_assert_int_eq(th_daemon_stop(&a), 0);
    ck_assert_int_eq(th_daemon_stop(&b), 0);
    th_rmdir(a.dir);
    th_rmdir(b.dir);
    th_pg_stop(&pg);
}
END_TEST

/* GETs path (under /api/v1) on d until its body has want, at most 10 s; asserts it did. */
static void shows_soon(const struct th_daemon *d, const char *path, const char *want)
{
    static char body[64 * 1024];

    for (int i = 0; i < 100; i++) {
        get(d, path, body, sizeof(body));
        if (strstr(body, want))
            return;
        (void)usleep(100 * 1000);
    }
    ck_abort_msg("%s on %s never showed %s: %s", path, d->log, want, body);
}

/* A's writes reach B's long-lived state at once:
 * - a call leg profile changed on A: B's leg already in a call under it takes it (needsActivation
 *   true: the leg goes to the lobby), and B's new legs get it (api/notify.c; without its
 *   notification B's leg never goes to the lobby);
 * - a CDR receiver's uri changed on A: B's sender posts B's next records to the new uri, not to
 *   the one it was posting to. This checks the outcome only: B's sender reads the receivers
 *   every round, so it passes without notify.c's wake-up too. */
static void profile_and_receiver_reach_the_other(const struct th_daemon *a,
                                                 const struct th_daemon *b)
{
    char clp[40], cs[40], rx[40], call[96], leg1[128], leg2[128], form[160], want[96];
    struct th_sink first, second;

    /* the profile */
    (void)snprintf(clp, sizeof(clp), "%s",
                   th_api_v1(a, "POST", "callLegProfiles", "name=hosts&needsActivation=false", 200,
                             scratch, sizeof(scratch)));
    (void)snprintf(form, sizeof(form), "name=Lobby&uri=lobby.room&callLegProfile=%s", clp);
    (void)snprintf(cs, sizeof(cs), "%s",
                   th_api_v1(a, "POST", "coSpaces", form, 200, scratch, sizeof(scratch)));
    th_sink_start(&first);
    th_sink_start(&second);
    (void)snprintf(form, sizeof(form), "uri=http://127.0.0.1:%u/cdr", first.port);
    (void)snprintf(
        rx, sizeof(rx), "%s",
        th_api_v1(a, "POST", "system/cdrReceivers", form, 200, scratch, sizeof(scratch)));
    (void)snprintf(form, sizeof(form), "coSpace=%s", cs);
    (void)snprintf(call, sizeof(call), "calls/%s",
                   th_api_v1(b, "POST", "calls", form, 200, scratch, sizeof(scratch)));
    (void)snprintf(form, sizeof(form), "%s/callLegs", call);
    (void)snprintf(
        leg1, sizeof(leg1), "callLegs/%s",
        th_api_v1(b, "POST", form, "remoteParty=one@example.com", 200, scratch, sizeof(scratch)));
    shows_soon(b, leg1, "<deactivated>false</deactivated>");
    (void)snprintf(form, sizeof(form), "callLegProfiles/%s", clp);
    (void)th_api_v1(a, "PUT", form, "needsActivation=true", 200, scratch, sizeof(scratch));
    shows_soon(b, leg1, "<deactivated>true</deactivated>"); /* no activator left in the call */
    (void)snprintf(form, sizeof(form), "%s/callLegs", call);
    (void)snprintf(
        leg2, sizeof(leg2), "callLegs/%s",
        th_api_v1(b, "POST", form, "remoteParty=two@example.com", 200, scratch, sizeof(scratch)));
    shows_soon(b, leg2, "<deactivated>true</deactivated>");

    /* the receiver: B's call's start reached the first uri; after A's change, its end the
     * second only */
    (void)snprintf(want, sizeof(want), "<call id=\"%s\">", strchr(call, '/') + 1);
    for (int i = 0; i < 100 && !th_sink_count(&first, want); i++)
        (void)usleep(100 * 1000);
    ck_assert_msg(th_sink_count(&first, want) >= 1, "B's callStart never reached the receiver");
    (void)snprintf(form, sizeof(form), "uri=http://127.0.0.1:%u/cdr", second.port);
    {
        char rpath[80];

        (void)snprintf(rpath, sizeof(rpath), "system/cdrReceivers/%s", rx);
        (void)th_api_v1(a, "PUT", rpath, form, 200, scratch, sizeof(scratch));
    }
    (void)th_api_v1(b, "DELETE", call, NULL, 200, scratch, sizeof(scratch));
    for (int i = 0; i < 100 && !th_sink_count(&second, "type=\"callEnd\""); i++)
        (void)usleep(100 * 1000);
    ck_assert_msg(th_sink_count(&second, "type=\"callEnd\"") == 1,
                  "B's callEnd never reached the uri A changed the receiver to");
    ck_assert_uint_eq(th_sink_count(&first, "type=\"callEnd\""), 0);
    th_sink_stop(&first);
    th_sink_stop(&second);
}

/* A TURN server created on A is probed by B's prober without anyone asking B about it (its
 * /metrics shows B's probe result), a change on A (a wrong password) reaches B's prober too,
 * and a delete on A makes B forget it; then, on the same two nodes, a call leg profile and a
 * CDR receiver written on A reach B (profile_and_receiver_reach_the_other). */
START_TEST(test_a_turn_server_created_on_one_node_is_probed_by_the_other)
{
    static const char *const probe_rarely[] = {"--probe-interval", "3600", NULL};
    static char body[64 * 1024];
    struct th_daemon a, b;
    struct th_coturn co;
    struct th_pg pg;
    char form[160], series[128], id[40], path[96], why[128];
    double v = -1;

    if (!th_pg_or_skip())
        return;
    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn (scripts/install-deps.sh test)");
        return;
    }
    th_pg_start(&pg);
    th_coturn_start(&co, NULL);
    start_two(&a, &b, pg.url, probe_rarely);
    (void)snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
                   co.port);
    (void)snprintf(id, sizeof(id), "%s",
                   th_api_v1(&a, "POST", "turnServers", form, 200, scratch, sizeof(scratch)));
    (void)snprintf(series, sizeof(series), "callbridge_turn_host_reachable{turn_server=\"%s\"", id);
    v = metric_becomes(&b, series, 1);
    ck_assert_msg(v == 1, "B's prober never probed the TURN server created on A (%g)", v);

    /* a change on A: B probes the new configuration (refused credentials: unreachable) */
    (void)snprintf(path, sizeof(path), "turnServers/%s", id);
    (void)th_api_v1(&a, "PUT", path, "password=wrong", 200, scratch, sizeof(scratch));
    v = metric_becomes(&b, series, 0);
    ck_assert_msg(v == 0, "B's prober kept the credentials from before A's change (%g)", v);

    /* the listening connections lost (terminated by the server), and a change made meanwhile:
     * B takes it when it is back (a resync: the row's version differs from what it probed) */
    {
        char out[256];

        ck_assert_int_eq(th_pg_sql(&pg, "callbridge",
                                   "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE query LIKE 'LISTEN%'",
                                   out, sizeof(out)),
                         0);
        ck_assert_str_eq(out, "2"); /* A's and B's */
    }
    (void)th_api_v1(&a, "PUT", path, "password=secret", 200, scratch, sizeof(scratch));
    v = metric_becomes(&b, series, 1);
    ck_assert_msg(v == 1, "B missed A's change made while it was not listening (%g)", v);
    ck_assert_int_ge(th_log_count(&b, "listening to the other nodes' writes again"), 1);
    (void)th_api_v1(&a, "DELETE", path, NULL, 200, scratch, sizeof(scratch));
    (void)th_api_v1(&b, "GET", path, NULL, 404, body, sizeof(body));
    profile_and_receiver_reach_the_other(&a, &b);
    ck_assert_int_eq(th_daemon_stop(&a), 0);
    ck_assert_int_eq(th_daemon_stop(&b), 0);
    th_rmdir(a.dir);
    th_rmdir(b.dir);
    th_coturn_stop(&co);
    th_pg_stop(&pg);
}
END_TEST

/* ---- the primary lost ------------------------------------------------------------------------ */

#define WRITES_MAX 2000 /* in all */
#define WRITERS 4       /* threads, so that several writes are in flight at the kill */
#define WRITER_MS 60000

/* Writers POSTing coSpaces through one daemon until told to stop (bounded in count and time),
 * recording the id of every 200 and the status of everything else. */
struct writer {
    const struct th_daemon *d;
    pthread_t threads[WRITERS];
    pthread_mutex_t lock; /* ids, acked's increments, other_what */
    atomic_int next;      /* the next thread's number */
    atomic_int out;       /* threads that met the outage (a 503 after kill_ms) */
    atomic_bool stop;
    atomic_int acked;          /* 200s so far */
    atomic_int not_ready;      /* 503 databaseNotReady */
    atomic_int other;          /* anything else: none expected */
    atomic_llong kill_ms;      /* set by the test when it kills the primary */
    atomic_llong first_503_ms; /* the first 503 after kill_ms */
    atomic_llong first_ack_ms; /* the first 200 to a request sent after first_503_ms */
    char other_what[256];
    char ids[WRITES_MAX][40];   /* each acknowledged write's coSpace */
    char names[WRITES_MAX][24]; /* and the name it was given */
};

static void *write_loop(void *arg)
{
    struct writer *w = arg;
    int64_t until = mono_ms() + WRITER_MS;
    int me = atomic_fetch_add(&w->next, 1);
    bool out = false;

    for (int i = 0; i < WRITES_MAX / WRITERS && !atomic_load(&w->stop) && mono_ms() < until; i++) {
        char form[96];
        struct th_resp r;
        int64_t sent = mono_ms();
        int rc;

        (void)snprintf(form, sizeof(form), "name=w%d_%d&uri=w%d_%d", me, i, me, i);
        rc = th_http_try(w->d, w->d->ports[0], "POST", "/api/v1/coSpaces", "admin", w->d->password,
                         NULL, form, strlen(form), &r);
        if (rc == 0 && r.status == 200) {
            pthread_mutex_lock(&w->lock);
            (void)snprintf(w->ids[atomic_load(&w->acked)], sizeof(w->ids[0]), "%s",
                           th_location_id(&r));
            (void)snprintf(w->names[atomic_load(&w->acked)], sizeof(w->names[0]), "w%d_%d", me, i);
            atomic_fetch_add(&w->acked, 1);
            pthread_mutex_unlock(&w->lock);
            /* the first write sent once the outage showed (a 503): before that, the killed
             * postmaster's backends may still commit for a few ms, replicated to the standby */
            if (atomic_load(&w->first_503_ms) && sent > atomic_load(&w->first_503_ms) &&
                !atomic_load(&w->first_ack_ms))
                atomic_store(&w->first_ack_ms, (long long)mono_ms());
        } else if (rc == 0 && r.status == 503 && r.body && strstr(r.body, "<databaseNotReady />")) {
            atomic_fetch_add(&w->not_ready, 1);
            if (atomic_load(&w->kill_ms) && !atomic_load(&w->first_503_ms))
                atomic_store(&w->first_503_ms, (long long)mono_ms());
            if (atomic_load(&w->kill_ms) && !out) {
                out = true;
                atomic_fetch_add(&w->out, 1);
            }
            (void)usleep(20 * 1000); /* a client backing off */
        } else {
            pthread_mutex_lock(&w->lock);
            if (atomic_fetch_add(&w->other, 1) == 0)
                (void)snprintf(w->other_what, sizeof(w->other_what), "curl %d, %ld %s", rc,
                               rc == 0 ? r.status : 0L, rc == 0 && r.body ? r.body : "");
            pthread_mutex_unlock(&w->lock);
        }
        if (rc == 0)
            th_resp_free(&r);
    }
    return NULL;
}

static void wait_acked(struct writer *w, int n, int max_ms)
{
    int acked = atomic_load(&w->acked);

    for (int i = 0; i < max_ms / 10 && acked < n; i++) {
        (void)usleep(10 * 1000);
        acked = atomic_load(&w->acked);
    }
    ck_assert_msg(acked >= n, "%d writes acknowledged, %d wanted (%d answered 503, %d other: %s)",
                  acked, n, atomic_load(&w->not_ready), atomic_load(&w->other), w->other_what);
}

/* SIGKILL to the postmaster, reaped; its orphaned backends exit on their own. */
static void kill9_primary(struct th_pg *p)
{
    int status;

    ck_assert_int_gt(p->pid, 0);
    ck_assert_int_eq(kill(p->pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(p->pid, &status, 0), p->pid);
    p->pid = 0; /* th_pg_stop: its guard and directory only */
}

START_TEST(test_the_primary_lost_reads_go_on_writes_wait_and_nothing_acknowledged_is_lost)
{
    static struct writer w;
    static char body[256 * 1024], out[256 * 1024];
    struct th_pg primary, replica;
    struct th_daemon d;
    char url[400], path[96];
    const char *args[3] = {"--database", url, NULL};
    int during, missing = 0;
    int64_t promote_ms, promoted_ms;

    if (!th_pg_or_skip())
        return;
    th_pg_start(&primary);
    th_pg_start_replica(&replica, &primary, true);
    (void)snprintf(url, sizeof(url),
                   "postgresql://callbridge:%s@127.0.0.1:%u,127.0.0.1:%u/callbridge"
                   "?target_session_attrs=read-write&connect_timeout=5",
                   primary.password, primary.port, replica.port);
    (void)unsetenv("CB_TEST_PG");
    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", args);

    get(&d, "coSpaces?limit=1", body, sizeof(body)); /* libcurl set up before the threads */
    memset(&w, 0, sizeof(w));
    w.d = &d;
    pthread_mutex_init(&w.lock, NULL);
    for (int i = 0; i < WRITERS; i++)
        ck_assert_int_eq(pthread_create(&w.threads[i], NULL, write_loop, &w), 0);
    wait_acked(&w, 100, 30000);
    atomic_store(&w.kill_ms, (long long)mono_ms());
    kill9_primary(&primary); /* writes in flight */

    /* the outage: writes 503 databaseNotReady; reads answered from the replica */
    for (int i = 0; i < 500 && atomic_load(&w.out) < WRITERS; i++)
        (void)usleep(10 * 1000);
    ck_assert_msg(atomic_load(&w.out) == WRITERS,
                  "the writes after the primary's kill were not answered 503 databaseNotReady "
                  "(%d other answers: %s)",
                  atomic_load(&w.other), w.other_what);
    pthread_mutex_lock(&w.lock);
    during = atomic_load(&w.acked); /* every writer has had a 503 since the kill */
    pthread_mutex_unlock(&w.lock);
    get(&d, "coSpaces?limit=5", body, sizeof(body));
    ck_assert_ptr_nonnull(strstr(body, "<coSpaces total="));
    (void)snprintf(path, sizeof(path), "coSpaces/%s", w.ids[0]);
    get(&d, path, body, sizeof(body));
    ck_assert_ptr_nonnull(strstr(body, "<name>w"));
    ck_assert_int_eq(atomic_load(&w.acked), during); /* nothing acknowledged without a primary */

    promote_ms = mono_ms();
    th_pg_promote(&replica); /* the same daemon, not restarted, writes again */
    promoted_ms = mono_ms();
    wait_acked(&w, during + 100, 30000);
    atomic_store(&w.stop, true);
    for (int i = 0; i < WRITERS; i++)
        ck_assert_int_eq(pthread_join(w.threads[i], NULL), 0);
    pthread_mutex_destroy(&w.lock);
    ck_assert_msg(atomic_load(&w.other) == 0, "%d answers neither 200 nor 503 databaseNotReady: %s",
                  atomic_load(&w.other), w.other_what);
    printf("it_notify failover: %d writes acknowledged, %d answered 503 databaseNotReady; after "
           "the primary's kill: first 503 at %lld ms, promotion asked at %lld ms and done "
           "(pg_ctl promote -w) at %lld ms, first write acknowledged by the promoted server at "
           "%lld ms (%lld ms after the promotion was done)\n",
           atomic_load(&w.acked), atomic_load(&w.not_ready),
           (long long)(atomic_load(&w.first_503_ms) - atomic_load(&w.kill_ms)),
           (long long)(promote_ms - atomic_load(&w.kill_ms)),
           (long long)(promoted_ms - atomic_load(&w.kill_ms)),
           (long long)(atomic_load(&w.first_ack_ms) - atomic_load(&w.kill_ms)),
           (long long)(atomic_load(&w.first_ack_ms) - promoted_ms));

    /* every write that got 200 is on the promoted server with what was written, and the
     * daemon reads it back from there: each one by its id, not a count */
    ck_assert_int_eq(th_pg_sql(&replica, "callbridge",
                               "SELECT id || '=' || name || '=' || uri || ';' FROM cospace", out,
                               sizeof(out)),
                     0);
    for (int i = 0; i < atomic_load(&w.acked); i++) {
        char row[96], want[64];

        (void)snprintf(row, sizeof(row), "%s=%s=%s;", w.ids[i], w.names[i], w.names[i]);
        if (!strstr(out, row) && missing++ == 0)
            printf("it_notify failover: acknowledged coSpace %s (%s) is missing\n", w.ids[i],
                   w.names[i]);
        (void)snprintf(path, sizeof(path), "coSpaces/%s", w.ids[i]);
        get(&d, path, body, sizeof(body));
        (void)snprintf(want, sizeof(want), "<name>%s</name>", w.names[i]);
        ck_assert_msg(strstr(body, want), "acknowledged coSpace %s: %s", w.ids[i], body);
    }
    ck_assert_int_eq(missing, 0);
    get(&d, "coSpaces?limit=1", body, sizeof(body));
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    th_rmdir(d.dir);
    th_pg_stop(&replica);
    th_pg_stop(&primary);
}
END_TEST

/* ---- the list cache and the change mark ------------------------------------------------------ */

/* A generation stands for one mark: a page put under the mark's generation is found while the
 * mark stays, and never once another mark was seen (another node's write), even if the first
 * mark comes back later; generation 0 (no mark could be read) never caches. */
START_TEST(test_a_new_change_mark_invalidates_the_cached_pages)
{
    struct api_cache *c;
    uint64_t g1, g2;
    char *body;
    size_t len;

    ck_assert_int_eq(api_cache_new(&c), 0);
    g1 = api_cache_generation_at(c, 111);
    api_cache_put(c, "k", g1, "<a/>", 4);
    ck_assert_uint_eq(api_cache_generation_at(c, 111), g1);
    ck_assert_int_eq(api_cache_get(c, "k", g1, &body, &len), 0);
    free(body);
    g2 = api_cache_generation_at(c, 222); /* another node wrote */
    ck_assert_uint_ne(g2, g1);
    ck_assert_int_eq(api_cache_get(c, "k", g2, &body, &len), -ENOENT);
    ck_assert_int_eq(api_cache_get(c, "k", g1, &body, &len), -ENOENT);
    ck_assert_uint_ne(api_cache_generation_at(c, 111), g1); /* the old mark: a new generation */
    api_cache_put(c, "k", 0, "<b/>", 4);
    ck_assert_int_eq(api_cache_get(c, "k", 0, &body, &len), -ENOENT);
    api_cache_free(c);
}
END_TEST

/* ---- start-up errors ------------------------------------------------------------------------- */

/* libpq's reason reaches the operator, the password never (as libpq parsed it, and as written
 * in the URI, percent-encoded or not). */
START_TEST(test_the_reason_of_a_failed_connection_hides_the_password)
{
    char out[256];

    pg_open_reason("postgresql://cb:s3cr%65t@db.example:5432/cb",
                   "connection to server at \"db.example\" failed: password s3cret and s3cr%65t\n",
                   out, sizeof(out));
    ck_assert_str_eq(
        out, "connection to server at \"db.example\" failed: password ******** and ********");
    pg_open_reason("host=db password=hunter2 dbname=cb", "FATAL: hunter2 refused\n", out,
                   sizeof(out));
    ck_assert_str_eq(out, "FATAL: ******** refused");
    pg_open_reason("postgresql://cb@db/cb", "could not connect\nsecond host\n", out, sizeof(out));
    ck_assert_str_eq(out, "could not connect second host");
    pg_open_reason("postgresql://cb:%zz@db/cb", "invalid percent-encoded token: \"%zz\"\n", out,
                   sizeof(out));
    ck_assert_ptr_null(strstr(out, "%zz"));
}
END_TEST

/* A daemon whose database cannot be reached says why in its start-up error. */
START_TEST(test_a_daemon_that_cannot_reach_its_database_says_why)
{
    char url[160], dir[64], out[4096];
    unsigned short port = th_free_port(); /* nothing listens there */
    const char *argv[] = {"callbridged", "--data-dir", dir, "--database",
                          url,           "--listen",   "0", NULL};
    int rc;

    (void)snprintf(url, sizeof(url), "postgresql://cb:Pa55word@127.0.0.1:%u/cb?connect_timeout=2",
                   port);
    th_tmpdir(dir);
    rc = th_run(th_daemon_path(), argv, NULL, NULL, out, sizeof(out), NULL, 0);
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(strstr(out, "Connection refused") || strstr(out, "connection refused"), "%s",
                  out);
    ck_assert_ptr_null(strstr(out, "Pa55word"));
    th_rmdir(dir);
}
END_TEST

Suite *it_notify_suite(void)
{
    Suite *s = suite_create("it_notify");
    TCase *nodes = tcase_create("nodes");
    TCase *failover = tcase_create("failover");
    TCase *start = tcase_create("pure_and_start");

    tcase_set_tags(nodes, "net pgserver");
    tcase_set_timeout(nodes, 240);
    tcase_add_test(nodes, test_a_write_on_one_node_is_read_on_the_other_at_once);
    tcase_add_test(nodes, test_a_turn_server_created_on_one_node_is_probed_by_the_other);
    tcase_add_test(nodes, test_a_bulk_sync_leaves_the_statistics_current);
    suite_add_tcase(s, nodes);
    tcase_set_tags(failover, "net pgserver");
    tcase_set_timeout(failover, 240);
    tcase_add_test(failover,
                   test_the_primary_lost_reads_go_on_writes_wait_and_nothing_acknowledged_is_lost);
    suite_add_tcase(s, failover);
    tcase_add_test(start, test_a_new_change_mark_invalidates_the_cached_pages);
    tcase_add_test(start, test_the_reason_of_a_failed_connection_hides_the_password);
    tcase_add_test(start, test_a_daemon_that_cannot_reach_its_database_says_why);
    suite_add_tcase(s, start);
    return s;
}
