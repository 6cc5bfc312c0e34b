/* fuzz/fuzz_rtcp.c: the RTCP walker (media/webrtc/rtcp.c) on arbitrary decrypted packets:
 * validate, then walk, read the sender info, report blocks and FIR entries of each packet,
 * rewrite its SSRCs both ways, and check the rewritten packet still validates and that the
 * walk agrees with the validator. Nothing may read or write outside the input copy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/webrtc/rtcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void visit(struct rtcp_pkt *p)
{
    struct rtcp_sender_info si;
    struct rtcp_report_block b[31];
    uint32_t fir[8];
    uint32_t ssrc = p->sender_ssrc;

    (void)rtcp_sr_info(p, &si);
    if (rtcp_report_blocks(p, b, 31) > 31 || rtcp_fir_ssrcs(p, fir, 8) > 8)
        __builtin_trap();
    (void)rtcp_rewrite_ssrc(p, ssrc, 0xdeadbeefu);
    (void)rtcp_rewrite_ssrc(p, p->media_ssrc, ssrc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1); /* a heap copy: ASan sees every stray byte */
    struct rtcp_iter it;
    struct rtcp_pkt p;
    int valid, r;

    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    valid = rtcp_validate(buf, size) == 0;
    rtcp_iter_init(&it, buf, size);
    while ((r = rtcp_next(&it, &p)) == 1)
        visit(&p);
    if (valid != (r == 0 && size > 0))
        __builtin_trap(); /* the walk and the validator disagree */
    if (valid && rtcp_validate(buf, size) != 0)
        __builtin_trap(); /* a rewrite broke the framing */
    free(buf);
    return 0;
}
