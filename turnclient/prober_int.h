/* turnclient/prober_int.h: the prober's insides, shared by the files that make it up and by
 * their tests, private to turnclient: the state of a server and of one probe (struct turn_srv,
 * struct turn_probe), the commands API threads and resolvers hand to the prober thread, the
 * resolver pool (resolver.c), one probe (probe.c), what a probe's outcome says (verdict.c) and
 * the thread that runs them (prober.c). */
#ifndef TURNCLIENT_PROBER_INT_H
#define TURNCLIENT_PROBER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/base.h"
#include "turnclient/turnclient.h"

#define TURN_MAX_PROBES (2 * TURN_PROBER_MAX_ADDRS)
#define TURN_MAX_RESOLVERS 8

struct turn_srv;

struct turn_probe {
    struct turn_prober *p;
    struct turn_srv *srv;
    size_t slot; /* index into srv->work->hosts */
    int fd;
    bool tcp, connecting, redirected, done;
    bool queued;                      /* waiting for a socket under cfg.max_sockets */
    struct turn_probe *qprev, *qnext; /* in p->qhead while queued */
    unsigned fresh_ports; /* 437 retries from a new client port (RFC 8656 §7.4: up to 3) */
    struct sockaddr_storage addr;
    struct turn_alloc *alloc;
    uint8_t rbuf[4096]; /* TCP stream reassembly */
    size_t rlen;
};

/* What outlives one probe cycle of a host: its smoothed RTT and its probe counts. */
struct turn_rtt_entry {
    char key[64]; /* "address|port|tcp" */
    int64_t srtt_us;
    uint64_t probes[TURN_FAIL__COUNT];
};

struct turn_srv {
    struct turn_server_spec spec;
    unsigned generation; /* bumped on every change, so stale resolver answers are ignored */
    struct turn_server_status *pub;  /* published; under p->lock */
    struct turn_server_status *work; /* the cycle in progress */
    bool resolving;
    int64_t next_us;
    struct turn_probe *probes[TURN_MAX_PROBES];
    size_t nprobes, running;
    struct turn_rtt_entry rtt[TURN_MAX_PROBES];
    size_t nrtt;
    uint64_t dns_failures;
};

enum turn_cmd_kind {
    TURN_CMD_SET,
    TURN_CMD_REMOVE,
    TURN_CMD_WAIT,
    TURN_CMD_RESOLVED,
    TURN_CMD_STOP
};

struct turn_cmd {
    struct base_cmd base;  /* in p->cmdq */
    struct turn_cmd *next; /* in p->waiters, or in the resolvers' queue */
    enum turn_cmd_kind kind;
    struct turn_server_spec spec; /* SET; id also for REMOVE, WAIT, RESOLVED */
    int64_t until_us;             /* WAIT */
    void (*done)(void *ctx);
    void *ctx;
    unsigned generation; /* RESOLVED */
    int gai_error;
    size_t naddrs;
    struct sockaddr_storage addrs[TURN_PROBER_MAX_ADDRS];
};

/* The getaddrinfo() pool: jobs are TURN_CMD_RESOLVED commands, answered into *answers. */
struct turn_resolver {
    pthread_t threads[TURN_MAX_RESOLVERS];
    size_t nthreads;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct turn_cmd *head, *tail;
    bool stop;
    struct base_cmdq *answers;
};

struct turn_prober {
    struct turn_prober_config cfg;
    char software[128];
    pthread_t thread;
    int epfd;
    atomic_bool stopping;
    struct base_cmdq cmdq;    /* API threads and resolvers -> the prober thread */
    struct turn_cmd stop_cmd; /* wakes the thread on the way out; never freed */
    pthread_mutex_t lock;     /* the srvs array and every srv->pub */
    struct turn_srv **srvs;
    size_t nsrv, cap;
    struct turn_resolver resolver;
    /* prober thread only */
    struct turn_cmd *waiters;
    struct turn_probe *qhead, *qtail; /* probes waiting for a socket, oldest first */
    /* probe sockets open now and the most at once; written by the prober thread only */
    atomic_size_t nsockets, peak_sockets;
};

/* resolver.c */
/* Starts n threads (1..TURN_MAX_RESOLVERS) answering into *answers. Returns 0 or -errno; on
 * failure the threads started are kept, for turn_resolver_stop(). */
int turn_resolver_start(struct turn_resolver *r, unsigned n, struct base_cmdq *answers);
/* Joins the threads and frees the jobs nobody took. */
void turn_resolver_stop(struct turn_resolver *r);
/* Resolves s's host (a literal or .invalid at once, a name in the pool); the answer comes back
 * as a TURN_CMD_RESOLVED command for s's generation. */
void turn_resolve(struct turn_resolver *r, struct turn_srv *s);
/* Lowers the calling thread's priority: probing is background work. */
void turn_lower_priority(void);

/* probe.c */
void turn_addr_text(const struct sockaddr_storage *ss, char *ip, size_t cap, uint16_t *port);
/* A probe of s's host addr on port (its host slot in s->work filled in), not started yet;
 * NULL when out of memory. */
struct turn_probe *turn_probe_new(struct turn_prober *p, struct turn_srv *s,
                                  const struct sockaddr_storage *addr, uint16_t port, bool tcp);
/* Opens the probe's socket and starts its allocation, or records why it could not. */
void turn_probe_begin(struct turn_probe *pr);
/* Looks at the allocation after anything happened to it, and moves the probe on. */
void turn_probe_advance(struct turn_probe *pr, int64_t now_us);
void turn_probe_on_event(struct turn_probe *pr, uint32_t events, int64_t now_us);
/* Closes the socket, frees the allocation and counts the probe as done. */
void turn_probe_finish(struct turn_probe *pr);

/* verdict.c: no socket, no lock */
/* The sentence for the status page: what failed and what to check; budget_us is the
 * transaction budget a timeout waited. */
void turn_describe(struct turn_host_status *h, const struct turn_alloc_info *info,
                   int64_t budget_us);
/* RFC 6298 smoothing (alpha 1/8); srtt_us < 0: no history, the sample starts it. */
int64_t turn_srtt_update(int64_t srtt_us, int64_t sample_us);
/* h's entry in v[0..*n) (address, port, transport), added if new; NULL when v is full (cap). */
struct turn_rtt_entry *turn_history_of(struct turn_rtt_entry *v, size_t *n, size_t cap,
                                       const struct turn_host_status *h);

/* share.c: the socket share */
void turn_prober_socket_opened(struct turn_prober *p);
void turn_prober_socket_closed(struct turn_prober *p);
/* True when one more socket would pass cfg.max_sockets. */
bool turn_prober_at_cap(const struct turn_prober *p);
void turn_prober_enqueue(struct turn_prober *p, struct turn_probe *pr);
void turn_prober_dequeue(struct turn_prober *p, struct turn_probe *pr); /* a no-op if not queued */

#endif
