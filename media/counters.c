/* media/counters.c: a leg's counters as API threads read them, and their sums for /metrics.
 *
 * DESIGN: the packet path adds to per-class atomics without a lock (path.c); readers load them
 * one by one, so a snapshot may be a datagram apart between classes, never torn within one. A
 * removed leg's counters are added to m->retired, so the totals only grow. */
#include "media/media_int.h"

const char *media_class_name(enum media_class c)
{
    static const char *const names[] = {"rtp", "rtcp", "dtls", "stun", "other"};

    return (unsigned)c < MEDIA__CLASSES ? names[c] : "other";
}

void media_count(struct media_leg *l, enum media_class c, enum media_cnt k, uint64_t v)
{
    atomic_fetch_add_explicit(&l->cnt[c][k], v, memory_order_relaxed);
}

enum media_class media_class_of(const uint8_t *d, size_t len)
{
    switch (turn_demux(d, len)) {
    case TURN_DEMUX_RTP:
        return MEDIA_RTP;
    case TURN_DEMUX_RTCP:
        return MEDIA_RTCP;
    case TURN_DEMUX_DTLS:
        return MEDIA_DTLS;
    case TURN_DEMUX_STUN:
        return MEDIA_STUN;
    default:
        return MEDIA_OTHER;
    }
}

void media_leg_counters(const struct media_leg *l, struct media_counters ret[MEDIA__CLASSES])
{
    for (int c = 0; c < MEDIA__CLASSES; c++) {
        ret[c].rx_packets = atomic_load(&l->cnt[c][MEDIA_C_RX_PKT]);
        ret[c].rx_bytes = atomic_load(&l->cnt[c][MEDIA_C_RX_BYTES]);
        ret[c].fwd_packets = atomic_load(&l->cnt[c][MEDIA_C_FWD_PKT]);
        ret[c].fwd_bytes = atomic_load(&l->cnt[c][MEDIA_C_FWD_BYTES]);
        ret[c].dropped = atomic_load(&l->cnt[c][MEDIA_C_DROP]);
    }
}

/* Under m->lock (l->pub.malformed). */
void media_totals_add_leg(struct media_totals *t, const struct media_leg *l)
{
    struct media_counters k[MEDIA__CLASSES];

    media_leg_counters(l, k);
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

void media_totals(struct media *m, struct media_totals *ret)
{
    pthread_mutex_lock(&m->lock);
    *ret = m->retired;
    for (const struct media_leg *l = m->legs; l; l = l->next)
        media_totals_add_leg(ret, l);
    pthread_mutex_unlock(&m->lock);
}
