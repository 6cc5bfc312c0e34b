/* media/media.c: the public API of media/ (media/media.h) for API threads: legs are added and
 * removed by command (the media thread runs them, loop.c), a leg's status and the leg counts
 * are read under m->lock, and the media thread's CPU time for benchmarks.
 *
 * DESIGN: the module's files, in the order a datagram meets them: loop.c (the thread, its
 * commands and timers), path.c (the packet path), rtpstats.c (RTP statistics), leg.c (legs,
 * anchoring, failover), call.c (the calls table), counters.c (counters and totals). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/media_int.h"

int media_leg_add(struct media *m, const char *call_id, const char *leg_id,
                  const struct sockaddr *remote)
{
    struct media_cmd *c;

    if (remote->sa_family != AF_INET && remote->sa_family != AF_INET6)
        return -EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->kind = MEDIA_CMD_ADD;
    snprintf(c->call, sizeof(c->call), "%s", call_id);
    snprintf(c->leg, sizeof(c->leg), "%s", leg_id);
    memcpy(&c->remote, remote,
           remote->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    media_loop_push(m, c);
    return 0;
}

int media_leg_remove(struct media *m, const char *leg_id)
{
    struct media_cmd *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    c->kind = MEDIA_CMD_REMOVE;
    snprintf(c->leg, sizeof(c->leg), "%s", leg_id);
    media_loop_push(m, c);
    return 0;
}

int media_leg_get(struct media *m, const char *leg_id, struct media_leg_status *ret)
{
    struct media_leg *l;
    int r = -ENOENT;

    pthread_mutex_lock(&m->lock);
    l = media_leg_find(m, leg_id, NULL);
    if (l) {
        *ret = l->pub;
        media_leg_counters(l, ret->cls);
        ret->strangers = atomic_load(&l->strangers);
        r = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}

void media_leg_counts(struct media *m, size_t *ret_active, size_t *ret_max)
{
    pthread_mutex_lock(&m->lock);
    *ret_active = m->nlegs;
    *ret_max = m->max_legs;
    pthread_mutex_unlock(&m->lock);
}

int64_t media_cpu_ns(struct media *m)
{
    struct timespec ts;
    clockid_t cid;

    if (pthread_getcpuclockid(m->thread, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
