/* turnclient/prober.c: the prober thread (DESIGN.md "TURN status").
 *
 * DESIGN: one thread owns every probe socket and timer, on epoll; nothing in it blocks. API
 * threads talk to it through a command queue (base/: mutex + eventfd) and read published results
 * under p->lock; they never touch a socket. Names are resolved by a small pool of resolver
 * threads (getaddrinfo blocks, turnclient/resolver.c), whose answers come back through the same
 * queue; one probe's I/O is turnclient/probe.c, the sentence and RTT history turnclient/verdict.c.
 * A probe cycle for a server: resolve -> one probe per address (UDP on the configured port, and
 * TCP when tcpPortNumberOverride is set), all at once -> each probe allocates for real
 * (turnclient/alloc.c), follows one 300 Try Alternate, and releases what it got -> when all are
 * done, the new results replace the old in one step and waiters are told. Every server is
 * probed concurrently as far as cfg.max_sockets allows: a probe that would open a socket past
 * that cap waits in a queue (first come, first served) and starts when another probe closes
 * its own, so with many servers and a small cap a cycle takes a little longer instead of
 * taking descriptors that the HTTP side and the call legs were promised (issue 12). A cycle
 * costs a few datagrams and no thread per server.
 * The RTT of a host is smoothed over cycles (RFC 6298: srtt += (sample - srtt) / 8) from samples
 * that obey Karn's rule; a changed configuration starts its history afresh. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/base.h"
#include "turnclient/prober_int.h"

/* The srv for id, or NULL. Call with p->lock held, or from the prober thread. */
static struct turn_srv *find_srv(const struct turn_prober *p, const char *id, size_t *ret_index)
{
    for (size_t i = 0; i < p->nsrv; i++) {
        if (strcmp(p->srvs[i]->spec.id, id) == 0) {
            if (ret_index)
                *ret_index = i;
            return p->srvs[i];
        }
    }
    return NULL;
}

static void free_probes(struct turn_srv *s, bool release)
{
    for (size_t i = 0; i < s->nprobes; i++) {
        struct turn_probe *pr = s->probes[i];

        if (release && pr->alloc) /* fire and forget: one Refresh LIFETIME=0 on the way out */
            (void)turn_alloc_release(pr->alloc, turn_now_us());
        turn_probe_finish(pr);
        free(pr);
    }
    s->nprobes = 0;
    s->running = 0;
}

static void fire_waiters(struct turn_prober *p, const char *id, bool all)
{
    for (struct turn_cmd **w = &p->waiters; *w;) {
        struct turn_cmd *c = *w;

        if (all || !id || strcmp(c->spec.id, id) == 0) {
            *w = c->next;
            c->done(c->ctx);
            free(c);
        } else {
            w = &c->next;
        }
    }
}

/* Logs the hosts whose reachability changed since the last cycle (or the first result). */
static void log_changes(struct turn_prober *p, const struct turn_srv *s,
                        const struct turn_server_status *old, const struct turn_server_status *cur)
{
    if (cur->dns && (!old || !old->dns))
        base_logf(&p->cfg.log, BASE_LOG_ERR, "turnServer %s: %s", s->spec.id, cur->dns_detail);
    for (size_t i = 0; i < cur->nhosts; i++) {
        const struct turn_host_status *h = &cur->hosts[i];
        const struct turn_host_status *was = NULL;

        for (size_t k = 0; old && k < old->nhosts && !was; k++)
            if (strcmp(old->hosts[k].address, h->address) == 0 && old->hosts[k].tcp == h->tcp)
                was = &old->hosts[k];
        if (was && was->reachable == h->reachable && was->failure == h->failure)
            continue;
        if (h->failure == TURN_FAIL_LOCAL)
            base_logf(&p->cfg.log, BASE_LOG_ERR, "turnServer %s: %s port %u/%s not probed: %s",
                      s->spec.id, h->address, h->port, h->tcp ? "tcp" : "udp", h->detail);
        else if (h->reachable)
            base_logf(&p->cfg.log, BASE_LOG_INFO, "turnServer %s: %s port %u/%s reachable",
                      s->spec.id, h->address, h->port, h->tcp ? "tcp" : "udp");
        else
            base_logf(&p->cfg.log, BASE_LOG_ERR, "turnServer %s: %s port %u/%s %s: %s", s->spec.id,
                      h->address, h->port, h->tcp ? "tcp" : "udp", turn_failure_name(h->failure),
                      h->detail);
    }
}

/* The bytes a status with n hosts needs: published results are kept at that size. */
static size_t status_size(size_t n)
{
    return offsetof(struct turn_server_status, hosts) + n * sizeof(struct turn_host_status);
}

static void publish(struct turn_prober *p, struct turn_srv *s)
{
    struct turn_server_status *old, *small;

    free_probes(s, false); /* all done: their sockets are closed, their memory goes now */
    s->work->probed = true;
    s->work->dns_failures = s->dns_failures;
    small = realloc(s->work, status_size(s->work->nhosts));
    if (small)
        s->work = small;
    pthread_mutex_lock(&p->lock);
    old = s->pub;
    s->pub = s->work;
    /* under the lock: turn_prober_set() in an API thread may free s->pub once it is released */
    log_changes(p, s, old, s->pub);
    pthread_mutex_unlock(&p->lock);
    s->work = NULL;
    free(old);
    fire_waiters(p, s->spec.id, false);
}

/* A resolver answer for s: one probe per address and transport, started at once or queued
 * behind the socket cap. */
static void start_probes(struct turn_prober *p, struct turn_srv *s, const struct turn_cmd *res)
{
    struct turn_server_status *w = s->work;

    s->resolving = false;
    if (res->gai_error || res->naddrs == 0) {
        w->dns = TURN_FAIL_DNS;
        s->dns_failures++;
        snprintf(w->dns_detail, sizeof(w->dns_detail),
                 "the name %.200s does not resolve (%.60s): check DNS, or use an IP address in "
                 "serverAddress",
                 s->spec.host, res->gai_error ? gai_strerror(res->gai_error) : "no address");
        publish(p, s);
        return;
    }
    for (size_t i = 0; i < res->naddrs; i++) {
        for (int tcp = 0; tcp < 2; tcp++) {
            uint16_t port = tcp ? s->spec.tcp_port : s->spec.port;
            struct turn_probe *pr;

            if (!port || s->nprobes == TURN_MAX_PROBES)
                continue;
            pr = turn_probe_new(p, s, &res->addrs[i], port, tcp);
            if (!pr)
                continue;
            s->probes[s->nprobes++] = pr;
            s->running++;
            if (p->qhead || turn_prober_at_cap(p)) /* behind those already waiting */
                turn_prober_enqueue(p, pr);
            else
                turn_probe_begin(pr);
        }
    }
}

/* Starts the probes that waited for a socket, oldest first, while the cap allows. */
static void start_queued(struct turn_prober *p)
{
    while (p->qhead && !turn_prober_at_cap(p)) {
        struct turn_probe *pr = p->qhead;

        turn_prober_dequeue(p, pr);
        turn_probe_begin(pr);
    }
}

static void start_cycle(struct turn_prober *p, struct turn_srv *s, int64_t now_us)
{
    free_probes(s, true);
    free(s->work);
    s->work = calloc(1, sizeof(*s->work));
    s->next_us = now_us + p->cfg.interval_us;
    if (!s->work)
        return;
    if (!s->spec.host[0]) { /* nothing to probe: an empty result, at once */
        publish(p, s);
        return;
    }
    turn_resolve(&p->resolver, s);
}

/* ---- commands ----------------------------------------------------------------------------- */

static void remove_srv(struct turn_prober *p, size_t i)
{
    struct turn_srv *s = p->srvs[i];

    free_probes(s, true);
    pthread_mutex_lock(&p->lock);
    p->srvs[i] = p->srvs[--p->nsrv];
    pthread_mutex_unlock(&p->lock);
    fire_waiters(p, s->spec.id, false);
    free(s->pub);
    free(s->work);
    OPENSSL_cleanse(&s->spec, sizeof(s->spec));
    free(s);
}

static void set_srv(struct turn_prober *p, const struct turn_server_spec *spec, int64_t now_us)
{
    size_t i;
    struct turn_srv *s = find_srv(p, spec->id, &i);

    if (s && memcmp(&s->spec, spec, sizeof(*spec)) != 0) { /* changed: start afresh */
        remove_srv(p, i);
        s = NULL;
    }
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return;
        s->spec = *spec;
        pthread_mutex_lock(&p->lock);
        if (p->nsrv == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 64;
            struct turn_srv **v = realloc(p->srvs, cap * sizeof(*v));

            if (!v) {
                pthread_mutex_unlock(&p->lock);
                free(s);
                return;
            }
            p->srvs = v;
            p->cap = cap;
        }
        p->srvs[p->nsrv++] = s;
        pthread_mutex_unlock(&p->lock);
    }
    s->generation++;
    start_cycle(p, s, now_us); /* probed at once after a create or an update */
}

static void on_resolved(struct turn_prober *p, struct turn_cmd *c)
{
    struct turn_srv *s = find_srv(p, c->spec.id, NULL);

    if (s && s->resolving && s->work && c->generation == s->generation)
        start_probes(p, s, c);
}

/* A wait is answered at once when the server is unknown or has results; otherwise it joins
 * p->waiters (true: the command is kept there). */
static bool on_wait(struct turn_prober *p, struct turn_cmd *c)
{
    struct turn_srv *s = find_srv(p, c->spec.id, NULL);
    bool ready;

    pthread_mutex_lock(&p->lock); /* pub is cleared by turn_prober_set() too */
    ready = !s || s->pub;
    pthread_mutex_unlock(&p->lock);
    if (ready) {
        c->done(c->ctx);
        return false;
    }
    c->next = p->waiters;
    p->waiters = c;
    return true;
}

/* Runs one command; true when it was kept (a waiter, or p->stop_cmd), false when the caller
 * frees it. */
static bool run_command(struct turn_prober *p, struct turn_cmd *c, int64_t now_us)
{
    size_t i;

    switch (c->kind) {
    case TURN_CMD_SET:
        set_srv(p, &c->spec, now_us);
        break;
    case TURN_CMD_REMOVE:
        if (find_srv(p, c->spec.id, &i))
            remove_srv(p, i);
        break;
    case TURN_CMD_RESOLVED:
        on_resolved(p, c);
        break;
    case TURN_CMD_WAIT:
        return on_wait(p, c);
    case TURN_CMD_STOP:
        return true; /* only wakes the thread, which sees p->stopping */
    }
    return false;
}

static void run_commands(struct turn_prober *p, int64_t now_us)
{
    struct base_cmd *b = base_cmdq_take(&p->cmdq);

    while (b) {
        struct turn_cmd *c = (struct turn_cmd *)b; /* base is its first member */

        b = b->next; /* before run_command() reuses or frees c */
        if (run_command(p, c, now_us))
            continue;
        OPENSSL_cleanse(&c->spec, sizeof(c->spec));
        free(c);
    }
}

/* ---- the thread --------------------------------------------------------------------------- */

static int64_t next_deadline(struct turn_prober *p)
{
    int64_t next = INT64_MAX;

    for (size_t i = 0; i < p->nsrv; i++) {
        struct turn_srv *s = p->srvs[i];

        next = s->next_us < next ? s->next_us : next;
        for (size_t k = 0; k < s->nprobes; k++) {
            struct turn_probe *pr = s->probes[k];
            int64_t d = pr->alloc && !pr->done ? turn_alloc_next_deadline(pr->alloc) : INT64_MAX;

            next = d < next ? d : next;
        }
    }
    for (struct turn_cmd *w = p->waiters; w; w = w->next)
        next = w->until_us < next ? w->until_us : next;
    if (p->qhead && !turn_prober_at_cap(p)) /* a socket was released: the queue moves on at once */
        next = 0;
    return next;
}

static void run_timers(struct turn_prober *p, int64_t now_us)
{
    for (size_t i = 0; i < p->nsrv; i++) {
        struct turn_srv *s = p->srvs[i];

        for (size_t k = 0; k < s->nprobes; k++) {
            struct turn_probe *pr = s->probes[k];

            if (pr->alloc && !pr->done && turn_alloc_next_deadline(pr->alloc) <= now_us) {
                turn_alloc_on_timer(pr->alloc, now_us);
                turn_probe_advance(pr, now_us);
            }
        }
        if (s->work && !s->resolving && s->nprobes > 0 && s->running == 0)
            publish(p, s);
        if (now_us >= s->next_us && !s->resolving && s->running == 0)
            start_cycle(p, s, now_us);
    }
    for (struct turn_cmd **w = &p->waiters; *w;) { /* waiters whose time ran out */
        struct turn_cmd *c = *w;

        if (c->until_us <= now_us) {
            *w = c->next;
            c->done(c->ctx);
            free(c);
        } else {
            w = &c->next;
        }
    }
}

static void *prober_main(void *arg)
{
    struct turn_prober *p = arg;
    struct epoll_event evs[64];

    turn_lower_priority();
    while (!atomic_load(&p->stopping)) {
        int64_t now = turn_now_us(), next = next_deadline(p), wait = next - now;
        int n, timeout = wait <= 0 ? 0 : wait > 1000000 ? 1000 : (int)((wait + 999) / 1000);

        bool commands = false;

        n = epoll_wait(p->epfd, evs, 64, timeout);
        now = turn_now_us();
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr)
                commands = true;
            else
                turn_probe_on_event(evs[i].data.ptr, evs[i].events, now);
        }
        /* commands last: a removal frees probes that events of this batch point to */
        if (commands)
            run_commands(p, now);
        start_queued(p);
        run_timers(p, turn_now_us());
    }
    return NULL;
}

/* ---- start, stop and the thread-safe API -------------------------------------------------- */

int turn_prober_start(const struct turn_prober_config *cfg, struct turn_prober **ret_prober)
{
    struct turn_prober *p = calloc(1, sizeof(*p));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    int r;

    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    snprintf(p->software, sizeof(p->software), "%s", cfg->software ? cfg->software : "");
    p->cfg.software = p->software;
    p->stop_cmd.kind = TURN_CMD_STOP;
    pthread_mutex_init(&p->lock, NULL);
    p->epfd = -1;
    r = base_cmdq_init(&p->cmdq); /* first: on failure its descriptor is -1, for the stop */
    if (r == 0) {
        p->epfd = epoll_create1(EPOLL_CLOEXEC);
        r = p->epfd < 0 ? -errno : 0;
    }
    if (r < 0)
        goto fail;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, base_cmdq_fd(&p->cmdq), &ev) < 0) {
        r = -errno;
        goto fail;
    }
    r = turn_resolver_start(&p->resolver, cfg->resolver_threads ? cfg->resolver_threads : 2,
                            &p->cmdq);
    if (r == 0)
        r = -pthread_create(&p->thread, NULL, prober_main, p);
    if (r < 0)
        goto fail;
    (void)pthread_setname_np(p->thread, "cb-prober");
    *ret_prober = p;
    return 0;
fail:
    atomic_store(&p->stopping, true);
    turn_prober_stop(p);
    return r;
}

void turn_prober_stop(struct turn_prober *p)
{
    if (!p)
        return;
    if (!atomic_exchange(&p->stopping, true)) {
        base_cmdq_push(&p->cmdq, &p->stop_cmd.base);
        pthread_join(p->thread, NULL);
    }
    turn_resolver_stop(&p->resolver);
    if (base_cmdq_fd(&p->cmdq) >= 0)
        run_commands(p, turn_now_us()); /* waits queued late are answered, answers freed */
    fire_waiters(p, NULL, true);
    while (p->nsrv > 0)
        remove_srv(p, p->nsrv - 1);
    free(p->srvs);
    if (p->epfd >= 0)
        close(p->epfd);
    base_cmdq_done(&p->cmdq);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int turn_prober_set(struct turn_prober *p, const struct turn_server_spec *spec)
{
    struct turn_cmd *c = calloc(1, sizeof(*c));
    struct turn_srv *s;

    if (!c)
        return -ENOMEM;
    c->kind = TURN_CMD_SET;
    c->spec = *spec;
    /* The results of the old configuration are gone from now on, not from when the prober
     * thread gets to the command: a status asked right after an update waits for the new
     * probe instead of answering with the old one. */
    pthread_mutex_lock(&p->lock);
    s = find_srv(p, spec->id, NULL);
    if (s) {
        free(s->pub);
        s->pub = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    base_cmdq_push(&p->cmdq, &c->base);
    return 0;
}

void turn_prober_remove(struct turn_prober *p, const char *id)
{
    struct turn_cmd *c = calloc(1, sizeof(*c));

    if (!c)
        return;
    c->kind = TURN_CMD_REMOVE;
    snprintf(c->spec.id, sizeof(c->spec.id), "%s", id);
    base_cmdq_push(&p->cmdq, &c->base);
}

void turn_prober_sockets(struct turn_prober *p, size_t *ret_open, size_t *ret_peak, size_t *ret_max)
{
    *ret_open = atomic_load(&p->nsockets);
    *ret_peak = atomic_load(&p->peak_sockets);
    *ret_max = p->cfg.max_sockets; /* set once, before the thread starts */
}

int turn_prober_get(struct turn_prober *p, const char *id, struct turn_server_status *ret)
{
    struct turn_srv *s;
    int r = -ENOENT;

    pthread_mutex_lock(&p->lock);
    s = find_srv(p, id, NULL);
    if (s) {
        memset(ret, 0, status_size(0)); /* known, not probed yet, unless: */
        if (s->pub)
            memcpy(ret, s->pub, status_size(s->pub->nhosts));
        r = 0;
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

int turn_prober_wait(struct turn_prober *p, const char *id, int64_t until_us,
                     void (*done)(void *ctx), void *ctx)
{
    struct turn_cmd *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    c->kind = TURN_CMD_WAIT;
    snprintf(c->spec.id, sizeof(c->spec.id), "%s", id);
    c->until_us = until_us;
    c->done = done;
    c->ctx = ctx;
    base_cmdq_push(&p->cmdq, &c->base);
    return 0;
}

/* The published host of s that has address addr (UDP), or NULL. Call with p->lock held. */
static const struct turn_host_status *pub_host(const struct turn_srv *s,
                                               const struct sockaddr *addr)
{
    char ip[46];
    uint16_t port;

    if (!s->pub)
        return NULL;
    turn_addr_text((const struct sockaddr_storage *)(const void *)addr, ip, sizeof(ip), &port);
    for (size_t i = 0; i < s->pub->nhosts; i++) {
        const struct turn_host_status *h = &s->pub->hosts[i];

        if (!h->tcp && h->port == port && strcmp(h->address, ip) == 0)
            return h;
    }
    return NULL;
}

int turn_prober_best(struct turn_prober *p, const char *exclude_id, struct turn_best *ret)
{
    return turn_prober_best_prefer(p, NULL, exclude_id, ret);
}

/* The reachable UDP host with the lowest RTT among the servers only_id names (NULL: all),
 * skipping exclude_id. p->lock held. */
static const struct turn_host_status *pick(const struct turn_prober *p, const char *only_id,
                                           const char *exclude_id, const struct turn_srv **ret_srv)
{
    const struct turn_host_status *best = NULL;

    /* srvs keeps creation order except after removals; ties then go to the earlier entry */
    for (size_t i = 0; i < p->nsrv; i++) {
        const struct turn_srv *s = p->srvs[i];

        if (!s->pub || (exclude_id && strcmp(s->spec.id, exclude_id) == 0) ||
            (only_id && strcmp(s->spec.id, only_id) != 0))
            continue;
        for (size_t k = 0; k < s->pub->nhosts; k++) {
            const struct turn_host_status *h = &s->pub->hosts[k];

            if (h->tcp || !h->reachable || h->rtt_us < 0)
                continue;
            if (!best || h->rtt_us < best->rtt_us) {
                best = h;
                *ret_srv = s;
            }
        }
    }
    return best;
}

int turn_prober_best_prefer(struct turn_prober *p, const char *prefer_id, const char *exclude_id,
                            struct turn_best *ret)
{
    const struct turn_srv *best_srv = NULL;
    const struct turn_host_status *best = NULL;
    int r = -ENOENT;

    pthread_mutex_lock(&p->lock);
    if (prefer_id && prefer_id[0])
        best = pick(p, prefer_id, exclude_id, &best_srv);
    if (!best)
        best = pick(p, NULL, exclude_id, &best_srv);
    if (best) {
        struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM}, *res;
        char port[8];

        snprintf(port, sizeof(port), "%u", best->port);
        if (getaddrinfo(best->address, port, &hints, &res) == 0) {
            memset(ret, 0, sizeof(*ret));
            ret->spec = best_srv->spec;
            memcpy(&ret->addr, res->ai_addr, res->ai_addrlen);
            ret->rtt_us = best->rtt_us;
            freeaddrinfo(res);
            r = 0;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

/* The last probe of server id's host addr: false when there is none (not configured there). */
static bool last_probe(struct turn_prober *p, const char *id, const struct sockaddr *addr,
                       bool *ret_reachable, enum turn_failure *ret_failure)
{
    const struct turn_host_status *h = NULL;
    const struct turn_srv *s;

    pthread_mutex_lock(&p->lock);
    s = find_srv(p, id, NULL);
    if (s && (h = pub_host(s, addr))) {
        *ret_reachable = h->reachable;
        *ret_failure = h->failure;
    }
    pthread_mutex_unlock(&p->lock);
    return h != NULL;
}

bool turn_prober_is_down(struct turn_prober *p, const char *id, const struct sockaddr *addr)
{
    bool reachable;
    enum turn_failure f;

    if (!last_probe(p, id, addr, &reachable, &f))
        return true;
    return !reachable && (f == TURN_FAIL_TIMEOUT || f == TURN_FAIL_PORT_UNREACHABLE);
}

bool turn_prober_is_reachable(struct turn_prober *p, const char *id, const struct sockaddr *addr)
{
    bool reachable;
    enum turn_failure f;

    return last_probe(p, id, addr, &reachable, &f) && reachable;
}
