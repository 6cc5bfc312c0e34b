/* media/rtpstats.h: RTP receive statistics of one stream (RFC 3550 A.1 sequence numbers, A.3
 * loss, A.8 interarrival jitter), pure: no I/O, no clock of its own (the caller passes the
 * arrival time), so tests feed it known packets and times. Private to media/ and its tests. */
#ifndef MEDIA_RTPSTATS_H
#define MEDIA_RTPSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/media.h"

struct media_rtpstats {
    bool started;
    uint32_t ssrc, clock;   /* clock: the payload type's rate in Hz, 0 when not fixed */
    uint32_t dynamic_clock; /* set by the owner: the rate of a dynamic payload type, which the
                             * negotiation fixed (48000 for Opus, 90000 for VP8); kept across a
                             * new SSRC */
    uint8_t pt;
    uint16_t max_seq;
    uint32_t cycles, base; /* cycles: 65536 per wrap of the sequence number */
    uint64_t received;
    bool have_transit;
    uint32_t transit; /* arrival - timestamp, in timestamp units, modulo 2^32 as in A.8 */
    double jitter;    /* in timestamp units */
    uint64_t bytes, bytes_at_tick;
};

/* Counts one RTP packet (len bytes at d) that arrived at now_us (any monotonic microseconds).
 * Not RTP version 2, or shorter than the fixed header: ignored. A new SSRC starts afresh. */
void media_rtpstats_received(struct media_rtpstats *r, const uint8_t *d, size_t len,
                             int64_t now_us);
/* The bit rate of the bytes counted since *bytes_at_tick over interval_us (0 when interval_us is
 * not positive); *bytes_at_tick becomes bytes, which starts the next interval. The one formula of
 * the rx statistics here and of a WebRTC leg's tx statistics (rtc.c). */
uint64_t media_rtpstats_bit_rate(uint64_t bytes, uint64_t *bytes_at_tick, int64_t interval_us);
/* Fills ret with the statistics so far; the bit rate is over the interval_us since the last
 * call, which starts the next interval. */
void media_rtpstats_publish(struct media_rtpstats *r, struct media_rtp_stats *ret,
                            int64_t interval_us);

#endif
