/* fuzz/fuzz_stun.c: the STUN/TURN decoder (turnclient/stun.c) on arbitrary datagrams and stream
 * buffers: decode, every attribute walk the decoder offers, both integrity checks, the
 * fingerprint, and stream framing. Nothing may read outside the input or crash. */
#include <stddef.h>
#include <stdint.h>

#include "turnclient/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[16] = "fuzz-key-16bytes";
    struct stun_msg m;
    long n;

    (void)stun_is_message(data, size);
    if (stun_decode_datagram(data, size, &m) == 0) {
        (void)stun_check_integrity(&m, key, sizeof(key));
        (void)stun_check_integrity_sha256(&m, key, sizeof(key));
        (void)stun_check_fingerprint(&m);
    }
    n = stun_decode(data, size, &m); /* a stream: the first message of possibly several */
    if (n > 0 && (size_t)n > size)
        __builtin_trap(); /* it must never claim more than it was given */
    n = stun_stream_frame_len(data, size);
    (void)n;
    return 0;
}
