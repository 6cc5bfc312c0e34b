/* api/res/diag.c: call diagnostics (apiary "Generating diagnostics for an individual call",
 * "System Diagnostics Methods").
 *
 * DESIGN: POST /calls/<id>/diagnostics starts a collection for that call: for durationSeconds
 * (the apiary names no period; 60 s by default, at most 600) a thread of this file looks at the
 * call every second and writes what changed: legs that joined or left, each leg's state and its
 * reason, the TURN server it is anchored on and its relayed address, the selected ICE pair, the
 * allocations made for it (more than one after a failover), and every API_DIAG_COUNTERS_EVERY
 * seconds (and at the end) its counters: per datagram class (RTP, RTCP, DTLS, STUN) packets and
 * bytes received, forwarded and dropped, the RTP stream's packets, loss, jitter and bit rate, a
 * WebRTC leg's four streams likewise. Beside those, the log tap keeps every log line (any level,
 * before the rate limiter) that names the call or one of its legs: ICE, DTLS and SRTP events are
 * logged by the media thread with the leg's id. A collection ends when its period is over or its
 * call ends. Memory is bounded: API_DIAG_MAX collections of API_DIAG_BYTES each at most; a new
 * one replaces the oldest, finished or not, and a full one says so in its last line.
 * Locks: the collections' lock is taken by the log tap, which may run with the registry's lock
 * held (a line logged under it), so this file never takes the registry's lock, nor logs, with
 * the collections' lock held. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/form.h"
#include "api/log.h"
#include "api/reply.h"
#include "api/res/control.h"
#include "api/res/diag.h"
#include "api/res/parse.h"
#include "api/res/registry.h"
#include "api/res/system.h"
#include "api/util.h"
#include "api/xml.h"
#include "media/media.h"

#define RING_LINES 512 /* the recent log lines kept for collections that start or find a leg */
#define RING_LINE 512  /* bytes of one, at most */

static const char truncated_line[] = "[the rest was left out: the collection holds at most 64 KiB]";

int api_diag_text_append(struct api_diag_text *t, const char *s, size_t len)
{
    size_t room = API_DIAG_BYTES - sizeof(truncated_line) - 1, want;

    if (t->truncated)
        return -E2BIG;
    if (t->len + len + 1 > room) {
        s = truncated_line;
        len = sizeof(truncated_line) - 1;
        t->truncated = true;
    }
    want = t->len + len + 2;
    if (want > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        char *b;

        while (cap < want)
            cap *= 2;
        cap = cap > API_DIAG_BYTES ? API_DIAG_BYTES : cap;
        if (!(b = realloc(t->buf, cap)))
            return -ENOMEM;
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, len);
    t->len += len;
    t->buf[t->len++] = '\n';
    t->buf[t->len] = '\0';
    return t->truncated ? -E2BIG : 0;
}

void api_diag_text_done(struct api_diag_text *t)
{
    free(t->buf);
    memset(t, 0, sizeof(*t));
}

/* What the last look saw of a leg. */
struct seen_leg {
    char id[STORE_ID_LEN + 1], party[64];
    int state; /* enum media_leg_state, or -1: not yet seen */
    char turn[40], relayed[64], pair[140], reason[160];
    unsigned anchors;
};

struct diag {
    bool used, collecting;
    uint64_t gen, seq;  /* gen: bumped on every reuse of the slot; seq: creation order */
    uint64_t from_line; /* the last ring line when it started */
    char id[STORE_ID_LEN + 1], call[STORE_ID_LEN + 1], cospace[STORE_ID_LEN + 1];
    char correlator[STORE_ID_LEN + 1], label[STORE_TEXT_MAX + 1], ended[64];
    time_t created, until; /* wall clock */
    int64_t end_us;        /* monotonic */
    unsigned ticks;
    struct seen_leg legs[MEDIA_MAX_LEGS_PER_CALL];
    size_t nlegs;
    struct api_diag_text text;
};

struct ring_line {
    uint64_t seq; /* 0: empty */
    size_t len;
    char text[RING_LINE];
};

struct api_diags {
    pthread_mutex_t lock;
    struct ring_line ring[RING_LINES];
    uint64_t ring_seq;
    pthread_cond_t wake;
    pthread_t thread;
    bool stopping;
    const struct api *api;
    struct diag v[API_DIAG_MAX];
    uint64_t seq, gen;
};

/* "HH:MM:SS.mmmZ " of now into out[15] (STAMP_LEN characters and the NUL). */
#define STAMP_LEN 14
static void stamp(char *out)
{
    struct timespec ts;
    struct tm tm;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    (void)gmtime_r(&ts.tv_sec, &tm);
    (void)strftime(out, 10, "%H:%M:%S", &tm);
    out[8] = '.';
    out[9] = (char)('0' + ts.tv_nsec / 100000000 % 10);
    out[10] = (char)('0' + ts.tv_nsec / 10000000 % 10);
    out[11] = (char)('0' + ts.tv_nsec / 1000000 % 10);
    out[12] = 'Z';
    out[13] = ' ';
    out[14] = '\0';
}

static void iso(time_t t, char *out)
{
    struct tm tm;

    (void)gmtime_r(&t, &tm);
    (void)strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A line with the time into s (the look's scratch text). */
__attribute__((format(printf, 2, 3))) static void say(struct api_diag_text *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    stamp(line);
    va_start(ap, fmt);
    n = vsnprintf(line + STAMP_LEN, sizeof(line) - STAMP_LEN, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    n += STAMP_LEN;
    (void)api_diag_text_append(s, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* ---- the log tap ---------------------------------------------------------------------------- */

static bool names_call(const struct diag *g, const char *line)
{
    if (strstr(line, g->call))
        return true;
    for (size_t i = 0; i < g->nlegs; i++)
        if (strstr(line, g->legs[i].id))
            return true;
    return false;
}

/* Keeps line (without its date) in the ring and in every collection whose call or legs it
 * names. */
static void tap(void *userdata, const char *line, size_t len)
{
    struct api_diags *d = userdata;
    const char *t = strchr(line, 'T');
    struct ring_line *r;

    if (t && (size_t)(t - line) < len) { /* "2026-12-01T10:00:00.000Z": the date goes */
        len -= (size_t)(t + 1 - line);
        line = t + 1;
    }
    pthread_mutex_lock(&d->lock);
    r = &d->ring[++d->ring_seq % RING_LINES];
    r->seq = d->ring_seq;
    r->len = len < RING_LINE ? len : RING_LINE - 1;
    memcpy(r->text, line, r->len);
    r->text[r->len] = '\0';
    for (size_t i = 0; i < API_DIAG_MAX; i++)
        if (d->v[i].used && d->v[i].collecting && names_call(&d->v[i], r->text))
            (void)api_diag_text_append(&d->v[i].text, line, len);
    pthread_mutex_unlock(&d->lock);
}

/* Copies into g the ring's lines after line 'after' that name leg but not g's call (those it
 * has), or with leg NULL those that name g's call or any of its legs; oldest first. Lock held. */
static void pull_locked(struct api_diags *d, struct diag *g, uint64_t after, const char *leg)
{
    uint64_t first = d->ring_seq > RING_LINES ? d->ring_seq - RING_LINES + 1 : 1;

    for (uint64_t q = first > after + 1 ? first : after + 1; q <= d->ring_seq; q++) {
        const struct ring_line *r = &d->ring[q % RING_LINES];
        bool take =
            leg ? strstr(r->text, leg) && !strstr(r->text, g->call) : names_call(g, r->text);

        if (r->seq == q && take)
            (void)api_diag_text_append(&g->text, r->text, r->len);
    }
}

/* ---- the looks ------------------------------------------------------------------------------ */

/* A leg of the call as the registry has it. */
struct reg_leg {
    char id[STORE_ID_LEN + 1], party[64];
    bool media, webrtc, dial_failed;
};

/* The call's legs (at most MEDIA_MAX_LEGS_PER_CALL); false when the call is gone. */
static bool registry_legs(const struct api *api, const char *call, struct reg_leg *v, size_t *n)
{
    struct api_calls *c = api->calls;
    bool found;

    *n = 0;
    pthread_mutex_lock(&c->lock);
    found = api_calls_find_call(c, call) != NULL;
    for (size_t i = 0; found && i < c->nlegs && *n < MEDIA_MAX_LEGS_PER_CALL; i++) {
        const struct api_leg *l = &c->legs[i];

        if (strcmp(l->call, call) != 0)
            continue;
        memcpy(v[*n].id, l->id, sizeof(v[*n].id));
        snprintf(v[*n].party, sizeof(v[*n].party), "%.63s", l->remote_party);
        v[*n].media = l->has_media;
        v[*n].webrtc = l->webrtc;
        v[*n].dial_failed = l->dial_failed;
        (*n)++;
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

static const char *state_name(int state)
{
    static const char *const names[] = {"connecting", "connected", "failed"};

    return state >= 0 && state < 3 ? names[state] : "unknown";
}

static void write_counters(struct api_diag_text *s, const struct seen_leg *l,
                           const struct media_leg_status *m)
{
    static const char *const streams[] = {"rxAudio", "rxVideo", "txAudio", "txVideo"};

    for (int c = 0; c < MEDIA__CLASSES; c++) {
        const struct media_counters *k = &m->cls[c];

        if (k->rx_packets || k->fwd_packets || k->dropped)
            say(s,
                "callLeg %s: %s packetsReceived %llu bytesReceived %llu packetsForwarded %llu "
                "bytesForwarded %llu packetsDropped %llu",
                l->id, media_class_name((enum media_class)c), (unsigned long long)k->rx_packets,
                (unsigned long long)k->rx_bytes, (unsigned long long)k->fwd_packets,
                (unsigned long long)k->fwd_bytes, (unsigned long long)k->dropped);
    }
    if (m->rx_rtp.seen)
        say(s,
            "callLeg %s: rxRtp ssrc %u payloadType %u packetsReceived %llu packetsLost %llu "
            "packetLossPercentage %.1f jitter %s%.0f bitRate %llu",
            l->id, m->rx_rtp.ssrc, m->rx_rtp.payload_type, (unsigned long long)m->rx_rtp.received,
            (unsigned long long)m->rx_rtp.lost, m->rx_rtp.loss_percent,
            m->rx_rtp.has_jitter ? "" : "(unknown clock) ", m->rx_rtp.jitter_ms,
            (unsigned long long)m->rx_rtp.bit_rate);
    for (int i = 0; i < MEDIA__STREAMS; i++) {
        const struct media_stream_status *t = &m->streams[i];

        if (t->active)
            say(s,
                "callLeg %s: %s codec %s packets %llu packetsLost %llu packetLossPercentage %.1f "
                "jitter %.0f bitRate %llu",
                l->id, streams[i], t->codec, (unsigned long long)t->packets,
                (unsigned long long)t->lost, t->loss_percent, t->jitter_ms,
                (unsigned long long)t->bit_rate);
    }
    if (m->strangers || m->malformed)
        say(s, "callLeg %s: packetsFromStrangers %llu malformedDatagrams %llu", l->id,
            (unsigned long long)m->strangers, (unsigned long long)m->malformed);
}

/* What changed on leg l since the last look (m: its media status, NULL without media). */
static void write_changes(struct api_diag_text *s, struct seen_leg *l, const struct reg_leg *r,
                          const struct media_leg_status *m)
{
    /* a leg with media whose status the media thread has not given yet is still connecting,
     * as GET /callLegs shows it */
    int state = m                ? (int)m->state
                : r->media       ? MEDIA_LEG_CONNECTING
                : r->dial_failed ? MEDIA_LEG_FAILED
                                 : MEDIA_LEG_CONNECTED;
    char relayed[64] = "", pair[140] = "";
    bool changed = l->state != state;

    if (changed) {
        say(s, "callLeg %s (%s): state %s%s%s", l->id, l->party, state_name(state),
            m && m->reason[0] ? ": "
            : r->dial_failed  ? ": "
                              : "",
            m                ? m->reason
            : r->dial_failed ? "noSipDialOut"
                             : "");
        l->state = state;
    }
    if (!m)
        return;
    if (m->relayed[0])
        snprintf(relayed, sizeof(relayed), "%s:%u", m->relayed, (unsigned)m->relayed_port);
    if (strcmp(m->turn_server, l->turn) != 0 || strcmp(relayed, l->relayed) != 0) {
        say(s, "callLeg %s: turnServer %s, relayed address %s", l->id,
            m->turn_server[0] ? m->turn_server : "(none)", relayed[0] ? relayed : "(none)");
        snprintf(l->turn, sizeof(l->turn), "%s", m->turn_server);
        snprintf(l->relayed, sizeof(l->relayed), "%s", relayed);
    }
    if (m->local_candidate[0] || m->remote_candidate[0])
        snprintf(pair, sizeof(pair), "%s <-> %s", m->local_candidate, m->remote_candidate);
    if (strcmp(pair, l->pair) != 0) {
        say(s, "callLeg %s: ICE selected pair %s", l->id, pair[0] ? pair : "(none)");
        snprintf(l->pair, sizeof(l->pair), "%s", pair);
    }
    if (strcmp(m->reason, l->reason) != 0 && m->reason[0] && !changed)
        say(s, "callLeg %s: %s", l->id, m->reason);
    snprintf(l->reason, sizeof(l->reason), "%s", m->reason);
    if (m->anchors > l->anchors && l->anchors)
        say(s, "callLeg %s: allocation %u made (a TURN failover)", l->id, m->anchors);
    l->anchors = m->anchors;
}

/* One look at g's call (a copy of the slot: it runs without the collections' lock); what it
 * saw goes into s and g's legs. Returns false when the call is gone. */
static bool look(const struct api *api, struct diag *g, struct api_diag_text *s, bool last)
{
    struct reg_leg reg[MEDIA_MAX_LEGS_PER_CALL];
    struct seen_leg next[MEDIA_MAX_LEGS_PER_CALL];
    size_t n, nnext = 0;
    bool counters = last || g->ticks % API_DIAG_COUNTERS_EVERY == 0;

    if (!registry_legs(api, g->call, reg, &n))
        return false;
    for (size_t i = 0; i < n; i++) {
        struct seen_leg *l = &next[nnext++];
        struct media_leg_status m;
        bool has_m = reg[i].media && api->media && media_leg_get(api->media, reg[i].id, &m) == 0;
        size_t j;

        for (j = 0; j < g->nlegs && strcmp(g->legs[j].id, reg[i].id) != 0; j++)
            ;
        if (j < g->nlegs) {
            *l = g->legs[j];
        } else {
            memset(l, 0, sizeof(*l));
            l->state = -1;
            memcpy(l->id, reg[i].id, sizeof(l->id));
            snprintf(l->party, sizeof(l->party), "%s", reg[i].party);
            say(s, "callLeg %s (%s) is in the call: %s", l->id, l->party,
                reg[i].webrtc  ? "a web app guest (WebRTC)"
                : reg[i].media ? "an RTP endpoint"
                               : "no media");
        }
        write_changes(s, l, &reg[i], has_m ? &m : NULL);
        if (has_m && counters)
            write_counters(s, l, &m);
    }
    for (size_t j = 0; j < g->nlegs; j++) {
        bool still = false;

        for (size_t i = 0; i < nnext && !still; i++)
            still = strcmp(next[i].id, g->legs[j].id) == 0;
        if (!still)
            say(s, "callLeg %s (%s) left the call", g->legs[j].id, g->legs[j].party);
    }
    memcpy(g->legs, next, nnext * sizeof(*next));
    g->nlegs = nnext;
    return true;
}

/* Ends slot g (lock held): its last line, and the tap is wanted one collection less. */
static void finish_locked(struct diag *g, const char *why)
{
    char line[128];

    if (!g->collecting)
        return;
    stamp(line);
    snprintf(line + STAMP_LEN, sizeof(line) - STAMP_LEN, "collection ended: %s", why);
    (void)api_diag_text_append(&g->text, line, strlen(line));
    snprintf(g->ended, sizeof(g->ended), "%s", why);
    g->collecting = false;
    api_log_tap_want(false);
}

/* The log lines since g started of its legs that the look found (after the first known). */
static void pull_new_legs_locked(struct api_diags *d, struct diag *g, size_t known,
                                 const char (*before)[STORE_ID_LEN + 1])
{
    for (size_t i = 0; i < g->nlegs; i++) {
        bool seen = false;

        for (size_t j = 0; j < known && !seen; j++)
            seen = strcmp(before[j], g->legs[i].id) == 0;
        if (!seen)
            pull_locked(d, g, g->from_line, g->legs[i].id);
    }
}

/* One tick: every collection still running is looked at. */
static void tick(struct api_diags *d, struct diag *copy, struct api_diag_text *s)
{
    char before[MEDIA_MAX_LEGS_PER_CALL][STORE_ID_LEN + 1];

    for (size_t i = 0; i < API_DIAG_MAX; i++) {
        bool alive, last;
        uint64_t gen;
        size_t known;

        pthread_mutex_lock(&d->lock);
        if (!d->v[i].used || !d->v[i].collecting) {
            pthread_mutex_unlock(&d->lock);
            continue;
        }
        *copy = d->v[i];
        copy->text = (struct api_diag_text){0};
        gen = copy->gen;
        pthread_mutex_unlock(&d->lock);
        for (size_t j = 0; j < copy->nlegs; j++)
            memcpy(before[j], copy->legs[j].id, sizeof(before[j]));
        known = copy->nlegs;

        last = api_now_us() >= copy->end_us;
        alive = look(d->api, copy, s, last);

        pthread_mutex_lock(&d->lock);
        if (d->v[i].used && d->v[i].gen == gen && d->v[i].collecting) {
            struct diag *g = &d->v[i];

            if (s->len)
                (void)api_diag_text_append(&g->text, s->buf, s->len - 1);
            memcpy(g->legs, copy->legs, copy->nlegs * sizeof(*copy->legs));
            g->nlegs = copy->nlegs;
            pull_new_legs_locked(d, g, known, before);
            g->ticks++;
            if (!alive)
                finish_locked(g, "the call ended");
            else if (last)
                finish_locked(g, "its period is over");
        }
        pthread_mutex_unlock(&d->lock);
        s->len = 0;
        s->truncated = false;
        if (s->buf)
            s->buf[0] = '\0';
    }
}

static void *run(void *arg)
{
    struct api_diags *d = arg;
    struct diag *copy = malloc(sizeof(*copy));
    struct api_diag_text s = {0};

    pthread_mutex_lock(&d->lock);
    while (copy && !d->stopping) {
        struct timespec until;
        int64_t at;

        pthread_mutex_unlock(&d->lock);
        tick(d, copy, &s);
        clock_gettime(CLOCK_MONOTONIC, &until);
        at = (int64_t)until.tv_sec * 1000000 + until.tv_nsec / 1000 + API_DIAG_TICK_US;
        until = (struct timespec){.tv_sec = at / 1000000, .tv_nsec = (at % 1000000) * 1000};
        pthread_mutex_lock(&d->lock);
        while (!d->stopping && pthread_cond_timedwait(&d->wake, &d->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&d->lock);
    free(copy);
    api_diag_text_done(&s);
    return NULL;
}

int api_diags_start(const struct api *api, struct api_diags **ret)
{
    struct api_diags *d = calloc(1, sizeof(*d));
    pthread_condattr_t attr;
    int r;

    if (!d)
        return -ENOMEM;
    d->api = api;
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&d->wake, &attr);
    pthread_condattr_destroy(&attr);
    r = -pthread_create(&d->thread, NULL, run, d);
    if (r < 0) {
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->lock);
        free(d);
        return r;
    }
    api_log_set_tap(tap, d);
    *ret = d;
    return 0;
}

void api_diags_stop(struct api_diags *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    if (d->stopping) {
        pthread_mutex_unlock(&d->lock);
        return;
    }
    d->stopping = true;
    pthread_cond_signal(&d->wake);
    for (size_t i = 0; i < API_DIAG_MAX; i++)
        if (d->v[i].used)
            finish_locked(&d->v[i], "callbridged stopped");
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
}

void api_diags_free(struct api_diags *d)
{
    if (!d)
        return;
    api_diags_stop(d);
    api_log_set_tap(NULL, NULL);
    for (size_t i = 0; i < API_DIAG_MAX; i++)
        api_diag_text_done(&d->v[i].text);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* ---- starting one --------------------------------------------------------------------------- */

/* The free slot, else the oldest (lock held); it is emptied. */
static struct diag *take_slot_locked(struct api_diags *d)
{
    struct diag *g = &d->v[0];

    for (size_t i = 0; i < API_DIAG_MAX && g->used; i++)
        if (!d->v[i].used || d->v[i].seq < g->seq)
            g = &d->v[i];
    if (g->used)
        finish_locked(g, "replaced");
    api_diag_text_done(&g->text);
    memset(g, 0, sizeof(*g));
    return g;
}

int api_diag_collect(const struct api *api, const char *call_id, int64_t seconds, char *ret_id)
{
    struct api_diags *d = api->diags;
    struct diag *g, head = {0};
    char line[STORE_TEXT_MAX + 160];
    struct api_call *call;
    int r;

    if (!d || !api->calls)
        return -ENOTSUP;
    pthread_mutex_lock(&api->calls->lock);
    call = api_calls_find_call(api->calls, call_id);
    if (call) {
        memcpy(head.call, call->id, sizeof(head.call));
        memcpy(head.cospace, call->cospace, sizeof(head.cospace));
        snprintf(head.correlator, sizeof(head.correlator), "%s", api_control_correlator(call));
        snprintf(head.label, sizeof(head.label), "%s", call->name);
        for (size_t i = 0; i < api->calls->nlegs && head.nlegs < MEDIA_MAX_LEGS_PER_CALL; i++)
            if (strcmp(api->calls->legs[i].call, call_id) == 0)
                memcpy(head.legs[head.nlegs++].id, api->calls->legs[i].id, STORE_ID_LEN + 1);
    }
    pthread_mutex_unlock(&api->calls->lock);
    if (!call)
        return -ENOENT;
    if ((r = api_uuid_new(head.id)) < 0)
        return r;
    head.used = head.collecting = true;
    head.created = time(NULL);
    head.until = head.created + seconds;
    head.end_us = api_now_us() + seconds * 1000000;

    pthread_mutex_lock(&d->lock);
    g = take_slot_locked(d);
    *g = head;
    g->seq = ++d->seq;
    g->gen = ++d->gen;
    pull_locked(d, g, 0, NULL); /* the recent log lines of the call and its legs */
    g->nlegs = 0;               /* the first look finds them */
    g->from_line = d->ring_seq;
    stamp(line);
    snprintf(line + STAMP_LEN, sizeof(line) - STAMP_LEN,
             "collection started for call %s of coSpace %s (%s)", head.call, head.cospace,
             head.label);
    r = api_diag_text_append(&g->text, line, strlen(line));
    if (r == -ENOMEM)
        g->used = false;
    else
        api_log_tap_want(true);
    pthread_cond_signal(&d->wake); /* the first look now */
    pthread_mutex_unlock(&d->lock);
    if (r == -ENOMEM)
        return r;
    memcpy(ret_id, head.id, STORE_ID_LEN + 1);
    api_log(BASE_LOG_INFO, "diagnostics %s: collecting for call %s for %lld s", head.id, head.call,
            (long long)seconds);
    return 0;
}

int api_diag_cospace_call(const struct api *api, const char *cospace, char *ret_call)
{
    struct api_calls *c = api->calls;
    int r = -ENOENT;

    if (!c)
        return r;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->ncalls && r; i++)
        if (strcmp(c->calls[i].cospace, cospace) == 0) {
            memcpy(ret_call, c->calls[i].id, STORE_ID_LEN + 1);
            r = 0;
        }
    pthread_mutex_unlock(&c->lock);
    return r;
}

void api_diag_post(const struct api *api, const struct api_request *req, const char *call_id,
                   struct api_reply *reply)
{
    const char *dur = api_params_get(req->form, "durationSeconds");
    int64_t seconds = API_DIAG_PERIOD_S;
    char id[STORE_ID_LEN + 1];
    int r;

    if (dur && *dur && api_parse_int(dur, 1, API_DIAG_PERIOD_MAX_S, &seconds) < 0) {
        api_reply_param_error(reply, "durationSeconds", "invalidValue");
        return;
    }
    r = api_diag_collect(api, call_id, seconds, id);
    if (r == -ENOENT) {
        api_reply_failure(reply, 404, "callDoesNotExist");
    } else if (r < 0) {
        api_reply_err(reply, r);
    } else {
        reply->status = 200;
        snprintf(reply->location, sizeof(reply->location), "/api/v1/system/diagnostics/%s", id);
    }
}

void api_res_call_diagnostics(const struct api *api, struct store *st,
                              const struct api_request *req, const char *id,
                              struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    (void)st;
    if (api_calls_path_id(id, lid, "callDoesNotExist", reply))
        api_diag_post(api, req, lid, reply);
}

/* ---- /system/diagnostics ------------------------------------------------------------------ */

/* A copy of the collections (text left out unless with_text), oldest first, that pass the
 * filters (NULL or "": any); *ret_n of them. The caller frees each text and the array. */
static int copy_diags(struct api_diags *d, const char *space, const char *corr, const char *id,
                      bool with_text, struct diag **ret, size_t *ret_n)
{
    struct diag *v = calloc(API_DIAG_MAX, sizeof(*v));
    size_t n = 0;
    int r = v ? 0 : -ENOMEM;

    if (r == 0 && d) {
        pthread_mutex_lock(&d->lock);
        for (size_t i = 0; i < API_DIAG_MAX; i++) {
            const struct diag *g = &d->v[i];

            if (!g->used || (space && *space && strcasecmp(g->cospace, space) != 0) ||
                (corr && *corr && strcasecmp(g->correlator, corr) != 0) ||
                (id && strcmp(g->id, id) != 0))
                continue;
            v[n] = *g;
            v[n].text = (struct api_diag_text){.len = g->text.len};
            if (with_text && g->text.len && !(v[n].text.buf = strdup(g->text.buf)))
                r = -ENOMEM;
            n++;
        }
        pthread_mutex_unlock(&d->lock);
    }
    for (size_t i = 1; i < n; i++) /* insertion sort by seq: at most API_DIAG_MAX */
        for (size_t j = i; j > 0 && v[j - 1].seq > v[j].seq; j--) {
            struct diag t = v[j];

            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *ret = v;
    *ret_n = n;
    return r;
}

static void free_diags(struct diag *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].text.buf);
    free(v);
}

#define HEAD_MAX (STORE_TEXT_MAX + 512) /* the head: the label and four ids, two times */

/* The head of the contents, as the apiary shows it, into out[HEAD_MAX]; its length. */
static size_t contents_head(const struct diag *g, char *out)
{
    char from[32], until[32];
    int n;

    iso(g->created, from);
    iso(g->until, until);
    n = snprintf(out, HEAD_MAX,
                 "Diagnostics %s:\n\n\"%s\" (%s)\n  coSpace: %s\n  correlator: %s\n"
                 "  collecting: %s to %s%s%s\n\nEvents and log messages:\n",
                 g->id, g->label, g->call, g->cospace, g->correlator, from, until,
                 g->collecting ? ", in progress" : ", ended: ", g->collecting ? "" : g->ended);
    return n < 0 ? 0 : (size_t)n < HEAD_MAX ? (size_t)n : HEAD_MAX - 1;
}

/* The contents: the head, then what was collected, oldest first. */
static char *contents(const struct diag *g, size_t *ret_len)
{
    char head[HEAD_MAX];
    size_t n = contents_head(g, head);
    char *out = malloc(n + g->text.len + 1);

    if (!out)
        return NULL;
    memcpy(out, head, n);
    if (g->text.len)
        memcpy(out + n, g->text.buf, g->text.len);
    out[n + g->text.len] = '\0';
    *ret_len = n + g->text.len;
    return out;
}

/* An id from the path, or 404 diagnosticsDoesNotExist (false). */
static bool diag_id(const char *id, char *out, struct api_reply *reply)
{
    if (api_parse_id(id, out) == 0)
        return true;
    api_reply_failure(reply, 404, "diagnosticsDoesNotExist");
    return false;
}

static void write_one(struct api_xml *x, const struct diag *g, bool full)
{
    char when[32], head[HEAD_MAX];

    api_xml_start(x, "diagnostics");
    api_xml_attr(x, "id", g->id);
    api_xml_text(x, "label", g->label);
    if (full) {
        iso(g->created, when);
        api_xml_text(x, "coSpace", g->cospace);
        api_xml_text(x, "callCorrelator", g->correlator);
        api_xml_text(x, "timestamp", when);
        api_xml_int(x, "contentsSize", (int64_t)(contents_head(g, head) + g->text.len));
    }
    api_xml_end(x);
}

/* GET /system/diagnostics (coSpaceFilter, callCorrelatorFilter) and /system/diagnostics/<id>. */
API_SYSTEM_ROUTE(api_res_system_diagnostics)
{
    const char *space = api_params_get(req->query, "coSpaceFilter");
    const char *corr = api_params_get(req->query, "callCorrelatorFilter");
    char tmp[STORE_ID_LEN + 1];
    size_t offset, limit, n = 0;
    struct diag *v = NULL;
    struct api_xml *x;
    int r;

    (void)st;
    if (id && !diag_id(id, tmp, reply))
        return;
    if (!id && api_page_from_query(req, API_PAGE_DEFAULT, &offset, &limit, reply) < 0)
        return;
    if (!id && space && *space && api_parse_id(space, tmp) < 0) {
        api_reply_param_error(reply, "coSpaceFilter", "invalidValue");
        return;
    }
    if (!id && corr && *corr && api_parse_id(corr, tmp) < 0) {
        api_reply_param_error(reply, "callCorrelatorFilter", "invalidValue");
        return;
    }
    r = id ? copy_diags(api->diags, NULL, NULL, tmp, false, &v, &n)
           : copy_diags(api->diags, space, corr, NULL, false, &v, &n);
    if (r == 0 && id && n == 0)
        api_reply_failure(reply, 404, "diagnosticsDoesNotExist");
    else if (r < 0)
        api_reply_err(reply, r);
    else if ((x = api_reply_xml_new(reply))) {
        if (id) {
            write_one(x, &v[0], true);
        } else {
            api_xml_start(x, "diagnostics");
            api_xml_attr_size(x, "total", n);
            for (size_t i = offset; i < n && i - offset < limit; i++)
                write_one(x, &v[i], false);
            api_xml_end(x);
        }
        api_reply_xml(reply, x);
    }
    free_diags(v, n);
}

/* GET /system/diagnostics/<id>/contents: text/plain. */
API_SYSTEM_ROUTE(api_res_system_diagnostics_contents)
{
    char lid[STORE_ID_LEN + 1];
    struct diag *v = NULL;
    size_t n = 0;
    int r;

    (void)req;
    (void)st;
    if (!diag_id(id, lid, reply))
        return;
    r = copy_diags(api->diags, NULL, NULL, lid, true, &v, &n);
    if (r == 0 && n == 0) {
        api_reply_failure(reply, 404, "diagnosticsDoesNotExist");
    } else if (r < 0) {
        api_reply_err(reply, r);
    } else if (!(reply->body = contents(&v[0], &reply->len))) {
        api_reply_err(reply, -ENOMEM);
    } else {
        reply->status = 200;
        reply->content_type = "text/plain";
    }
    free_diags(v, n);
}
