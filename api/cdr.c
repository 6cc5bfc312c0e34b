/* api/cdr.c: the recording of CDRs: the call registry's hooks queue events in memory, and one
 * thread turns them into records, appends them to the outbox table in the order of the events,
 * follows the media thread's leg states (callLegUpdate), and has the outbox delivered
 * (api/cdr_send.c); the sender's life and what the API reads of it.
 *
 * DESIGN: the hooks run under the registry's lock on the API and media threads, so they only
 * copy the event into a queue (bounded by QUEUE_MAX; beyond it events are counted as dropped
 * and logged, a bound for a database that no longer takes writes): no call waits for the
 * database or a receiver. Everything else is this thread's: the outbox is durable (a restart
 * resumes at each receiver's delivered index); while a POST is under way events wait in the
 * queue. Records are kept only while some receiver is
 * configured: CMS sends CDRs nowhere else. The session attribute is this process's (a new one
 * at each start, as CMS's); callBridge is the session too, as this node has no other id. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/cdr_int.h"
#include "api/log.h"
#include "api/util.h"
#include "media/media.h"

/* ---- the hooks (registry lock held) ------------------------------------------------------ */

static void push(struct api_cdr *c, const struct api_cdr_event *e)
{
    pthread_mutex_lock(&c->lock);
    if (c->nq == c->capq && c->capq < QUEUE_MAX &&
        api_calls_grow((void **)&c->q, &c->capq, c->nq, sizeof(*c->q)) < 0)
        c->capq = c->nq; /* out of memory: counted below */
    if (c->nq < c->capq) {
        c->q[c->nq++] = *e;
        pthread_cond_signal(&c->cond);
    } else if (c->dropped++ % 1000 == 0) {
        api_log(BASE_LOG_ERR, "CDR: %zu events wait for the database; this one is dropped", c->nq);
    }
    pthread_mutex_unlock(&c->lock);
}

static void on_call_started(void *userdata, const struct api_call *call)
{
    struct api_cdr_event e = {.type = API_CDR_CALL_START, .wall_ms = cdr_wall_ms()};

    memcpy(e.call, call->id, sizeof(e.call));
    memcpy(e.cospace, call->cospace, sizeof(e.cospace));
    memcpy(e.name, call->name, sizeof(e.name));
    push(userdata, &e);
}

static void on_call_ended(void *userdata, const struct api_call *call)
{
    struct api_cdr_event e = {.type = API_CDR_CALL_END, .wall_ms = cdr_wall_ms()};

    memcpy(e.call, call->id, sizeof(e.call));
    e.duration_s = (api_now_us() - call->started_us) / 1000000;
    push(userdata, &e);
}

static void on_leg_started(void *userdata, const struct api_leg *leg)
{
    struct api_cdr_event e = {.type = API_CDR_LEG_START, .wall_ms = cdr_wall_ms()};

    memcpy(e.call, leg->call, sizeof(e.call));
    memcpy(e.leg, leg->id, sizeof(e.leg));
    memcpy(e.party, leg->remote_party, sizeof(e.party));
    if (leg->webrtc) /* a guest's remote party is the name it typed */
        memcpy(e.name, leg->remote_party, sizeof(e.name));
    e.webrtc = leg->webrtc;
    e.has_media = leg->has_media;
    e.dial_failed = leg->dial_failed;
    push(userdata, &e);
}

static void on_leg_ended(void *userdata, const struct api_leg *leg, const char *why)
{
    struct api_cdr_event e = {.type = API_CDR_LEG_END, .wall_ms = cdr_wall_ms()};

    memcpy(e.call, leg->call, sizeof(e.call));
    memcpy(e.leg, leg->id, sizeof(e.leg));
    e.duration_s = (api_now_us() - leg->started_us) / 1000000;
    /* an administrator's DELETE is this side's teardown; otherwise the participant left */
    e.remote_teardown = !why;
    (void)snprintf(e.reason, sizeof(e.reason), "%s", why ? "localTeardown" : "remoteTeardown");
    if (leg->dial_failed) { /* it never connected: its end says why (api/res/outbound.c) */
        e.dial_failed = true;
        e.remote_teardown = false;
        (void)snprintf(e.reason, sizeof(e.reason), "%s",
                       leg->out_reason[0] ? leg->out_reason : "noSipDialOut");
        memcpy(e.out_rule, leg->out_rule, sizeof(e.out_rule));
    }
    push(userdata, &e);
}

void api_cdr_leg_media_ended(struct api_cdr *c, const char *leg_id, const char *why)
{
    struct api_cdr_event e = {.type = API_CDR_LEG_FAILED, .wall_ms = cdr_wall_ms()};

    if (!c || strncmp(why, "left", 4) == 0)
        return;
    (void)snprintf(e.leg, sizeof(e.leg), "%s", leg_id);
    (void)snprintf(e.media_reason, sizeof(e.media_reason), "%s", why);
    push(c, &e);
}

void api_cdr_call_failed(struct api_cdr *c, const char *call_id, int64_t age_ms,
                         const struct store_call_leg_home *legs, size_t n)
{
    struct api_cdr_event e;

    if (!c)
        return;
    for (size_t i = 0; i < n; i++) {
        e = (struct api_cdr_event){.type = API_CDR_LEG_END, .wall_ms = cdr_wall_ms()};
        (void)snprintf(e.call, sizeof(e.call), "%s", call_id);
        (void)snprintf(e.leg, sizeof(e.leg), "%s", legs[i].leg_id);
        (void)snprintf(e.reason, sizeof(e.reason), "%s", API_CDR_NODE_FAILURE);
        e.duration_s = legs[i].age_ms / 1000;
        e.takeover = true;
        push(c, &e);
    }
    e = (struct api_cdr_event){.type = API_CDR_CALL_END, .wall_ms = cdr_wall_ms()};
    (void)snprintf(e.call, sizeof(e.call), "%s", call_id);
    e.duration_s = age_ms / 1000;
    e.legs_max_active = n;
    e.takeover = true;
    push(c, &e);
}

void api_cdr_call_lost(struct api_cdr *c, const char *call_id)
{
    struct api_cdr_event e = {.type = API_CDR_CALL_LOST, .wall_ms = cdr_wall_ms()};

    if (!c)
        return;
    (void)snprintf(e.call, sizeof(e.call), "%s", call_id);
    push(c, &e);
}

void api_cdr_set_node(struct api_cdr *c, const char *name)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    (void)snprintf(c->node, sizeof(c->node), "%s", name ? name : "");
    c->kick = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

void api_cdr_events(struct api_cdr *c, struct api_calls_events *ret)
{
    *ret = (struct api_calls_events){.call_started = on_call_started,
                                     .call_ended = on_call_ended,
                                     .leg_started = on_leg_started,
                                     .leg_ended = on_leg_ended,
                                     .userdata = c};
}

/* ---- events to records (the thread) ------------------------------------------------------- */

static struct cdr_call *track_call(struct api_cdr *c, const char *id)
{
    for (size_t i = 0; i < c->ncalls; i++)
        if (strcmp(c->calls[i].id, id) == 0)
            return &c->calls[i];
    if (api_calls_grow((void **)&c->calls, &c->capcalls, c->ncalls, sizeof(*c->calls)) < 0)
        return NULL;
    memset(&c->calls[c->ncalls], 0, sizeof(*c->calls));
    memcpy(c->calls[c->ncalls].id, id, STORE_ID_LEN + 1);
    c->calls[c->ncalls].started_ms = cdr_wall_ms();
    return &c->calls[c->ncalls++];
}

static struct cdr_leg *find_leg(struct api_cdr *c, const char *id)
{
    for (size_t i = 0; i < c->nlegs; i++)
        if (strcmp(c->legs[i].id, id) == 0)
            return &c->legs[i];
    return NULL;
}

/* Stores the record of e with the next correlator index of its call. */
static void emit(struct api_cdr *c, const struct api_cdr_event *e, struct cdr_call *call)
{
    struct store_cdr_record rec = {0};
    int r;

    if (!call)
        return;
    rec.correlator = call->correlator++;
    if (!c->keep)
        return;
    memcpy(rec.session, c->session, sizeof(rec.session));
    memcpy(rec.node, c->tnode, sizeof(rec.node));
    r = api_cdr_record_make(e, &rec);
    if (r == 0)
        r = store_cdr_append(c->st, &rec, NULL);
    store_cdr_record_done(&rec);
    if (r < 0)
        api_log(BASE_LOG_ERR, "CDR: a %s record of call %s is lost: %s", rec.type, e->call,
                strerror(-r));
    pthread_mutex_lock(&c->lock);
    c->records += r == 0;
    pthread_mutex_unlock(&c->lock);
}

static void connected(struct api_cdr *c, struct cdr_leg *l, struct cdr_call *call)
{
    struct api_cdr_event u = {.type = API_CDR_LEG_UPDATE, .wall_ms = cdr_wall_ms()};

    memcpy(u.leg, l->id, sizeof(u.leg));
    memcpy(u.call, l->call, sizeof(u.call));
    (void)snprintf(u.state, sizeof(u.state), "connected");
    l->connected = true;
    emit(c, &u, call);
}

static void leg_start(struct api_cdr *c, const struct api_cdr_event *e, struct cdr_call *call)
{
    struct cdr_leg *l;

    emit(c, e, call);
    if (!call || api_calls_grow((void **)&c->legs, &c->caplegs, c->nlegs, sizeof(*c->legs)) < 0)
        return;
    call->active++;
    call->max_active = call->active > call->max_active ? call->active : call->max_active;
    l = &c->legs[c->nlegs++];
    memset(l, 0, sizeof(*l));
    memcpy(l->id, e->leg, sizeof(l->id));
    memcpy(l->call, e->call, sizeof(l->call));
    l->has_media = e->has_media;
    l->started_ms = e->wall_ms;
    if (!l->has_media && !e->dial_failed) /* nothing to negotiate: connected as it starts */
        connected(c, l, call);
}

static void leg_end(struct api_cdr *c, struct api_cdr_event *e, struct cdr_call *call)
{
    struct cdr_leg *l = find_leg(c, e->leg);

    if (l && l->failed) {
        (void)snprintf(e->reason, sizeof(e->reason), "mediaFailure");
        (void)snprintf(e->media_reason, sizeof(e->media_reason), "%s", l->failure);
        e->remote_teardown = false;
    }
    if (l)
        *l = c->legs[--c->nlegs];
    if (call && call->active > 0) {
        call->active--;
        call->completed++;
    } else if (call && e->takeover) { /* a failed node's leg: its start was not seen here */
        call->completed++;
    }
    emit(c, e, call);
}

static void process(struct api_cdr *c, struct api_cdr_event *e)
{
    struct cdr_leg *l;
    struct cdr_call *call;

    if (e->type == API_CDR_LEG_FAILED) { /* comes before the leg's end, from the same thread */
        if ((l = find_leg(c, e->leg)) && !l->failed) {
            l->failed = true;
            (void)snprintf(l->failure, sizeof(l->failure), "%s", e->media_reason);
        }
        return;
    }
    if (e->type == API_CDR_CALL_LOST) { /* another node ended it: forget it, record nothing */
        for (size_t i = c->nlegs; i-- > 0;)
            if (strcmp(c->legs[i].call, e->call) == 0)
                c->legs[i] = c->legs[--c->nlegs];
        for (size_t i = 0; i < c->ncalls; i++)
            if (strcmp(c->calls[i].id, e->call) == 0) {
                c->calls[i] = c->calls[--c->ncalls];
                break;
            }
        return;
    }
    if (e->takeover) { /* a failed node's call: its records go on after the dead node's */
        bool known = false;

        for (size_t i = 0; i < c->ncalls && !known; i++)
            known = strcmp(c->calls[i].id, e->call) == 0;
        call = track_call(c, e->call);
        if (call && !known)
            call->correlator = API_CDR_TAKEOVER_INDEX;
    } else {
        call = track_call(c, e->call);
    }
    if (call && e->type == API_CDR_CALL_START)
        call->started_ms = e->wall_ms;
    if (e->type == API_CDR_LEG_START) {
        leg_start(c, e, call);
    } else if (e->type == API_CDR_LEG_END) {
        leg_end(c, e, call);
    } else if (e->type == API_CDR_CALL_END) {
        if (call) {
            e->legs_completed = call->completed;
            if (!e->takeover || call->max_active > e->legs_max_active)
                e->legs_max_active = call->max_active;
        }
        emit(c, e, call);
        if (call)
            *call = c->calls[--c->ncalls];
    } else {
        emit(c, e, call);
    }
}

/* The media thread's view of each leg with media: connected once, failed with its reason.
 * Looked at when the media thread said some leg changed, and after new legs started (their
 * state may have changed before their start was processed), never on a timer. */
static void look_at_legs(struct api_cdr *c)
{
    struct media_leg_status ms;

    for (size_t i = 0; c->media && i < c->nlegs; i++) {
        struct cdr_leg *l = &c->legs[i];

        if (!l->has_media || l->failed || media_leg_get(c->media, l->id, &ms) < 0)
            continue;
        if (ms.state == MEDIA_LEG_CONNECTED && !l->connected)
            connected(c, l, track_call(c, l->call));
        if (ms.state == MEDIA_LEG_FAILED) {
            l->failed = true;
            (void)snprintf(l->failure, sizeof(l->failure), "%s", ms.reason);
        }
    }
}

/* The media thread changed a leg's state (media_leg_state_fn, on its thread): the sender looks
 * at the legs at once. Only a flag: the state itself is read back with media_leg_get, which
 * also catches a change made before the leg's start was processed. */
static void legs_changed(void *userdata, const char *leg_id, enum media_leg_state state)
{
    struct api_cdr *c = userdata;

    (void)leg_id;
    (void)state;
    pthread_mutex_lock(&c->lock);
    c->legs_changed = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

/* Looks at the legs' media when the media thread said a leg changed, takes the queue and writes
 * its records in one transaction, then looks again at legs that started (a change of media is
 * rare: its record takes a transaction of its own). */
static void drain(struct api_cdr *c)
{
    struct api_cdr_event *q;
    size_t n, count = 0;
    bool changed;

    pthread_mutex_lock(&c->lock);
    q = c->q;
    n = c->nq;
    c->q = NULL;
    c->nq = c->capq = 0;
    changed = c->legs_changed;
    c->legs_changed = false;
    memcpy(c->tnode, c->node, sizeof(c->tnode));
    pthread_mutex_unlock(&c->lock);
    if (n == 0 && !changed)
        return; /* nothing to write: no write lock taken */
    c->keep = store_cdr_receivers(c->st, &count) == 0 && count > 0;
    if (changed) /* first: a leg that failed and then ended in this batch ends mediaFailure */
        look_at_legs(c);
    if (n && store_begin(c->st) < 0)
        api_log(BASE_LOG_ERR, "CDR: the outbox takes no writes; each record is tried alone");
    for (size_t i = 0; i < n; i++)
        process(c, &q[i]);
    if (n && store_commit(c->st) < 0)
        api_log(BASE_LOG_ERR, "CDR: %zu events could not be written to the outbox", n);
    store_rollback(c->st);
    free(q);
    if (n)
        look_at_legs(c); /* legs that started may have changed state before it was processed */
}

/* callbridged is stopping with calls in progress (calls do not survive a restart): each leg
 * still up gets its callLegEnd and each call its callEnd, as if this side tore them down
 * (CMS's localTeardown, remoteTeardown false), in the outbox before the process exits; they
 * are delivered after the next start. */
static void end_all(struct api_cdr *c)
{
    struct cdr_call *calls;
    size_t n = c->ncalls, count = 0;
    int64_t now = cdr_wall_ms();

    if (n == 0)
        return;
    calls = malloc(n * sizeof(*calls)); /* process() reorders c->calls as calls end */
    if (!calls) {
        api_log(BASE_LOG_ERR, "CDR: out of memory: %zu calls in progress get no callEnd", n);
        return;
    }
    memcpy(calls, c->calls, n * sizeof(*calls));
    c->keep = store_cdr_receivers(c->st, &count) == 0 && count > 0;
    if (store_begin(c->st) < 0)
        api_log(BASE_LOG_ERR, "CDR: the outbox takes no writes; each record is tried alone");
    for (size_t i = 0; i < n; i++) {
        struct api_cdr_event e;
        struct cdr_leg *l;

        for (size_t k = 0; k < c->nlegs;) {
            l = &c->legs[k];
            if (strcmp(l->call, calls[i].id) != 0) {
                k++;
                continue;
            }
            /* one event each: processing a leg that had failed rewrites its reason */
            e = (struct api_cdr_event){.type = API_CDR_LEG_END, .wall_ms = now};
            memcpy(e.call, calls[i].id, sizeof(e.call));
            (void)snprintf(e.reason, sizeof(e.reason), "localTeardown");
            memcpy(e.leg, l->id, sizeof(e.leg));
            e.duration_s = (now - l->started_ms) / 1000;
            process(c, &e); /* removes legs[k]: the last one takes its place */
        }
        e = (struct api_cdr_event){.type = API_CDR_CALL_END, .wall_ms = now};
        memcpy(e.call, calls[i].id, sizeof(e.call));
        e.duration_s = (now - calls[i].started_ms) / 1000;
        process(c, &e);
    }
    if (store_commit(c->st) < 0)
        api_log(BASE_LOG_ERR, "CDR: the ends of %zu calls could not be written to the outbox", n);
    store_rollback(c->st);
    api_log(BASE_LOG_INFO, "CDR: %zu calls in progress ended by the stop", n);
    free(calls);
}

/* ---- the thread --------------------------------------------------------------------------- */

static void *run(void *arg)
{
    struct api_cdr *c = arg;
    bool stop = false;

    while (!stop) {
        struct timespec until;
        int64_t wait_ms;

        drain(c);
        wait_ms = api_cdr_deliver_all(c); /* no timer while there is nothing to retry */
        pthread_mutex_lock(&c->lock);
        (void)clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += wait_ms * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!c->stop && !c->kick && c->nq == 0 && !c->legs_changed &&
               pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0)
            ;
        c->kick = false;
        stop = c->stop;
        pthread_mutex_unlock(&c->lock);
    }
    drain(c); /* what came while the last batch was posted */
    end_all(c);
    return NULL;
}

int api_cdr_start(const char *db_path, struct media *media, struct api_cdr **ret)
{
    struct api_cdr *c = calloc(1, sizeof(*c));
    pthread_condattr_t ca;
    int r = c ? 0 : -ENOMEM;

    if (r == 0)
        r = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
    if (r == 0)
        r = api_uuid_new(c->session);
    if (r == 0)
        r = store_open(db_path, &c->st);
    if (r < 0) {
        free(c);
        return r;
    }
    c->media = media;
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    r = -pthread_create(&c->thread, NULL, run, c);
    c->running = r == 0;
    if (r < 0) {
        api_cdr_free(c);
        return r;
    }
    media_set_leg_state_fn(media, legs_changed, c); /* unset by api_cdr_stop */
    *ret = c;
    return 0;
}

void api_cdr_stop(struct api_cdr *c)
{
    if (!c || !c->running)
        return;
    media_set_leg_state_fn(c->media, NULL, NULL);
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    c->running = false;
}

void api_cdr_free(struct api_cdr *c)
{
    if (!c)
        return;
    api_cdr_stop(c);
    store_close(c->st);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c->q);
    free(c->calls);
    free(c->legs);
    free(c);
    curl_global_cleanup();
}

void api_cdr_changed(struct api_cdr *c, const char *receiver_id)
{
    size_t i;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->nrx && strcmp(c->rx[i].id, receiver_id) != 0; i++)
        ;
    if (i < c->nrx) /* a changed receiver starts afresh: its uri may be another */
        c->rx[i] = c->rx[--c->nrx];
    c->kick = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

/* ---- what the API and the monitoring read ------------------------------------------------- */

int api_cdr_state(struct api_cdr *c, const char *receiver_id, struct api_cdr_state *ret)
{
    int r = -ENOENT;

    if (!c)
        return r;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->nrx && r; i++)
        if (strcmp(c->rx[i].id, receiver_id) == 0) {
            *ret = c->rx[i].s;
            r = 0;
        }
    pthread_mutex_unlock(&c->lock);
    return r;
}

size_t api_cdr_receiver_alarms(struct api_cdr *c, api_cdr_alarm_fn fn, void *userdata)
{
    struct cdr_rx rx[MAX_RECEIVERS];
    size_t n = 0, alarms = 0;

    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock); /* fn runs outside the lock: it may take its own */
    n = c->nrx;
    memcpy(rx, c->rx, n * sizeof(rx[0]));
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < n; i++)
        if (rx[i].s.failing) {
            alarms++;
            if (fn)
                fn(userdata, "cdrConnectionFailure", rx[i].id, rx[i].s.last_failure_ms);
        }
    return alarms;
}

void api_cdr_totals(struct api_cdr *c, struct api_cdr_totals *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    ret->records = c->records;
    ret->dropped = c->dropped;
    ret->receivers = c->nrx;
    for (size_t i = 0; i < c->nrx; i++) {
        ret->posts += c->rx[i].s.posts;
        ret->failures += c->rx[i].s.failures;
        ret->failing += c->rx[i].s.failing;
        ret->pending += c->rx[i].s.pending;
    }
    pthread_mutex_unlock(&c->lock);
}
