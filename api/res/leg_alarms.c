/* api/res/leg_alarms.c: call-leg alarms over time (apiary "Call Leg Methods": packetLoss,
 * excessiveJitter, highRoundTripTime are "currently active" conditions).
 *
 * DESIGN: CMS documents no thresholds ("not necessarily a set percentage packet loss"); ours are
 * in api/res/alarms.h, with hysteresis so that an alarm does not flap at the threshold. Loss is
 * measured per window, the packets received and lost since the previous look (every alarms
 * watch, 5 s, and every read of /system/alarms), so a leg whose loss stops clears once a window
 * of enough packets comes through clean; counters that only ever grow would keep a leg alarmed
 * for life. Jitter is RFC 3550's running estimate and the round trip the last RTCP measure, both
 * already current. A leg that sends nothing keeps what it had: silence is no measurement. The
 * state is kept per leg id and dropped when the leg goes. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/log.h"
#include "api/res/alarms.h"
#include "api/res/leg_alarms.h"
#include "api/res/registry.h"

#define WINDOWS (MEDIA__STREAMS + 1) /* the four WebRTC streams and a plain leg's RTP */

struct window {
    uint64_t packets, lost;
};

struct leg_state {
    char id[STORE_ID_LEN + 1];
    struct window prev[WINDOWS];
    unsigned bits;
    bool seen;
};

struct api_leg_alarms {
    pthread_mutex_t looking; /* one look at a time (the watch's, a GET's): each marks and sweeps */
    pthread_mutex_t lock;
    struct leg_state *v;
    size_t n, cap;
};

int api_leg_alarms_new(struct api_leg_alarms **ret)
{
    struct api_leg_alarms *a = calloc(1, sizeof(*a));

    if (!a)
        return -ENOMEM;
    pthread_mutex_init(&a->looking, NULL);
    pthread_mutex_init(&a->lock, NULL);
    *ret = a;
    return 0;
}

void api_leg_alarms_free(struct api_leg_alarms *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->looking);
    free(a->v);
    free(a);
}

/* The counters of window w of m (packets that came or went, and lost). */
static struct window counters(const struct media_leg_status *m, int w)
{
    if (w < MEDIA__STREAMS)
        return (struct window){m->streams[w].packets, m->streams[w].lost};
    return (struct window){m->rx_rtp.received, m->rx_rtp.lost};
}

static bool is_active(const struct media_leg_status *m, int w)
{
    return w < MEDIA__STREAMS ? m->streams[w].active : m->rx_rtp.seen;
}

/* What one look says of a leg: its bits after the rules, from m and the previous counters. */
struct verdict {
    unsigned bits;
    double loss; /* the worst window's loss, percent; -1: no window with enough packets */
    double jitter_ms, rtt_ms;
};

static void judge_loss(const struct media_leg_status *m, struct leg_state *s, struct verdict *v)
{
    bool measured = false, over = false, clean = true;

    v->loss = -1;
    for (int w = 0; w < WINDOWS; w++) {
        struct window now = counters(m, w);
        uint64_t got, lost;
        double pct;

        if (!is_active(m, w))
            continue;
        if (now.packets < s->prev[w].packets) {
            s->prev[w] = now; /* a new SSRC restarted the counters: measured from here */
            continue;
        }
        got = now.packets - s->prev[w].packets;
        lost = now.lost > s->prev[w].lost ? now.lost - s->prev[w].lost : 0;
        if (got + lost < API_LEG_MIN_PACKETS)
            continue; /* too few yet: the window grows until the next look */
        pct = 100.0 * (double)lost / (double)(got + lost);
        measured = true;
        over |= pct > API_LEG_LOSS_PERCENT;
        clean &= pct <= API_LEG_LOSS_PERCENT / 2;
        v->loss = pct > v->loss ? pct : v->loss;
        s->prev[w] = now;
    }
    if (over)
        v->bits |= API_LEG_PACKET_LOSS;
    else if (measured && clean)
        v->bits &= ~(unsigned)API_LEG_PACKET_LOSS;
}

static void judge_jitter_rtt(const struct media_leg_status *m, struct verdict *v)
{
    bool measured = false;

    v->jitter_ms = -1;
    for (int w = 0; w < MEDIA__STREAMS; w++)
        if (m->streams[w].active && m->streams[w].jitter_ms > v->jitter_ms)
            v->jitter_ms = m->streams[w].jitter_ms;
    if (m->rx_rtp.seen && m->rx_rtp.has_jitter && m->rx_rtp.jitter_ms > v->jitter_ms)
        v->jitter_ms = m->rx_rtp.jitter_ms;
    measured = v->jitter_ms >= 0;
    if (measured && v->jitter_ms > API_LEG_JITTER_MS)
        v->bits |= API_LEG_EXCESSIVE_JITTER;
    else if (measured && v->jitter_ms < API_LEG_JITTER_MS * 0.8)
        v->bits &= ~(unsigned)API_LEG_EXCESSIVE_JITTER;
    v->rtt_ms = m->has_rtt ? m->rtt_ms : -1;
    if (m->has_rtt && m->rtt_ms > API_LEG_RTT_MS)
        v->bits |= API_LEG_HIGH_RTT;
    else if (m->has_rtt && m->rtt_ms < API_LEG_RTT_MS * 0.8)
        v->bits &= ~(unsigned)API_LEG_HIGH_RTT;
}

static struct leg_state *state_of(struct api_leg_alarms *a, const char *id)
{
    struct leg_state *s;

    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].id, id) == 0)
            return &a->v[i];
    if (api_calls_grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v)) < 0)
        return NULL;
    s = &a->v[a->n++];
    memset(s, 0, sizeof(*s));
    memcpy(s->id, id, sizeof(s->id));
    return s;
}

/* The ids of the legs with media, copied (lock of the registry held briefly). */
static int media_legs(struct api_calls *c, char (**ret)[STORE_ID_LEN + 1], size_t *ret_n)
{
    char(*v)[STORE_ID_LEN + 1] = NULL;
    size_t n = 0;

    pthread_mutex_lock(&c->lock);
    if (c->nlegs && !(v = calloc(c->nlegs, sizeof(*v)))) {
        pthread_mutex_unlock(&c->lock);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->nlegs; i++)
        if (c->legs[i].has_media)
            memcpy(v[n++], c->legs[i].id, sizeof(*v));
    pthread_mutex_unlock(&c->lock);
    *ret = v;
    *ret_n = n;
    return 0;
}

static const char *const names[] = {"packetLoss", "excessiveJitter", "highRoundTripTime"};

static void log_change(const char *leg, unsigned was, const struct verdict *v)
{
    for (int i = 0; i < 3; i++) {
        unsigned bit = 1u << i;

        if ((was ^ v->bits) & bit)
            api_log(BASE_LOG_INFO,
                    "callLeg %s: alarm %s %s (loss %.1f%% in the last window, jitter %.0f ms, "
                    "round trip %.0f ms)",
                    leg, names[i], v->bits & bit ? "raised" : "cleared", v->loss < 0 ? 0 : v->loss,
                    v->jitter_ms < 0 ? 0 : v->jitter_ms, v->rtt_ms < 0 ? 0 : v->rtt_ms);
    }
}

int api_leg_alarms_look(const struct api *api)
{
    struct api_leg_alarms *a = api->leg_alarms;
    char(*ids)[STORE_ID_LEN + 1] = NULL;
    size_t n = 0;
    int r;

    if (!a || !api->calls || !api->media)
        return 0;
    pthread_mutex_lock(&a->looking);
    if ((r = media_legs(api->calls, &ids, &n)) < 0) {
        pthread_mutex_unlock(&a->looking);
        return r;
    }
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->n; i++)
        a->v[i].seen = false;
    pthread_mutex_unlock(&a->lock);
    for (size_t i = 0; i < n && r == 0; i++) {
        struct media_leg_status m;
        struct leg_state *s;
        struct verdict v = {0};
        unsigned was = 0;

        if (media_leg_get(api->media, ids[i], &m) < 0)
            continue;
        pthread_mutex_lock(&a->lock);
        if ((s = state_of(a, ids[i]))) {
            was = s->bits;
            v = (struct verdict){.bits = s->bits};
            judge_loss(&m, s, &v);
            judge_jitter_rtt(&m, &v);
            s->bits = v.bits;
            s->seen = true;
        } else {
            r = -ENOMEM;
        }
        pthread_mutex_unlock(&a->lock);
        if (s && was != v.bits)
            log_change(ids[i], was, &v);
    }
    pthread_mutex_lock(&a->lock);
    for (size_t i = a->n; i-- > 0;) /* legs gone: forgotten */
        if (!a->v[i].seen)
            a->v[i] = a->v[--a->n];
    pthread_mutex_unlock(&a->lock);
    pthread_mutex_unlock(&a->looking);
    free(ids);
    return r;
}

unsigned api_leg_alarms_of(const struct api *api, const char *leg_id)
{
    struct api_leg_alarms *a = api->leg_alarms;
    unsigned bits = 0;

    if (!a)
        return 0;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].id, leg_id) == 0)
            bits = a->v[i].bits;
    pthread_mutex_unlock(&a->lock);
    return bits;
}
