/* api/res/alarms.c: the node's active alarms (GET /api/v1/system/alarms) and call-leg alarms.
 *
 * DESIGN: an alarm is raised by the fault it names and cleared when the fault goes. Two kinds
 * of source: faults callbridged looks for itself, re-evaluated by api_alarms_refresh from a
 * thread of their own (api_alarms_watch) and on every read of the alarms (a GET of
 * /system/alarms or a scrape of /metrics), and faults an owner
 * pushes with api_alarm_set (the CDR sender). CMS's names are used where CMS has one:
 * turnServerUnavailable (a probed TURN server none of whose addresses allocates, with the
 * prober's verdict as failureReason), databaseConnectionError (the database cannot be read,
 * or is read-only: destinationReadOnly), cdrConnectionFailure. CMS has no alarm for a disk
 * filling under its database; databaseLowDiskSpace (named after recorderLowDiskSpace) is
 * raised when the data directory's free space falls under the threshold, before SQLite's
 * writes start failing with SQLITE_FULL. An alarm keeps its id and activeTimeSeconds while
 * it stays active; a polled alarm counts from the look that first saw its fault. Raises and
 * clears are logged. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "api/cdr.h"
#include "api/cluster.h"
#include "api/log.h"
#include "api/reply.h"
#include "api/res/alarms.h"
#include "api/res/leg_alarms.h"
#include "api/res/parse.h"
#include "api/res/registry.h"
#include "api/util.h"
#include "turnclient/turnclient.h"

struct api_alarms {
    pthread_mutex_t lock;
    /* one look for faults at a time: two overlapping could apply their findings out of order,
     * clearing an alarm the later look had raised */
    pthread_mutex_t looking;
    struct api_alarm *v;
    size_t n, cap;
    char *data_dir;
    uint64_t min_free;
    /* the watch: a thread, its connection, and how it is told to stop (lock held) */
    pthread_t watcher;
    bool watching, stopping;
    pthread_cond_t wake;
    const struct api *api;
    struct store *st;
    int64_t interval_us;
};

int api_alarms_new(const char *data_dir, uint64_t min_free, struct api_alarms **ret)
{
    struct api_alarms *a = calloc(1, sizeof(*a));

    if (!a || !(a->data_dir = strdup(data_dir))) {
        free(a);
        return -ENOMEM;
    }
    a->min_free = min_free;
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->looking, NULL);
    pthread_cond_init(&a->wake, NULL);
    *ret = a;
    return 0;
}

void api_alarms_free(struct api_alarms *a)
{
    if (!a)
        return;
    if (a->watching) {
        pthread_mutex_lock(&a->lock);
        a->stopping = true;
        pthread_cond_signal(&a->wake);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->watcher, NULL);
        store_close(a->st);
    }
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->looking);
    pthread_mutex_destroy(&a->lock);
    free(a->v);
    free(a->data_dir);
    free(a);
}

static bool same(const struct api_alarm *x, const char *type, const char *object)
{
    return strcmp(x->type, type) == 0 && strcmp(x->object, object ? object : "") == 0;
}

/* Adds (or keeps) the alarm; lock held. */
static int raise_locked(struct api_alarms *a, const struct api_alarm *want)
{
    struct api_alarm *x;

    for (size_t i = 0; i < a->n; i++)
        if (same(&a->v[i], want->type, want->object)) {
            snprintf(a->v[i].reason, sizeof(a->v[i].reason), "%s", want->reason);
            return 0;
        }
    if (api_calls_grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v)) < 0)
        return -ENOMEM;
    x = &a->v[a->n];
    *x = *want;
    if (api_uuid_new(x->id) < 0)
        return -ENOMEM;
    x->since_us = api_now_us();
    a->n++;
    api_log(BASE_LOG_WARN, "alarm %s raised%s%s%s%s%s%s", x->type, x->elem[0] ? " for " : "",
            x->elem, x->elem[0] ? " " : "", x->object, x->reason[0] ? ": " : "", x->reason);
    return 0;
}

/* Removes alarm i keeping the others in the order they were raised; lock held. */
static void clear_locked(struct api_alarms *a, size_t i)
{
    api_log(BASE_LOG_INFO, "alarm %s cleared%s%s%s%s after %lld s", a->v[i].type,
            a->v[i].elem[0] ? " for " : "", a->v[i].elem, a->v[i].elem[0] ? " " : "",
            a->v[i].object, (long long)((api_now_us() - a->v[i].since_us) / 1000000));
    memmove(&a->v[i], &a->v[i + 1], (a->n - i - 1) * sizeof(*a->v));
    a->n--;
}

static void fill(struct api_alarm *x, const char *type, const char *elem, const char *object,
                 const char *reason, bool polled)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->type, sizeof(x->type), "%s", type);
    snprintf(x->elem, sizeof(x->elem), "%s", elem ? elem : "");
    snprintf(x->object, sizeof(x->object), "%s", object ? object : "");
    snprintf(x->reason, sizeof(x->reason), "%s", reason ? reason : "");
    x->polled = polled;
}

int api_alarm_set(struct api_alarms *a, const char *type, const char *elem, const char *object,
                  const char *reason, bool active)
{
    struct api_alarm want;
    int r = 0;

    fill(&want, type, elem, object, reason, false);
    pthread_mutex_lock(&a->lock);
    if (active) {
        r = raise_locked(a, &want);
    } else {
        for (size_t i = 0; i < a->n; i++)
            if (same(&a->v[i], type, object)) {
                clear_locked(a, i);
                break;
            }
    }
    pthread_mutex_unlock(&a->lock);
    return r;
}

/* ---- polled faults ------------------------------------------------------------------------- */

struct found {
    struct api_alarm *v;
    size_t n, cap;
    struct turn_prober *prober;
    int err;
};

static void found_add(struct found *f, const char *type, const char *elem, const char *object,
                      const char *reason)
{
    if (api_calls_grow((void **)&f->v, &f->cap, f->n, sizeof(*f->v)) < 0) {
        f->err = -ENOMEM;
        return;
    }
    fill(&f->v[f->n++], type, elem, object, reason, true);
}

/* CMS's failureReason for a TURN server none of whose hosts allocated. */
static const char *turn_reason(const struct turn_server_status *s)
{
    if (s->dns == TURN_FAIL_DNS)
        return "dnsFailure";
    for (size_t i = 0; i < s->nhosts; i++) {
        enum turn_failure f = s->hosts[i].failure;

        if (f == TURN_FAIL_UNAUTHORIZED || f == TURN_FAIL_WRONG_CREDENTIALS ||
            f == TURN_FAIL_INTEGRITY || f == TURN_FAIL_FORBIDDEN)
            return "authenticationFailure";
        if (f == TURN_FAIL_QUOTA || f == TURN_FAIL_CAPACITY || f == TURN_FAIL_SERVER_ERROR)
            return "serviceUnavailable";
    }
    return "connectFailure";
}

/* A TURN server is unavailable once probed with no host that allocated (store_turn_fn). */
static int check_turn(const struct store_turn *t, void *userdata)
{
    struct found *f = userdata;
    struct turn_server_status s;
    bool reachable = false;

    if (turn_prober_get(f->prober, t->id, &s) < 0 || !s.probed)
        return 0;
    for (size_t i = 0; i < s.nhosts; i++)
        reachable |= s.hosts[i].reachable;
    if (!reachable)
        found_add(f, "turnServerUnavailable", "turnServer", t->id, turn_reason(&s));
    return f->err;
}

/* The database: readable (its schema version), writable, and room left on its disk. */
static void check_database(struct api_alarms *a, struct store *st, struct found *f)
{
    struct statvfs vfs;
    int version;

    if (store_schema_version(st, &version) < 0)
        found_add(f, "databaseConnectionError", NULL, NULL, "error");
    else if (store_read_only(st))
        found_add(f, "databaseConnectionError", NULL, NULL, "destinationReadOnly");
    if (statvfs(a->data_dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < a->min_free)
        found_add(f, "databaseLowDiskSpace", NULL, NULL, NULL);
}

/* Makes the polled alarms those of f: new ones raised, gone ones cleared. */
static int apply(struct api_alarms *a, const struct found *f)
{
    int r = 0;

    pthread_mutex_lock(&a->lock);
    for (size_t i = a->n; i-- > 0;) {
        bool still = false;

        for (size_t j = 0; j < f->n && !still; j++)
            still = same(&f->v[j], a->v[i].type, a->v[i].object);
        if (a->v[i].polled && !still)
            clear_locked(a, i);
    }
    for (size_t j = 0; j < f->n && r == 0; j++)
        r = raise_locked(a, &f->v[j]);
    pthread_mutex_unlock(&a->lock);
    return r;
}

/* A CDR receiver whose last delivery failed (api/cdr.h api_cdr_receiver_alarms). */
static void cdr_found(void *userdata, const char *alarm, const char *receiver_id, int64_t since_ms)
{
    (void)since_ms;
    found_add(userdata, alarm, "cdrReceiver", receiver_id, "connectFailure");
}

int api_alarms_refresh(const struct api *api, struct store *st)
{
    struct found f = {.prober = api->prober};
    int r;

    if (!api->alarms)
        return 0;
    pthread_mutex_lock(&api->alarms->looking);
    r = store_read_begin(st);
    if (r == 0)
        check_database(api->alarms, st, &f);
    if (r == 0 && api->prober)
        r = store_turn_foreach(st, check_turn, &f);
    store_read_end(st);
    if (r == -EROFS || r == -EIO || r == -EBUSY) { /* the read itself failed: that is the fault */
        found_add(&f, "databaseConnectionError", NULL, NULL, "error");
        r = 0;
    }
    if (r == 0 && api->cdr)
        (void)api_cdr_receiver_alarms(api->cdr, cdr_found, &f);
    /* this node's name was taken while it was shown down: it is out of its cluster (CMS's
     * alarm for a call bridge cut off from its peers; the callBridge its own object) */
    if (r == 0 && api_cluster_name_taken(api->cluster))
        found_add(&f, "callBridgeConnectionFailure", "callBridge",
                  api_cluster_bridge_id(api->cluster), "error");
    if (r == 0)
        r = f.err;
    if (r == 0)
        r = apply(api->alarms, &f);
    if (r == 0) /* the call legs' own alarms, over the window since the last look */
        r = api_leg_alarms_look(api);
    pthread_mutex_unlock(&api->alarms->looking);
    free(f.v);
    return r;
}

static void *watch(void *arg)
{
    struct api_alarms *a = arg;

    pthread_mutex_lock(&a->lock);
    while (!a->stopping) {
        struct timespec until;
        int64_t at;
        int r;

        pthread_mutex_unlock(&a->lock);
        r = api_alarms_refresh(a->api, a->st);
        if (r < 0)
            api_log(BASE_LOG_WARN, "alarms: cannot look for faults: %s", strerror(-r));
        clock_gettime(CLOCK_MONOTONIC, &until);
        at = (int64_t)until.tv_sec * 1000000 + until.tv_nsec / 1000 + a->interval_us;
        until = (struct timespec){.tv_sec = at / 1000000, .tv_nsec = (at % 1000000) * 1000};
        pthread_mutex_lock(&a->lock);
        while (!a->stopping && pthread_cond_timedwait(&a->wake, &a->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

int api_alarms_watch(struct api_alarms *a, const struct api *api, const char *db_path,
                     int64_t interval_us)
{
    pthread_condattr_t attr;
    int r = store_open(db_path, &a->st);

    if (r < 0)
        return r;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* a wall-clock step does not stall it */
    pthread_cond_destroy(&a->wake);
    pthread_cond_init(&a->wake, &attr);
    pthread_condattr_destroy(&attr);
    a->api = api;
    a->interval_us = interval_us;
    r = -pthread_create(&a->watcher, NULL, watch, a);
    if (r < 0) {
        store_close(a->st);
        a->st = NULL;
        return r;
    }
    a->watching = true;
    return 0;
}

size_t api_alarms_list(struct api_alarms *a, struct api_alarm *out, size_t cap)
{
    size_t n;

    pthread_mutex_lock(&a->lock);
    n = a->n;
    if (out && cap && n) /* a->v is NULL until the first alarm */
        memcpy(out, a->v, (n < cap ? n : cap) * sizeof(*out));
    pthread_mutex_unlock(&a->lock);
    return n;
}

/* ---- GET /system/alarms -------------------------------------------------------------------- */

static void write_alarm(struct api_xml *x, const struct api_alarm *al, int64_t now)
{
    api_xml_start(x, "alarm");
    api_xml_attr(x, "id", al->id);
    api_xml_text(x, "type", al->type);
    api_xml_int(x, "activeTimeSeconds", (now - al->since_us) / 1000000);
    if (al->reason[0])
        api_xml_text(x, "failureReason", al->reason);
    if (al->elem[0])
        api_xml_text(x, al->elem, al->object);
    api_xml_end(x);
}

void api_res_system_alarms(const struct api *api, struct store *st, const struct api_request *req,
                           const char *id, struct api_reply *reply)
{
    struct api_alarm *v = NULL;
    size_t offset, limit, n = 0, total;
    struct api_xml *x;
    int64_t now = api_now_us();
    int r;

    (void)id;
    if (api_page_from_query(req, API_PAGE_DEFAULT, &offset, &limit, reply) < 0)
        return;
    if ((r = api_alarms_refresh(api, st)) < 0) {
        api_reply_err(reply, r);
        return;
    }
    total = api->alarms ? api_alarms_list(api->alarms, NULL, 0) : 0;
    if (total && !(v = calloc(total, sizeof(*v)))) {
        api_reply_err(reply, -ENOMEM);
        return;
    }
    if (total)
        n = api_alarms_list(api->alarms, v, total);
    n = n < total ? n : total; /* an alarm raised between the two reads waits for the next */
    if ((x = api_reply_xml_new(reply))) {
        api_xml_start(x, "alarms");
        api_xml_attr_size(x, "total", n);
        for (size_t i = offset; i < n && i - offset < limit; i++)
            write_alarm(x, &v[i], now);
        api_xml_end(x);
        api_reply_xml(reply, x);
    }
    free(v);
}

/* ---- call-leg alarms ----------------------------------------------------------------------- */

unsigned api_leg_alarms(const struct media_leg_status *m)
{
    unsigned bits = 0;

    for (int i = 0; i < MEDIA__STREAMS; i++) {
        const struct media_stream_status *s = &m->streams[i];

        if (!s->active)
            continue;
        if (s->loss_percent > API_LEG_LOSS_PERCENT)
            bits |= API_LEG_PACKET_LOSS;
        if (s->jitter_ms > API_LEG_JITTER_MS)
            bits |= API_LEG_EXCESSIVE_JITTER;
    }
    if (m->rx_rtp.seen && m->rx_rtp.loss_percent > API_LEG_LOSS_PERCENT)
        bits |= API_LEG_PACKET_LOSS;
    if (m->rx_rtp.seen && m->rx_rtp.has_jitter && m->rx_rtp.jitter_ms > API_LEG_JITTER_MS)
        bits |= API_LEG_EXCESSIVE_JITTER;
    return bits;
}

static const char *const leg_alarm_names[] = {"packetLoss", "excessiveJitter", "highRoundTripTime"};

int api_leg_alarms_parse(const char *s, unsigned *ret)
{
    unsigned bits = 0;

    if (strcmp(s, "all") == 0) {
        *ret = API_LEG_ALARMS_ALL;
        return 0;
    }
    while (*s) {
        size_t len = strcspn(s, "|,"), i;

        for (i = 0; i < 3; i++)
            if (strlen(leg_alarm_names[i]) == len && strncmp(s, leg_alarm_names[i], len) == 0)
                break;
        if (i == 3)
            return -EINVAL;
        bits |= 1u << i;
        s += len + (s[len] ? 1 : 0);
    }
    if (!bits)
        return -EINVAL;
    *ret = bits;
    return 0;
}

void api_leg_alarms_write(struct api_xml *x, unsigned bits)
{
    api_xml_start(x, "alarms");
    for (int i = 0; i < 3; i++)
        if (bits & (1u << i))
            api_xml_text(x, leg_alarm_names[i], "");
    api_xml_end(x);
}
