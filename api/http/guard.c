/* api/http/guard.c: the connection table of the HTTPS ports (see guard.h).
 *
 * DESIGN: one lock, one fixed table of entries per port with a stack of free ones, and one
 * thread that sleeps on a condition variable until the nearest deadline. Stage changes run on
 * libmicrohttpd's workers under the lock; they wake the thread only when they bring the nearest
 * deadline forward. Eviction and expiry shut a socket down and mark its entry closing; the entry
 * is freed by api_guard_close() (libmicrohttpd's NOTIFY_CLOSED, before it closes the socket). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "api/http/guard.h"
#include "api/log.h"
#include "api/metrics.h"
#include "api/util.h"

#define NO_DEADLINE INT64_MAX

struct api_guard_conn {
    int fd; /* -1: free */
    enum api_guard_stage stage;
    bool closing; /* shut down here; libmicrohttpd has not closed it yet */
    unsigned port;
    int64_t since_us;    /* when the stage began */
    int64_t deadline_us; /* NO_DEADLINE in BUSY */
};

struct port_table {
    unsigned open;    /* connections open now, with or without an entry */
    unsigned closing; /* of which shut down here, not yet closed */
    unsigned nfree;
    unsigned *free; /* indices of free entries */
    struct api_guard_conn *conns;
};

struct api_guard {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    bool stopping;
    int64_t next_us; /* when the thread wakes next; NO_DEADLINE: when told */
    struct api_guard_config cfg;
    struct port_table ports[API_MAX_LISTEN];
};

static const char *const stage_names[] = {"TLS handshake and request headers", "request body",
                                          "request", "next request (keep-alive)"};

static int64_t deadline(const struct api_guard *g, enum api_guard_stage stage, int64_t now)
{
    switch (stage) {
    case API_GUARD_HEAD:
        return now + (int64_t)g->cfg.head_ms * 1000;
    case API_GUARD_BODY:
        return now + (int64_t)g->cfg.body_ms * 1000;
    case API_GUARD_IDLE: /* libmicrohttpd's idle timeout comes first for a silent client */
        return now + ((int64_t)g->cfg.idle_ms + 1000) * 1000;
    case API_GUARD_BUSY:
        break;
    }
    return NO_DEADLINE;
}

/* Shuts c's socket down, so that libmicrohttpd reads the end and closes it; port_number is for
 * the log line of an eviction. Under the lock. */
static void shut(struct api_guard *g, struct api_guard_conn *c, enum api_close_reason why,
                 unsigned port_number)
{
    (void)shutdown(c->fd, SHUT_RDWR);
    c->closing = true;
    g->ports[c->port].closing++;
    api_metrics_closed(g->cfg.metrics, why);
    if (why == API_CLOSE_EVICTED)
        api_log_every(
            10, BASE_LOG_WARN,
            "port %u is at its limit of %u connections: the oldest one waiting for its %s "
            "is closed to admit a new one (logged at most every 10 s)",
            port_number, g->cfg.limit, stage_names[c->stage]);
    else
        api_log_every(10, BASE_LOG_WARN,
                      "a connection that did not complete its %s in time is closed (logged at most "
                      "every 10 s)",
                      stage_names[c->stage]);
}

/* Shuts down every connection past its deadline; returns the nearest deadline left. */
static int64_t expire(struct api_guard *g, int64_t now)
{
    static const enum api_close_reason reasons[] = {
        [API_GUARD_HEAD] = API_CLOSE_HEAD_DEADLINE,
        [API_GUARD_BODY] = API_CLOSE_BODY_DEADLINE,
        [API_GUARD_BUSY] = API_CLOSE_N, /* has no deadline */
        [API_GUARD_IDLE] = API_CLOSE_IDLE_DEADLINE,
    };
    int64_t next = NO_DEADLINE;

    for (size_t p = 0; p < g->cfg.nports; p++) {
        for (unsigned i = 0; i < g->cfg.capacity; i++) {
            struct api_guard_conn *c = &g->ports[p].conns[i];

            if (c->fd < 0 || c->closing || c->deadline_us == NO_DEADLINE)
                continue;
            if (c->deadline_us <= now)
                shut(g, c, reasons[c->stage], 0);
            else if (c->deadline_us < next)
                next = c->deadline_us;
        }
    }
    return next;
}

static void *guard_main(void *arg)
{
    struct api_guard *g = arg;

    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec until;

        g->next_us = expire(g, api_now_us());
        if (g->next_us == NO_DEADLINE) {
            pthread_cond_wait(&g->cond, &g->lock);
            continue;
        }
        until.tv_sec = (time_t)(g->next_us / 1000000);
        until.tv_nsec = (long)(g->next_us % 1000000) * 1000;
        (void)pthread_cond_timedwait(&g->cond, &g->lock, &until); /* api_now_us is monotonic */
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

static int tables_new(struct api_guard *g)
{
    for (size_t p = 0; p < g->cfg.nports; p++) {
        struct port_table *t = &g->ports[p];

        t->conns = calloc(g->cfg.capacity, sizeof(*t->conns));
        t->free = calloc(g->cfg.capacity, sizeof(*t->free));
        if (!t->conns || !t->free)
            return -ENOMEM;
        for (unsigned i = 0; i < g->cfg.capacity; i++) {
            t->conns[i].fd = -1;
            t->conns[i].port = (unsigned)p;
            t->free[t->nfree++] = g->cfg.capacity - 1 - i;
        }
    }
    return 0;
}

static void tables_free(struct api_guard *g)
{
    for (size_t p = 0; p < API_MAX_LISTEN; p++) {
        free(g->ports[p].conns);
        free(g->ports[p].free);
    }
    free(g);
}

int api_guard_start(const struct api_guard_config *cfg, struct api_guard **ret)
{
    struct api_guard *g;
    pthread_condattr_t attr;
    int r;

    if (cfg->nports == 0 || cfg->nports > API_MAX_LISTEN || cfg->capacity < cfg->limit)
        return -EINVAL;
    g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->cfg = *cfg;
    r = tables_new(g);
    if (r < 0) {
        tables_free(g);
        return r;
    }
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &attr);
    pthread_condattr_destroy(&attr);
    r = -pthread_create(&g->thread, NULL, guard_main, g);
    if (r < 0) {
        pthread_mutex_destroy(&g->lock);
        pthread_cond_destroy(&g->cond);
        tables_free(g);
        return r;
    }
    (void)pthread_setname_np(g->thread, "cb-guard");
    *ret = g;
    return 0;
}

void api_guard_stop(struct api_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->lock);
    (void)pthread_join(g->thread, NULL);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
    tables_free(g);
}

/* The connection to give way on a full port: the oldest in HEAD, else in BODY, else in IDLE;
 * never one in BUSY or already closing. NULL when there is none. Under the lock. */
static struct api_guard_conn *victim(struct api_guard *g, struct port_table *t)
{
    static const int rank[] = {
        [API_GUARD_HEAD] = 0, [API_GUARD_BODY] = 1, [API_GUARD_IDLE] = 2, [API_GUARD_BUSY] = 3};
    struct api_guard_conn *best = NULL;

    for (unsigned i = 0; i < g->cfg.capacity; i++) {
        struct api_guard_conn *c = &t->conns[i];

        if (c->fd < 0 || c->closing || c->stage == API_GUARD_BUSY)
            continue;
        if (!best || rank[c->stage] < rank[best->stage] ||
            (rank[c->stage] == rank[best->stage] && c->since_us < best->since_us))
            best = c;
    }
    return best;
}

bool api_guard_admit(struct api_guard *g, size_t port, unsigned port_number)
{
    struct port_table *t = &g->ports[port];
    struct api_guard_conn *c;
    bool ok;

    pthread_mutex_lock(&g->lock);
    ok = t->open - t->closing < g->cfg.limit;
    /* one in its place while it closes, within libmicrohttpd's own limit */
    if (!ok && t->open < g->cfg.capacity && (c = victim(g, t)) != NULL) {
        shut(g, c, API_CLOSE_EVICTED, port_number);
        ok = true;
    }
    pthread_mutex_unlock(&g->lock);
    return ok;
}

/* Sets c's stage and deadline; wakes the thread if that deadline is now the nearest. Under the
 * lock. */
static void set_stage(struct api_guard *g, struct api_guard_conn *c, enum api_guard_stage stage)
{
    int64_t now = api_now_us();

    c->stage = stage;
    c->since_us = now;
    c->deadline_us = deadline(g, stage, now);
    if (c->deadline_us < g->next_us) {
        g->next_us = c->deadline_us;
        pthread_cond_signal(&g->cond);
    }
}

struct api_guard_conn *api_guard_open(struct api_guard *g, size_t port, int fd)
{
    struct port_table *t = &g->ports[port];
    struct api_guard_conn *c = NULL;

    pthread_mutex_lock(&g->lock);
    t->open++;
    if (t->nfree > 0 && fd >= 0) {
        c = &t->conns[t->free[--t->nfree]];
        c->fd = fd;
        c->closing = false;
        set_stage(g, c, API_GUARD_HEAD);
    }
    pthread_mutex_unlock(&g->lock);
    return c;
}

void api_guard_stage(struct api_guard *g, struct api_guard_conn *c, enum api_guard_stage stage)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->stage != stage) /* HEAD again (the request line of a first request) keeps its start */
        set_stage(g, c, stage);
    pthread_mutex_unlock(&g->lock);
}

void api_guard_close(struct api_guard *g, size_t port, struct api_guard_conn *c)
{
    struct port_table *t = &g->ports[port];

    pthread_mutex_lock(&g->lock);
    t->open--;
    if (c) {
        if (c->closing)
            t->closing--;
        c->fd = -1;
        c->closing = false;
        t->free[t->nfree++] = (unsigned)(c - t->conns);
    }
    pthread_mutex_unlock(&g->lock);
}
