/* store/pool.c: a fixed set of connections to one database, lent to threads one at a time
 * (store.h "connection pool"), on either backend. The HTTPS edge borrows one per request, so it
 * holds no database connection of its own; a struct store is used by one thread at a time, which
 * the pool guarantees. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "store/store.h"

struct store_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct store **all, **idle;
    size_t size, nidle;
};

int store_pool_open(const char *location, size_t size, struct store_pool **ret_pool)
{
    struct store_pool *p = calloc(1, sizeof(*p));
    int r = 0;

    if (!p)
        return -ENOMEM;
    p->all = calloc(size, sizeof(*p->all));
    p->idle = calloc(size, sizeof(*p->idle));
    if (!p->all || !p->idle) {
        r = -ENOMEM;
        goto out;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (; p->size < size && r == 0; p->size++) {
        r = store_open(location, &p->all[p->size]);
        if (r == 0)
            p->idle[p->nidle++] = p->all[p->size];
    }
out:
    if (r < 0) {
        store_pool_close(p);
        return r;
    }
    *ret_pool = p;
    return 0;
}

void store_pool_close(struct store_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->size; i++)
        store_close(p->all[i]);
    if (p->all && p->idle) {
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
    }
    free(p->all);
    free(p->idle);
    free(p);
}

struct store *store_pool_get(struct store_pool *p, unsigned wait_ms)
{
    struct store *st = NULL;
    struct timespec until;

    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->lock);
    while (p->nidle == 0)
        if (pthread_cond_timedwait(&p->cond, &p->lock, &until) == ETIMEDOUT)
            break;
    if (p->nidle > 0)
        st = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->lock);
    return st;
}

void store_pool_put(struct store_pool *p, struct store *st)
{
    pthread_mutex_lock(&p->lock);
    p->idle[p->nidle++] = st;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}
