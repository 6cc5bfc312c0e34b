/* api/res/call_home.c: the node's side of the call directory (api/res/call_home.h).
 *
 * DESIGN: the claim runs on the request's connection, in the request's thread, outside the
 * registry's lock (a claim waits on the database). What happens under the registry's lock (a
 * call ends, a leg starts or ends: the registry's events, which this file sees before the CDR
 * sender it passes them on to) is queued, and a thread with its own connection writes it in
 * order. A release that has not run yet leaves a stale row of this node's; the next claim of
 * that coSpace finds it, sees that the call is not here any more and replaces it.
 * The same thread looks at the directory every REAP_MS: a call whose node is shown down is
 * taken out of it by a DELETE that only one node's can change (store_call_take), and that node
 * writes the CDRs of its end (api_cdr_call_failed). At start, what the directory still says
 * this node hosts (a crash before the others saw it down) is ended the same way.
 * Fencing: in the same look the thread compares the calls this node runs with the directory.
 * A call whose row is gone or names another node was taken from this node while it was shown
 * down (paused, cut off): it ends here at once, its media stopped, with no CDR (the taker wrote
 * them). When this node's own heartbeat has not been written for the time after which the
 * others show it down, it cannot know, so it ends all its calls the same way and keeps their
 * ids (fenced); once the database answers, each fenced call still in the directory under this
 * node is taken by this node, which writes its CDRs; one another node took has them already.
 * The local calls are listed before the directory is read, so a call claimed just now (its row
 * is committed before the call exists here) is never taken for lost. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/cdr.h"
#include "api/cluster.h"
#include "api/log.h"
#include "api/res/call_home.h"
#include "api/res/registry.h"
#include "api/util.h"

#define QUEUE_MAX 8192  /* writes waiting at once; beyond, the claim's stale check mends it */
#define REAP_MS 1000    /* between two looks for the calls of nodes shown down */
#define REAP_MAX 256    /* calls taken in one look */
#define LEGS_MAX 1024   /* legs of a taken call that get a callLegEnd */
#define LOCAL_MAX 4096  /* this node's calls compared with the directory in one look */
#define FENCED_MAX 1024 /* calls ended by fencing whose directory row is not yet settled */

struct fenced {
    char id[STORE_ID_LEN + 1];
    int64_t started_us;
};

enum op { OP_RELEASE_CALL, OP_ADD_LEG, OP_REMOVE_LEG };

struct item {
    enum op op;
    char id[STORE_ID_LEN + 1];   /* the call, or the leg */
    char call[STORE_ID_LEN + 1]; /* a leg's call */
};

struct api_call_home {
    const struct api *api;
    struct store *st; /* the thread's own connection */
    char node[STORE_TEXT_MAX + 1];
    struct api_calls_events next; /* the CDR sender's hooks, called after ours */
    pthread_mutex_t claim;        /* api_call_home_lock() */
    pthread_mutex_t lock;         /* the queue */
    pthread_cond_t cond;
    pthread_t thread;
    bool stopping;
    struct item *queue;
    size_t n;
    uint64_t lost; /* items not queued (queue full) */
    struct store_call_leg_home legs[LEGS_MAX];
    char (*local)[STORE_ID_LEN + 1]; /* the thread's: this node's calls in one look */
    struct fenced *fenced;           /* under lock */
    size_t nfenced;
};

/* Is call_id ended by fencing, its row not yet settled? (h->lock held) */
static bool is_fenced(const struct api_call_home *h, const char *call_id)
{
    for (size_t i = 0; i < h->nfenced; i++)
        if (strcmp(h->fenced[i].id, call_id) == 0)
            return true;
    return false;
}

const char *api_call_home_node(const struct api_call_home *h)
{
    return h ? h->node : NULL;
}

void api_call_home_lock(struct api_call_home *h)
{
    pthread_mutex_lock(&h->claim);
}

void api_call_home_unlock(struct api_call_home *h)
{
    pthread_mutex_unlock(&h->claim);
}

/* Is call_id in this node's registry? */
static bool here(const struct api *api, const char *call_id)
{
    bool found;

    pthread_mutex_lock(&api->calls->lock);
    found = api_calls_find_call(api->calls, call_id) != NULL;
    pthread_mutex_unlock(&api->calls->lock);
    return found;
}

int api_call_home_claim(struct api_call_home *h, struct store *st, const char *cospace,
                        const char *call_id, struct store_call_home *ret)
{
    struct store_call_home c = {0};
    int r = -EEXIST;

    (void)snprintf(c.call_id, sizeof(c.call_id), "%s", call_id);
    (void)snprintf(c.cospace, sizeof(c.cospace), "%s", cospace);
    (void)snprintf(c.correlator, sizeof(c.correlator), "%s", call_id);
    (void)snprintf(c.node, sizeof(c.node), "%s", h->node);
    /* a few rounds: a row released between the insert and the read is claimed again */
    for (int round = 0; round < 3 && r == -EEXIST; round++) {
        r = store_call_claim(st, &c);
        if (r != -EEXIST)
            break;
        r = store_call_home_get(st, cospace, API_CLUSTER_DOWN_AFTER, ret);
        if (r == -ENOENT) {
            r = -EEXIST; /* gone meanwhile: claim again */
        } else if (r == 0 && strcmp(ret->node, h->node) == 0) {
            bool fenced;

            if (here(h->api, ret->call_id))
                return -EALREADY; /* the caller's registry has it: not for a new call */
            pthread_mutex_lock(&h->lock);
            fenced = is_fenced(h, ret->call_id);
            pthread_mutex_unlock(&h->lock);
            if (fenced) /* its end's CDRs are not written yet: the next look settles it */
                return -EHOSTDOWN;
            api_log(BASE_LOG_INFO, "call directory: call %s of coSpace %s ended here; replaced",
                    ret->call_id, cospace);
            r = store_call_release(st, ret->call_id, h->node);
            r = r == 0 || r == -ENOENT ? -EEXIST : r;
        } else if (r == 0) {
            return ret->node_up ? -EXDEV : -EHOSTDOWN;
        }
    }
    return r;
}

static void enqueue(struct api_call_home *h, enum op op, const char *id, const char *call)
{
    pthread_mutex_lock(&h->lock);
    if (h->n < QUEUE_MAX) {
        struct item *it = &h->queue[h->n++];

        it->op = op;
        (void)snprintf(it->id, sizeof(it->id), "%s", id);
        (void)snprintf(it->call, sizeof(it->call), "%s", call ? call : "");
        pthread_cond_signal(&h->cond);
    } else if (h->lost++ % 1000 == 0) {
        api_log(BASE_LOG_WARN, "call directory: %zu writes wait for the database; one is lost",
                h->n);
    }
    pthread_mutex_unlock(&h->lock);
}

void api_call_home_release(struct api_call_home *h, const char *call_id)
{
    if (h)
        enqueue(h, OP_RELEASE_CALL, call_id, NULL);
}

/* ---- the registry's events (its lock held) ------------------------------------------------ */

static void on_call_started(void *userdata, const struct api_call *call)
{
    struct api_call_home *h = userdata;

    if (h->next.call_started)
        h->next.call_started(h->next.userdata, call);
}

static void on_call_ended(void *userdata, const struct api_call *call)
{
    struct api_call_home *h = userdata;

    if (h->next.call_ended)
        h->next.call_ended(h->next.userdata, call);
}

static void on_leg_started(void *userdata, const struct api_leg *leg)
{
    struct api_call_home *h = userdata;

    enqueue(h, OP_ADD_LEG, leg->id, leg->call);
    if (h->next.leg_started)
        h->next.leg_started(h->next.userdata, leg);
}

static void on_leg_ended(void *userdata, const struct api_leg *leg, const char *why)
{
    struct api_call_home *h = userdata;

    enqueue(h, OP_REMOVE_LEG, leg->id, leg->call);
    if (h->next.leg_ended)
        h->next.leg_ended(h->next.userdata, leg, why);
}

/* ---- the thread ------------------------------------------------------------------------------ */

static void write_item(struct api_call_home *h, const struct item *it)
{
    int r;

    if (it->op == OP_RELEASE_CALL)
        r = store_call_release(h->st, it->id, h->node);
    else if (it->op == OP_ADD_LEG)
        r = store_call_leg_add(h->st, it->id, it->call, h->node);
    else
        r = store_call_leg_remove(h->st, it->id, h->node);
    if (r < 0 && r != -ENOENT)
        api_log_every(10, BASE_LOG_WARN, "call directory: cannot write %s %s: %s",
                      it->op == OP_RELEASE_CALL ? "the end of call" : "leg", it->id, strerror(-r));
}

struct dead {
    struct store_call_home *v;
    size_t n;
    const char *self;
    bool self_too;
    char (*own)[STORE_ID_LEN + 1]; /* the ids of this node's rows */
    size_t nown, capown;
};

static int collect_dead(const struct store_call_home *c, void *userdata)
{
    struct dead *d = userdata;
    bool mine = strcmp(c->node, d->self) == 0;

    if (d->n < REAP_MAX && (mine ? d->self_too : !c->node_up))
        d->v[d->n++] = *c;
    if (mine) {
        if (api_calls_grow((void **)&d->own, &d->capown, d->nown, sizeof(*d->own)) < 0)
            return -ENOMEM;
        memcpy(d->own[d->nown++], c->call_id, STORE_ID_LEN + 1);
    }
    return 0;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Ends call_id here as lost (api_calls_end_lost) and keeps it fenced until its row is settled. */
static void end_lost(struct api_call_home *h, const char *call_id, const char *why)
{
    int64_t started_us = 0;
    int legs = api_calls_end_lost(h->api->calls, h->api->media, call_id, &started_us);

    if (legs < 0)
        return; /* it ended meanwhile */
    api_cdr_call_lost(h->api->cdr, call_id);
    pthread_mutex_lock(&h->lock);
    if (h->nfenced < FENCED_MAX) {
        (void)snprintf(h->fenced[h->nfenced].id, sizeof(h->fenced[0].id), "%s", call_id);
        h->fenced[h->nfenced++].started_us = started_us;
    }
    pthread_mutex_unlock(&h->lock);
    api_log(BASE_LOG_WARN, "call directory: call %s ended here, %d legs: %s", call_id, legs, why);
}

/* The calls of local[0..nlocal) (listed before the directory was read) that this node no longer
 * owns end here: all of them when its heartbeat is as old as the others' down time, else those
 * whose row the directory (d, when listed) does not give to this node. */
static void fence(struct api_call_home *h, size_t nlocal, bool stale, int64_t age_ms,
                  struct dead *d, bool listed)
{
    char why[160];

    if (stale) {
        (void)snprintf(why, sizeof(why),
                       "this node's last heartbeat was written %lld ms ago, so the other nodes "
                       "may show it down and end its calls",
                       (long long)age_ms);
        for (size_t i = 0; i < nlocal; i++)
            end_lost(h, h->local[i], why);
        return;
    }
    if (!listed)
        return;
    if (d->nown > 1)
        qsort(d->own, d->nown, sizeof(*d->own), id_cmp);
    for (size_t i = 0; i < nlocal; i++)
        if (!d->nown || !bsearch(h->local[i], d->own, d->nown, sizeof(*d->own), id_cmp))
            end_lost(h, h->local[i],
                     "the call directory no longer gives it to this node (another node ended it "
                     "while this one was shown down)");
}

/* The fenced calls' rows: one still this node's is taken by it, which writes the CDRs of the
 * call's end; one gone was taken by another node, which wrote them. */
static void settle_fenced(struct api_call_home *h)
{
    struct fenced f;
    size_t i = 0;

    pthread_mutex_lock(&h->lock);
    while (i < h->nfenced) {
        size_t n = 0, more = 0;
        int r;

        f = h->fenced[i];
        pthread_mutex_unlock(&h->lock);
        r = store_call_take(h->st, f.id, h->node, h->legs, LEGS_MAX, &n, &more);
        if (r == 0)
            api_cdr_call_failed(h->api->cdr, f.id, (api_now_us() - f.started_us) / 1000, h->legs,
                                n);
        pthread_mutex_lock(&h->lock);
        if (r < 0 && r != -ENOENT) {
            api_log_every(30, BASE_LOG_WARN,
                          "call directory: cannot settle the calls this node ended: %s",
                          strerror(-r));
            break; /* the next look tries again */
        }
        h->fenced[i] = h->fenced[--h->nfenced];
    }
    pthread_mutex_unlock(&h->lock);
}

/* Ends the calls of nodes shown down (and, with self_too, this node's own from its last run):
 * each taken out of the directory by this node alone gets its CDRs here. */
static void reap(struct api_call_home *h, bool self_too)
{
    struct dead d = {.self = h->node, .self_too = self_too};
    int64_t age_ms = api_cluster_beat_age_ms(h->api->cluster);
    bool stale = h->api->cluster && age_ms >= api_cluster_down_ms(h->api->cluster);
    size_t nlocal = api_calls_homed(h->api->calls, h->local, LOCAL_MAX);
    int r;

    if (nlocal > LOCAL_MAX)
        nlocal = LOCAL_MAX; /* the rest in the next looks, as these end */
    if (!(d.v = calloc(REAP_MAX, sizeof(*d.v))))
        return;
    r = store_call_foreach(h->st, API_CLUSTER_DOWN_AFTER, collect_dead, &d);
    fence(h, nlocal, stale, age_ms, &d, r == 0);
    free(d.own);
    settle_fenced(h);
    for (size_t i = 0; r == 0 && i < d.n; i++) {
        size_t n = 0, more = 0;
        int t = store_call_take(h->st, d.v[i].call_id, d.v[i].node, h->legs, LEGS_MAX, &n, &more);

        if (t == -ENOENT)
            continue; /* another node took it first */
        if (t < 0) {
            r = t;
            break;
        }
        api_cdr_call_failed(h->api->cdr, d.v[i].call_id, d.v[i].age_ms, h->legs, n);
        api_log(BASE_LOG_WARN,
                "call directory: call %s of coSpace %s on node %s ended: the node %s (%zu legs%s)",
                d.v[i].call_id, d.v[i].cospace, d.v[i].node,
                strcmp(d.v[i].node, h->node) == 0 ? "restarted" : "is down", n + more,
                more ? ", some without a callLegEnd" : "");
    }
    if (r < 0)
        api_log_every(30, BASE_LOG_WARN, "call directory: cannot end the calls of failed nodes: %s",
                      strerror(-r));
    free(d.v);
}

static void *run(void *arg)
{
    struct api_call_home *h = arg;
    struct timespec next;
    struct item it;

    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&h->lock);
    for (;;) {
        struct timespec now;

        while (!h->stopping && h->n == 0 && pthread_cond_timedwait(&h->cond, &h->lock, &next) == 0)
            ;
        if (h->n > 0) {
            it = h->queue[0];
            memmove(h->queue, h->queue + 1, --h->n * sizeof(h->queue[0]));
            pthread_mutex_unlock(&h->lock);
            write_item(h, &it);
            pthread_mutex_lock(&h->lock);
            continue;
        }
        if (h->stopping)
            break; /* and all written */
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec ||
            (now.tv_sec == next.tv_sec && now.tv_nsec >= next.tv_nsec)) {
            pthread_mutex_unlock(&h->lock);
            reap(h, false);
            pthread_mutex_lock(&h->lock);
            clock_gettime(CLOCK_MONOTONIC, &next);
            next.tv_nsec += (long)REAP_MS * 1000000L;
            next.tv_sec += next.tv_nsec / 1000000000L;
            next.tv_nsec %= 1000000000L;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static void home_free(struct api_call_home *h)
{
    pthread_mutex_destroy(&h->claim);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    store_close(h->st);
    free(h->queue);
    free(h->local);
    free(h->fenced);
    free(h);
}

int api_call_home_start(const char *db, const struct api *api)
{
    struct api_call_home *h;
    pthread_condattr_t ca;
    int r;

    if (!api->cluster)
        return 0;
    if (!(h = calloc(1, sizeof(*h))) || !(h->queue = calloc(QUEUE_MAX, sizeof(h->queue[0]))) ||
        !(h->local = calloc(LOCAL_MAX, sizeof(h->local[0]))) ||
        !(h->fenced = calloc(FENCED_MAX, sizeof(h->fenced[0])))) {
        if (h) {
            free(h->queue);
            free(h->local);
        }
        free(h);
        return -ENOMEM;
    }
    h->api = api;
    (void)snprintf(h->node, sizeof(h->node), "%s", api_cluster_name(api->cluster));
    pthread_mutex_init(&h->claim, NULL);
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cond, &ca);
    pthread_condattr_destroy(&ca);
    r = store_open(db, &h->st);
    if (r == 0)
        reap(h, true); /* calls of this node's last run, which did not outlive it */
    if (r == 0)
        r = -pthread_create(&h->thread, NULL, run, h);
    if (r < 0) {
        api_log(BASE_LOG_ERR, "call directory: cannot start: %s", strerror(-r));
        home_free(h);
        return r;
    }
    pthread_mutex_lock(&api->calls->lock);
    h->next = api->calls->events;
    api->calls->events = (struct api_calls_events){.call_started = on_call_started,
                                                   .call_ended = on_call_ended,
                                                   .leg_started = on_leg_started,
                                                   .leg_ended = on_leg_ended,
                                                   .userdata = h};
    api->calls->home = h;
    pthread_mutex_unlock(&api->calls->lock);
    return 0;
}

void api_call_home_stop(const struct api *api)
{
    struct api_call_home *h;
    int r;

    if (!api->calls)
        return;
    pthread_mutex_lock(&api->calls->lock);
    h = api->calls->home;
    if (h) {
        api->calls->home = NULL;
        api->calls->events = h->next;
    }
    pthread_mutex_unlock(&api->calls->lock);
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    settle_fenced(h); /* the CDRs of fenced calls still this node's, before the rows go */
    r = store_call_release_node(h->st, h->node); /* the calls end with the node */
    if (r < 0)
        api_log(BASE_LOG_WARN, "call directory: cannot remove this node's calls: %s", strerror(-r));
    home_free(h);
}
