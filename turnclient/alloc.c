/* turnclient/alloc.c: the client side of one TURN allocation (RFC 8656), driven from outside:
 * the owner of the socket feeds what arrives, calls the timer at the deadline we give, and we
 * send through cfg.send. No sockets, threads or clocks here, so the prober and the media
 * thread can both run it, and tests can run it against scripted answers.
 *
 * DESIGN (reference/turn.md §2):
 * - Allocate without credentials; a 401 carrying REALM and NONCE gives the key, and the
 *   Allocate is repeated, authenticated, with a new transaction id. A 401 to an authenticated
 *   request means the credentials were refused: no loop. 438 re-learns the nonce, at most
 *   max_stale_nonce times per request. 300 with ALTERNATE-SERVER ends in REDIRECT: the owner
 *   follows it once, on a new socket.
 * - Success responses to authenticated requests must carry a valid MESSAGE-INTEGRITY(-SHA256);
 *   anything else is dropped and the request keeps retransmitting (RFC 8489 §9.2.5).
 * - The allocation is refreshed a minute before it expires (half-way for lifetimes <= 120 s),
 *   permissions every 240 s, channels every 540 s (the channel refresh renews the permission).
 * - Release is Refresh LIFETIME=0; 437 to it means the server had already let it go. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "turnclient/cred.h"
#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

#define MAX_REQS (2 + 2 * TURN_MAX_PEERS)
/* Permissions last 300 s (RFC 8656 §9) and a channel binding refreshes its permission, so both
 * are renewed every 240 s - a channel's own 600 s would let the permission lapse - and also
 * with every refresh of the allocation, which keeps them alive on servers configured with
 * shorter lifetimes than the RFC's. */
#define PERMISSION_REFRESH_US (240LL * 1000000)
#define UDP_PROTOCOL 17

enum req_kind { REQ_ALLOCATE, REQ_REFRESH, REQ_RELEASE, REQ_PERMISSION, REQ_CHANNEL };

struct req {
    struct turn_txn txn;
    enum req_kind kind;
    int peer;       /* index into peers for REQ_PERMISSION and REQ_CHANNEL */
    unsigned stale; /* 438 retries so far */
    bool authenticated;
};

struct peer {
    bool used, perm_ok, chan_ok;
    struct sockaddr_storage addr;
    uint16_t channel;
    int64_t refresh_us; /* when to renew the permission (or channel) */
};

struct turn_alloc {
    struct turn_alloc_config cfg;
    char username[514], password[256], software[128];
    struct turn_alloc_info info;
    uint8_t realm[764], nonce[764], algorithms[64];
    size_t realm_len, nonce_len, algorithms_len;
    uint8_t key[TURN_KEY_MAX];
    int key_len; /* 0 until the first 401 */
    bool sha256; /* the server offered PASSWORD-ALGORITHMS: MI-SHA256 from now on */
    uint16_t algorithm;
    struct req *reqs[MAX_REQS]; /* allocated on first use: a probe needs one, media a few */
    struct peer peers[TURN_MAX_PEERS];
    int64_t refresh_us; /* READY: when to refresh the allocation */
    uint64_t dropped;
};

const char *turn_failure_name(enum turn_failure f)
{
    static const char *const names[] = {"",
                                        "dnsFailure",
                                        "timeout",
                                        "portUnreachable",
                                        "unauthorized",
                                        "integrityCheckFailure",
                                        "allocationMismatch",
                                        "wrongCredentials",
                                        "quotaReached",
                                        "insufficientCapacity",
                                        "forbidden",
                                        "serverError",
                                        "protocolError",
                                        "localResourceLimit"};

    return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "protocolError";
}

bool turn_err_is_local(int err)
{
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

static int copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= cap)
        return -EINVAL;
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

int turn_alloc_new(const struct turn_alloc_config *cfg, struct turn_alloc **ret_alloc)
{
    struct turn_alloc *a = calloc(1, sizeof(*a));

    if (!a)
        return -ENOMEM;
    a->cfg = *cfg;
    if (copy_str(a->username, sizeof(a->username), cfg->username) < 0 ||
        copy_str(a->password, sizeof(a->password), cfg->password) < 0 ||
        copy_str(a->software, sizeof(a->software), cfg->software) < 0 || !cfg->send ||
        cfg->txn.max_sends == 0) {
        turn_alloc_free(a);
        return -EINVAL;
    }
    a->cfg.username = a->username;
    a->cfg.password = a->password;
    a->cfg.software = a->software;
    a->info.rtt_us = -1;
    *ret_alloc = a;
    return 0;
}

void turn_alloc_free(struct turn_alloc *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < MAX_REQS; i++)
        free(a->reqs[i]);
    OPENSSL_cleanse(a, sizeof(*a)); /* password and key */
    free(a);
}

/* Keeps a printable copy of a reason phrase for the status page. */
static void set_reason(struct turn_alloc *a, const uint8_t *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o + 1 < sizeof(a->info.reason); i++)
        a->info.reason[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    a->info.reason[o] = '\0';
}

static bool is_active(const struct req *r)
{
    return r && r->txn.active;
}

static void stop_all(struct turn_alloc *a)
{
    for (size_t i = 0; i < MAX_REQS; i++)
        if (a->reqs[i])
            a->reqs[i]->txn.active = false;
}

static void fail(struct turn_alloc *a, enum turn_failure f, int code, const char *why)
{
    a->info.state = TURN_ALLOC_FAILED;
    a->info.failure = f;
    a->info.error_code = code;
    if (why)
        set_reason(a, (const uint8_t *)why, strlen(why));
    stop_all(a);
}

/* ---- building and sending requests ------------------------------------------------------ */

static void put_auth(struct turn_alloc *a, struct stun_writer *w)
{
    if (a->software[0])
        stun_put_str(w, STUN_ATTR_SOFTWARE, a->software);
    if (!a->key_len)
        return;
    stun_put_str(w, STUN_ATTR_USERNAME, a->username);
    stun_put_bytes(w, STUN_ATTR_REALM, a->realm, a->realm_len);
    stun_put_bytes(w, STUN_ATTR_NONCE, a->nonce, a->nonce_len);
    if (a->sha256) {
        uint8_t alg[4] = {(uint8_t)(a->algorithm >> 8), (uint8_t)a->algorithm, 0, 0};

        stun_put_bytes(w, STUN_ATTR_PASSWORD_ALGORITHMS, a->algorithms, a->algorithms_len);
        stun_put_bytes(w, STUN_ATTR_PASSWORD_ALGORITHM, alg, sizeof(alg));
        stun_put_integrity_sha256(w, a->key, (size_t)a->key_len);
    } else {
        stun_put_integrity(w, a->key, (size_t)a->key_len);
    }
}

/* Builds the request for r with a new transaction id and starts its transaction. */
static int send_req(struct turn_alloc *a, struct req *r, int64_t now_us)
{
    uint8_t buf[TURN_TXN_MAX_MSG], tid[STUN_TID_LEN];
    const struct peer *p = r->peer >= 0 ? &a->peers[r->peer] : NULL;
    static const uint16_t methods[] = {STUN_ALLOCATE, STUN_REFRESH, STUN_REFRESH,
                                       STUN_CREATE_PERMISSION, STUN_CHANNEL_BIND};
    struct stun_writer w;
    long n;

    if (RAND_bytes(tid, sizeof(tid)) != 1)
        return -EIO;
    stun_writer_init(&w, buf, sizeof(buf), methods[r->kind], STUN_REQUEST, tid);
    if (r->kind == REQ_ALLOCATE)
        stun_put_requested_transport(&w, UDP_PROTOCOL);
    if ((r->kind == REQ_ALLOCATE && a->cfg.lifetime_s) || r->kind == REQ_REFRESH)
        stun_put_u32(&w, STUN_ATTR_LIFETIME, a->cfg.lifetime_s ? a->cfg.lifetime_s : 600);
    if (r->kind == REQ_RELEASE)
        stun_put_u32(&w, STUN_ATTR_LIFETIME, 0);
    if (r->kind == REQ_CHANNEL)
        stun_put_channel(&w, p->channel);
    if (p)
        stun_put_addr(&w, STUN_ATTR_XOR_PEER_ADDRESS, (const struct sockaddr *)&p->addr);
    put_auth(a, &w);
    stun_put_fingerprint(&w);
    n = stun_writer_finish(&w);
    if (n < 0)
        return (int)n;
    r->authenticated = a->key_len > 0;
    return turn_txn_start(&r->txn, &a->cfg.txn, a->cfg.reliable, buf, (size_t)n, a->cfg.send,
                          a->cfg.userdata, now_us);
}

static struct req *new_req(struct turn_alloc *a, enum req_kind kind, int peer)
{
    for (size_t i = 0; i < MAX_REQS; i++) {
        struct req *r = a->reqs[i];

        if (!r) {
            r = a->reqs[i] = malloc(sizeof(*r));
            if (!r)
                return NULL;
        } else if (r->txn.active) {
            continue;
        }
        memset(r, 0, sizeof(*r));
        r->kind = kind;
        r->peer = peer;
        return r;
    }
    return NULL;
}

static int start_req(struct turn_alloc *a, enum req_kind kind, int peer, int64_t now_us)
{
    struct req *r = new_req(a, kind, peer);

    return r ? send_req(a, r, now_us) : -EBUSY;
}

int turn_alloc_start(struct turn_alloc *a, int64_t now_us)
{
    int r;

    if (a->info.state != TURN_ALLOC_IDLE)
        return -EINVAL;
    a->info.state = TURN_ALLOC_ALLOCATING;
    r = start_req(a, REQ_ALLOCATE, -1, now_us);
    if (r < 0)
        turn_alloc_on_error(a, r);
    return r;
}

/* ---- answers ------------------------------------------------------------------------------ */

/* Learns REALM, NONCE and the password algorithm from a 401 or 438; computes the key.
 * Returns 0 or -EPROTO when the challenge is unusable. */
static int learn_challenge(struct turn_alloc *a, const struct stun_msg *m)
{
    int n;

    if (m->nonce.ptr) {
        if (m->nonce.len > sizeof(a->nonce))
            return -EPROTO;
        memcpy(a->nonce, m->nonce.ptr, m->nonce.len);
        a->nonce_len = m->nonce.len;
    }
    if (m->realm.ptr) {
        if (m->realm.len > sizeof(a->realm))
            return -EPROTO;
        memcpy(a->realm, m->realm.ptr, m->realm.len);
        a->realm_len = m->realm.len;
    }
    if (!a->nonce_len || !a->realm_len)
        return -EPROTO;
    a->algorithm = STUN_PASSWORD_ALGORITHM_MD5;
    if (m->password_algorithms.ptr && m->password_algorithms.len <= sizeof(a->algorithms)) {
        /* RFC 8489 §9.2.4: echo the list, use the first algorithm we support */
        memcpy(a->algorithms, m->password_algorithms.ptr, m->password_algorithms.len);
        a->algorithms_len = m->password_algorithms.len;
        a->sha256 = true;
        for (size_t i = 0; i + 4 <= a->algorithms_len;) {
            uint16_t alg = (uint16_t)(a->algorithms[i] << 8 | a->algorithms[i + 1]);
            size_t plen = (size_t)(a->algorithms[i + 2] << 8 | a->algorithms[i + 3]);

            if (alg == STUN_PASSWORD_ALGORITHM_SHA256 || alg == STUN_PASSWORD_ALGORITHM_MD5) {
                a->algorithm = alg;
                break;
            }
            i += 4 + ((plen + 3) & ~(size_t)3);
        }
    }
    n = turn_cred_long_term_key(a->username, a->realm, a->realm_len, a->password, a->algorithm,
                                a->key);
    if (n < 0)
        return -EPROTO;
    a->key_len = n;
    return 0;
}

/* RFC 8489 §9.2.5: does the response carry a valid integrity attribute for our key? */
static bool is_authentic(const struct turn_alloc *a, const struct stun_msg *m)
{
    if (!a->key_len)
        return true; /* nothing to check against (a server without authentication) */
    if (m->mi256_off)
        return stun_check_integrity_sha256(m, a->key, (size_t)a->key_len) == 0;
    return stun_check_integrity(m, a->key, (size_t)a->key_len) == 0;
}

static enum turn_failure failure_of(int code, const struct stun_bytes *reason)
{
    switch (code) {
    case 401:
        return TURN_FAIL_UNAUTHORIZED;
    case 403:
        return TURN_FAIL_FORBIDDEN;
    case 431:
        return TURN_FAIL_INTEGRITY;
    case 437: /* coturn: "Allocation mismatch: wrong credentials" after a rejected username */
        if (reason->ptr && memmem(reason->ptr, reason->len, "credential", 10))
            return TURN_FAIL_WRONG_CREDENTIALS;
        return TURN_FAIL_MISMATCH;
    case 441:
        return TURN_FAIL_WRONG_CREDENTIALS;
    case 486:
        return TURN_FAIL_QUOTA;
    case 508:
        return TURN_FAIL_CAPACITY;
    default:
        return code >= 500 ? TURN_FAIL_SERVER_ERROR : TURN_FAIL_PROTOCOL;
    }
}

static void schedule_refresh(struct turn_alloc *a, int64_t now_us)
{
    int64_t life = a->info.lifetime_s;
    int64_t after = life > 120 ? life - 60 : life / 2;

    a->refresh_us = now_us + (after > 0 ? after : 1) * 1000000;
}

static void on_allocated(struct turn_alloc *a, const struct stun_msg *m, int64_t now_us)
{
    if (!m->has_xor_relayed) {
        fail(a, TURN_FAIL_PROTOCOL, 0, "success without XOR-RELAYED-ADDRESS");
        return;
    }
    a->info.relayed = m->xor_relayed;
    a->info.has_relayed = true;
    a->info.has_mapped = m->has_xor_mapped;
    if (m->has_xor_mapped)
        a->info.mapped = m->xor_mapped;
    a->info.lifetime_s = m->has_lifetime ? m->lifetime : 600;
    a->info.expires_us = now_us + (int64_t)a->info.lifetime_s * 1000000;
    a->info.state = TURN_ALLOC_READY;
    schedule_refresh(a, now_us);
}

/* A 401 or 438 that can be answered by retrying r; returns true when a retry was sent. */
static bool retry_challenge(struct turn_alloc *a, struct req *r, const struct stun_msg *m,
                            int64_t now_us)
{
    bool challenge = m->error_code == 401 && !r->authenticated;
    bool stale = m->error_code == 438 && r->stale < a->cfg.max_stale_nonce;
    int n;

    if (!challenge && !stale)
        return false;
    if (learn_challenge(a, m) < 0) {
        fail(a, TURN_FAIL_PROTOCOL, m->error_code, "challenge without REALM and NONCE");
        return true;
    }
    if (stale)
        r->stale++;
    if ((n = send_req(a, r, now_us)) < 0)
        fail(a, turn_err_is_local(n) ? TURN_FAIL_LOCAL : TURN_FAIL_PORT_UNREACHABLE, 0,
             "send failed");
    return true;
}

static void on_error(struct turn_alloc *a, struct req *r, const struct stun_msg *m, int64_t now_us)
{
    struct peer *p = r->peer >= 0 ? &a->peers[r->peer] : NULL;

    if (retry_challenge(a, r, m, now_us))
        return;
    if (r->kind == REQ_RELEASE) {
        a->info.state = TURN_ALLOC_RELEASED; /* 437: already gone; anything else: gave up */
        return;
    }
    if (p) { /* a peer's trouble does not end the allocation; retried at the next refresh */
        p->perm_ok = p->chan_ok = false;
        p->refresh_us = now_us + 10LL * 1000000;
        return;
    }
    if (m->error_code == 300 && r->kind == REQ_ALLOCATE && m->has_alternate) {
        a->info.state = TURN_ALLOC_REDIRECT;
        a->info.alternate = m->alternate;
        a->info.error_code = 300;
        set_reason(a, m->reason.ptr, m->reason.len);
        return;
    }
    fail(a, failure_of(m->error_code, &m->reason), m->error_code, NULL);
    set_reason(a, m->reason.ptr, m->reason.len);
}

static void on_success(struct turn_alloc *a, struct req *r, const struct stun_msg *m,
                       int64_t now_us)
{
    struct peer *p = r->peer >= 0 ? &a->peers[r->peer] : NULL;

    switch (r->kind) {
    case REQ_ALLOCATE:
        on_allocated(a, m, now_us);
        break;
    case REQ_REFRESH:
        if (m->has_lifetime)
            a->info.lifetime_s = m->lifetime;
        a->info.expires_us = now_us + (int64_t)a->info.lifetime_s * 1000000;
        schedule_refresh(a, now_us);
        for (int i = 0; i < TURN_MAX_PEERS; i++) /* permissions and channels with it */
            if (a->peers[i].used && a->peers[i].refresh_us != INT64_MAX)
                a->peers[i].refresh_us = now_us;
        break;
    case REQ_RELEASE:
        a->info.state = TURN_ALLOC_RELEASED;
        break;
    case REQ_PERMISSION:
    case REQ_CHANNEL:
        p->perm_ok = true;
        if (r->kind == REQ_CHANNEL) /* a permission's late answer keeps a bound channel */
            p->chan_ok = true;
        p->refresh_us = now_us + PERMISSION_REFRESH_US;
        break;
    }
}

static void on_response(struct turn_alloc *a, const struct stun_msg *m, int64_t now_us)
{
    struct req *r = NULL;
    int64_t rtt;

    for (size_t i = 0; i < MAX_REQS && !r; i++)
        if (a->reqs[i] && turn_txn_matches(&a->reqs[i]->txn, m->tid))
            r = a->reqs[i];
    if (!r || (r->authenticated && (m->cls == STUN_SUCCESS || m->mi_off || m->mi256_off) &&
               !is_authentic(a, m))) {
        a->dropped++; /* unknown, or forged: keep waiting (RFC 8489 §9.2.5) */
        return;
    }
    rtt = turn_txn_finish(&r->txn, now_us);
    if (rtt >= 0 && r->kind == REQ_ALLOCATE)
        a->info.rtt_us = rtt;
    if (m->cls == STUN_SUCCESS)
        on_success(a, r, m, now_us);
    else if (m->error_code)
        on_error(a, r, m, now_us);
    else
        fail(a, TURN_FAIL_PROTOCOL, 0, "error response without ERROR-CODE");
}

/* A sockaddr's port, network order (AF_INET or AF_INET6). */
static uint16_t port_of(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET ? ((const struct sockaddr_in *)(const void *)sa)->sin_port
                                    : ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port;
}

/* Same IP address (a permission's scope, RFC 8656 §9), whatever the ports. */
static bool turn_same_ip(const struct sockaddr *x, const struct sockaddr *y)
{
    if (x->sa_family != y->sa_family)
        return false;
    if (x->sa_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)x)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)y)->sin_addr.s_addr;
    return x->sa_family == AF_INET6 &&
           memcmp(&((const struct sockaddr_in6 *)(const void *)x)->sin6_addr,
                  &((const struct sockaddr_in6 *)(const void *)y)->sin6_addr, 16) == 0;
}

static int find_peer(const struct turn_alloc *a, const struct sockaddr *sa, bool match_port)
{
    for (int i = 0; i < TURN_MAX_PEERS; i++) {
        const struct peer *p = &a->peers[i];
        const struct sockaddr *x = (const struct sockaddr *)&p->addr;

        if (p->used && turn_same_ip(x, sa) && (!match_port || port_of(x) == port_of(sa)))
            return i;
    }
    return -1;
}

static void on_stun(struct turn_alloc *a, const uint8_t *buf, size_t len, int64_t now_us)
{
    struct stun_msg m;

    if ((a->cfg.reliable ? stun_decode(buf, len, &m) != (long)len
                         : stun_decode_datagram(buf, len, &m) < 0)) {
        a->dropped++;
        return;
    }
    if (m.cls != STUN_SUCCESS && m.cls != STUN_ERROR) {
        a->dropped++;
        return;
    }
    on_response(a, &m, now_us);
}

/* Peer data (ChannelData, Data indications) is decoded by the owner's data path with
 * turn_data_decode, never here: this machine sees only the answers to its requests. */
int turn_alloc_feed(struct turn_alloc *a, const uint8_t *buf, size_t len, int64_t now_us)
{
    if (turn_demux(buf, len) == TURN_DEMUX_STUN)
        on_stun(a, buf, len, now_us);
    else
        a->dropped++;
    return 0;
}

/* ---- time --------------------------------------------------------------------------------- */

static void on_timeout(struct turn_alloc *a, struct req *r, int err, int64_t now_us)
{
    if (r->kind == REQ_RELEASE) {
        a->info.state = TURN_ALLOC_RELEASED; /* the server will expire it */
        return;
    }
    if (r->peer >= 0) {
        struct peer *p = &a->peers[r->peer];

        p->perm_ok = p->chan_ok = false;
        p->refresh_us = now_us + 10LL * 1000000;
        return;
    }
    if (err == -ETIMEDOUT)
        fail(a, TURN_FAIL_TIMEOUT, 0, "no answer");
    else
        turn_alloc_on_error(a, err);
}

static void refresh_peers(struct turn_alloc *a, int64_t now_us)
{
    for (int i = 0; i < TURN_MAX_PEERS; i++) {
        struct peer *p = &a->peers[i];
        bool busy = false;

        if (!p->used || now_us < p->refresh_us)
            continue;
        for (size_t k = 0; k < MAX_REQS; k++)
            busy |= is_active(a->reqs[k]) && a->reqs[k]->peer == i;
        if (!busy && start_req(a, p->channel ? REQ_CHANNEL : REQ_PERMISSION, i, now_us) == 0)
            p->refresh_us = INT64_MAX; /* until the answer */
    }
}

void turn_alloc_on_timer(struct turn_alloc *a, int64_t now_us)
{
    for (size_t i = 0; i < MAX_REQS; i++) {
        struct req *r = a->reqs[i];
        int err;

        if (!is_active(r))
            continue;
        err = turn_txn_on_timer(&r->txn, &a->cfg.txn, a->cfg.send, a->cfg.userdata, now_us);
        if (err < 0)
            on_timeout(a, r, err, now_us);
    }
    if (a->info.state != TURN_ALLOC_READY)
        return;
    if (now_us >= a->refresh_us && start_req(a, REQ_REFRESH, -1, now_us) == 0)
        a->refresh_us = INT64_MAX; /* until the answer */
    refresh_peers(a, now_us);
}

int64_t turn_alloc_next_deadline(const struct turn_alloc *a)
{
    int64_t next = INT64_MAX;

    for (size_t i = 0; i < MAX_REQS; i++) {
        int64_t d = a->reqs[i] ? turn_txn_deadline(&a->reqs[i]->txn) : INT64_MAX;

        next = d < next ? d : next;
    }
    if (a->info.state == TURN_ALLOC_READY) {
        next = a->refresh_us < next ? a->refresh_us : next;
        for (int i = 0; i < TURN_MAX_PEERS; i++)
            if (a->peers[i].used && a->peers[i].refresh_us < next)
                next = a->peers[i].refresh_us;
    }
    return next;
}

void turn_alloc_on_error(struct turn_alloc *a, int err)
{
    if (a->info.state == TURN_ALLOC_RELEASING) {
        a->info.state = TURN_ALLOC_RELEASED;
        return;
    }
    if (a->info.state == TURN_ALLOC_FAILED || a->info.state == TURN_ALLOC_RELEASED)
        return;
    if (err == -ECONNREFUSED || err == -EHOSTUNREACH || err == -ENETUNREACH)
        fail(a, TURN_FAIL_PORT_UNREACHABLE, 0, strerror(-err));
    else if (err == -ETIMEDOUT)
        fail(a, TURN_FAIL_TIMEOUT, 0, "no answer");
    else if (turn_err_is_local(err))
        fail(a, TURN_FAIL_LOCAL, 0, strerror(-err));
    else
        fail(a, TURN_FAIL_PROTOCOL, 0, strerror(-err));
}

int turn_alloc_release(struct turn_alloc *a, int64_t now_us)
{
    /* an authenticated Allocate in flight (after the 401) may have made the allocation on the
     * server, which would hold it (and its relayed port, and the user's quota) for its whole
     * lifetime: deleted as a made one is. If the server made none, it answers 437, which ends
     * the release as well. */
    bool made = a->info.state == TURN_ALLOC_READY ||
                (a->info.state == TURN_ALLOC_ALLOCATING && a->key_len > 0);
    int r;

    stop_all(a); /* nothing else matters any more */
    if (!made) {
        if (a->info.state != TURN_ALLOC_FAILED)
            a->info.state = TURN_ALLOC_RELEASED;
        return -EINVAL;
    }
    a->info.state = TURN_ALLOC_RELEASING;
    r = start_req(a, REQ_RELEASE, -1, now_us);
    if (r < 0)
        a->info.state = TURN_ALLOC_RELEASED;
    return r;
}

/* ---- peers and data ----------------------------------------------------------------------- */

int turn_alloc_add_peer(struct turn_alloc *a, const struct sockaddr *peer, uint16_t channel,
                        int64_t now_us)
{
    int known = find_peer(a, peer, channel != 0), slot = -1;
    struct peer *p;

    if (a->info.state != TURN_ALLOC_READY ||
        (channel && (channel < STUN_CHANNEL_MIN || channel > STUN_CHANNEL_MAX)) ||
        (peer->sa_family != AF_INET && peer->sa_family != AF_INET6))
        return -EINVAL;
    if (known >= 0 && a->peers[known].channel == channel)
        return 0; /* already there, kept fresh */
    if (known >= 0 && channel && !a->peers[known].channel) {
        /* a permitted address gets its channel in the same slot: one slot per address, and its
         * data goes in ChannelData once the bind is answered (a second slot, found after the
         * first, would have left it in Send indications) */
        a->peers[known].channel = channel;
        return start_req(a, REQ_CHANNEL, known, now_us);
    }
    for (int i = 0; i < TURN_MAX_PEERS && slot < 0; i++)
        if (!a->peers[i].used)
            slot = i;
    if (slot < 0)
        return -ENOSPC;
    p = &a->peers[slot];
    memset(p, 0, sizeof(*p));
    p->used = true;
    memcpy(&p->addr, peer,
           peer->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    p->channel = channel;
    p->refresh_us = INT64_MAX;
    return start_req(a, channel ? REQ_CHANNEL : REQ_PERMISSION, slot, now_us);
}

bool turn_alloc_peer_ready(const struct turn_alloc *a, const struct sockaddr *peer)
{
    int i = find_peer(a, peer, true);

    if (i < 0)
        i = find_peer(a, peer, false);
    return i >= 0 && a->peers[i].perm_ok && (!a->peers[i].channel || a->peers[i].chan_ok);
}

uint16_t turn_alloc_channel(const struct turn_alloc *a, const struct sockaddr *peer)
{
    int i = find_peer(a, peer, true);

    return i >= 0 && a->peers[i].chan_ok ? a->peers[i].channel : 0;
}

bool turn_alloc_has_permission(const struct turn_alloc *a, const struct sockaddr *peer)
{
    return find_peer(a, peer, false) >= 0;
}

int turn_alloc_send(struct turn_alloc *a, const struct sockaddr *peer, const uint8_t *data,
                    size_t len)
{
    uint8_t buf[TURN_TXN_MAX_MSG + 64], tid[STUN_TID_LEN];
    int i = find_peer(a, peer, true);
    struct stun_writer w;
    long n;

    if (i >= 0 && a->peers[i].chan_ok) {
        n = turn_channel_data_encode(buf, sizeof(buf), a->peers[i].channel, data, len,
                                     a->cfg.reliable);
        return n < 0 ? (int)n : a->cfg.send(a->cfg.userdata, buf, (size_t)n);
    }
    /* a Send indication needs a confirmed permission for the address, whichever slot holds it:
     * a channel just asked for (not confirmed yet) must not stop what a permission allows */
    i = -1;
    for (int k = 0; k < TURN_MAX_PEERS && i < 0; k++)
        if (a->peers[k].used && a->peers[k].perm_ok &&
            turn_same_ip((const struct sockaddr *)&a->peers[k].addr, peer))
            i = k;
    if (i < 0)
        return -ENOTCONN;
    if (RAND_bytes(tid, sizeof(tid)) != 1)
        return -EIO;
    stun_writer_init(&w, buf, sizeof(buf), STUN_SEND, STUN_INDICATION, tid);
    stun_put_addr(&w, STUN_ATTR_XOR_PEER_ADDRESS, peer);
    stun_put_bytes(&w, STUN_ATTR_DATA, data, len);
    n = stun_writer_finish(&w);
    return n < 0 ? (int)n : a->cfg.send(a->cfg.userdata, buf, (size_t)n);
}

void turn_alloc_get_info(const struct turn_alloc *a, struct turn_alloc_info *ret_info)
{
    *ret_info = a->info;
}

uint64_t turn_alloc_dropped(const struct turn_alloc *a)
{
    return a->dropped;
}
