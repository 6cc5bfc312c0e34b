/* media/media.c: the media thread (DESIGN.md "Media").
 *
 * DESIGN: one epoll thread owns every leg: its UDP socket to the TURN server, its allocation
 * (turnclient/alloc.c) and its channel to the endpoint. API threads add and remove legs through
 * a command queue (mutex + eventfd) and read each leg's published status under the same mutex;
 * the per-class counters are atomics, so the packet path takes no lock and allocates nothing.
 * A datagram from a leg's endpoint arrives from the TURN server as ChannelData (or a Data
 * indication), is classified by its first byte (RFC 7983; RTCP by its payload type, RFC 5761)
 * and sent on to every other connected leg of the same call as ChannelData, so a two-leg call
 * is a transparent anchor and DTLS/SRTP pass end to end. Every second the thread checks that
 * each leg's TURN server is still reachable (the prober's latest word); a leg whose server is
 * not, or whose allocation failed, is anchored again on the best other server. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "media/media.h"
#include "turnclient/turnclient.h"

#define CHANNEL 0x4000 /* one peer per allocation: the leg's endpoint */
#define HOUSEKEEPING_US 1000000
#define RETRY_US (2 * 1000000)
#define LOG_ERR 3
#define LOG_INFO 6

enum cnt { C_RX_PKT, C_RX_BYTES, C_FWD_PKT, C_FWD_BYTES, C_DROP, C__N };

struct call;

/* RTP receive statistics, kept by the media thread, published every second. */
struct rtp_rx {
    bool started;
    uint32_t ssrc, clock;
    uint8_t pt;
    uint16_t max_seq;
    uint32_t cycles, base;
    uint64_t received;
    bool have_transit;
    int64_t transit;
    double jitter; /* in timestamp units */
    uint64_t bytes, bytes_at_tick;
};

struct leg {
    struct media *m;
    struct call *call;
    char id[40];
    struct sockaddr_storage remote;
    int fd;
    struct turn_alloc *alloc;
    struct turn_best server; /* where it is anchored now */
    bool asked_peer, ready;
    int64_t retry_us;            /* while failed: when to anchor again */
    struct media_leg_status pub; /* published, under m->lock (counters aside) */
    _Atomic uint64_t cnt[MEDIA__CLASSES][C__N];
    _Atomic uint64_t strangers;
    uint64_t malformed_before; /* malformed datagrams on the leg's earlier allocations */
    struct rtp_rx rtp;
    struct leg *next;
};

struct call {
    char id[40];
    struct leg *legs[MEDIA_MAX_LEGS_PER_CALL];
    size_t n;
    struct call *next;
};

enum cmd_kind { CMD_ADD, CMD_REMOVE };

struct cmd {
    struct cmd *next;
    enum cmd_kind kind;
    char call[40], leg[40];
    struct sockaddr_storage remote;
};

struct media {
    struct media_config cfg;
    pthread_t thread;
    int epfd, evfd;
    atomic_bool stopping;
    pthread_mutex_t lock; /* the queue, the list of legs, every leg's pub */
    struct cmd *head, *tail;
    struct leg *legs;
    struct call *calls;
    size_t nlegs, max_legs;
    int64_t housekeeping_us, last_housekeeping_us;
    struct media_totals retired; /* the counters of legs that are gone; under lock */
    int64_t timer_us; /* no allocation's deadline is before this; it may be early (a deadline
                       * that moves later is seen at the next scan), never late */
};

const char *media_class_name(enum media_class c)
{
    static const char *const names[] = {"rtp", "rtcp", "dtls", "stun", "other"};

    return (unsigned)c < MEDIA__CLASSES ? names[c] : "other";
}

__attribute__((format(printf, 3, 4))) static void mlog(struct media *m, int level, const char *fmt,
                                                       ...)
{
    char msg[512];
    va_list ap;

    if (!m->cfg.log)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    m->cfg.log(m->cfg.userdata, level, msg);
}

/* RFC 7983 by the first byte; RTP and RTCP apart by the payload type (RFC 5761 §4). */
static enum media_class classify(const uint8_t *d, size_t len)
{
    if (len == 0)
        return MEDIA_OTHER;
    if (d[0] <= 3)
        return MEDIA_STUN;
    if (d[0] >= 20 && d[0] <= 63)
        return MEDIA_DTLS;
    if (d[0] >= 128 && d[0] <= 191)
        return len > 1 && d[1] >= 192 && d[1] <= 223 ? MEDIA_RTCP : MEDIA_RTP;
    return MEDIA_OTHER;
}

static bool same_endpoint(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

        return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
    }
    {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

        return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
    }
}

static void publish(struct leg *l, enum media_leg_state state, const char *reason)
{
    pthread_mutex_lock(&l->m->lock);
    l->pub.state = state;
    snprintf(l->pub.reason, sizeof(l->pub.reason), "%s", reason ? reason : "");
    pthread_mutex_unlock(&l->m->lock);
}

/* ---- the packet path ---------------------------------------------------------------------- */

static void count(struct leg *l, enum media_class c, enum cnt k, uint64_t v)
{
    atomic_fetch_add_explicit(&l->cnt[c][k], v, memory_order_relaxed);
}

/* RFC 3551 clock rates of the static payload types; 0 when not fixed (dynamic types). */
static uint32_t clock_rate(uint8_t pt)
{
    if (pt == 6)
        return 16000;
    if (pt == 10 || pt == 11)
        return 44100;
    if (pt == 14 || (pt >= 25 && pt <= 34))
        return 90000;
    if (pt <= 18)
        return 8000;
    return 0;
}

/* RFC 3550 A.1 (sequence numbers, without probation), A.8 (interarrival jitter). A new SSRC
 * starts the statistics afresh. */
static void rtp_received(struct rtp_rx *r, const uint8_t *d, size_t len, int64_t now_us)
{
    uint16_t seq;
    uint32_t ts, ssrc;

    if (len < 12 || (d[0] >> 6) != 2)
        return;
    seq = (uint16_t)(d[2] << 8 | d[3]);
    ts = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
    ssrc = (uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 | (uint32_t)d[10] << 8 | d[11];
    if (!r->started || ssrc != r->ssrc) {
        memset(r, 0, sizeof(*r));
        r->started = true;
        r->ssrc = ssrc;
        r->pt = d[1] & 0x7f;
        r->clock = clock_rate(r->pt);
        r->base = seq;
        r->max_seq = seq;
    } else if (seq < r->max_seq && r->max_seq - seq > 0x8000) {
        r->cycles += 65536; /* wrapped */
        r->max_seq = seq;
    } else if (seq > r->max_seq && seq - r->max_seq < 0x8000) {
        r->max_seq = seq;
    }
    r->received++;
    r->bytes += len;
    if (r->clock) {
        int64_t arrival = now_us * (int64_t)r->clock / 1000000;
        int64_t transit = arrival - (int64_t)ts, delta = transit - r->transit;

        if (r->have_transit)
            r->jitter += ((double)(delta < 0 ? -delta : delta) - r->jitter) / 16.0;
        r->transit = transit;
        r->have_transit = true;
    }
}

/* The published form, computed once a second. */
static void rtp_publish(struct rtp_rx *r, struct media_rtp_stats *out, int64_t interval_us)
{
    uint64_t expected;

    memset(out, 0, sizeof(*out));
    if (!r->started)
        return;
    expected = (uint64_t)r->cycles + r->max_seq - r->base + 1;
    out->seen = true;
    out->ssrc = r->ssrc;
    out->payload_type = r->pt;
    out->received = r->received;
    out->expected = expected;
    out->lost = expected > r->received ? expected - r->received : 0;
    out->loss_percent = expected ? 100.0 * (double)out->lost / (double)expected : 0;
    out->has_jitter = r->clock != 0;
    out->jitter_ms = r->clock ? r->jitter * 1000.0 / r->clock : 0;
    out->bit_rate =
        interval_us > 0 ? (r->bytes - r->bytes_at_tick) * 8 * 1000000 / (uint64_t)interval_us : 0;
    r->bytes_at_tick = r->bytes;
}

/* From the TURN server: data one peer of this leg's allocation sent to its relayed address. */
static void on_data(void *userdata, const struct sockaddr *peer, const uint8_t *data, size_t len)
{
    struct leg *l = userdata;
    enum media_class c = classify(data, len);
    bool sent = false;

    if (!same_endpoint(&l->remote, peer)) {
        atomic_fetch_add_explicit(&l->strangers, 1, memory_order_relaxed);
        return;
    }
    count(l, c, C_RX_PKT, 1);
    count(l, c, C_RX_BYTES, len);
    if (c == MEDIA_RTP)
        rtp_received(&l->rtp, data, len, turn_now_us());
    for (size_t i = 0; i < l->call->n; i++) {
        struct leg *o = l->call->legs[i];

        if (o == l || !o->ready)
            continue;
        if (turn_alloc_send(o->alloc, (const struct sockaddr *)&o->remote, data, len) == 0) {
            count(l, c, C_FWD_PKT, 1);
            count(l, c, C_FWD_BYTES, len);
            sent = true;
        }
    }
    if (!sent)
        count(l, c, C_DROP, 1);
}

static int leg_send(void *userdata, const uint8_t *buf, size_t len)
{
    struct leg *l = userdata;

    if (send(l->fd, buf, len, MSG_NOSIGNAL) < 0)
        return errno == EAGAIN ? 0 : -errno;
    return 0;
}

static void on_readable(struct leg *l, int64_t now)
{
    uint8_t buf[2048];

    for (int i = 0; i < 64 && l->alloc; i++) { /* bounded: other legs get their turn */
        ssize_t n = recv(l->fd, buf, sizeof(buf), 0);

        if (n >= 0) { /* an empty datagram too: dropped and counted as malformed */
            turn_alloc_feed(l->alloc, buf, (size_t)n, now);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            turn_alloc_on_error(l->alloc, -errno);
        break;
    }
}

/* ---- anchoring ---------------------------------------------------------------------------- */

static void drop_anchor(struct leg *l, bool release)
{
    if (l->alloc && release)
        (void)turn_alloc_release(l->alloc, turn_now_us()); /* one Refresh LIFETIME=0, no wait */
    if (l->alloc) {
        l->malformed_before += turn_alloc_dropped(l->alloc);
        pthread_mutex_lock(&l->m->lock);
        l->pub.malformed = l->malformed_before;
        pthread_mutex_unlock(&l->m->lock);
    }
    turn_alloc_free(l->alloc);
    l->alloc = NULL;
    if (l->fd >= 0) {
        (void)epoll_ctl(l->m->epfd, EPOLL_CTL_DEL, l->fd, NULL);
        close(l->fd);
        l->fd = -1;
    }
    l->ready = l->asked_peer = false;
}

static void fail_leg(struct leg *l, const char *why, int64_t now)
{
    drop_anchor(l, true);
    l->retry_us = now + RETRY_US;
    publish(l, MEDIA_LEG_FAILED, why);
    mlog(l->m, LOG_ERR, "callLeg %s: %s", l->id, why);
}

/* No socket for the leg: the host ran out (EMFILE, ENFILE, ENOBUFS, ENOMEM), not the TURN
 * server. A leg that is anchored keeps its anchor (it is only moving); a new one fails with
 * the reason and tries again later. No other leg is touched. */
static void no_socket(struct leg *l, int err, int64_t now)
{
    char why[160];

    snprintf(why, sizeof(why), "cannot open a socket for the leg (%s)%s", strerror(err),
             turn_err_is_local(-err) ? ": a limit of this host, not of the TURN server" : "");
    if (l->alloc) {
        mlog(l->m, LOG_ERR, "callLeg %s: %s; it stays on turnServer %s", l->id, why,
             l->server.spec.id);
        return;
    }
    fail_leg(l, why, now);
}

/* Allocates on the best reachable TURN server other than exclude (may be NULL). The new socket
 * is opened before the old anchor goes, so a leg that cannot get one keeps what it has. */
static void anchor(struct leg *l, const char *exclude, int64_t now)
{
    struct turn_alloc_config cfg = {.software = "callbridge",
                                    .max_stale_nonce = 3,
                                    .send = leg_send,
                                    .userdata = l,
                                    .on_data = on_data};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
    char user[600], pass[256];
    struct turn_best best;
    socklen_t alen;
    int fd;

    if (!l->m->cfg.prober || turn_prober_best(l->m->cfg.prober, exclude, &best) < 0) {
        fail_leg(l, "no reachable TURN server", now);
        return;
    }
    turn_txn_config_rfc(&cfg.txn);
    if (turn_spec_credentials(&best.spec, user, sizeof(user), pass, sizeof(pass)) < 0) {
        fail_leg(l, "cannot derive TURN credentials", now);
        return;
    }
    fd = socket(best.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        no_socket(l, errno, now);
        return;
    }
    drop_anchor(l, true);
    l->server = best;
    l->fd = fd;
    cfg.username = user;
    cfg.password = pass;
    alen = l->server.addr.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                               : sizeof(struct sockaddr_in6);
    if (connect(l->fd, (struct sockaddr *)&l->server.addr, alen) < 0 ||
        epoll_ctl(l->m->epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0 ||
        turn_alloc_new(&cfg, &l->alloc) < 0 || turn_alloc_start(l->alloc, now) < 0) {
        fail_leg(l, "cannot reach the TURN server", now);
        return;
    }
    pthread_mutex_lock(&l->m->lock);
    l->pub.anchors++;
    snprintf(l->pub.turn_server, sizeof(l->pub.turn_server), "%s", l->server.spec.id);
    l->pub.relayed[0] = '\0';
    l->pub.relayed_port = 0;
    pthread_mutex_unlock(&l->m->lock);
    publish(l, MEDIA_LEG_CONNECTING, "allocating on the TURN server");
}

/* Moves a leg on after its allocation did something. */
static void advance(struct leg *l, int64_t now)
{
    struct turn_alloc_info info;

    if (!l->alloc)
        return;
    turn_alloc_get_info(l->alloc, &info);
    if (info.state == TURN_ALLOC_FAILED || info.state == TURN_ALLOC_REDIRECT) {
        char why[200];

        snprintf(why, sizeof(why), "TURN allocation failed: %s %s",
                 info.state == TURN_ALLOC_REDIRECT ? "redirected" : turn_failure_name(info.failure),
                 info.reason);
        fail_leg(l, why, now);
        return;
    }
    if (info.state != TURN_ALLOC_READY)
        return;
    if (!l->asked_peer) {
        l->asked_peer = true;
        if (turn_alloc_add_peer(l->alloc, (struct sockaddr *)&l->remote, CHANNEL, now) < 0)
            fail_leg(l, "cannot bind a channel to the endpoint", now);
        return;
    }
    if (!l->ready && turn_alloc_peer_ready(l->alloc, (struct sockaddr *)&l->remote)) {
        const struct sockaddr_in6 *in6 = (const void *)&info.relayed;
        const struct sockaddr_in *in = (const void *)&info.relayed;

        l->ready = true;
        pthread_mutex_lock(&l->m->lock);
        l->pub.lifetime_left_s = (info.expires_us - now) / 1000000;
        if (info.relayed.ss_family == AF_INET) {
            inet_ntop(AF_INET, &in->sin_addr, l->pub.relayed, sizeof(l->pub.relayed));
            l->pub.relayed_port = ntohs(in->sin_port);
        } else {
            inet_ntop(AF_INET6, &in6->sin6_addr, l->pub.relayed, sizeof(l->pub.relayed));
            l->pub.relayed_port = ntohs(in6->sin6_port);
        }
        pthread_mutex_unlock(&l->m->lock);
        publish(l, MEDIA_LEG_CONNECTED, NULL);
        mlog(l->m, LOG_INFO, "callLeg %s: anchored on turnServer %s at %s port %u", l->id,
             l->server.spec.id, l->pub.relayed, l->pub.relayed_port);
    }
}

/* Every second: failed legs try again, legs on a server the prober lost move elsewhere, and
 * the lifetime left is published. */
static void housekeeping(struct media *m, int64_t now)
{
    for (struct leg *l = m->legs; l; l = l->next) {
        struct turn_alloc_info info;

        if (!l->alloc) {
            if (now >= l->retry_us)
                anchor(l, NULL, now);
            continue;
        }
        if (!turn_prober_is_reachable(m->cfg.prober, l->server.spec.id,
                                      (struct sockaddr *)&l->server.addr)) {
            char exclude[40];

            snprintf(exclude, sizeof(exclude), "%s", l->server.spec.id);
            mlog(m, LOG_INFO, "callLeg %s: turnServer %s is unreachable, moving", l->id, exclude);
            anchor(l, exclude, now);
            continue;
        }
        turn_alloc_get_info(l->alloc, &info);
        pthread_mutex_lock(&m->lock);
        l->pub.lifetime_left_s =
            info.state == TURN_ALLOC_READY ? (info.expires_us - now) / 1000000 : 0;
        l->pub.malformed = l->malformed_before + turn_alloc_dropped(l->alloc);
        rtp_publish(&l->rtp, &l->pub.rx_rtp, now - m->last_housekeeping_us);
        pthread_mutex_unlock(&m->lock);
    }
}

/* A leg's counters as they are now; the packet path updates them without the lock. */
static void leg_counters(const struct leg *l, struct media_counters out[MEDIA__CLASSES])
{
    for (int c = 0; c < MEDIA__CLASSES; c++) {
        out[c].rx_packets = atomic_load(&l->cnt[c][C_RX_PKT]);
        out[c].rx_bytes = atomic_load(&l->cnt[c][C_RX_BYTES]);
        out[c].fwd_packets = atomic_load(&l->cnt[c][C_FWD_PKT]);
        out[c].fwd_bytes = atomic_load(&l->cnt[c][C_FWD_BYTES]);
        out[c].dropped = atomic_load(&l->cnt[c][C_DROP]);
    }
}

/* Adds leg l's counters to t. Under m->lock (l->pub.malformed). */
static void add_leg_totals(struct media_totals *t, const struct leg *l)
{
    struct media_counters k[MEDIA__CLASSES];

    leg_counters(l, k);
    for (int c = 0; c < MEDIA__CLASSES; c++) {
        t->cls[c].rx_packets += k[c].rx_packets;
        t->cls[c].rx_bytes += k[c].rx_bytes;
        t->cls[c].fwd_packets += k[c].fwd_packets;
        t->cls[c].fwd_bytes += k[c].fwd_bytes;
        t->cls[c].dropped += k[c].dropped;
    }
    t->strangers += atomic_load(&l->strangers);
    t->malformed += l->pub.malformed;
}

/* ---- commands ----------------------------------------------------------------------------- */

static struct leg *find_leg(struct media *m, const char *id, struct leg ***ret_link)
{
    for (struct leg **link = &m->legs; *link; link = &(*link)->next) {
        if (strcmp((*link)->id, id) == 0) {
            if (ret_link)
                *ret_link = link;
            return *link;
        }
    }
    return NULL;
}

static struct call *join_call(struct media *m, const char *id, struct leg *l)
{
    struct call *c = m->calls;

    while (c && strcmp(c->id, id) != 0)
        c = c->next;
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return NULL;
        snprintf(c->id, sizeof(c->id), "%s", id);
        c->next = m->calls;
        m->calls = c;
    }
    if (c->n == MEDIA_MAX_LEGS_PER_CALL)
        return NULL;
    c->legs[c->n++] = l;
    return c;
}

static void leave_call(struct media *m, struct leg *l)
{
    struct call *c = l->call;

    for (size_t i = 0; i < c->n; i++)
        if (c->legs[i] == l)
            c->legs[i] = c->legs[--c->n];
    if (c->n > 0)
        return;
    for (struct call **link = &m->calls; *link; link = &(*link)->next) {
        if (*link == c) {
            *link = c->next;
            free(c);
            return;
        }
    }
}

static void add_leg(struct media *m, const struct cmd *c, int64_t now)
{
    struct leg *l;

    if (find_leg(m, c->leg, NULL))
        return;
    l = calloc(1, sizeof(*l));
    if (!l)
        return;
    l->m = m;
    l->fd = -1;
    snprintf(l->id, sizeof(l->id), "%s", c->leg);
    l->remote = c->remote;
    l->call = join_call(m, c->call, l);
    if (!l->call) { /* the API admits at most MEDIA_MAX_LEGS_PER_CALL: said, not silent */
        mlog(m, LOG_ERR, "callLeg %s: not added to call %s (full, or out of memory)", l->id,
             c->call);
        free(l);
        return;
    }
    pthread_mutex_lock(&m->lock);
    l->next = m->legs;
    m->legs = l;
    m->nlegs++;
    if (m->nlegs > m->max_legs)
        m->max_legs = m->nlegs;
    pthread_mutex_unlock(&m->lock);
    anchor(l, NULL, now);
}

static void remove_leg(struct media *m, const char *id)
{
    struct leg **link, *l = find_leg(m, id, &link);

    if (!l)
        return;
    drop_anchor(l, true);
    leave_call(m, l);
    pthread_mutex_lock(&m->lock);
    *link = l->next;
    m->nlegs--;
    add_leg_totals(&m->retired, l); /* counters never go back */
    pthread_mutex_unlock(&m->lock);
    free(l);
}

static void run_commands(struct media *m, int64_t now)
{
    struct cmd *c;
    uint64_t v;

    (void)!read(m->evfd, &v, sizeof(v));
    pthread_mutex_lock(&m->lock);
    c = m->head;
    m->head = m->tail = NULL;
    pthread_mutex_unlock(&m->lock);
    while (c) {
        struct cmd *next = c->next;

        if (c->kind == CMD_ADD)
            add_leg(m, c, now);
        else
            remove_leg(m, c->leg);
        free(c);
        c = next;
    }
}

static int push(struct media *m, struct cmd *c)
{
    uint64_t one = 1;

    pthread_mutex_lock(&m->lock);
    if (m->tail)
        m->tail->next = c;
    else
        m->head = c;
    m->tail = c;
    pthread_mutex_unlock(&m->lock);
    (void)!write(m->evfd, &one, sizeof(one));
    return 0;
}

/* ---- the thread --------------------------------------------------------------------------- */

/* Lowers m->timer_us to l's next deadline: after anything that may have moved it earlier. */
static void note_deadline(struct media *m, const struct leg *l)
{
    int64_t d = l->alloc ? turn_alloc_next_deadline(l->alloc) : INT64_MAX;

    if (d < m->timer_us)
        m->timer_us = d;
}

/* Fires every due allocation timer and works out the next one: a walk over every leg, so it
 * runs only when m->timer_us says one may be due, not for every batch of datagrams. */
static void run_timers(struct media *m, int64_t now)
{
    m->timer_us = INT64_MAX;
    for (struct leg *l = m->legs; l; l = l->next) {
        if (l->alloc && turn_alloc_next_deadline(l->alloc) <= now) {
            turn_alloc_on_timer(l->alloc, now);
            advance(l, now);
        }
        note_deadline(m, l);
    }
}

static void *media_main(void *arg)
{
    struct media *m = arg;
    struct epoll_event evs[64];

    while (!atomic_load(&m->stopping)) {
        int64_t now = turn_now_us(), wait;
        bool commands = false;
        int n;

        wait = (m->timer_us < m->housekeeping_us ? m->timer_us : m->housekeeping_us) - now;
        n = epoll_wait(m->epfd, evs, 64, wait <= 0 ? 0 : (int)((wait + 999) / 1000));
        now = turn_now_us();
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr) {
                commands = true;
            } else {
                on_readable(evs[i].data.ptr, now);
                advance(evs[i].data.ptr, now);
                note_deadline(m, evs[i].data.ptr);
            }
        }
        if (commands) { /* last: a removal frees legs that this batch's events point to */
            run_commands(m, now);
            m->timer_us = 0; /* new allocations: scan now */
        }
        now = turn_now_us();
        if (now >= m->timer_us)
            run_timers(m, now);
        if (now >= m->housekeeping_us) {
            housekeeping(m, now);
            m->last_housekeeping_us = now;
            m->housekeeping_us = now + HOUSEKEEPING_US;
            m->timer_us = 0; /* re-anchored legs: scan at the next turn */
        }
    }
    return NULL;
}

int media_start(const struct media_config *cfg, struct media **ret_media)
{
    struct media *m = calloc(1, sizeof(*m));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    int r;

    if (!m)
        return -ENOMEM;
    m->cfg = *cfg;
    pthread_mutex_init(&m->lock, NULL);
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    m->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m->epfd < 0 || m->evfd < 0 || epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->evfd, &ev) < 0 ||
        pthread_create(&m->thread, NULL, media_main, m) != 0) {
        r = -errno ? -errno : -EIO;
        if (m->epfd >= 0)
            close(m->epfd);
        if (m->evfd >= 0)
            close(m->evfd);
        pthread_mutex_destroy(&m->lock);
        free(m);
        return r;
    }
    (void)pthread_setname_np(m->thread, "cb-media"); /* for top -H, ps -L */
    *ret_media = m;
    return 0;
}

void media_stop(struct media *m)
{
    uint64_t one = 1;

    if (!m)
        return;
    atomic_store(&m->stopping, true);
    (void)!write(m->evfd, &one, sizeof(one));
    pthread_join(m->thread, NULL);
    run_commands(m, turn_now_us()); /* free what was queued */
    while (m->legs)
        remove_leg(m, m->legs->id); /* releases every allocation */
    close(m->epfd);
    close(m->evfd);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

int media_leg_add(struct media *m, const char *call_id, const char *leg_id,
                  const struct sockaddr *remote)
{
    struct cmd *c;

    if (remote->sa_family != AF_INET && remote->sa_family != AF_INET6)
        return -EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->kind = CMD_ADD;
    snprintf(c->call, sizeof(c->call), "%s", call_id);
    snprintf(c->leg, sizeof(c->leg), "%s", leg_id);
    memcpy(&c->remote, remote,
           remote->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    return push(m, c);
}

int media_leg_remove(struct media *m, const char *leg_id)
{
    struct cmd *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    c->kind = CMD_REMOVE;
    snprintf(c->leg, sizeof(c->leg), "%s", leg_id);
    return push(m, c);
}

int media_leg_get(struct media *m, const char *leg_id, struct media_leg_status *ret)
{
    struct leg *l;
    int r = -ENOENT;

    pthread_mutex_lock(&m->lock);
    l = find_leg(m, leg_id, NULL);
    if (l) {
        *ret = l->pub;
        leg_counters(l, ret->cls);
        ret->strangers = atomic_load(&l->strangers);
        r = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}

void media_totals(struct media *m, struct media_totals *ret)
{
    pthread_mutex_lock(&m->lock);
    *ret = m->retired;
    for (const struct leg *l = m->legs; l; l = l->next)
        add_leg_totals(ret, l);
    pthread_mutex_unlock(&m->lock);
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
