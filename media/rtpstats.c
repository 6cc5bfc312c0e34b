/* media/rtpstats.c: RTP receive statistics (RFC 3550 appendix A), one stream per leg.
 *
 * DESIGN: A.1 without the probation of a new source (a leg has one endpoint, so a new SSRC is
 * that endpoint restarting: the statistics start afresh); a sequence number that jumps back by
 * more than half the space is a wrap (a new cycle), one that jumps back by less is a reordered
 * or duplicate packet (counted as received, as A.3 does). Jitter is A.8's estimator, computed,
 * as the RFC's code does, on 32-bit transit times, so a timestamp that wraps around 2^32 is
 * not a jump of 2^32. */
#include <string.h>

#include "media/rtpstats.h"

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

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void start(struct media_rtpstats *r, uint32_t ssrc, uint8_t pt, uint16_t seq)
{
    uint32_t dynamic = r->dynamic_clock;

    memset(r, 0, sizeof(*r));
    r->dynamic_clock = dynamic;
    r->started = true;
    r->ssrc = ssrc;
    r->pt = pt;
    r->clock = clock_rate(pt) ? clock_rate(pt) : dynamic;
    r->base = seq;
    r->max_seq = seq;
}

static void update_seq(struct media_rtpstats *r, uint16_t seq)
{
    if (seq < r->max_seq && r->max_seq - seq > 0x8000) {
        r->cycles += 65536; /* wrapped */
        r->max_seq = seq;
    } else if (seq > r->max_seq && seq - r->max_seq < 0x8000) {
        r->max_seq = seq;
    }
}

/* A.8: D = (Rj - Ri) - (Sj - Si) = transit_j - transit_i; J += (|D| - J) / 16. */
static void update_jitter(struct media_rtpstats *r, uint32_t ts, int64_t now_us)
{
    uint32_t arrival = (uint32_t)(now_us * (int64_t)r->clock / 1000000);
    uint32_t transit = arrival - ts;
    int32_t d = (int32_t)(transit - r->transit);

    if (r->have_transit)
        r->jitter += ((double)(d < 0 ? -(int64_t)d : d) - r->jitter) / 16.0;
    r->transit = transit;
    r->have_transit = true;
}

void media_rtpstats_received(struct media_rtpstats *r, const uint8_t *d, size_t len, int64_t now_us)
{
    uint16_t seq;
    uint32_t ssrc;

    if (len < 12 || (d[0] >> 6) != 2)
        return;
    seq = (uint16_t)(d[2] << 8 | d[3]);
    ssrc = get32(d + 8);
    if (!r->started || ssrc != r->ssrc)
        start(r, ssrc, d[1] & 0x7f, seq);
    else
        update_seq(r, seq);
    r->received++;
    r->bytes += len;
    if (r->clock)
        update_jitter(r, get32(d + 4), now_us);
}

uint64_t media_rtpstats_bit_rate(uint64_t bytes, uint64_t *bytes_at_tick, int64_t interval_us)
{
    uint64_t since = bytes - *bytes_at_tick;

    *bytes_at_tick = bytes;
    return interval_us > 0 ? since * 8 * 1000000 / (uint64_t)interval_us : 0;
}

void media_rtpstats_publish(struct media_rtpstats *r, struct media_rtp_stats *ret,
                            int64_t interval_us)
{
    uint64_t expected;

    memset(ret, 0, sizeof(*ret));
    if (!r->started)
        return;
    expected = (uint64_t)r->cycles + r->max_seq - r->base + 1;
    ret->seen = true;
    ret->ssrc = r->ssrc;
    ret->payload_type = r->pt;
    ret->received = r->received;
    ret->expected = expected;
    ret->lost = expected > r->received ? expected - r->received : 0;
    ret->loss_percent = expected ? 100.0 * (double)ret->lost / (double)expected : 0;
    ret->has_jitter = r->clock != 0;
    ret->jitter_ms = r->clock ? r->jitter * 1000.0 / r->clock : 0;
    ret->bit_rate = media_rtpstats_bit_rate(r->bytes, &r->bytes_at_tick, interval_us);
}
