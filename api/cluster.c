/* api/cluster.c: this node in a cluster of call bridges (api/cluster.h, docs/cluster.md).
 *
 * DESIGN: registration runs on the caller's connection at start (store_node_register: the
 * callBridges object and the cluster_node row in one transaction, refused when a live node of
 * another data directory holds the name). Then one thread with its own connection wakes every
 * interval: a heartbeat (the database's clock), then this node's TURN view: each server whose
 * latest probe is newer than the one published last is rendered as the status API renders it
 * and written to cluster_turn_status, so the work per beat is bounded by the number of TURN
 * servers (capped, --max-turn-servers). At the stop the node is marked stopped, so the others
 * show it stopped at once instead of down after a few intervals. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/cluster.h"
#include "api/log.h"
#include "api/res/list.h"
#include "api/util.h"
#include "turnclient/turnclient.h"

#define PRUNE_EVERY 12 /* beats between two prunings of views of deleted TURN servers */

/* The newest probe of a server this node published. */
struct published {
    char id[STORE_ID_LEN + 1];
    int64_t checked_unix;
    uint64_t probes; /* every result counted so far: a new probe changes it */
};

struct api_cluster {
    const struct api *api;
    struct store *st; /* the thread's own connection */
    char name[STORE_TEXT_MAX + 1];
    char bridge_id[STORE_ID_LEN + 1];
    char host_id[STORE_ID_LEN + 1];
    char cluster_id[STORE_ID_LEN + 1];
    int (*render_view)(const struct turn_server_status *status, char **ret_markup);
    unsigned interval_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_bool stopping;
    struct published *pub;
    size_t npub, cappub;
    unsigned beats;
    /* the name was registered by another node (data directory) while this one was shown down:
     * out of the cluster until it may register again (api_cluster_name_taken) */
    atomic_bool lost;
    /* registered: false while a node that started on a database taking no writes (a standby,
     * the primary down) waits to register; bridge_id and cluster_id are written once, by the
     * heartbeat thread, before this turns true, and read only after it did */
    atomic_bool registered;
    char address[STORE_TEXT_MAX + 1]; /* for registering again */
    /* CLOCK_MONOTONIC ms when the last heartbeat that was written began (before its write, so
     * never later than the database's now() it wrote): api_cluster_beat_age_ms() */
    atomic_int_least64_t beat_ok_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t api_cluster_beat_age_ms(const struct api_cluster *c)
{
    return c ? mono_ms() - atomic_load(&c->beat_ok_ms) : 0;
}

int64_t api_cluster_down_ms(const struct api_cluster *c)
{
    return c ? (int64_t)API_CLUSTER_DOWN_AFTER * c->interval_s * 1000 : 0;
}

const char *api_cluster_id(const struct api_cluster *c)
{
    return c ? (atomic_load(&c->registered) ? c->cluster_id : "") : NULL;
}

const char *api_cluster_name(const struct api_cluster *c)
{
    return c ? c->name : NULL;
}

const char *api_cluster_bridge_id(const struct api_cluster *c)
{
    return c ? (atomic_load(&c->registered) ? c->bridge_id : "") : NULL;
}

bool api_cluster_name_taken(const struct api_cluster *c)
{
    return c && atomic_load(&c->lost);
}

bool api_cluster_is_self(const struct api_cluster *c, const char *want)
{
    return c && ((atomic_load(&c->registered) && strcasecmp(want, c->bridge_id) == 0) ||
                 strcasecmp(want, c->name) == 0);
}

struct find {
    const char *want;
    struct store_node *ret;
    bool found;
};

static int find_one(const struct store_node *n, void *userdata)
{
    struct find *f = userdata;

    if (strcasecmp(f->want, n->call_bridge) != 0 && strcasecmp(f->want, n->name) != 0)
        return 0;
    *f->ret = *n;
    f->found = true;
    return 1;
}

int api_cluster_find(const struct api *api, struct store *st, const char *want,
                     struct store_node *ret)
{
    struct find f = {.want = want, .ret = ret};
    int r;

    if (!api->cluster)
        return -ENOENT;
    r = store_node_foreach(st, API_CLUSTER_DOWN_AFTER, find_one, &f);
    if (r < 0)
        return r;
    return f.found ? 0 : -ENOENT;
}

/* ---- the TURN view ----------------------------------------------------------------------------
 */

static struct published *published_slot(struct api_cluster *c, const char *id)
{
    for (size_t i = 0; i < c->npub; i++)
        if (strcmp(c->pub[i].id, id) == 0)
            return &c->pub[i];
    if (c->npub == c->cappub) {
        size_t cap = c->cappub ? 2 * c->cappub : 16;
        struct published *v = realloc(c->pub, cap * sizeof(*v));

        if (!v)
            return NULL;
        c->pub = v;
        c->cappub = cap;
    }
    memset(&c->pub[c->npub], 0, sizeof(c->pub[0]));
    (void)snprintf(c->pub[c->npub].id, sizeof(c->pub[0].id), "%s", id);
    return &c->pub[c->npub++];
}

/* Publishes one server's status when a probe ended since the last publication. */
static int publish_one(struct api_cluster *c, const char *id)
{
    struct turn_server_status *s = malloc(sizeof(*s));
    struct published *p;
    int64_t checked = 0;
    uint64_t probes;
    char *markup = NULL;
    int r;

    if (!s)
        return -ENOMEM;
    if (turn_prober_get(c->api->prober, id, s) < 0 || !s->probed) {
        free(s);
        return 0; /* not probed yet: nothing to show but pending, which the reader says */
    }
    probes = s->dns_failures;
    for (size_t i = 0; i < s->nhosts; i++) {
        if (s->hosts[i].checked_unix > checked)
            checked = s->hosts[i].checked_unix;
        for (size_t k = 0; k < TURN_FAIL__COUNT; k++)
            probes += s->hosts[i].probes[k];
    }
    p = published_slot(c, id);
    if (p && p->checked_unix == checked && p->probes == probes) {
        free(s);
        return 0;
    }
    r = c->render_view(s, &markup);
    free(s);
    if (r == 0)
        r = store_turn_view_put(c->st, c->host_id, id, markup);
    free(markup);
    if (r == 0 && p) {
        p->checked_unix = checked;
        p->probes = probes;
    }
    return r == -ENOMEM ? r : 0; /* one server's failure does not stop the others' */
}

struct ids {
    char (*v)[STORE_ID_LEN + 1];
    size_t n, cap;
};

static int collect_id(const struct store_turn *t, void *userdata)
{
    struct ids *ids = userdata;

    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? 2 * ids->cap : 16;
        char(*v)[STORE_ID_LEN + 1] = realloc(ids->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        ids->v = v;
        ids->cap = cap;
    }
    memcpy(ids->v[ids->n++], t->id, STORE_ID_LEN + 1);
    return 0;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Forgets what was published of servers that are no longer configured (ids: every server). */
static void forget_deleted(struct api_cluster *c, struct ids *ids)
{
    size_t kept = 0;

    if (ids->n == 0) { /* no server left (and no array to sort) */
        c->npub = 0;
        return;
    }
    qsort(ids->v, ids->n, sizeof(*ids->v), id_cmp);
    for (size_t i = 0; i < c->npub; i++)
        if (bsearch(c->pub[i].id, ids->v, ids->n, sizeof(*ids->v), id_cmp))
            c->pub[kept++] = c->pub[i];
    c->npub = kept;
}

/* The servers are listed first, then published: no write while a read is stepped. */
static void publish(struct api_cluster *c)
{
    struct ids ids = {0};
    int r;

    if (!c->api->prober)
        return;
    r = store_turn_foreach(c->st, collect_id, &ids);
    for (size_t i = 0; r == 0 && i < ids.n; i++)
        r = publish_one(c, ids.v[i]);
    if (r == 0 && c->beats % PRUNE_EVERY == 0)
        forget_deleted(c, &ids);
    free(ids.v);
    if (r == 0 && c->beats % PRUNE_EVERY == 0)
        r = store_turn_view_prune(c->st);
    if (r < 0)
        api_log_every(60, BASE_LOG_WARN, "cluster: cannot publish this node's TURN view: %s",
                      strerror(-r));
}

/* ---- the heartbeat ----------------------------------------------------------------------------
 */

/* The name was taken while this node was shown down (its row names another data directory):
 * registers again, as at start, once no live node holds the name (the other is down or
 * stopped); until then the node is out of the cluster: no heartbeat, its calls fenced
 * (api/res/call_home.c), an alarm (api_cluster_name_taken). 0 when registered again. */
static int register_again(struct api_cluster *c)
{
    struct store_node n = {.interval_ms = (int64_t)c->interval_s * 1000};
    char new_id[STORE_ID_LEN + 1];
    int r;

    (void)snprintf(n.name, sizeof(n.name), "%s", c->name);
    (void)snprintf(n.host_id, sizeof(n.host_id), "%s", c->host_id);
    (void)snprintf(n.address, sizeof(n.address), "%s", c->address);
    (void)snprintf(n.cluster_id, sizeof(n.cluster_id), "%s", c->cluster_id);
    r = api_uuid_new(new_id);
    if (r == 0)
        r = store_node_register(c->st, &n, new_id, API_CLUSTER_DOWN_AFTER);
    if (r == 0 && !atomic_load(&c->registered)) { /* the first time: its ids, then the flag */
        (void)snprintf(c->bridge_id, sizeof(c->bridge_id), "%s", n.call_bridge);
        (void)snprintf(c->cluster_id, sizeof(c->cluster_id), "%s", n.cluster_id);
        atomic_store(&c->registered, true);
    }
    if (r == 0) /* the object of its name: its own again (bridge_id stays, read by others) */
        api_changed(c->api);
    return r;
}

/* A node that started on a database taking no writes registers at its first heartbeat that
 * finds one that does (a primary back, a standby promoted): 0 once registered. */
static int register_late(struct api_cluster *c)
{
    int r = register_again(c);

    if (r == 0) {
        api_log(BASE_LOG_INFO,
                "cluster: the database takes writes: node '%s' registered as callBridge %s at %s",
                c->name, c->bridge_id, c->address);
    } else if (r == -EADDRINUSE) {
        if (!atomic_exchange(&c->lost, true))
            api_log(BASE_LOG_WARN,
                    "cluster: another call bridge named '%s' is up on this database (another "
                    "data directory's node): this node stays out of the cluster until that one "
                    "is down or stopped (or give one of them another --node-name)",
                    c->name);
    } else if (r != -EROFS && r != -ENOTCONN) {
        api_log_every(30, BASE_LOG_WARN, "cluster: node %s cannot register: %s", c->name,
                      strerror(-r));
    }
    return r;
}

/* One heartbeat of a registered node; its name taken meanwhile: registers again, or is out of
 * the cluster (lost). Returns 0 once written. */
static int heartbeat(struct api_cluster *c)
{
    int r = store_node_heartbeat(c->st, c->name, c->host_id);

    c->beats++;
    if (r == -ENOENT) {
        r = register_again(c);
        if (r == 0) {
            api_log(BASE_LOG_WARN, "cluster: node %s registered again (its name was free again)",
                    c->name);
            return 0;
        }
        if (!atomic_load(&c->lost))
            api_log(BASE_LOG_WARN,
                    "cluster: the name %s was registered by another call bridge (another data "
                    "directory) while this one was shown down: this node is out of the cluster "
                    "and ends its calls; it registers again when that node is down or stopped "
                    "(or give one of them another --node-name)",
                    c->name);
        else if (r != -EADDRINUSE)
            api_log_every(30, BASE_LOG_WARN, "cluster: node %s cannot register again: %s", c->name,
                          strerror(-r));
        atomic_store(&c->lost, true);
        return r;
    }
    if (r < 0)
        api_log_every(10, BASE_LOG_WARN, "cluster: heartbeat of node %s failed: %s", c->name,
                      strerror(-r));
    return r;
}

/* A heartbeat, or a late registration (a node started on a database taking no writes); either
 * written: the node is in the cluster, and its TURN views are published. */
static void beat(struct api_cluster *c)
{
    int64_t began = mono_ms();

    if ((atomic_load(&c->registered) ? heartbeat(c) : register_late(c)) < 0)
        return;
    atomic_store(&c->lost, false);
    atomic_store(&c->beat_ok_ms, began);
    publish(c);
}

static void *run(void *arg)
{
    struct api_cluster *c = arg;

    for (;;) {
        struct timespec until;

        beat(c);
        pthread_mutex_lock(&c->lock);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += c->interval_s;
        while (!atomic_load(&c->stopping) &&
               pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0)
            ;
        pthread_mutex_unlock(&c->lock);
        if (atomic_load(&c->stopping))
            break;
    }
    return NULL;
}

static void cluster_free(struct api_cluster *c)
{
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    store_close(c->st);
    free(c->pub);
    free(c);
}

int api_cluster_start(const struct api_cluster_config *cfg, const struct api *api, struct store *st,
                      struct api_cluster **ret)
{
    struct store_node n = {.interval_ms = (int64_t)cfg->interval_s * 1000};
    char new_id[STORE_ID_LEN + 1];
    struct api_cluster *c;
    pthread_condattr_t ca;
    int r;

    *ret = NULL;
    if (!store_is_shared(st))
        return 0;
    (void)snprintf(n.name, sizeof(n.name), "%s", cfg->name);
    (void)snprintf(n.host_id, sizeof(n.host_id), "%s", cfg->host_id);
    (void)snprintf(n.address, sizeof(n.address), "%s", cfg->address);
    (void)snprintf(n.cluster_id, sizeof(n.cluster_id), "%s",
                   cfg->cluster_id ? cfg->cluster_id : "");
    r = api_uuid_new(new_id);
    if (r == 0)
        r = store_node_register(st, &n, new_id, API_CLUSTER_DOWN_AFTER);
    if (r == -EADDRINUSE) {
        api_log(BASE_LOG_ERR,
                "cluster: another call bridge named '%s' is up on this database (another data "
                "directory's node): give this one another name (--node-name)",
                n.name);
        return r;
    }
    if (r == -EROFS || r == -ENOTCONN) { /* no writes (a standby, the primary down): reads */
        api_log(BASE_LOG_WARN,
                "cluster: the database takes no writes: node '%s' is not registered yet and "
                "hosts no call; it registers at the first heartbeat that finds a database that "
                "takes writes",
                n.name);
    } else if (r < 0) {
        api_log(BASE_LOG_ERR, "cluster: cannot register node '%s': %s", n.name, strerror(-r));
        return r;
    }
    if (r == 0)
        api_changed(api); /* the callBridges object was written */
    if (!(c = calloc(1, sizeof(*c))))
        return -ENOMEM;
    c->api = api;
    c->interval_s = cfg->interval_s;
    c->render_view = cfg->render_view;
    atomic_store(&c->registered, r == 0);
    /* registered: a heartbeat written just now; not: none ever (its calls are fenced) */
    atomic_store(&c->beat_ok_ms, r == 0 ? mono_ms() : INT64_MIN / 2);
    (void)snprintf(c->cluster_id, sizeof(c->cluster_id), "%s", n.cluster_id);
    (void)snprintf(c->name, sizeof(c->name), "%s", n.name);
    (void)snprintf(c->bridge_id, sizeof(c->bridge_id), "%s", n.call_bridge);
    (void)snprintf(c->host_id, sizeof(c->host_id), "%s", n.host_id);
    (void)snprintf(c->address, sizeof(c->address), "%s", n.address);
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    r = store_open(cfg->db, &c->st);
    if (r == 0)
        r = -pthread_create(&c->thread, NULL, run, c);
    if (r < 0) {
        api_log(BASE_LOG_ERR, "cluster: cannot start the heartbeat of node '%s': %s", n.name,
                strerror(-r));
        cluster_free(c);
        return r;
    }
    if (atomic_load(&c->registered))
        api_log(BASE_LOG_INFO,
                "cluster: node '%s' registered as callBridge %s at %s, heartbeat every %u s",
                c->name, c->bridge_id, cfg->address, c->interval_s);
    *ret = c;
    return 0;
}

void api_cluster_stop(struct api_cluster *c)
{
    int r;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->stopping, true);
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    r = store_node_stop(c->st, c->name, c->host_id);
    if (r < 0 && r != -ENOENT)
        api_log(BASE_LOG_WARN, "cluster: cannot mark node '%s' stopped: %s (shown down soon)",
                c->name, strerror(-r));
    cluster_free(c);
}
