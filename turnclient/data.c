/* turnclient/data.c: the data path's framing, pure (no state, no I/O): decoding the peer data a
 * TURN server relays to us (ChannelData or a Data indication) and framing what we send on a
 * channel. A media thread calls these for every datagram instead of routing them through the
 * allocation's state machine, which keeps only the answers to its requests (turn_alloc_feed);
 * what the path needs from that machine (a peer's channel, its permission) it asks by query.
 *
 * DESIGN: libjuice's shape: classify by the first byte, decode the framing into a view of the
 * caller's buffer, so the packet path copies nothing and allocates nothing. */
#include <errno.h>
#include <string.h>

#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

/* RFC 8656 §11.6: a Data indication carries the peer's address and the data; without either it
 * is not one we can deliver. Answers and other messages are the state machine's. */
static int decode_indication(const uint8_t *buf, size_t len, struct turn_data *ret_data)
{
    struct stun_msg m;

    if (stun_decode_datagram(buf, len, &m) < 0)
        return -EINVAL;
    if (m.cls != STUN_INDICATION || m.method != STUN_DATA)
        return -ENOMSG;
    if (!m.has_xor_peer || !m.data.ptr)
        return -EINVAL;
    ret_data->channel = 0;
    ret_data->peer = m.xor_peer;
    ret_data->ptr = m.data.ptr;
    ret_data->len = m.data.len;
    return 0;
}

static int decode_channel_data(const uint8_t *buf, size_t len, bool reliable,
                               struct turn_data *ret_data)
{
    struct stun_bytes data;
    uint16_t channel;

    if (stun_channel_data_decode(buf, len, reliable, &channel, &data) < 0)
        return -EINVAL;
    ret_data->channel = channel;
    ret_data->ptr = data.ptr;
    ret_data->len = data.len;
    return 0;
}

int turn_data_decode(const uint8_t *buf, size_t len, bool reliable, struct turn_data *ret_data)
{
    switch (turn_demux(buf, len)) {
    case TURN_DEMUX_CHANNEL_DATA:
        return decode_channel_data(buf, len, reliable, ret_data);
    case TURN_DEMUX_STUN:
        return decode_indication(buf, len, ret_data);
    default:
        return -EINVAL;
    }
}

long turn_channel_data_encode(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data,
                              size_t len, bool reliable)
{
    return stun_channel_data_encode(buf, cap, channel, data, len, reliable);
}

/* RFC 7983 §7 by the first byte; RFC 5761 §4 tells RTCP from RTP by the second: RTCP packet
 * types are 192-223, which RTP (marker bit and payload type) never uses when payload types
 * 64-95 are avoided, as RFC 5761 asks. */
enum turn_demux turn_demux(const uint8_t *buf, size_t len)
{
    uint8_t b;

    if (len == 0)
        return TURN_DEMUX_DROP;
    b = buf[0];
    if (b <= 3)
        return TURN_DEMUX_STUN;
    if (b >= 16 && b <= 19)
        return TURN_DEMUX_ZRTP;
    if (b >= 20 && b <= 63)
        return TURN_DEMUX_DTLS;
    if (b >= 64 && b <= 79)
        return TURN_DEMUX_CHANNEL_DATA;
    if (b >= 128 && b <= 191)
        return len > 1 && buf[1] >= 192 && buf[1] <= 223 ? TURN_DEMUX_RTCP : TURN_DEMUX_RTP;
    return TURN_DEMUX_DROP;
}
