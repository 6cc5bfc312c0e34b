/* turnclient/prober.c: the prober thread (DESIGN.md "TURN status").
 *
 * DESIGN: one thread owns every probe socket and timer, on epoll; nothing in it blocks. API
 * threads talk to it through a command queue (mutex + eventfd) and read published results under
 * the same mutex; they never touch a socket. Names are resolved by a small pool of resolver
 * threads (getaddrinfo blocks), whose answers come back through the same eventfd.
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
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "turnclient/cred.h"
#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

#define MAX_PROBES (2 * TURN_PROBER_MAX_ADDRS)
#define REST_TTL_S 86400
#define LOG_ERR 3
#define LOG_INFO 6

struct srv;

struct probe {
    struct turn_prober *p;
    struct srv *srv;
    size_t slot; /* index into srv->work->hosts */
    int fd;
    bool tcp, connecting, redirected, done;
    bool queued;                 /* waiting for a socket under cfg.max_sockets */
    struct probe *qprev, *qnext; /* in p->qhead while queued */
    unsigned fresh_ports;        /* 437 retries from a new client port (RFC 8656 §7.4: up to 3) */
    struct sockaddr_storage addr;
    struct turn_alloc *alloc;
    uint8_t rbuf[4096]; /* TCP stream reassembly */
    size_t rlen;
};

/* What outlives one probe cycle of a host: its smoothed RTT and its probe counts. */
struct rtt_entry {
    char key[64]; /* "address|port|tcp" */
    int64_t srtt_us;
    uint64_t probes[TURN_FAIL__COUNT];
};

struct srv {
    struct turn_server_spec spec;
    unsigned generation; /* bumped on every change, so stale resolver answers are ignored */
    struct turn_server_status *pub;  /* published; under p->lock */
    struct turn_server_status *work; /* the cycle in progress */
    bool resolving;
    int64_t next_us;
    struct probe *probes[MAX_PROBES];
    size_t nprobes, running;
    struct rtt_entry rtt[MAX_PROBES];
    size_t nrtt;
    uint64_t dns_failures;
};

enum cmd_kind { CMD_SET, CMD_REMOVE, CMD_WAIT, CMD_RESOLVED };

struct cmd {
    struct cmd *next;
    enum cmd_kind kind;
    struct turn_server_spec spec; /* SET; id also for REMOVE, WAIT, RESOLVED */
    int64_t until_us;             /* WAIT */
    void (*done)(void *ctx);
    void *ctx;
    unsigned generation; /* RESOLVED */
    int gai_error;
    size_t naddrs;
    struct sockaddr_storage addrs[TURN_PROBER_MAX_ADDRS];
};

struct turn_prober {
    struct turn_prober_config cfg;
    char software[128];
    pthread_t thread;
    int epfd, evfd;
    atomic_bool stopping;
    pthread_mutex_t lock; /* the queue, the srvs array and every srv->pub */
    struct cmd *head, *tail;
    struct srv **srvs;
    size_t nsrv, cap;
    /* resolver pool */
    pthread_t resolvers[8];
    size_t nresolvers;
    pthread_mutex_t rlock;
    pthread_cond_t rcond;
    struct cmd *rhead, *rtail;
    bool rstop;
    /* prober thread only */
    struct cmd *waiters;
    struct probe *qhead, *qtail; /* probes waiting for a socket, oldest first */
    /* probe sockets open now and the most at once; written by the prober thread only */
    atomic_size_t nsockets, peak_sockets;
};

int64_t turn_now_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

__attribute__((format(printf, 3, 4))) static void plog(struct turn_prober *p, int level,
                                                       const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!p->cfg.log)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->cfg.log(p->cfg.userdata, level, msg);
}

static void wake(struct turn_prober *p)
{
    uint64_t one = 1;

    (void)!write(p->evfd, &one, sizeof(one));
}

static void push_cmd(struct turn_prober *p, struct cmd *c)
{
    pthread_mutex_lock(&p->lock);
    c->next = NULL;
    if (p->tail)
        p->tail->next = c;
    else
        p->head = c;
    p->tail = c;
    pthread_mutex_unlock(&p->lock);
    wake(p);
}

/* The srv for id, or NULL. Call with p->lock held, or from the prober thread. */
static struct srv *find_srv(const struct turn_prober *p, const char *id, size_t *ret_index)
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

/* ---- resolver pool ------------------------------------------------------------------------ */

/* Probing is background work: on a busy machine the API's answers come first. */
static void lower_priority(void)
{
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
}

static void *resolver_main(void *arg)
{
    struct turn_prober *p = arg;

    lower_priority();
    for (;;) {
        struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG}, *res = NULL;
        struct cmd *job;

        pthread_mutex_lock(&p->rlock);
        while (!p->rhead && !p->rstop)
            pthread_cond_wait(&p->rcond, &p->rlock);
        if (p->rstop) {
            pthread_mutex_unlock(&p->rlock);
            return NULL;
        }
        job = p->rhead;
        p->rhead = job->next;
        if (!p->rhead)
            p->rtail = NULL;
        pthread_mutex_unlock(&p->rlock);

        job->gai_error = getaddrinfo(job->spec.host, NULL, &hints, &res);
        for (struct addrinfo *ai = res; ai && job->naddrs < TURN_PROBER_MAX_ADDRS; ai = ai->ai_next)
            if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
                memcpy(&job->addrs[job->naddrs++], ai->ai_addr, ai->ai_addrlen);
        if (res)
            freeaddrinfo(res);
        job->kind = CMD_RESOLVED;
        push_cmd(p, job); /* back to the prober thread */
    }
}

/* RFC 6761 §6.4: names under .invalid never resolve, and resolvers should say so without
 * asking DNS (glibc asks). */
static bool is_invalid_tld(const char *host)
{
    size_t n = strlen(host);

    if (n > 0 && host[n - 1] == '.')
        n--;
    return (n == 7 && strncasecmp(host, "invalid", 7) == 0) ||
           (n > 8 && strncasecmp(host + n - 8, ".invalid", 8) == 0);
}

static void resolve(struct turn_prober *p, struct srv *s)
{
    struct cmd *job = calloc(1, sizeof(*job));
    unsigned char buf[16];

    if (!job)
        return; /* retried at the next cycle */
    memcpy(job->spec.id, s->spec.id, sizeof(job->spec.id));
    memcpy(job->spec.host, s->spec.host, sizeof(job->spec.host));
    job->generation = s->generation;
    s->resolving = true;
    if (is_invalid_tld(s->spec.host)) {
        job->gai_error = EAI_NONAME;
        job->kind = CMD_RESOLVED;
        push_cmd(p, job);
        return;
    }
    /* a literal address needs no resolver round trip */
    if (inet_pton(AF_INET, s->spec.host, buf) == 1 || inet_pton(AF_INET6, s->spec.host, buf) == 1) {
        struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM}, *res;

        job->gai_error = getaddrinfo(s->spec.host, NULL, &hints, &res);
        if (job->gai_error == 0) {
            memcpy(&job->addrs[0], res->ai_addr, res->ai_addrlen);
            job->naddrs = 1;
            freeaddrinfo(res);
        }
        job->kind = CMD_RESOLVED;
        push_cmd(p, job);
        return;
    }
    pthread_mutex_lock(&p->rlock);
    job->next = NULL;
    if (p->rtail)
        p->rtail->next = job;
    else
        p->rhead = job;
    p->rtail = job;
    pthread_cond_signal(&p->rcond);
    pthread_mutex_unlock(&p->rlock);
}

/* ---- probes ------------------------------------------------------------------------------- */

static void addr_text(const struct sockaddr_storage *ss, char *ip, size_t cap, uint16_t *port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ss;

        inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)cap);
        *port = ntohs(in->sin_port);
    } else {
        const struct sockaddr_in6 *in6 = (const void *)ss;

        inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)cap);
        *port = ntohs(in6->sin6_port);
    }
}

static int probe_send(void *userdata, const uint8_t *buf, size_t len)
{
    struct probe *pr = userdata;
    ssize_t n = send(pr->fd, buf, len, MSG_NOSIGNAL);

    if (n < 0)
        return errno == EAGAIN ? 0 : -errno; /* a full buffer is a lost datagram: retransmitted */
    return (size_t)n == len || !pr->tcp ? 0 : -EIO;
}

/* A probe that could not run here: the sentence names the local limit, since the remedy is on
 * this host (descriptors: the leg budget and LimitNOFILE=), not on the TURN server. */
static void describe_local(struct turn_host_status *h, const char *reason)
{
    struct rlimit rl;
    char limit[48] = "";

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snprintf(limit, sizeof(limit), "; RLIMIT_NOFILE %llu", (unsigned long long)rl.rlim_cur);
    snprintf(h->detail, sizeof(h->detail),
             "callbridged could not open a socket to probe this host (%.60s%s): a limit of this "
             "host, not of the TURN server, which was not tried; %s; raise LimitNOFILE= (ulimit "
             "-n) or lower --max-legs",
             reason, limit, h->reachable ? "its last result is kept" : "it has no earlier result");
}

/* The sentence for the status page: what failed, and what to check. */
static void describe(struct turn_host_status *h, const struct turn_alloc_info *info,
                     const struct turn_prober *p)
{
    const char *proto = h->tcp ? "TCP" : "UDP";
    double budget = p->cfg.txn.budget_us / 1e6;
    char reason[sizeof(info->reason)], address[sizeof(h->address)];

    memcpy(reason, info->reason, sizeof(reason)); /* copies: they share memory with *h in */
    memcpy(address, h->address, sizeof(address)); /* the compiler's view (-Wrestrict) */

    switch (h->failure) {
    case TURN_FAIL_TIMEOUT:
        snprintf(h->detail, sizeof(h->detail),
                 "no answer from %s port %u/%s within %.1f s: check that the TURN server runs and "
                 "that firewalls let %s %u through",
                 address, h->port, proto, budget, proto, h->port);
        break;
    case TURN_FAIL_PORT_UNREACHABLE:
        snprintf(h->detail, sizeof(h->detail),
                 "%s refused %s port %u (%s): nothing listens there; check the port in "
                 "serverAddress or tcpPortNumberOverride",
                 address, proto, h->port, reason);
        break;
    case TURN_FAIL_UNAUTHORIZED:
        snprintf(h->detail, sizeof(h->detail),
                 "401 Unauthorized after credentials: check the username and password configured "
                 "on the TURN server");
        break;
    case TURN_FAIL_INTEGRITY:
        snprintf(h->detail, sizeof(h->detail),
                 "431 Integrity Check Failure, as Expressway answers a wrong password: check the "
                 "TURN username and password");
        break;
    case TURN_FAIL_WRONG_CREDENTIALS:
        snprintf(h->detail, sizeof(h->detail),
                 "%d %s: the server refuses these credentials (a wrong realm or username?)",
                 info->error_code, reason);
        break;
    case TURN_FAIL_QUOTA:
        snprintf(h->detail, sizeof(h->detail),
                 "486 Allocation Quota Reached: this TURN user has as many allocations as the "
                 "server allows; raise the quota or use another user");
        break;
    case TURN_FAIL_CAPACITY:
        snprintf(h->detail, sizeof(h->detail),
                 "508 Insufficient Capacity: the TURN server has no relay ports left");
        break;
    case TURN_FAIL_FORBIDDEN:
        snprintf(h->detail, sizeof(h->detail), "403 Forbidden: the TURN server refuses us (%s)",
                 reason);
        break;
    case TURN_FAIL_MISMATCH:
        snprintf(h->detail, sizeof(h->detail), "437 Allocation Mismatch (%s)", reason);
        break;
    case TURN_FAIL_SERVER_ERROR:
        snprintf(h->detail, sizeof(h->detail), "%d %s: the TURN server reports an error",
                 info->error_code, reason);
        break;
    case TURN_FAIL_LOCAL:
        describe_local(h, reason);
        break;
    default:
        if (info->error_code)
            snprintf(h->detail, sizeof(h->detail),
                     "the server did not answer as a TURN server should (%d %s)", info->error_code,
                     reason);
        else
            snprintf(h->detail, sizeof(h->detail),
                     "the server did not answer as a TURN server should (%s)", reason);
    }
}

static struct rtt_entry *history_of(struct srv *s, const struct turn_host_status *h)
{
    char key[64];

    snprintf(key, sizeof(key), "%s|%u|%d", h->address, h->port, h->tcp);
    for (size_t i = 0; i < s->nrtt; i++)
        if (strcmp(s->rtt[i].key, key) == 0)
            return &s->rtt[i];
    if (s->nrtt == MAX_PROBES)
        return NULL;
    memset(&s->rtt[s->nrtt], 0, sizeof(s->rtt[0]));
    snprintf(s->rtt[s->nrtt].key, sizeof(s->rtt[0].key), "%s", key);
    s->rtt[s->nrtt].srtt_us = -1;
    return &s->rtt[s->nrtt++];
}

/* A probe that could not run here says nothing about the server: the host keeps what its last
 * probe found (reachable, RTT, addresses, when), so media anchored there stays. */
static void keep_previous(struct turn_prober *p, const struct srv *s, struct turn_host_status *h)
{
    pthread_mutex_lock(&p->lock); /* s->pub may be freed by turn_prober_set() otherwise */
    for (size_t i = 0; s->pub && i < s->pub->nhosts; i++) {
        const struct turn_host_status *was = &s->pub->hosts[i];

        if (strcmp(was->address, h->address) == 0 && was->port == h->port && was->tcp == h->tcp) {
            *h = *was;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

/* Records what the allocation showed into the host's result. */
static void record(struct probe *pr, const struct turn_alloc_info *info)
{
    struct turn_host_status *h = &pr->srv->work->hosts[pr->slot];
    struct rtt_entry *hist = history_of(pr->srv, h);

    h->checked_unix = time(NULL);
    if (info->failure == TURN_FAIL_LOCAL)
        keep_previous(pr->p, pr->srv, h);
    if (info->failure == TURN_FAIL_LOCAL) {
        h->failure = TURN_FAIL_LOCAL;
        h->error_code = 0;
        describe(h, info, pr->p);
    } else if (info->state != TURN_ALLOC_READY) {
        h->failure = info->failure ? info->failure : TURN_FAIL_PROTOCOL;
        h->error_code = info->error_code;
        describe(h, info, pr->p);
    } else {
        h->reachable = true;
        h->failure = TURN_OK;
        h->has_mapped = info->has_mapped;
        if (info->has_mapped)
            addr_text(&info->mapped, h->mapped, sizeof(h->mapped), &h->mapped_port);
        h->has_relayed = info->has_relayed;
        if (info->has_relayed)
            addr_text(&info->relayed, h->relayed, sizeof(h->relayed), &h->relayed_port);
        if (hist && info->rtt_us >= 0) /* Karn: only unambiguous samples */
            hist->srtt_us = hist->srtt_us < 0 ? info->rtt_us
                                              : hist->srtt_us + (info->rtt_us - hist->srtt_us) / 8;
        h->rtt_us = hist ? hist->srtt_us : -1;
    }
    if (hist) {
        hist->probes[h->failure]++;
        memcpy(h->probes, hist->probes, sizeof(h->probes));
    }
}

/* ---- the socket cap ---------------------------------------------------------------------- */

static void socket_opened(struct turn_prober *p)
{
    size_t n = atomic_fetch_add(&p->nsockets, 1) + 1;

    if (n > atomic_load(&p->peak_sockets))
        atomic_store(&p->peak_sockets, n);
}

static void socket_closed(struct turn_prober *p)
{
    atomic_fetch_sub(&p->nsockets, 1);
}

/* True when one more socket would pass cfg.max_sockets. */
static bool at_cap(const struct turn_prober *p)
{
    return p->cfg.max_sockets && atomic_load(&p->nsockets) >= p->cfg.max_sockets;
}

static void enqueue(struct turn_prober *p, struct probe *pr)
{
    pr->queued = true;
    pr->qnext = NULL;
    pr->qprev = p->qtail;
    if (p->qtail)
        p->qtail->qnext = pr;
    else
        p->qhead = pr;
    p->qtail = pr;
}

static void dequeue(struct turn_prober *p, struct probe *pr)
{
    if (!pr->queued)
        return;
    if (pr->qprev)
        pr->qprev->qnext = pr->qnext;
    else
        p->qhead = pr->qnext;
    if (pr->qnext)
        pr->qnext->qprev = pr->qprev;
    else
        p->qtail = pr->qprev;
    pr->queued = false;
    pr->qprev = pr->qnext = NULL;
}

static void close_probe_socket(struct probe *pr)
{
    if (pr->fd >= 0) {
        (void)epoll_ctl(pr->p->epfd, EPOLL_CTL_DEL, pr->fd, NULL);
        close(pr->fd);
        pr->fd = -1;
        socket_closed(pr->p);
    }
}

int turn_spec_credentials(const struct turn_server_spec *spec, char *ret_user, size_t ucap,
                          char *ret_pass, size_t pcap)
{
    if (!spec->use_shared_secret) {
        if ((size_t)snprintf(ret_user, ucap, "%s", spec->username) >= ucap ||
            (size_t)snprintf(ret_pass, pcap, "%s", spec->password) >= pcap)
            return -ENOSPC;
        return 0;
    }
    if (pcap < 29)
        return -ENOSPC;
    return turn_cred_rest(spec->shared_secret, spec->username, time(NULL) + REST_TTL_S, ret_user,
                          ucap, ret_pass);
}

/* Opens the socket and the allocation towards pr->addr. Returns 0 or -errno. */
static int probe_connect(struct probe *pr)
{
    struct turn_prober *p = pr->p;
    struct turn_alloc_config cfg = {.software = p->software,
                                    .reliable = pr->tcp,
                                    .max_stale_nonce = 3,
                                    .txn = p->cfg.txn,
                                    .send = probe_send,
                                    .userdata = pr};
    char user[600], pass[256];
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = pr};
    socklen_t alen =
        pr->addr.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int r;

    r = turn_spec_credentials(&pr->srv->spec, user, sizeof(user), pass, sizeof(pass));
    if (r < 0)
        return r;
    cfg.username = user;
    cfg.password = pass;
    pr->fd = socket(pr->addr.ss_family,
                    (pr->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (pr->fd < 0)
        return -errno;
    socket_opened(p);
    r = connect(pr->fd, (struct sockaddr *)&pr->addr, alen);
    if (r < 0 && errno != EINPROGRESS) {
        r = -errno;
        goto fail;
    }
    pr->connecting = r < 0;
    if (pr->connecting)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, pr->fd, &ev) < 0) {
        r = -errno;
        goto fail;
    }
    r = turn_alloc_new(&cfg, &pr->alloc);
    OPENSSL_cleanse(pass, sizeof(pass));
    if (r < 0)
        goto fail;
    return pr->connecting ? 0 : turn_alloc_start(pr->alloc, turn_now_us());
fail:
    close_probe_socket(pr);
    return r;
}

static void finish_probe(struct probe *pr)
{
    dequeue(pr->p, pr);
    close_probe_socket(pr);
    turn_alloc_free(pr->alloc);
    pr->alloc = NULL;
    if (!pr->done) {
        pr->done = true;
        pr->srv->running--;
    }
}

/* RFC 8656 §7.4: a 437 to an Allocate means the server still holds an allocation on this
 * 5-tuple (a port the kernel handed out again while a released allocation lingers on the
 * server for a second): try again from another port. The old socket stays open until the new
 * one exists, so the kernel cannot give the same port back, unless that would pass the socket
 * cap: then it is closed first (the kernel picks a UDP client port at random, so the same one
 * is unlikely, and a third retry is left). Returns false if it cannot. */
static bool retry_fresh_port(struct probe *pr)
{
    struct turn_prober *p = pr->p;
    int old_fd = pr->fd;
    bool ok;

    (void)epoll_ctl(p->epfd, EPOLL_CTL_DEL, old_fd, NULL);
    turn_alloc_free(pr->alloc);
    pr->alloc = NULL;
    pr->fd = -1;
    pr->fresh_ports++;
    pr->rlen = 0;
    if (at_cap(p)) {
        close(old_fd);
        socket_closed(p);
        old_fd = -1;
    }
    ok = probe_connect(pr) == 0;
    if (old_fd >= 0) {
        close(old_fd);
        socket_closed(p);
    }
    return ok;
}

/* Looks at the allocation after anything happened to it, and moves the probe on. */
static void advance(struct probe *pr, int64_t now_us)
{
    struct turn_alloc_info info;
    int r;

    if (pr->done || !pr->alloc)
        return;
    turn_alloc_get_info(pr->alloc, &info);
    switch (info.state) {
    case TURN_ALLOC_READY:
        record(pr, &info);
        if (turn_alloc_release(pr->alloc, now_us) < 0)
            finish_probe(pr);
        break;
    case TURN_ALLOC_REDIRECT:
        if (!pr->redirected) { /* RFC 8656 §7.4: follow ALTERNATE-SERVER once */
            struct turn_host_status *h = &pr->srv->work->hosts[pr->slot];
            char from[sizeof(h->address)];

            memcpy(from, h->address, sizeof(from));
            snprintf(h->redirected_from, sizeof(h->redirected_from), "%s:%u", from, h->port);
            pr->redirected = true;
            close_probe_socket(pr);
            turn_alloc_free(pr->alloc);
            pr->alloc = NULL;
            pr->addr = info.alternate;
            addr_text(&pr->addr, h->address, sizeof(h->address), &h->port);
            r = probe_connect(pr);
            if (r < 0) {
                info.state = TURN_ALLOC_FAILED;
                info.failure = turn_err_is_local(r) ? TURN_FAIL_LOCAL : TURN_FAIL_PORT_UNREACHABLE;
                snprintf(info.reason, sizeof(info.reason), "cannot reach the alternate server: %s",
                         strerror(-r));
                record(pr, &info);
                finish_probe(pr);
            }
            break;
        }
        info.failure = TURN_FAIL_PROTOCOL;
        snprintf(info.reason, sizeof(info.reason), "redirected a second time");
        __attribute__((fallthrough));
    case TURN_ALLOC_FAILED:
        if (info.failure == TURN_FAIL_MISMATCH && pr->fresh_ports < 3 && retry_fresh_port(pr))
            break;
        info.state = TURN_ALLOC_FAILED;
        record(pr, &info);
        finish_probe(pr);
        break;
    case TURN_ALLOC_RELEASED:
        finish_probe(pr);
        break;
    default:
        break;
    }
}

static void on_readable(struct probe *pr, int64_t now_us)
{
    for (int i = 0; i < 16 && !pr->done && pr->fd >= 0; i++) { /* bounded: others get a turn */
        ssize_t n;

        if (!pr->tcp) {
            uint8_t buf[2048];

            n = recv(pr->fd, buf, sizeof(buf), 0);
            if (n > 0)
                turn_alloc_feed(pr->alloc, buf, (size_t)n, now_us);
        } else {
            n = recv(pr->fd, pr->rbuf + pr->rlen, sizeof(pr->rbuf) - pr->rlen, 0);
            if (n > 0) {
                long f;

                pr->rlen += (size_t)n;
                while ((f = stun_stream_frame_len(pr->rbuf, pr->rlen)) > 0 &&
                       (size_t)f <= pr->rlen) {
                    turn_alloc_feed(pr->alloc, pr->rbuf, (size_t)f, now_us);
                    memmove(pr->rbuf, pr->rbuf + f, pr->rlen - (size_t)f);
                    pr->rlen -= (size_t)f;
                }
                if (f < 0 || (size_t)f > sizeof(pr->rbuf))
                    turn_alloc_on_error(pr->alloc, -EPROTO); /* not TURN framing */
            } else if (n == 0) {
                turn_alloc_on_error(pr->alloc, -ECONNRESET);
            }
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            turn_alloc_on_error(pr->alloc, -errno); /* ICMP port unreachable: ECONNREFUSED */
        }
        advance(pr, now_us);
        if (n <= 0)
            break;
    }
}

static void on_probe_event(struct probe *pr, uint32_t events, int64_t now_us)
{
    if (pr->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof(err);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = pr};

        (void)getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        pr->connecting = false;
        (void)epoll_ctl(pr->p->epfd, EPOLL_CTL_MOD, pr->fd, &ev);
        if (err)
            turn_alloc_on_error(pr->alloc, -err);
        else if (turn_alloc_start(pr->alloc, now_us) < 0)
            turn_alloc_on_error(pr->alloc, -EIO);
        advance(pr, now_us);
        return;
    }
    on_readable(pr, now_us);
}

static void free_probes(struct srv *s, bool release)
{
    for (size_t i = 0; i < s->nprobes; i++) {
        struct probe *pr = s->probes[i];

        if (release && pr->alloc) /* fire and forget: one Refresh LIFETIME=0 on the way out */
            (void)turn_alloc_release(pr->alloc, turn_now_us());
        finish_probe(pr);
        free(pr);
    }
    s->nprobes = 0;
    s->running = 0;
}

static void fire_waiters(struct turn_prober *p, const char *id, bool all)
{
    for (struct cmd **w = &p->waiters; *w;) {
        struct cmd *c = *w;

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
static void log_changes(struct turn_prober *p, const struct srv *s,
                        const struct turn_server_status *old, const struct turn_server_status *cur)
{
    if (cur->dns && (!old || !old->dns))
        plog(p, LOG_ERR, "turnServer %s: %s", s->spec.id, cur->dns_detail);
    for (size_t i = 0; i < cur->nhosts; i++) {
        const struct turn_host_status *h = &cur->hosts[i];
        const struct turn_host_status *was = NULL;

        for (size_t k = 0; old && k < old->nhosts && !was; k++)
            if (strcmp(old->hosts[k].address, h->address) == 0 && old->hosts[k].tcp == h->tcp)
                was = &old->hosts[k];
        if (was && was->reachable == h->reachable && was->failure == h->failure)
            continue;
        if (h->failure == TURN_FAIL_LOCAL)
            plog(p, LOG_ERR, "turnServer %s: %s port %u/%s not probed: %s", s->spec.id, h->address,
                 h->port, h->tcp ? "tcp" : "udp", h->detail);
        else if (h->reachable)
            plog(p, LOG_INFO, "turnServer %s: %s port %u/%s reachable", s->spec.id, h->address,
                 h->port, h->tcp ? "tcp" : "udp");
        else
            plog(p, LOG_ERR, "turnServer %s: %s port %u/%s %s: %s", s->spec.id, h->address, h->port,
                 h->tcp ? "tcp" : "udp", turn_failure_name(h->failure), h->detail);
    }
}

/* The bytes a status with n hosts needs: published results are kept at that size. */
static size_t status_size(size_t n)
{
    return offsetof(struct turn_server_status, hosts) + n * sizeof(struct turn_host_status);
}

static void free_probes(struct srv *s, bool release);

static void publish(struct turn_prober *p, struct srv *s)
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

/* Opens the probe's socket and starts its allocation, or records why it could not. */
static void probe_begin(struct probe *pr)
{
    int r = probe_connect(pr);

    if (r < 0) { /* EMFILE and the like are ours, ECONNREFUSED and the like theirs */
        struct turn_alloc_info info = {
            .state = TURN_ALLOC_FAILED,
            .failure = turn_err_is_local(r) ? TURN_FAIL_LOCAL : TURN_FAIL_PORT_UNREACHABLE};

        snprintf(info.reason, sizeof(info.reason), "%s", strerror(-r));
        record(pr, &info);
        finish_probe(pr);
    }
}

/* A resolver answer for s: one probe per address and transport, started at once or queued
 * behind the socket cap. */
static void start_probes(struct turn_prober *p, struct srv *s, const struct cmd *res)
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
            struct probe *pr;
            struct turn_host_status *h;

            if (!port || s->nprobes == MAX_PROBES)
                continue;
            pr = calloc(1, sizeof(*pr));
            if (!pr)
                continue;
            pr->p = p;
            pr->srv = s;
            pr->fd = -1;
            pr->tcp = tcp;
            pr->slot = w->nhosts++;
            pr->addr = res->addrs[i];
            if (pr->addr.ss_family == AF_INET)
                ((struct sockaddr_in *)&pr->addr)->sin_port = htons(port);
            else
                ((struct sockaddr_in6 *)&pr->addr)->sin6_port = htons(port);
            h = &w->hosts[pr->slot];
            addr_text(&pr->addr, h->address, sizeof(h->address), &h->port);
            h->tcp = tcp;
            h->rtt_us = -1;
            s->probes[s->nprobes++] = pr;
            s->running++;
            if (p->qhead || at_cap(p)) /* behind those already waiting */
                enqueue(p, pr);
            else
                probe_begin(pr);
        }
    }
}

/* Starts the probes that waited for a socket, oldest first, while the cap allows. */
static void start_queued(struct turn_prober *p)
{
    while (p->qhead && !at_cap(p)) {
        struct probe *pr = p->qhead;

        dequeue(p, pr);
        probe_begin(pr);
    }
}

static void start_cycle(struct turn_prober *p, struct srv *s, int64_t now_us)
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
    resolve(p, s);
}

/* ---- commands ----------------------------------------------------------------------------- */

static void remove_srv(struct turn_prober *p, size_t i)
{
    struct srv *s = p->srvs[i];

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
    struct srv *s = find_srv(p, spec->id, &i);

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
            struct srv **v = realloc(p->srvs, cap * sizeof(*v));

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

static void on_resolved(struct turn_prober *p, struct cmd *c)
{
    struct srv *s = find_srv(p, c->spec.id, NULL);

    if (s && s->resolving && s->work && c->generation == s->generation)
        start_probes(p, s, c);
}

static void run_commands(struct turn_prober *p, int64_t now_us)
{
    struct cmd *c;
    uint64_t v;

    (void)!read(p->evfd, &v, sizeof(v));
    pthread_mutex_lock(&p->lock);
    c = p->head;
    p->head = p->tail = NULL;
    pthread_mutex_unlock(&p->lock);
    while (c) {
        struct cmd *next = c->next;
        size_t i;

        switch (c->kind) {
        case CMD_SET:
            set_srv(p, &c->spec, now_us);
            break;
        case CMD_REMOVE:
            if (find_srv(p, c->spec.id, &i))
                remove_srv(p, i);
            break;
        case CMD_RESOLVED:
            on_resolved(p, c);
            break;
        case CMD_WAIT: {
            struct srv *s = find_srv(p, c->spec.id, NULL);
            bool ready;

            pthread_mutex_lock(&p->lock); /* pub is cleared by turn_prober_set() too */
            ready = !s || s->pub;
            pthread_mutex_unlock(&p->lock);
            if (ready) { /* unknown, or results already there */
                c->done(c->ctx);
                break;
            }
            c->next = p->waiters;
            p->waiters = c;
            c = next;
            continue;
        }
        }
        OPENSSL_cleanse(&c->spec, sizeof(c->spec));
        free(c);
        c = next;
    }
}

/* ---- the thread --------------------------------------------------------------------------- */

static int64_t next_deadline(struct turn_prober *p)
{
    int64_t next = INT64_MAX;

    for (size_t i = 0; i < p->nsrv; i++) {
        struct srv *s = p->srvs[i];

        next = s->next_us < next ? s->next_us : next;
        for (size_t k = 0; k < s->nprobes; k++) {
            struct probe *pr = s->probes[k];
            int64_t d = pr->alloc && !pr->done ? turn_alloc_next_deadline(pr->alloc) : INT64_MAX;

            next = d < next ? d : next;
        }
    }
    for (struct cmd *w = p->waiters; w; w = w->next)
        next = w->until_us < next ? w->until_us : next;
    if (p->qhead && !at_cap(p)) /* a socket was released: the queue moves on at once */
        next = 0;
    return next;
}

static void run_timers(struct turn_prober *p, int64_t now_us)
{
    for (size_t i = 0; i < p->nsrv; i++) {
        struct srv *s = p->srvs[i];

        for (size_t k = 0; k < s->nprobes; k++) {
            struct probe *pr = s->probes[k];

            if (pr->alloc && !pr->done && turn_alloc_next_deadline(pr->alloc) <= now_us) {
                turn_alloc_on_timer(pr->alloc, now_us);
                advance(pr, now_us);
            }
        }
        if (s->work && !s->resolving && s->nprobes > 0 && s->running == 0)
            publish(p, s);
        if (now_us >= s->next_us && !s->resolving && s->running == 0)
            start_cycle(p, s, now_us);
    }
    for (struct cmd **w = &p->waiters; *w;) { /* waiters whose time ran out */
        struct cmd *c = *w;

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

    lower_priority();
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
                on_probe_event(evs[i].data.ptr, evs[i].events, now);
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
    int r = -ENOMEM;

    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    snprintf(p->software, sizeof(p->software), "%s", cfg->software ? cfg->software : "");
    p->cfg.software = p->software;
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->rlock, NULL);
    pthread_cond_init(&p->rcond, NULL);
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->epfd < 0 || p->evfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->evfd, &ev) < 0) {
        r = -errno;
        goto fail;
    }
    for (unsigned i = 0; i < (cfg->resolver_threads ? cfg->resolver_threads : 2) && i < 8; i++) {
        if (pthread_create(&p->resolvers[i], NULL, resolver_main, p) != 0)
            goto fail;
        (void)pthread_setname_np(p->resolvers[i], "cb-resolver"); /* for top -H, ps -L */
        p->nresolvers++;
    }
    if (pthread_create(&p->thread, NULL, prober_main, p) != 0)
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
    bool running;

    if (!p)
        return;
    running = !atomic_exchange(&p->stopping, true);
    if (running) {
        wake(p);
        pthread_join(p->thread, NULL);
    }
    pthread_mutex_lock(&p->rlock);
    p->rstop = true;
    pthread_cond_broadcast(&p->rcond);
    pthread_mutex_unlock(&p->rlock);
    for (size_t i = 0; i < p->nresolvers; i++)
        pthread_join(p->resolvers[i], NULL);
    run_commands(p, turn_now_us()); /* waits queued late are answered, resolver jobs freed */
    fire_waiters(p, NULL, true);
    while (p->nsrv > 0)
        remove_srv(p, p->nsrv - 1);
    for (struct cmd *c = p->rhead; c;) {
        struct cmd *next = c->next;

        free(c);
        c = next;
    }
    free(p->srvs);
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->evfd >= 0)
        close(p->evfd);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->rlock);
    pthread_cond_destroy(&p->rcond);
    free(p);
}

int turn_prober_set(struct turn_prober *p, const struct turn_server_spec *spec)
{
    struct cmd *c = calloc(1, sizeof(*c));
    struct srv *s;

    if (!c)
        return -ENOMEM;
    c->kind = CMD_SET;
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
    push_cmd(p, c);
    return 0;
}

void turn_prober_remove(struct turn_prober *p, const char *id)
{
    struct cmd *c = calloc(1, sizeof(*c));

    if (!c)
        return;
    c->kind = CMD_REMOVE;
    snprintf(c->spec.id, sizeof(c->spec.id), "%s", id);
    push_cmd(p, c);
}

void turn_prober_sockets(struct turn_prober *p, size_t *ret_open, size_t *ret_peak, size_t *ret_max)
{
    *ret_open = atomic_load(&p->nsockets);
    *ret_peak = atomic_load(&p->peak_sockets);
    *ret_max = p->cfg.max_sockets; /* set once, before the thread starts */
}

int turn_prober_get(struct turn_prober *p, const char *id, struct turn_server_status *ret)
{
    struct srv *s;
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
    struct cmd *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    c->kind = CMD_WAIT;
    snprintf(c->spec.id, sizeof(c->spec.id), "%s", id);
    c->until_us = until_us;
    c->done = done;
    c->ctx = ctx;
    push_cmd(p, c);
    return 0;
}

/* The published host of s that has address addr (UDP), or NULL. Call with p->lock held. */
static const struct turn_host_status *pub_host(const struct srv *s, const struct sockaddr *addr)
{
    char ip[46];
    uint16_t port;

    if (!s->pub)
        return NULL;
    addr_text((const struct sockaddr_storage *)(const void *)addr, ip, sizeof(ip), &port);
    for (size_t i = 0; i < s->pub->nhosts; i++) {
        const struct turn_host_status *h = &s->pub->hosts[i];

        if (!h->tcp && h->port == port && strcmp(h->address, ip) == 0)
            return h;
    }
    return NULL;
}

int turn_prober_best(struct turn_prober *p, const char *exclude_id, struct turn_best *ret)
{
    const struct srv *best_srv = NULL;
    const struct turn_host_status *best = NULL;
    int r = -ENOENT;

    pthread_mutex_lock(&p->lock);
    /* srvs keeps creation order except after removals; ties then go to the earlier entry */
    for (size_t i = 0; i < p->nsrv; i++) {
        const struct srv *s = p->srvs[i];

        if (!s->pub || (exclude_id && strcmp(s->spec.id, exclude_id) == 0))
            continue;
        for (size_t k = 0; k < s->pub->nhosts; k++) {
            const struct turn_host_status *h = &s->pub->hosts[k];

            if (h->tcp || !h->reachable || h->rtt_us < 0)
                continue;
            if (!best || h->rtt_us < best->rtt_us) {
                best = h;
                best_srv = s;
            }
        }
    }
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

bool turn_prober_is_reachable(struct turn_prober *p, const char *id, const struct sockaddr *addr)
{
    const struct turn_host_status *h;
    const struct srv *s;
    bool r = false;

    pthread_mutex_lock(&p->lock);
    s = find_srv(p, id, NULL);
    if (s && (h = pub_host(s, addr)))
        r = h->reachable;
    pthread_mutex_unlock(&p->lock);
    return r;
}
