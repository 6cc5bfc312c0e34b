/* api/res/call_home.c: the node's side of the call directory (api/res/call_home.h).
 *
 * DESIGN: the claim runs on the request's connection, in the request's thread, outside the
 * registry's lock (a claim waits on the database). The release is asked for where a call ends,
 * under the registry's lock: the id is queued and a thread of its own writes the DELETE. A
 * release that has not run yet leaves a stale row of this node's; the next claim of that coSpace
 * finds it, sees that the call is not here any more and replaces it. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/cluster.h"
#include "api/log.h"
#include "api/res/call_home.h"
#include "api/res/registry.h"

#define QUEUE_MAX 4096 /* releases waiting at once; beyond, the claim's stale check mends it */

struct api_call_home {
    const struct api *api;
    struct store *st; /* the thread's own connection */
    char node[STORE_TEXT_MAX + 1];
    pthread_mutex_t claim; /* api_call_home_lock() */
    pthread_mutex_t lock;  /* the queue */
    pthread_cond_t cond;
    pthread_t thread;
    bool stopping;
    char (*queue)[STORE_ID_LEN + 1];
    size_t n;
};

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
            if (here(h->api, ret->call_id))
                return -EALREADY; /* the caller's registry has it: not for a new call */
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

void api_call_home_release(struct api_call_home *h, const char *call_id)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    if (h->n < QUEUE_MAX) {
        (void)snprintf(h->queue[h->n++], STORE_ID_LEN + 1, "%s", call_id);
        pthread_cond_signal(&h->cond);
    }
    pthread_mutex_unlock(&h->lock);
}

static void *run(void *arg)
{
    struct api_call_home *h = arg;
    char id[STORE_ID_LEN + 1];

    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!h->stopping && h->n == 0)
            pthread_cond_wait(&h->cond, &h->lock);
        if (h->n == 0)
            break; /* stopping, and all written */
        memcpy(id, h->queue[0], sizeof(id));
        memmove(h->queue, h->queue + 1, --h->n * sizeof(h->queue[0]));
        pthread_mutex_unlock(&h->lock);
        int r = store_call_release(h->st, id, h->node);

        if (r < 0 && r != -ENOENT)
            api_log_every(10, BASE_LOG_WARN,
                          "call directory: cannot remove call %s: %s (replaced at its coSpace's "
                          "next call)",
                          id, strerror(-r));
        pthread_mutex_lock(&h->lock);
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
    free(h);
}

int api_call_home_start(const char *db, const struct api *api)
{
    struct api_call_home *h;
    int r;

    if (!api->cluster)
        return 0;
    if (!(h = calloc(1, sizeof(*h))) || !(h->queue = calloc(QUEUE_MAX, sizeof(h->queue[0])))) {
        free(h);
        return -ENOMEM;
    }
    h->api = api;
    (void)snprintf(h->node, sizeof(h->node), "%s", api_cluster_name(api->cluster));
    pthread_mutex_init(&h->claim, NULL);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    r = store_open(db, &h->st);
    if (r == 0) {
        r = store_call_release_node(h->st, h->node);
        if (r > 0)
            api_log(BASE_LOG_INFO, "call directory: %d call(s) of this node's last run removed", r);
        r = r < 0 ? r : 0;
    }
    if (r == 0)
        r = -pthread_create(&h->thread, NULL, run, h);
    if (r < 0) {
        api_log(BASE_LOG_ERR, "call directory: cannot start: %s", strerror(-r));
        home_free(h);
        return r;
    }
    pthread_mutex_lock(&api->calls->lock);
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
    api->calls->home = NULL;
    pthread_mutex_unlock(&api->calls->lock);
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    r = store_call_release_node(h->st, h->node); /* the calls end with the node */
    if (r < 0)
        api_log(BASE_LOG_WARN, "call directory: cannot remove this node's calls: %s", strerror(-r));
    home_free(h);
}
