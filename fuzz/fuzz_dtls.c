/* fuzz/fuzz_dtls.c: a server-role dtls_conn (media/webrtc/dtls.c) before the handshake, fed
 * arbitrary datagrams as a browser's address could send them. The input is a sequence of
 * datagrams, each a 2-byte big-endian length and its bytes. After each one the harness takes
 * what the conn wants to send and runs its timer, then the 30 s handshake timeout. Nothing may
 * crash, leak or queue without bound. One certificate, made once. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "media/webrtc/dtls.h"

#define FUZZ_DGRAMS_MAX 32

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dtls_cert *cert;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (dtls_cert_new(&cert) != 0)
        abort();
    return 0;
}

/* Everything it queued, into a buffer as large as any datagram it may write. */
static void drain(struct dtls_conn *d)
{
    uint8_t out[1500];
    long n;
    int count = 0;

    while ((n = dtls_conn_take(d, out, sizeof(out))) > 0) {
        if (++count > 64)
            __builtin_trap(); /* the queue is bounded */
    }
    if (n < 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t fp[DTLS_FP_LEN] = {0x5a, 0x12, 0xb6, 0xa2};
    struct dtls_conn *d;
    int64_t now = 1000000;
    size_t off = 0;
    int n = 0;
    bool fed = false;

    if (dtls_conn_new(cert, true, fp, &d) != 0)
        return 0;
    while (off + 2 <= size && n++ < FUZZ_DGRAMS_MAX) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];

        off += 2;
        if (len > size - off)
            len = size - off;
        /* what the conn takes as DTLS (RFC 7983) starts its 30 s */
        fed = fed || (len > 0 && len <= 4096 && data[off] >= 20 && data[off] <= 63);
        (void)dtls_conn_feed(d, data + off, len, now);
        off += len;
        drain(d);
        if (dtls_conn_deadline(d) <= now + 10000)
            dtls_conn_on_timer(d, now);
        drain(d);
        now += 10000;
    }
    dtls_conn_on_timer(d, now + 30000000);
    if (fed && dtls_conn_state(d) == DTLS_HANDSHAKING)
        __builtin_trap(); /* 30 s after the first datagram it must have given up */
    drain(d);
    dtls_conn_free(d);
    return 0;
}
