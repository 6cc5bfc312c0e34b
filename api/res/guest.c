/* api/res/guest.c: the guest interface's signalling, the JSON API the join page (web/) speaks
 * under /meeting/api/ on the API's own HTTPS ports, without API credentials:
 *   POST join {callId, secret | passcode, name}  -> {session, leg, iceServers, rejoin, ...} or 403
 *   POST join {callId, handoff} (a ticket from another node), {rejoin} (a page joining again)
 *   GET  events?session=&after=N                 -> {events: [...]}, waiting up to 20 s for one
 *   POST answer {session, sdp}, candidate {session, candidate}, leave {session}
 *   POST mute {session, audio, video}             -> {} or 403 muteSelfNotAllowed
 * A join checks the coSpace's callId with its secret (the guest link) or its passcode
 * (typed), and nonMemberAccess; whatever is wrong, the answer is the same 403, and the edge
 * counts it against the client's address as a failed login (api/http/auth.c's throttle). A
 * joined guest is a WebRTC call leg of the coSpace's call (api/res/calls.c); the media thread
 * makes its offers and ends it (api_guest_signal), and the page reads both as events. Every
 * join answers a rejoin credential (hashed in guest_rejoin, used once, the next one in the
 * rejoin's answer; revoked when its guest leaves or is removed): the page joins again with it,
 * on any node, without the passcode (docs/guests.md "Joining again").
 *
 * DESIGN: events go to the page by long polling: a GET that finds nothing new is suspended (no
 * worker waits, as a TURN status request waits for its first probe) until an event or 20 s;
 * the page polls again at once. This is server-sent events' flow with one answer per batch:
 * a streamed answer with nothing to send yet would need its content reader to suspend the
 * connection from inside libmicrohttpd's callback, which the edge does nowhere (and we have not
 * tried), while suspend/resume of a whole request is what it already does. A session's events are a
 * ring of EVENTS_MAX (a page that fell further behind gets the latest; offers are never more
 * than one ahead, since the next waits for the answer). A thread of its own wakes polls at
 * their deadline and forgets ended sessions after a minute. Lock order: the calls registry's
 * lock, then this one; never the other way (the media thread's end of a leg releases this lock
 * before it removes the leg from the registry). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/cluster.h"
#include "api/log.h"
#include "api/reply.h"
#include "api/res/calls.h"
#include "api/res/control.h"
#include "api/res/guest.h"
#include "api/res/leg_profile.h"
#include "api/res/matching.h"
#include "api/res/parse.h"
#include "api/res/profiles.h"
#include "api/util.h"
#include "media/media.h"
#include "turnclient/turnclient.h"

#define EVENTS_MAX 16
#define WAITERS_MAX 2
#define POLL_WAIT_US (20 * 1000000LL)
#define ENDED_KEEP_US (60 * 1000000LL) /* an ended session answers its last events this long */
#define TOKEN_LEN 32                   /* 24 random bytes, base64url */
#define NAME_MAX_LEN 64
#define HANDOFF_TTL_MS 60000 /* a guest sent to another node has this long to arrive there */
#define GUEST_CRED_TTL_S (12 * 3600) /* TURN REST credentials handed to a page */
/* A page's rejoin credential: at most this long after its join, and until its guest leaves or
 * is removed (docs/guests.md "Joining again") */
#define REJOIN_TTL_MS (GUEST_CRED_TTL_S * 1000LL)
#define REVOKE_MAX 256 /* chains of removed guests waiting for the next guest request */
/* A page's own mute: each one is told to every page of the call (their rosters), so a page
 * gets one in this interval; a button pressed by hand is never that fast. */
#define MUTE_MIN_INTERVAL_US (250 * 1000LL)

struct guest_waiter {
    void (*resume)(void *ctx);
    void *ctx;
    int64_t until_us;
};

struct guest {
    char token[TOKEN_LEN + 1];
    char leg[STORE_ID_LEN + 1], call[STORE_ID_LEN + 1];
    char chain[STORE_ID_LEN + 1]; /* its rejoin credentials' chain (the guest's first leg) */
    char name[NAME_MAX_LEN + 1];
    char label[NAME_MAX_LEN + 1];            /* call control's nameLabelOverride ("": the name) */
    unsigned mute;                           /* call control's MEDIA_MUTE_* on the leg */
    bool lobby;                              /* waiting in the lobby (api/res/lobby.c) */
    bool mute_self, video_mute_self, labels; /* its call leg profile's rights (control.c) */
    bool told;                               /* its page had its first "self" event */
    int64_t muted_us;                        /* its page's last mute request */
    char *events[EVENTS_MAX];                /* JSON texts, seq = first_seq + i */
    size_t nev;
    uint64_t first_seq, next_seq, wait_after;
    struct guest_waiter w[WAITERS_MAX];
    size_t nw;
    bool ended;
    int64_t ended_us;
    struct guest *next;
};

struct api_guests {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t reaper;
    bool stopping, started;
    struct guest *list;
    struct api_guest_counts counts; /* under lock; active is counted when read */
    void (*tick)(void *userdata);   /* the lobby's (api_guests_set_tick), outside the lock */
    void *tick_userdata;
    /* chains whose credentials are to be revoked (a guest removed by the administrator: the
     * registry tells it without a store), revoked by the next guest request of this node */
    char revoke[REVOKE_MAX][STORE_ID_LEN + 1];
    size_t nrevoke;
};

/* ---- sessions and their events (lock held) ------------------------------------------------ */

static struct guest *by_token(struct api_guests *g, const char *token)
{
    if (!token || strlen(token) != TOKEN_LEN)
        return NULL;
    for (struct guest *s = g->list; s; s = s->next)
        if (CRYPTO_memcmp(s->token, token, TOKEN_LEN) == 0)
            return s;
    return NULL;
}

static struct guest *by_leg(struct api_guests *g, const char *leg)
{
    for (struct guest *s = g->list; s; s = s->next)
        if (strcmp(s->leg, leg) == 0)
            return s;
    return NULL;
}

static void wake(struct guest *s)
{
    for (size_t i = 0; i < s->nw; i++)
        s->w[i].resume(s->w[i].ctx);
    s->nw = 0;
}

/* Appends obj (taken) as the next event, with its seq; wakes the polls. */
static void push(struct guest *s, json_t *obj)
{
    char *text;

    if (!obj)
        return;
    json_object_set_new(obj, "seq", json_integer((json_int_t)s->next_seq));
    text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text)
        return;
    if (s->nev == EVENTS_MAX) {
        free(s->events[0]);
        memmove(s->events, s->events + 1, (EVENTS_MAX - 1) * sizeof(s->events[0]));
        s->nev--;
        s->first_seq++;
    }
    if (s->nev == 0)
        s->first_seq = s->next_seq;
    s->events[s->nev++] = text;
    s->next_seq++;
    wake(s);
}

/* Every guest of call gets the list of the call's guests now. */
static void push_rosters(struct api_guests *g, const char *call)
{
    for (struct guest *to = g->list; to; to = to->next) {
        json_t *list, *ev;

        if (to->ended || strcmp(to->call, call) != 0)
            continue;
        list = json_array();
        for (struct guest *s = g->list; s && list; s = s->next)
            if (!s->ended && strcmp(s->call, call) == 0)
                json_array_append_new(
                    list,
                    json_pack("{s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b}", "leg", s->leg, "name",
                              s->label[0] ? s->label : s->name, "self", s == to, "audioMuted",
                              (s->mute & MEDIA_MUTE_RX_AUDIO) != 0, "videoMuted",
                              (s->mute & MEDIA_MUTE_RX_VIDEO) != 0, "hearsNobody",
                              (s->mute & MEDIA_MUTE_TX_AUDIO) != 0, "seesNobody",
                              (s->mute & MEDIA_MUTE_TX_VIDEO) != 0, "lobby", s->lobby));
        ev = list ? json_pack("{s:s, s:o}", "type", "roster", "participants", list) : NULL;
        push(to, ev);
    }
}

/* The session is over: its page gets why (reason "left", "dropped" or "failed"). */
static void end_session(struct api_guests *g, struct guest *s, const char *reason,
                        const char *detail, bool reconnect)
{
    if (s->ended)
        return;
    if (strcmp(reason, "left") == 0)
        g->counts.ended_left++;
    else if (strcmp(reason, "dropped") == 0)
        g->counts.ended_dropped++;
    else
        g->counts.ended_failed++;
    push(s, json_pack("{s:s, s:s, s:s, s:b}", "type", "end", "reason", reason, "detail", detail,
                      "reconnect", reconnect));
    s->ended = true;
    s->ended_us = api_now_us();
    push_rosters(g, s->call);
}

static void free_session(struct guest *s)
{
    for (size_t i = 0; i < s->nev; i++)
        free(s->events[i]);
    free(s);
}

/* ---- the reaper thread -------------------------------------------------------------------- */

static void reap(struct api_guests *g, int64_t now)
{
    for (struct guest **link = &g->list; *link;) {
        struct guest *s = *link;
        size_t kept = 0;

        for (size_t i = 0; i < s->nw; i++) {
            if (s->w[i].until_us <= now || g->stopping)
                s->w[i].resume(s->w[i].ctx);
            else
                s->w[kept++] = s->w[i];
        }
        s->nw = kept;
        if (s->ended && s->nw == 0 && now - s->ended_us > ENDED_KEEP_US) {
            *link = s->next;
            free_session(s);
            continue;
        }
        link = &s->next;
    }
}

static void *reaper_main(void *arg)
{
    struct api_guests *g = arg;

    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec ts;

        if (g->tick) { /* the registry's lock comes before this one: take it outside */
            pthread_mutex_unlock(&g->lock);
            g->tick(g->tick_userdata);
            pthread_mutex_lock(&g->lock);
        }

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 500 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&g->cond, &g->lock, &ts);
        reap(g, api_now_us());
    }
    reap(g, api_now_us());
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int api_guests_new(struct api_guests **ret)
{
    struct api_guests *g = calloc(1, sizeof(*g));

    if (!g)
        return -ENOMEM;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    if (pthread_create(&g->reaper, NULL, reaper_main, g) != 0) {
        api_guests_free(g);
        return -EAGAIN;
    }
    (void)pthread_setname_np(g->reaper, "cb-guests");
    g->started = true;
    *ret = g;
    return 0;
}

void api_guests_set_tick(struct api_guests *g, void (*tick)(void *userdata), void *userdata)
{
    pthread_mutex_lock(&g->lock);
    g->tick_userdata = userdata;
    g->tick = tick;
    pthread_mutex_unlock(&g->lock);
}

void api_guests_stop(struct api_guests *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->lock);
    if (g->started)
        pthread_join(g->reaper, NULL);
    g->started = false;
}

void api_guests_free(struct api_guests *g)
{
    if (!g)
        return;
    api_guests_stop(g);
    while (g->list) {
        struct guest *s = g->list;

        g->list = s->next;
        free_session(s);
    }
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

void api_guests_counts(struct api_guests *g, struct api_guest_counts *ret)
{
    pthread_mutex_lock(&g->lock);
    *ret = g->counts;
    ret->active = 0;
    for (struct guest *s = g->list; s; s = s->next)
        ret->active += !s->ended;
    pthread_mutex_unlock(&g->lock);
}

/* ---- replies ------------------------------------------------------------------------------ */

static void reply_text(struct api_reply *reply, int status, char *text)
{
    api_reply_done(reply);
    reply->guest = true;
    reply->content_type = "application/json";
    if (!text) {
        reply->status = 500;
        return;
    }
    reply->status = status;
    reply->body = text;
    reply->len = strlen(text);
}

static void reply_json(struct api_reply *reply, int status, json_t *obj)
{
    reply_text(reply, status, obj ? json_dumps(obj, JSON_COMPACT) : NULL);
    json_decref(obj);
}

static void reply_error(struct api_reply *reply, int status, const char *error, const char *message)
{
    reply_json(reply, status, json_pack("{s:s, s:s}", "error", error, "message", message));
}

/* A refused join, counted as one (a wrong passcode, a used or expired credential): 403 reason. */
static void refuse(struct api_guests *g, struct api_reply *reply, const char *reason,
                   const char *text)
{
    pthread_mutex_lock(&g->lock);
    g->counts.refused++;
    pthread_mutex_unlock(&g->lock);
    reply_error(reply, 403, reason, text);
}

static void forbidden(struct api_guests *g, struct api_reply *reply)
{
    refuse(g, reply, "forbidden",
           "That meeting ID and passcode (or link) are not valid. Check them and try again.");
}

/* The database or the call's node cannot take the join now: the page tries again. */
static void unavailable(struct api_reply *reply)
{
    reply_error(reply, 503, "unavailable", "Joining is not possible now; try again later.");
}

/* The body as a JSON object, or NULL with a 400 in *reply. */
static json_t *body_object(const struct api_request *req, struct api_reply *reply)
{
    json_error_t e;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
    char msg[200];

    if (j && json_is_object(j))
        return j;
    json_decref(j);
    snprintf(msg, sizeof(msg), "the body is not a JSON object (%s)",
             j ? "another JSON value" : e.text);
    reply_error(reply, 400, "badRequest", msg);
    return NULL;
}

/* The string member key of j, at most max bytes: *ret NULL when absent. Returns 0, or -EINVAL
 * with a 400 naming the member. */
static int member(json_t *j, const char *key, size_t max, const char **ret, struct api_reply *reply)
{
    json_t *v = json_object_get(j, key);
    char msg[120];

    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v) && json_string_length(v) <= max &&
        strlen(json_string_value(v)) == json_string_length(v)) {
        *ret = json_string_value(v);
        return 0;
    }
    snprintf(msg, sizeof(msg), "%s: a string of at most %zu bytes without NUL is needed", key, max);
    reply_error(reply, 400, "badRequest", msg);
    return -EINVAL;
}

/* ---- join --------------------------------------------------------------------------------- */

/* May this guest join the coSpace? A secret must be the coSpace's; without one, the passcode
 * must be the coSpace's when it has one (CMS: a space without a passcode admits its callId). */
static bool admitted(const struct store_cospace_entry *e, const char *secret, const char *passcode)
{
    return e->non_member_access && api_match_key_fits(e, secret, passcode);
}

static bool usable_name(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* The TURN server the browser is told to use (the best one now: its clientAddress) and the
 * credentials it gets, as the page's RTCPeerConnection iceServers. NULL when none. */
static json_t *ice_servers(const struct api *api, struct store *st, const char *leg,
                           char *ret_turn_id)
{
    struct turn_best best;
    struct store_turn t;
    char host[300], url[400], user[600], pass[256], label[64];
    const char *addr;
    bool bracketed;
    uint16_t port = 0;
    json_t *list;

    if (!api->prober || turn_prober_best(api->prober, NULL, &best) < 0 ||
        store_turn_get(st, best.spec.id, &t) < 0)
        return NULL;
    addr = t.client_address[0] ? t.client_address : t.server_address;
    snprintf(url, sizeof(url), "%s", addr); /* a list: the first address */
    url[strcspn(url, ", ")] = '\0';
    if (api_parse_host_port(url, host, sizeof(host), &port, &bracketed) < 0)
        return NULL;
    if (!port)
        port = best.spec.port;
    snprintf(url, sizeof(url), "turn:%s%s%s:%u?transport=udp", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", port);
    snprintf(label, sizeof(label), "guest-%.36s", leg);
    if (turn_spec_credentials_for(&best.spec, label, GUEST_CRED_TTL_S, user, sizeof(user), pass,
                                  sizeof(pass)) < 0)
        return NULL;
    list = json_pack("[{s:[s], s:s, s:s}]", "urls", url, "username", user, "credential", pass);
    snprintf(ret_turn_id, STORE_ID_LEN + 1, "%.36s", best.spec.id);
    OPENSSL_cleanse(pass, sizeof(pass));
    OPENSSL_cleanse(&best, sizeof(best));
    return list;
}

static int new_token(char *out)
{
    unsigned char raw[24];
    unsigned char b64[40];

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -EIO;
    EVP_EncodeBlock(b64, raw, sizeof(raw)); /* 32 characters, no padding for 24 bytes */
    for (int i = 0; i < TOKEN_LEN; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[TOKEN_LEN] = '\0';
    return 0;
}

/* Makes the session of a guest who joined (leg in call), with its first roster. */
static struct guest *open_session(struct api_guests *g, const char *call, const char *leg,
                                  const char *chain, const char *name)
{
    struct guest *s = calloc(1, sizeof(*s));

    if (!s || new_token(s->token) < 0) {
        free(s);
        return NULL;
    }
    snprintf(s->call, sizeof(s->call), "%s", call);
    snprintf(s->leg, sizeof(s->leg), "%s", leg);
    snprintf(s->chain, sizeof(s->chain), "%s", chain);
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->next_seq = 1;
    pthread_mutex_lock(&g->lock);
    s->next = g->list;
    g->list = s;
    g->counts.joined++;
    push_rosters(g, call);
    pthread_mutex_unlock(&g->lock);
    return s;
}

/* Forgets a session whose leg could not be made (nobody saw it but its call's rosters). */
static void close_session(struct api_guests *g, struct guest *s)
{
    pthread_mutex_lock(&g->lock);
    for (struct guest **link = &g->list; *link; link = &(*link)->next) {
        if (*link == s) {
            *link = s->next;
            break;
        }
    }
    g->counts.joined--;
    s->ended = true;
    push_rosters(g, s->call);
    pthread_mutex_unlock(&g->lock);
    free_session(s);
}

/* ---- a guest sent to the node hosting its call (docs/cluster.md) ------------------------- */

/* The hex SHA-256 of a ticket or a rejoin credential into out[65]: the database keeps only
 * this. */
static int ticket_hash(const char *ticket, char *out)
{
    return api_sha256_hex(ticket, strlen(ticket), out);
}

/* s percent-encoded (RFC 3986's unreserved characters kept) into out (cap bytes): -ENOSPC when
 * it does not fit. */
static int url_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~", *p);

        if (n + (keep ? 1 : 3) >= cap)
            return -ENOSPC;
        if (keep) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    return 0;
}

/* The guest was admitted here, but its call runs on the node home names: a one-use ticket
 * (kept hashed, for HANDOFF_TTL_MS) stands for its admission, and its page is sent to that
 * node's join page with the ticket in the URL's fragment, which a browser sends to no server
 * and which the page removes from its address at once. The passcode goes nowhere. */
static void hand_off(struct store *st, const struct store_cospace_entry *e, const char *name,
                     const struct store_call_home *home, struct api_reply *reply)
{
    char ticket[TOKEN_LEN + 1], call_id[3 * STORE_TEXT_MAX + 1], url[4 * STORE_TEXT_MAX + 64];
    struct store_handoff h = {0};
    size_t alen = strlen(home->address);
    int r = home->address[0] ? new_token(ticket) : -EHOSTDOWN;

    if (r == 0)
        r = ticket_hash(ticket, h.ticket_hash);
    (void)snprintf(h.cospace, sizeof(h.cospace), "%s", e->id);
    (void)snprintf(h.access_method, sizeof(h.access_method), "%s", e->access_method);
    (void)snprintf(h.name, sizeof(h.name), "%s", name);
    if (r == 0)
        r = url_escape(e->call_id, call_id, sizeof(call_id));
    if (r == 0)
        r = store_handoff_put(st, &h, HANDOFF_TTL_MS);
    while (alen > 0 && home->address[alen - 1] == '/')
        alen--;
    if (r == 0)
        (void)snprintf(url, sizeof(url), "%.*s/meeting/%s#handoff=%s", (int)alen, home->address,
                       call_id, ticket);
    OPENSSL_cleanse(ticket, sizeof(ticket));
    if (r < 0) {
        unavailable(reply);
        return;
    }
    api_log(BASE_LOG_INFO, "guest %s of coSpace %s sent to node %s, which hosts its call%s%s", name,
            e->id, home->node, home->call_id[0] ? " " : " (new)", home->call_id);
    reply_json(reply, 200, json_pack("{s:s, s:s}", "redirect", url, "callBridge", home->node));
    OPENSSL_cleanse(url, sizeof(url));
}

/* A rejoin credential for the guest who joined as leg (docs/guests.md "Joining again"): kept
 * hashed, of chain, for REJOIN_TTL_MS or until revoked; into out[TOKEN_LEN + 1]. Without one
 * (a store error, logged) the page falls back to its form when it must join again. */
static int issue_rejoin(struct store *st, const struct store_cospace_entry *e, const char *name,
                        const char *chain, const char *leg, char *out)
{
    struct store_rejoin c = {0};
    int r = new_token(out);

    if (r == 0)
        r = ticket_hash(out, c.cred_hash);
    (void)snprintf(c.chain, sizeof(c.chain), "%s", chain);
    (void)snprintf(c.leg, sizeof(c.leg), "%s", leg);
    (void)snprintf(c.cospace, sizeof(c.cospace), "%s", e->id);
    (void)snprintf(c.access_method, sizeof(c.access_method), "%s", e->access_method);
    (void)snprintf(c.name, sizeof(c.name), "%s", name);
    if (r == 0)
        r = store_rejoin_put(st, &c, REJOIN_TTL_MS);
    if (r < 0) {
        out[0] = '\0';
        api_log(BASE_LOG_WARN, "guest: callLeg %s gets no rejoin credential: %s", leg,
                strerror(-r));
    }
    return r;
}

struct other_nodes {
    const struct api *api;
    json_t *list;
};

static int add_other_node(const struct store_node *n, void *userdata)
{
    struct other_nodes *o = userdata;

    if (n->up && n->address[0] && !api_cluster_is_self(o->api->cluster, n->name) &&
        json_array_size(o->list) < 16)
        json_array_append_new(o->list, json_string(n->address));
    return 0;
}

/* The other live call bridges' addresses (--node-address), where a page whose own node stops
 * answering takes its rejoin credential; [] when not clustered. */
static json_t *other_nodes(const struct api *api, struct store *st)
{
    struct other_nodes o = {api, json_array()};

    if (o.list && api->cluster && store_is_shared(st) &&
        store_node_foreach(st, API_CLUSTER_DOWN_AFTER, add_other_node, &o) < 0)
        json_array_clear(o.list);
    return o.list;
}

/* The order matters: the session exists before the leg, so the media thread's first offer,
 * which may come at once, finds where to go. */
static void join_admitted(const struct api *api, struct store *st,
                          const struct store_cospace_entry *e, const char *name, const char *chain,
                          bool balance, struct api_reply *reply)
{
    char call[STORE_ID_LEN + 1], leg[STORE_ID_LEN + 1], turn[STORE_ID_LEN + 1];
    char rejoin[TOKEN_LEN + 1];
    /* with host candidates the browser may pair any candidate of its own with them (no TURN
     * server at all, or on the same network); without, only its relay reaches callbridged */
    bool host = api->media && media_has_host_candidates(api->media);
    const char *refused = NULL;
    json_t *servers = NULL;
    struct guest *s = NULL;
    struct api_leg_profile prof;
    struct store_call_home home;
    int64_t limit = 0;
    int r = api_uuid_new(leg);

    if (r == 0)
        r = api_profiles_participant_limit(st, e->id, &limit);
    if (r == 0) /* the access method it came through, its coSpace, tenant, system */
        r = api_leg_profile_resolve(st, e->id, e->access_method, &prof);

    turn[0] = '\0';
    if (r == 0 && !(servers = ice_servers(api, st, leg, turn)) &&
        !(host && (servers = json_array()))) {
        reply_error(reply, 503, "noReachableTurnServer",
                    "No TURN server is reachable; the meeting cannot carry media.");
        return;
    }
    if (r == 0 && (r = api_calls_guest_call(api, st, e->id, balance, call, &home)) == 0) {
        r = (s = open_session(api->guests, call, leg, chain ? chain : leg, name)) ? 0 : -ENOMEM;
        if (r == 0 &&
            (r = api_calls_add_guest_leg(api, call, leg, name, turn, limit, &prof, &refused)) < 0)
            close_session(api->guests, s);
        api_calls_join_done(api, call);
    }
    if (r == -EXDEV) { /* its call runs on another node */
        json_decref(servers);
        hand_off(st, e, name, &home, reply);
        return;
    }
    if (r < 0) {
        json_decref(servers);
        if (r == -EHOSTDOWN)
            reply_error(reply, 503, "callBridgeUnavailable",
                        "The meeting's call bridge is not answering; try again in a moment.");
        else if (r == -EDQUOT)
            reply_error(reply, 503, refused ? refused : "tooManyCalls",
                        "The meeting cannot take another participant now.");
        else
            unavailable(reply);
        return;
    }
    api_log(BASE_LOG_INFO, "guest %s joined coSpace %s as callLeg %s of call %s%s", name, e->id,
            leg, call, chain ? " again" : "");
    {
        json_t *ans = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "session", s->token, "leg", leg,
                                "name", name, "callId", e->call_id, "iceServers", servers,
                                "iceTransportPolicy", host ? "all" : "relay");

        if (ans && issue_rejoin(st, e, name, chain ? chain : leg, leg, rejoin) == 0) {
            json_object_set_new(ans, "rejoin", json_string(rejoin));
            json_object_set_new(ans, "callBridges", other_nodes(api, st));
        }
        OPENSSL_cleanse(rejoin, sizeof(rejoin));
        reply_json(reply, 200, ans);
    }
}

/* Does the web bridge profile in effect on the join page (api/res/webbridge.c) let this way
 * in: a secret link (allowSecrets), a callId (resolveCoSpaceCallIds) with a passcode
 * (allowPasscodes) of at least the dialInSecurityProfile's minPasscodeLength, or without one
 * where that profile's blankPasscodeAllowed is not false, by a guest
 * (allowUnauthenticatedGuests: the page has no sign-in)? 0, -EACCES, or a store error. */
static int allowed_here(struct store *st, const struct store_cospace_entry *e, const char *secret,
                        const char *passcode)
{
    struct api_join_policy p;
    bool by_secret = secret && *secret, with_passcode = passcode && *passcode;
    int64_t min = 0;
    bool blank = true;
    int r = api_web_bridge_join_policy(st, &p);

    if (r == 0 && !by_secret && with_passcode)
        r = api_profiles_min_passcode(st, e->id, NULL, &min);
    if (r == 0 && !by_secret && !e->has_passcode)
        r = api_profiles_blank_passcode_allowed(st, e->id, &blank);
    if (r < 0)
        return r == -ENOENT ? -EIO : r;
    if (!p.allow_guests || (by_secret ? !p.allow_secrets : !p.resolve_call_ids || !blank))
        return -EACCES;
    if (!by_secret && (with_passcode || e->has_passcode) &&
        (!p.allow_passcodes || (with_passcode && (int64_t)strlen(passcode) < min)))
        return -EACCES;
    return 0;
}

/* An access method of a space with this callId that admits the secret or passcode, as the
 * entry to join (api/res/access.c), found as the call matching finds it: 0, -ENOENT when none
 * does, or a store error. */
static int access_method_entry(struct store *st, const char *call_id, const char *secret,
                               const char *passcode, struct store_cospace_entry *ret)
{
    int r = api_match_access_entry(st, call_id, secret, passcode, ret);

    return r == -EACCES ? -ENOENT : r;
}

/* A guest another node admitted and sent here with a ticket (hand_off): its admission and name
 * are the ticket's, which is taken once; an unknown, used or expired one is refused as a wrong
 * passcode is. */
static void join_handed_off(const struct api *api, struct store *st, const char *ticket,
                            struct api_reply *reply)
{
    struct store_cospace_entry e;
    struct store_handoff h;
    char hash[65];
    int r = ticket_hash(ticket, hash);

    if (r == 0)
        r = store_handoff_take(st, hash, &h);
    if (r == 0)
        r = store_cospace_entry_get(st, h.cospace, &e);
    if (r == -ENOENT) {
        forbidden(api->guests, reply);
        return;
    }
    if (r < 0) {
        unavailable(reply);
        return;
    }
    (void)snprintf(e.access_method, sizeof(e.access_method), "%s", h.access_method);
    join_admitted(api, st, &e, h.name, NULL, false, reply); /* placed here by its sender */
}

/* Ends this node's session of the leg a rejoin replaces, and its leg (its page is gone, or
 * joins again; a copy of its credential was refused before this). */
static void replace_leg(const struct api *api, const char *leg)
{
    struct api_guests *g = api->guests;
    struct guest *s;
    bool live;

    pthread_mutex_lock(&g->lock);
    s = by_leg(g, leg);
    live = s && !s->ended;
    if (live)
        end_session(g, s, "left", "You joined again from another page.", false);
    pthread_mutex_unlock(&g->lock);
    if (live)
        (void)api_calls_remove_leg(api, leg);
}

/* A page that joined before joins again with its rejoin credential (issue_rejoin): admitted as
 * then, without the passcode, to its coSpace's call wherever it runs now. A used credential
 * (a copy: its chain is revoked) and an unknown, expired or revoked one are refused, each with
 * its reason, and counted as a wrong passcode is. */
static void join_again(const struct api *api, struct store *st, const char *cred,
                       struct api_reply *reply)
{
    struct store_cospace_entry e;
    struct store_rejoin c;
    char hash[65];
    int r = ticket_hash(cred, hash);

    if (r == 0)
        r = store_rejoin_take(st, hash, &c);
    if (r == 0)
        r = store_cospace_entry_get(st, c.cospace, &e);
    if (r == 0 && !e.non_member_access) /* the administrator closed it since */
        r = -ENOENT;
    if (r == -EALREADY) {
        api_log(BASE_LOG_WARN, "guest: a used rejoin credential was shown again: its guest must "
                               "join with the passcode");
        refuse(api->guests, reply, "rejoinUsed",
               "This page's way back into the meeting was used already (from another page?). "
               "Join with the passcode.");
        return;
    }
    if (r == -ENOENT) {
        refuse(api->guests, reply, "rejoinExpired",
               "This page's way back into the meeting has expired (you left, were removed, or it "
               "is too old). Join with the passcode.");
        return;
    }
    if (r < 0) {
        unavailable(reply);
        return;
    }
    replace_leg(api, c.leg);
    (void)snprintf(e.access_method, sizeof(e.access_method), "%s", c.access_method);
    join_admitted(api, st, &e, c.name, c.chain, true, reply);
    /* not joined (503: its call's node is not answering yet, no TURN server): the page tries
     * again with the same credential */
    if (reply->status != 200 && store_rejoin_restore(st, hash) < 0)
        api_log(BASE_LOG_WARN, "guest: a rejoin failed and its credential could not be given "
                               "back: its guest must join with the passcode");
}

static void join(const struct api *api, struct store *st, const struct api_request *req,
                 struct api_reply *reply)
{
    const char *call_id, *secret, *passcode, *name, *handoff, *rejoin;
    struct store_cospace_entry e;
    json_t *j = body_object(req, reply);
    int r;

    if (!j)
        return;
    if (member(j, "callId", STORE_TEXT_MAX, &call_id, reply) < 0 ||
        member(j, "secret", STORE_TEXT_MAX, &secret, reply) < 0 ||
        member(j, "passcode", STORE_TEXT_MAX, &passcode, reply) < 0 ||
        member(j, "name", NAME_MAX_LEN, &name, reply) < 0 ||
        member(j, "handoff", TOKEN_LEN, &handoff, reply) < 0 ||
        member(j, "rejoin", TOKEN_LEN, &rejoin, reply) < 0)
        goto out;
    if (rejoin) {
        join_again(api, st, rejoin, reply);
        goto out;
    }
    if (handoff) {
        join_handed_off(api, st, handoff, reply);
        goto out;
    }
    if (!name || !*name || !usable_name(name)) {
        reply_error(reply, 400, "badRequest", "name: a display name of 1 to 64 bytes is needed");
        goto out;
    }
    r = call_id && *call_id ? store_match_call_id(st, call_id, &e) : -ENOENT;
    if (r == -ENOENT || (r == 0 && !admitted(&e, secret, passcode)))
        r = call_id && *call_id ? access_method_entry(st, call_id, secret, passcode, &e) : r;
    if (r == 0)
        r = allowed_here(st, &e, secret, passcode);
    if (r == -ENOENT || r == -EACCES || (r == 0 && !admitted(&e, secret, passcode)))
        forbidden(api->guests, reply);
    else if (r < 0)
        unavailable(reply);
    else
        join_admitted(api, st, &e, name, NULL, true, reply);
out:
    json_decref(j);
}

/* ---- a joined guest's requests ------------------------------------------------------------
 */

/* The leg of the live session named by token (leg[37]), or 410 noSession. */
static void no_session(struct api_reply *reply)
{
    reply_error(reply, 410, "noSession", "This session is over; join again.");
}

static bool session_leg(const struct api *api, const char *token, char *leg,
                        struct api_reply *reply)
{
    struct guest *s;
    bool live;

    pthread_mutex_lock(&api->guests->lock);
    s = by_token(api->guests, token);
    live = s && !s->ended; /* read under the lock: the reaper may free an ended session */
    if (live)
        memcpy(leg, s->leg, STORE_ID_LEN + 1);
    pthread_mutex_unlock(&api->guests->lock);
    if (!live)
        no_session(reply);
    return live;
}

static void events(const struct api *api, const struct api_request *req, struct api_reply *reply)
{
    const char *token = api_params_get(req->query, "session");
    const char *after_text = api_params_get(req->query, "after");
    uint64_t after = after_text ? strtoull(after_text, NULL, 10) : 0;
    struct api_guests *g = api->guests;
    struct guest *s;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    pthread_mutex_lock(&g->lock);
    s = by_token(g, token);
    if (!s || (s->ended && after + 1 >= s->next_seq)) {
        pthread_mutex_unlock(&g->lock);
        no_session(reply);
        return;
    }
    if (after + 1 >= s->next_seq && req->may_wait) { /* nothing new: wait for it */
        s->wait_after = after;
        snprintf(reply->wait_id, sizeof(reply->wait_id), "%s%s", API_GUEST_WAIT_PREFIX, s->token);
        reply->wait_until_us = api_now_us() + POLL_WAIT_US;
        pthread_mutex_unlock(&g->lock);
        return;
    }
    f = open_memstream(&text, &len);
    if (f) {
        bool first = true;

        fputs("{\"events\":[", f);
        for (size_t i = 0; i < s->nev; i++) {
            if (s->first_seq + i <= after)
                continue;
            fprintf(f, "%s%s", first ? "" : ",", s->events[i]);
            first = false;
        }
        fputs("]}", f);
        fclose(f);
    }
    pthread_mutex_unlock(&g->lock);
    reply_text(reply, 200, f ? text : NULL);
}

int api_guest_wait(const struct api *api, const char *wait_id, int64_t until_us,
                   void (*resume)(void *ctx), void *ctx)
{
    struct api_guests *g = api->guests;
    struct guest *s;
    int r = 0;

    pthread_mutex_lock(&g->lock);
    s = by_token(g, wait_id + strlen(API_GUEST_WAIT_PREFIX));
    if (!s || s->ended || g->stopping || s->wait_after + 1 < s->next_seq) {
        r = -EAGAIN; /* something came in between: answer now */
    } else {
        if (s->nw == WAITERS_MAX) { /* a page polls once at a time: the oldest goes first */
            s->w[0].resume(s->w[0].ctx);
            memmove(s->w, s->w + 1, (WAITERS_MAX - 1) * sizeof(s->w[0]));
            s->nw--;
        }
        s->w[s->nw++] = (struct guest_waiter){resume, ctx, until_us};
    }
    pthread_mutex_unlock(&g->lock);
    return r;
}

/* The body of a joined guest's request: a JSON object whose "session" names a live session,
 * whose leg is copied into leg[37]. NULL (with the reply filled) otherwise. */
static json_t *session_body(const struct api *api, const struct api_request *req, char *leg,
                            struct api_reply *reply)
{
    json_t *j = body_object(req, reply);
    const char *token;

    if (j && member(j, "session", TOKEN_LEN, &token, reply) == 0 &&
        session_leg(api, token, leg, reply))
        return j;
    json_decref(j);
    return NULL;
}

/* What the media thread's parser said of an answer or a candidate. */
static void reply_parsed(struct api_reply *reply, int r, const char *bad, const char *err)
{
    if (r == -EINVAL || r == -E2BIG)
        reply_error(reply, 400, bad, err[0] ? err : "too large");
    else if (r < 0)
        reply_error(reply, 503, "unavailable", "out of memory");
    else
        reply_json(reply, 200, json_object());
}

static void answer(const struct api *api, const struct api_request *req, struct api_reply *reply)
{
    char leg[STORE_ID_LEN + 1], err[200] = "";
    json_t *j = session_body(api, req, leg, reply);
    const char *sdp;

    if (!j || member(j, "sdp", API_MAX_BODY, &sdp, reply) < 0)
        goto out;
    if (!sdp)
        reply_error(reply, 400, "badSdp", "sdp: missing");
    else
        reply_parsed(reply, media_rtc_answer(api->media, leg, sdp, strlen(sdp), err, sizeof(err)),
                     "badSdp", err);
out:
    json_decref(j);
}

/* The browser's icecandidateerror (its TURN server answered an error, or nothing), as a note
 * for the leg's reason should ICE fail: what TAC's "ICE failure 4 (unauthorized - check
 * credentials)" is on a CMS. */
static void candidate_error(const struct api *api, const char *leg, json_t *e)
{
    json_int_t code = json_integer_value(json_object_get(e, "code"));
    const char *url = json_string_value(json_object_get(e, "url"));
    char note[120];
    const char *what = code == 401   ? " (unauthorized - check credentials)"
                       : code == 701 ? " (no answer: is its clientAddress reachable?)"
                       : code == 403 ? " (forbidden)"
                                     : "";

    if (!json_is_integer(json_object_get(e, "code")) || code < 300 || code > 799)
        return;
    snprintf(note, sizeof(note), "the browser's TURN server%s%.50s answered %d%s", url ? " " : "",
             url ? url : "", (int)code, what);
    for (char *p = note; *p; p++) /* the URL is the browser's word: no control characters */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    (void)media_rtc_note(api->media, leg, note);
}

static void candidate(const struct api *api, const struct api_request *req, struct api_reply *reply)
{
    char leg[STORE_ID_LEN + 1], err[200] = "";
    json_t *j = session_body(api, req, leg, reply);
    const char *cand;

    if (!j || member(j, "candidate", 1024, &cand, reply) < 0)
        goto out;
    if (json_is_object(json_object_get(j, "error"))) {
        candidate_error(api, leg, json_object_get(j, "error"));
        reply_json(reply, 200, json_object());
    } else {
        reply_parsed(reply,
                     media_rtc_candidate(api->media, leg, cand ? cand : "", cand ? strlen(cand) : 0,
                                         err, sizeof(err)),
                     "badCandidate", err);
    }
out:
    json_decref(j);
}

/* The boolean member key of j into *ret (1, 0, or -1 when absent), or -EINVAL with a 400. */
static int flag(json_t *j, const char *key, int *ret, struct api_reply *reply)
{
    json_t *v = json_object_get(j, key);
    char msg[80];

    *ret = -1;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_boolean(v)) {
        *ret = json_is_true(v);
        return 0;
    }
    snprintf(msg, sizeof(msg), "%s: true or false is needed", key);
    reply_error(reply, 400, "badRequest", msg);
    return -EINVAL;
}

static bool too_fast(struct api_guests *g, const char *leg, struct api_reply *reply)
{
    int64_t now = api_now_us();
    struct guest *s;
    bool fast = false;

    pthread_mutex_lock(&g->lock);
    s = by_leg(g, leg);
    if (s) {
        fast = s->muted_us && now - s->muted_us < MUTE_MIN_INTERVAL_US;
        if (!fast)
            s->muted_us = now;
    }
    pthread_mutex_unlock(&g->lock);
    if (fast)
        reply_error(reply, 429, "tooFast", "One mute at a time, please.");
    return fast;
}

/* The page's own mute buttons: {session, audio: bool, video: bool}, either or both. The leg's
 * profile (muteSelfAllowed, videoMuteSelfAllowed) or its call (allowAllMuteSelf) must allow
 * it: 403 muteSelfNotAllowed otherwise, and nothing changes. */
static void mute_self(const struct api *api, const struct api_request *req, struct api_reply *reply)
{
    char leg[STORE_ID_LEN + 1];
    json_t *j = session_body(api, req, leg, reply);
    int audio, video, r;

    if (!j || flag(j, "audio", &audio, reply) < 0 || flag(j, "video", &video, reply) < 0 ||
        too_fast(api->guests, leg, reply))
        goto out;
    r = api_control_self_mute(api, leg, audio, video);
    if (r == -EACCES)
        reply_error(reply, 403, "muteSelfNotAllowed",
                    "The meeting does not let you mute or unmute yourself.");
    else if (r == -ENOENT)
        no_session(reply);
    else
        reply_json(reply, 200, json_object());
out:
    json_decref(j);
}

static void leave(const struct api *api, struct store *st, const struct api_request *req,
                  struct api_reply *reply)
{
    char leg[STORE_ID_LEN + 1], chain[STORE_ID_LEN + 1];
    struct guest *s;
    json_t *j = session_body(api, req, leg, reply);

    if (!j)
        return;
    chain[0] = '\0';
    pthread_mutex_lock(&api->guests->lock);
    s = by_leg(api->guests, leg);
    if (s)
        memcpy(chain, s->chain, sizeof(chain));
    if (s)
        end_session(api->guests, s, "left", "You left the meeting.", false);
    pthread_mutex_unlock(&api->guests->lock);
    (void)api_calls_remove_leg(api, leg);
    if (chain[0] && store_rejoin_revoke(st, chain) < 0) /* gone: no way back without asking */
        api_log(BASE_LOG_WARN,
                "guest: callLeg %s left, but its rejoin credential could not "
                "be revoked; it expires in time",
                leg);
    api_log(BASE_LOG_INFO, "guest left: callLeg %s", leg);
    reply_json(reply, 200, json_object());
    json_decref(j);
}

/* Revokes the rejoin credentials of guests the administrator removed (api_guest_leg_ended
 * queues them), first thing in each guest request: a removed guest's page polls at once, and
 * its rejoin, here or at another node that sends it here, comes after. */
static void revoke_removed(struct api_guests *g, struct store *st)
{
    char chain[STORE_ID_LEN + 1];

    for (;;) {
        pthread_mutex_lock(&g->lock);
        if (g->nrevoke == 0) {
            pthread_mutex_unlock(&g->lock);
            return;
        }
        memcpy(chain, g->revoke[--g->nrevoke], sizeof(chain));
        pthread_mutex_unlock(&g->lock);
        if (store_rejoin_revoke(st, chain) < 0) { /* the next request tries again */
            pthread_mutex_lock(&g->lock);
            if (g->nrevoke < REVOKE_MAX)
                memcpy(g->revoke[g->nrevoke++], chain, sizeof(chain));
            pthread_mutex_unlock(&g->lock);
            return;
        }
    }
}

void api_res_guest(const struct api *api, struct store *st, const struct api_request *req,
                   struct api_reply *reply)
{
    static const char prefix[] = "/meeting/api/";
    const char *verb =
        strncmp(req->path, prefix, sizeof(prefix) - 1) == 0 ? req->path + sizeof(prefix) - 1 : "";
    bool post = req->method == API_POST, get = req->method == API_GET;

    if (api->guests)
        revoke_removed(api->guests, st);
    if (!api->guests || !api->media) {
        reply_error(reply, 503, "unavailable", "Guests cannot join on this server.");
    } else if (post && strcmp(verb, "join") == 0) {
        join(api, st, req, reply);
    } else if (get && strcmp(verb, "events") == 0) {
        events(api, req, reply);
    } else if (post && strcmp(verb, "answer") == 0) {
        answer(api, req, reply);
    } else if (post && strcmp(verb, "candidate") == 0) {
        candidate(api, req, reply);
    } else if (post && strcmp(verb, "mute") == 0) {
        mute_self(api, req, reply);
    } else if (post && strcmp(verb, "leave") == 0) {
        leave(api, st, req, reply);
    } else {
        reply_error(reply, 404, "notFound", "No such request in the guest interface.");
    }
}

/* ---- from the media thread and the administrator -------------------------------------------
 */

void api_guest_signal(void *userdata, const char *leg_id, enum media_rtc_signal kind,
                      const char *text, bool reconnect)
{
    const struct api *api = userdata;
    struct api_guests *g = api->guests;
    struct guest *s;
    bool ended = false;

    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    s = by_leg(g, leg_id);
    if (s && !s->ended && kind == MEDIA_RTC_OFFER) {
        push(s, json_pack("{s:s, s:s}", "type", "offer", "sdp", text));
    } else if (s && !s->ended) {
        end_session(g, s, strncmp(text, "left", 4) == 0 ? "left" : "failed", text, reconnect);
        ended = true;
    }
    pthread_mutex_unlock(&g->lock);
    if (ended) /* outside this lock: the registry's comes first (see DESIGN above) */
        (void)api_calls_remove_leg(api, leg_id);
}

void api_guest_leg_ended(void *userdata, const char *leg_id, const char *why)
{
    const struct api *api = userdata;
    struct api_guests *g = api->guests;
    struct guest *s;

    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    s = by_leg(g, leg_id);
    if (s && s->chain[0] && g->nrevoke < REVOKE_MAX) /* removed: it does not come back unasked */
        memcpy(g->revoke[g->nrevoke++], s->chain, STORE_ID_LEN + 1);
    else if (s && s->chain[0])
        api_log(BASE_LOG_WARN,
                "guest: callLeg %s removed, but %d revocations wait already: "
                "its rejoin credential stays valid until it expires",
                leg_id, REVOKE_MAX);
    if (s && strcmp(why, "deactivationMode") == 0) /* api/res/lobby.c: disconnect */
        end_session(g, s, "dropped", "The meeting's host left, and the meeting ended for you.",
                    false);
    else if (s && strcmp(why, API_CALLS_LOST) == 0) /* fenced: api_calls_end_lost */
        end_session(g, s, "failed", "This call bridge lost the meeting; join it again.", false);
    else if (s)
        end_session(g, s, why, "You were removed from the meeting by its administrator.", false);
    pthread_mutex_unlock(&g->lock);
}

/* What the page is told of itself: whether it waits in the lobby, what it may mute itself,
 * whether it shows the others' names, and its mutes. */
static void push_self(struct guest *s)
{
    push(s, json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:b}", "type", "self", "lobby", s->lobby,
                      "muteSelfAllowed", s->mute_self, "videoMuteSelfAllowed", s->video_mute_self,
                      "participantLabels", s->labels, "audioMuted",
                      (s->mute & MEDIA_MUTE_RX_AUDIO) != 0, "videoMuted",
                      (s->mute & MEDIA_MUTE_RX_VIDEO) != 0));
}

void api_guest_leg_control(void *userdata, const char *leg_id, const struct api_guest_view *view)
{
    const struct api *api = userdata;
    struct api_guests *g = api->guests;
    struct guest *s;

    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    s = by_leg(g, leg_id);
    if (s && !s->ended) {
        bool roster =
            strcmp(s->label, view->label) != 0 || s->mute != view->mute || s->lobby != view->lobby;
        bool self = roster || !s->told || s->mute_self != view->mute_self ||
                    s->video_mute_self != view->video_mute_self || s->labels != view->labels;

        snprintf(s->label, sizeof(s->label), "%s", view->label);
        s->mute = view->mute;
        s->lobby = view->lobby;
        s->mute_self = view->mute_self;
        s->video_mute_self = view->video_mute_self;
        s->labels = view->labels;
        s->told = true;
        if (self)
            push_self(s);
        if (roster)
            push_rosters(g, s->call);
    }
    pthread_mutex_unlock(&g->lock);
}

void api_guest_message(void *userdata, const char *call, const char *leg, const char *text,
                       const char *position, const char *duration)
{
    const struct api *api = userdata;
    struct api_guests *g = api->guests;

    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    for (struct guest *s = g->list; s; s = s->next)
        if (!s->ended && strcmp(s->call, call) == 0 && (!leg || strcmp(s->leg, leg) == 0))
            push(s, json_pack("{s:s, s:s, s:s, s:s}", "type", "message", "text", text, "position",
                              *position ? position : "middle", "duration", duration));
    pthread_mutex_unlock(&g->lock);
}
