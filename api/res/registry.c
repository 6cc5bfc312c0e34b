/* api/res/registry.c: the in-memory registry of calls and call legs (api/res/registry.h): its
 * life, the admission limits (the most calls, the node's budget of legs with media, derived
 * from the descriptors RLIMIT_NOFILE leaves) and the lookups the calls handler makes under its
 * lock. Calls are runtime objects, as in CMS: gone after a restart. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/log.h"
#include "api/reply.h"
#include "api/res/parse.h"
#include "api/res/registry.h"
#include "media/media.h"

int api_calls_new(struct api_calls **ret)
{
    struct api_calls *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    c->leg_budget = SIZE_MAX; /* until api_calls_set_budget() */
    c->max_calls = 10000;
    *ret = c;
    return 0;
}

void api_calls_free(struct api_calls *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->calls);
    free(c->legs);
    free(c);
}

void api_calls_counts(struct api_calls *c, size_t *ret_calls, size_t *ret_active, size_t *ret_max)
{
    pthread_mutex_lock(&c->lock);
    *ret_calls = c->ncalls;
    *ret_active = c->nlegs;
    *ret_max = c->max_legs;
    pthread_mutex_unlock(&c->lock);
}

void api_calls_budget(struct api_calls *c, struct api_calls_budget *ret)
{
    pthread_mutex_lock(&c->lock);
    ret->media_legs = c->media_legs;
    ret->budget = c->leg_budget;
    ret->refused_call = c->refused_call;
    ret->refused_node = c->refused_node;
    pthread_mutex_unlock(&c->lock);
}

void api_calls_set_max_calls(struct api_calls *c, unsigned max_calls)
{
    pthread_mutex_lock(&c->lock);
    c->max_calls = max_calls;
    pthread_mutex_unlock(&c->lock);
}

size_t api_calls_prober_sockets(long turn_fds)
{
    if (turn_fds < 0)
        return 0;
    return turn_fds / 8 > 16 ? (size_t)(turn_fds / 8) : 16;
}

size_t api_calls_set_budget(struct api_calls *c, long turn_fds, unsigned max_legs,
                            unsigned fds_per_leg)
{
    size_t derived = API_CALLS_UNLIMITED_BUDGET, budget;

    if (turn_fds >= 0) { /* the prober keeps its share of the TURN sockets */
        long prober = (long)api_calls_prober_sockets(turn_fds);

        derived = turn_fds > prober ? (size_t)(turn_fds - prober) / fds_per_leg : 0;
    }
    budget = max_legs && max_legs < derived ? max_legs : derived;
    if (max_legs > derived)
        api_log(BASE_LOG_WARN,
                "--max-legs %u is more than open files allow (RLIMIT_NOFILE): at most %zu call "
                "legs with media; raise LimitNOFILE= or ulimit -n for more",
                max_legs, derived);
    else
        api_log(BASE_LOG_INFO, "at most %zu call legs with media at once (%s)", budget,
                max_legs        ? "--max-legs"
                : turn_fds >= 0 ? "what RLIMIT_NOFILE leaves"
                                : "default");
    pthread_mutex_lock(&c->lock);
    c->leg_budget = budget;
    pthread_mutex_unlock(&c->lock);
    return budget;
}

struct api_call *api_calls_find_call(struct api_calls *c, const char *id)
{
    for (size_t i = 0; i < c->ncalls; i++)
        if (strcmp(c->calls[i].id, id) == 0)
            return &c->calls[i];
    return NULL;
}

struct api_leg *api_calls_find_leg(struct api_calls *c, const char *id)
{
    for (size_t i = 0; i < c->nlegs; i++)
        if (strcmp(c->legs[i].id, id) == 0)
            return &c->legs[i];
    return NULL;
}

size_t api_calls_legs_of(struct api_calls *c, const char *call)
{
    size_t n = 0;

    for (size_t i = 0; i < c->nlegs; i++)
        n += strcmp(c->legs[i].call, call) == 0;
    return n;
}

int api_calls_grow(void **v, size_t *cap, size_t n, size_t size)
{
    void *p;

    if (n < *cap)
        return 0;
    p = realloc(*v, (*cap ? *cap * 2 : 16) * size);
    if (!p)
        return -ENOMEM;
    *v = p;
    *cap = *cap ? *cap * 2 : 16;
    return 0;
}

bool api_calls_path_id(const char *id, char out[STORE_ID_LEN + 1], const char *missing,
                       struct api_reply *reply)
{
    if (api_parse_id(id, out) == 0)
        return true;
    api_reply_failure(reply, 404, missing);
    return false;
}

bool api_calls_is_get(const struct api_request *req)
{
    return req->method == API_GET || req->method == API_HEAD;
}

size_t api_calls_homed(struct api_calls *c, char (*v)[STORE_ID_LEN + 1], size_t cap)
{
    size_t n = 0;

    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; c->home && i < c->ncalls; i++) {
        if (!c->calls[i].ends_empty) /* POST /calls: not in the directory */
            continue;
        if (n < cap)
            memcpy(v[n], c->calls[i].id, STORE_ID_LEN + 1);
        n++;
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

int api_calls_end_lost(struct api_calls *c, struct media *media, const char *call_id,
                       int64_t *ret_started_us)
{
    struct api_call *call;
    int n = 0;

    pthread_mutex_lock(&c->lock);
    call = api_calls_find_call(c, call_id);
    if (!call) {
        pthread_mutex_unlock(&c->lock);
        return -ENOENT;
    }
    for (size_t i = c->nlegs; i-- > 0;) {
        struct api_leg *l = &c->legs[i];

        if (strcmp(l->call, call_id) != 0)
            continue;
        if (l->webrtc && c->guest_dropped)
            c->guest_dropped(c->guest_userdata, l->id, API_CALLS_LOST);
        if (l->has_media && media) {
            (void)media_leg_remove(media, l->id);
            c->media_legs--;
        }
        *l = c->legs[--c->nlegs];
        c->legs_completed++;
        n++;
    }
    *ret_started_us = call->started_us;
    *call = c->calls[--c->ncalls];
    pthread_mutex_unlock(&c->lock);
    return n;
}
