/* fuzz/fuzz_channeldata.c: ChannelData framing (UDP and padded TCP), the RFC 7983 demux and the
 * media path's decode (ChannelData or Data indication) on arbitrary bytes, then a re-encode of
 * whatever decoded, which must give the same frame. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[65536 + 8];

    struct turn_data td;

    (void)turn_demux(data, size);
    if (turn_data_decode(data, size, false, &td) == 0 &&
        (td.ptr < data || td.ptr + td.len > data + size))
        __builtin_trap(); /* the view stays inside the datagram */
    for (int pad = 0; pad < 2; pad++) {
        struct stun_bytes payload;
        uint16_t channel;
        long n = stun_channel_data_decode(data, size, pad, &channel, &payload), m;

        if (n < 0)
            continue;
        if ((size_t)n > size || payload.ptr < data || payload.ptr + payload.len > data + size)
            __builtin_trap();
        m = stun_channel_data_encode(out, sizeof(out), channel, payload.ptr, payload.len, pad);
        if (m < 4 || memcmp(out, data, 4 + payload.len) != 0)
            __builtin_trap(); /* decode then encode must give the header and payload back */
    }
    return 0;
}
