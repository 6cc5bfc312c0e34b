/* media/path.c: the packet path, top to bottom: read a datagram from the leg's TURN server,
 * decode its TURN framing (turn_data_decode: ChannelData or a Data indication), check it came
 * from the leg's endpoint, classify it (RFC 7983), count it, and send it to every other ready
 * leg of the call as ChannelData on that leg's channel. What is not peer data is an answer to
 * the allocation's requests and goes to its state machine (turn_alloc_feed).
 *
 * DESIGN: libjuice's shape: the framing is a pure decode and encode step this file calls, and
 * the allocation is asked plain questions (which channel, which permission), so a datagram
 * crosses no module by callback. Media thread only; no lock and no allocation here: counters
 * are relaxed atomics, buffers are on the stack. The only sends are ChannelData: a leg is
 * ready once its channel is bound (leg.c), and turnclient unbinds a channel only with its
 * permission, so a Send indication would never be the way out. */
#include <errno.h>
#include <string.h>

#include "media/media_int.h"
#include "media/rtc.h"

#define BATCH 64 /* datagrams per leg per wake-up: other legs get their turn */
/* The largest ChannelData frame sent on: as before the path was flattened (turnclient's send
 * buffer), so payloads over 1,340 bytes are counted dropped, not forwarded. Media stays under
 * the path MTU; this bounds the stack buffer. */
#define MAX_FRAME (TURN_TXN_MAX_MSG + 64)

/* ---- the path, from the socket down ------------------------------------------------------ */

static void on_datagram(struct media_leg *l, const uint8_t *buf, size_t len, int64_t now_us);
static bool is_from_endpoint(struct media_leg *l, const struct turn_data *d);
static void forward(struct media_leg *l, const uint8_t *data, size_t len, int64_t now_us);
static int send_to(struct media_leg *o, const uint8_t *data, size_t len);

void media_path_on_readable(struct media_leg *l, int64_t now_us)
{
    uint8_t buf[2048];

    for (int i = 0; i < BATCH && l->alloc; i++) {
        ssize_t n = recv(l->fd, buf, sizeof(buf), 0);

        if (n >= 0) {
            on_datagram(l, buf, (size_t)n, now_us);
            continue;
        }
        if (errno != EAGAIN && errno != EINTR)
            turn_alloc_on_error(l->alloc, -errno);
        break;
    }
}
/* Decode, check the sender, forward; what is not peer data is the allocation's. */
static void on_datagram(struct media_leg *l, const uint8_t *buf, size_t len, int64_t now_us)
{
    struct turn_data d;
    /* false: legs reach their TURN server over UDP, where ChannelData is not padded; a leg over
     * TCP or TLS must pass true (RFC 8656 §12.5) */
    int r = turn_data_decode(buf, len, false, &d);

    if (r == -ENOMSG) { /* an answer to one of the allocation's requests */
        turn_alloc_feed(l->alloc, buf, len, now_us);
        return;
    }
    if (r < 0) { /* an empty datagram too: dropped and counted as malformed */
        l->malformed_path++;
        return;
    }
    if (l->rtc)
        media_rtc_on_data(l, &d, now_us);
    else if (is_from_endpoint(l, &d))
        forward(l, d.ptr, d.len, turn_now_us());
}

/* Is d from the leg's endpoint? ChannelData on the endpoint's channel is (the leg's allocation
 * has no other peer); on any other channel it is not data for us (RFC 8656 §12.6: unbound). A
 * Data indication from an address without permission is not for us either (§10.4); from the
 * endpoint's address but another port it passes the permission, but is a stranger's. */
static bool is_from_endpoint(struct media_leg *l, const struct turn_data *d)
{
    const struct sockaddr *remote = (const struct sockaddr *)&l->remote;

    if (d->channel) {
        if (d->channel == turn_alloc_channel(l->alloc, remote))
            return true;
        l->malformed_path++;
        return false;
    }
    if (!turn_alloc_has_permission(l->alloc, (const struct sockaddr *)&d->peer)) {
        l->malformed_path++;
        return false;
    }
    if (media_same_address(&l->remote, (const struct sockaddr *)&d->peer))
        return true;
    atomic_fetch_add_explicit(&l->strangers, 1, memory_order_relaxed);
    return false;
}

/* Counts what the endpoint sent and forwards it to every other ready leg of the call. */
static void forward(struct media_leg *l, const uint8_t *data, size_t len, int64_t now_us)
{
    enum media_class c = media_class_of(data, len);
    bool sent = false;

    media_count(l, c, MEDIA_C_RX_PKT, 1);
    media_count(l, c, MEDIA_C_RX_BYTES, len);
    if (c == MEDIA_RTP)
        media_rtpstats_received(&l->rtp, data, len, now_us);
    for (size_t i = 0; i < l->call->n; i++) {
        struct media_leg *o = l->call->legs[i];

        if (c == MEDIA_RTP && (media_mute_drops(l->mute, false, data, len) ||
                               media_mute_drops(o->mute, true, data, len)))
            continue; /* call control: withheld, counted dropped if nobody got it */
        if (o == l || !o->ready || send_to(o, data, len) < 0)
            continue;
        media_count(l, c, MEDIA_C_FWD_PKT, 1);
        media_count(l, c, MEDIA_C_FWD_BYTES, len);
        sent = true;
    }
    if (!sent)
        media_count(l, c, MEDIA_C_DROP, 1);
}

/* Sends data to leg o's endpoint through o's allocation. Returns 0 or -errno. */
static int send_to(struct media_leg *o, const uint8_t *data, size_t len)
{
    uint8_t frame[MAX_FRAME];
    uint16_t channel = turn_alloc_channel(o->alloc, (const struct sockaddr *)&o->remote);
    long n;

    if (!channel)
        return -ENOTCONN;
    n = turn_channel_data_encode(frame, sizeof(frame), channel, data, len, false);
    if (n < 0)
        return (int)n;
    if (send(o->fd, frame, (size_t)n, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
        return -errno;
    return 0;
}
