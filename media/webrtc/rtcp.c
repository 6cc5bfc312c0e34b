/* media/webrtc/rtcp.c: the RTCP walker, SSRC rewriter, report readers and writers declared in
 * media/webrtc/rtcp.h (RFC 3550 §6, RFC 4585 §6, RFC 5104 §4.3.1, RFC 5506).
 *
 * DESIGN: one function, parse_one(), decides whether the packet at a position is well formed;
 * rtcp_validate() and rtcp_next() both go through it, so whatever the readers and the rewriter
 * touch later was bounded there: report blocks fit (RC x 24 bytes), SDES chunks end inside the
 * packet, BYE lists fit, feedback has its 12-byte common part and FIR whole 8-byte entries.
 * Padding (RFC 3550 §6.4.1) is allowed only on the last packet of a compound, with a count
 * that stays inside the packet and leaves the type's fixed part whole. Packet types 192-223
 * only: anything else is RTP (RFC 5761 §4) or garbage. */
#include <errno.h>
#include <string.h>

#include "media/webrtc/rtcp.h"

#define HDR 4
#define BLOCK 24
#define SR_FIXED 28 /* header, sender SSRC, sender info */
#define RR_FIXED 8
#define FB_FIXED 12 /* header, sender SSRC, media SSRC (RFC 4585 §6.1) */
#define FIR_ENTRY 8
#define REMB_FIXED 20 /* "REMB", count and bitrate before the SSRC list */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}

/* Walks SDES chunks (RFC 3550 §6.5) in body[4..n): each an SSRC, items of type, length and
 * text, ended by a zero octet and padded to 32 bits. Calls fn on each chunk's SSRC offset when
 * fn is set. Returns 0 or -EINVAL when a chunk or item runs past the end. */
static int walk_sdes(uint8_t *body, size_t n, unsigned chunks, unsigned *changed, uint32_t from,
                     uint32_t to)
{
    size_t off = HDR;

    for (unsigned c = 0; c < chunks; c++) {
        if (n - off < 8) /* an SSRC and at least one 32-bit word of items */
            return -EINVAL;
        if (changed && rd32(body + off) == from) {
            wr32(body + off, to);
            (*changed)++;
        }
        off += 4;
        while (off < n && body[off] != 0) {
            if (n - off < 2 || (size_t)body[off + 1] > n - off - 2)
                return -EINVAL;
            off += 2 + (size_t)body[off + 1];
        }
        if (off >= n)
            return -EINVAL;           /* no END item */
        off = (off + 4) & ~(size_t)3; /* past the zero octet, to the next word */
        if (off > n)
            return -EINVAL;
    }
    return 0;
}

/* The bytes a packet type needs before padding, given its count field, or 0 when body cannot
 * be checked by length alone (SDES); -1 when the length n is impossible for the type. */
static long fixed_len(uint8_t pt, uint8_t count, const uint8_t *body, size_t n)
{
    switch (pt) {
    case RTCP_SR:
        return SR_FIXED + BLOCK * (long)count;
    case RTCP_RR:
        return RR_FIXED + BLOCK * (long)count;
    case RTCP_BYE:
        return HDR + 4 * (long)count;
    case RTCP_APP:
        return 12; /* sender SSRC and the four-character name */
    case RTCP_RTPFB:
        return count == RTCP_FMT_NACK ? FB_FIXED + 4 : FB_FIXED;
    case RTCP_PSFB:
        if (count == RTCP_FMT_FIR)
            return n < FB_FIXED + FIR_ENTRY || (n - FB_FIXED) % FIR_ENTRY ? -1 : FB_FIXED;
        if (count == RTCP_FMT_AFB && n >= REMB_FIXED && memcmp(body + FB_FIXED, "REMB", 4) == 0)
            return REMB_FIXED + 4 * (long)body[16];
        return FB_FIXED;
    default:
        return HDR;
    }
}

/* Checks the packet at p (left bytes to the end of the compound). Fills the content length
 * (without padding) and returns the packet length, or -EINVAL. */
static long parse_one(const uint8_t *p, size_t left, size_t *ret_body)
{
    size_t len, body;
    uint8_t count, pt;
    long need;

    if (left < HDR || p[0] >> 6 != 2 || p[1] < 192 || p[1] > 223)
        return -EINVAL;
    len = ((size_t)p[2] << 8 | p[3]) * 4 + 4;
    if (len > left)
        return -EINVAL;
    body = len;
    if (p[0] & 0x20) { /* padding: the last octet counts it, last packet only */
        if (len != left || p[len - 1] == 0 || p[len - 1] > len - HDR)
            return -EINVAL;
        body = len - p[len - 1];
    }
    count = p[0] & 0x1f;
    pt = p[1];
    if (pt == RTCP_SDES) {
        if (walk_sdes((uint8_t *)(uintptr_t)p, body, count, NULL, 0, 0) < 0)
            return -EINVAL;
    } else {
        need = fixed_len(pt, count, p, body);
        if (need < 0 || (size_t)need > body)
            return -EINVAL;
    }
    *ret_body = body;
    return (long)len;
}

int rtcp_validate(const uint8_t *buf, size_t len)
{
    size_t off = 0, body;

    if (len == 0)
        return -EINVAL;
    while (off < len) {
        long n = parse_one(buf + off, len - off, &body);

        if (n < 0)
            return -EINVAL;
        off += (size_t)n;
    }
    return 0;
}

/* Whether the word after the header is the sender's SSRC: not in SDES (chunks) nor in a BYE
 * without sources (a reason may follow there). */
static bool has_sender(uint8_t pt, uint8_t count, size_t body)
{
    if (pt == RTCP_SDES || (pt == RTCP_BYE && count == 0))
        return false;
    return body >= 8;
}

void rtcp_iter_init(struct rtcp_iter *it, uint8_t *buf, size_t len)
{
    it->p = buf;
    it->left = len;
}

int rtcp_next(struct rtcp_iter *it, struct rtcp_pkt *ret)
{
    size_t body;
    long n;

    if (it->left == 0)
        return 0;
    n = parse_one(it->p, it->left, &body);
    if (n < 0) {
        it->left = 0; /* nothing after a broken length can be trusted */
        return -EINVAL;
    }
    memset(ret, 0, sizeof(*ret));
    ret->raw = it->p;
    ret->len = (size_t)n;
    ret->pt = it->p[1];
    ret->count = it->p[0] & 0x1f;
    if (has_sender(ret->pt, ret->count, body))
        ret->sender_ssrc = rd32(it->p + HDR);
    if (ret->pt == RTCP_RTPFB || ret->pt == RTCP_PSFB)
        ret->media_ssrc = rd32(it->p + 8);
    it->p += n;
    it->left -= (size_t)n;
    return 1;
}

/* The packet's length without padding (validated by parse_one before). */
static size_t body_len(const struct rtcp_pkt *p)
{
    return p->raw[0] & 0x20 ? p->len - p->raw[p->len - 1] : p->len;
}

/* Rewrites the n SSRCs every stride bytes from off. */
static unsigned swap_list(uint8_t *raw, size_t off, size_t n, size_t stride, uint32_t from,
                          uint32_t to)
{
    unsigned changed = 0;

    for (size_t i = 0; i < n; i++, off += stride) {
        if (rd32(raw + off) == from) {
            wr32(raw + off, to);
            changed++;
        }
    }
    return changed;
}

static unsigned rewrite_feedback(struct rtcp_pkt *p, size_t body, uint32_t from, uint32_t to)
{
    unsigned changed = swap_list(p->raw, HDR, 2, 4, from, to);

    if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_FIR)
        changed += swap_list(p->raw, FB_FIXED, (body - FB_FIXED) / FIR_ENTRY, FIR_ENTRY, from, to);
    else if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_AFB && body >= REMB_FIXED &&
             memcmp(p->raw + FB_FIXED, "REMB", 4) == 0)
        changed += swap_list(p->raw, REMB_FIXED, p->raw[16], 4, from, to);
    p->media_ssrc = rd32(p->raw + 8);
    return changed;
}

unsigned rtcp_rewrite_ssrc(struct rtcp_pkt *p, uint32_t from, uint32_t to)
{
    size_t body = body_len(p);
    unsigned changed = 0;

    switch (p->pt) {
    case RTCP_SR:
        changed = swap_list(p->raw, HDR, 1, 4, from, to) +
                  swap_list(p->raw, SR_FIXED, p->count, BLOCK, from, to);
        break;
    case RTCP_RR:
        changed = swap_list(p->raw, HDR, 1, 4, from, to) +
                  swap_list(p->raw, RR_FIXED, p->count, BLOCK, from, to);
        break;
    case RTCP_SDES:
        (void)walk_sdes(p->raw, body, p->count, &changed, from, to);
        return changed;
    case RTCP_BYE:
        changed = swap_list(p->raw, HDR, p->count, 4, from, to);
        break;
    case RTCP_APP:
        changed = swap_list(p->raw, HDR, 1, 4, from, to);
        break;
    case RTCP_RTPFB:
    case RTCP_PSFB:
        changed = rewrite_feedback(p, body, from, to);
        break;
    default:
        return 0;
    }
    if (has_sender(p->pt, p->count, body))
        p->sender_ssrc = rd32(p->raw + HDR);
    return changed;
}

size_t rtcp_fir_ssrcs(const struct rtcp_pkt *p, uint32_t *ret, size_t cap)
{
    size_t n;

    if (p->pt != RTCP_PSFB || p->count != RTCP_FMT_FIR)
        return 0;
    n = (body_len(p) - FB_FIXED) / FIR_ENTRY;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++)
        ret[i] = rd32(p->raw + FB_FIXED + FIR_ENTRY * i);
    return n;
}

int rtcp_sr_info(const struct rtcp_pkt *p, struct rtcp_sender_info *ret)
{
    const uint8_t *s = p->raw + 8;

    if (p->pt != RTCP_SR)
        return -EINVAL;
    ret->ntp = (uint64_t)rd32(s) << 32 | rd32(s + 4);
    ret->rtp_ts = rd32(s + 8);
    ret->packets = rd32(s + 12);
    ret->octets = rd32(s + 16);
    return 0;
}

size_t rtcp_report_blocks(const struct rtcp_pkt *p, struct rtcp_report_block *ret, size_t cap)
{
    size_t n = p->count, off;

    if (p->pt != RTCP_SR && p->pt != RTCP_RR)
        return 0;
    off = p->pt == RTCP_SR ? SR_FIXED : RR_FIXED;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++, off += BLOCK) {
        const uint8_t *b = p->raw + off;
        uint32_t lost = (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];

        ret[i].ssrc = rd32(b);
        ret[i].fraction_lost = b[4];
        /* 24-bit two's complement: the sign bit is bit 23 */
        ret[i].cumulative_lost = lost & 0x800000 ? (int32_t)lost - 0x1000000 : (int32_t)lost;
        ret[i].ext_highest_seq = rd32(b + 8);
        ret[i].jitter = rd32(b + 12);
        ret[i].lsr = rd32(b + 16);
        ret[i].dlsr = rd32(b + 20);
    }
    return n;
}

/* ---- writers ---------------------------------------------------------------------------- */

/* The common header: V=2, no padding, count, type, length in words minus one. */
static void write_header(uint8_t *buf, uint8_t count, uint8_t pt, size_t len)
{
    buf[0] = (uint8_t)(0x80 | (count & 0x1f));
    buf[1] = pt;
    wr16(buf + 2, (uint16_t)(len / 4 - 1));
}

static void write_blocks(uint8_t *out, const struct rtcp_report_block *b, size_t n)
{
    for (size_t i = 0; i < n; i++, out += BLOCK) {
        int32_t lost = b[i].cumulative_lost;

        /* RFC 3550 §6.4.1: clamp to what 24 signed bits hold */
        if (lost > 0x7fffff)
            lost = 0x7fffff;
        else if (lost < -0x800000)
            lost = -0x800000;
        wr32(out, b[i].ssrc);
        wr32(out + 4, (uint32_t)lost & 0xffffff);
        out[4] = b[i].fraction_lost;
        wr32(out + 8, b[i].ext_highest_seq);
        wr32(out + 12, b[i].jitter);
        wr32(out + 16, b[i].lsr);
        wr32(out + 20, b[i].dlsr);
    }
}

long rtcp_write_rr(uint8_t *buf, size_t cap, uint32_t sender, const struct rtcp_report_block *b,
                   size_t n)
{
    size_t len = RR_FIXED + BLOCK * n;

    if (n > 31 || len > cap) /* RC is five bits */
        return -ENOSPC;
    write_header(buf, (uint8_t)n, RTCP_RR, len);
    wr32(buf + HDR, sender);
    write_blocks(buf + RR_FIXED, b, n);
    return (long)len;
}

long rtcp_write_sr(uint8_t *buf, size_t cap, uint32_t sender, const struct rtcp_sender_info *si,
                   const struct rtcp_report_block *b, size_t n)
{
    size_t len = SR_FIXED + BLOCK * n;

    if (n > 31 || len > cap)
        return -ENOSPC;
    write_header(buf, (uint8_t)n, RTCP_SR, len);
    wr32(buf + HDR, sender);
    wr32(buf + 8, (uint32_t)(si->ntp >> 32));
    wr32(buf + 12, (uint32_t)si->ntp);
    wr32(buf + 16, si->rtp_ts);
    wr32(buf + 20, si->packets);
    wr32(buf + 24, si->octets);
    write_blocks(buf + SR_FIXED, b, n);
    return (long)len;
}

long rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media)
{
    if (cap < FB_FIXED)
        return -ENOSPC;
    write_header(buf, RTCP_FMT_PLI, RTCP_PSFB, FB_FIXED);
    wr32(buf + HDR, sender);
    wr32(buf + 8, media);
    return FB_FIXED;
}

long rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media, uint8_t seq)
{
    size_t len = FB_FIXED + FIR_ENTRY;

    if (cap < len)
        return -ENOSPC;
    write_header(buf, RTCP_FMT_FIR, RTCP_PSFB, len);
    wr32(buf + HDR, sender);
    wr32(buf + 8, 0); /* RFC 5104 §4.3.1.2: the media source field is unused, 0 */
    wr32(buf + FB_FIXED, media);
    buf[16] = seq;
    buf[17] = buf[18] = buf[19] = 0;
    return (long)len;
}

long rtcp_write_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname)
{
    size_t n = strlen(cname);
    /* header, SSRC, CNAME item (type, length, text), then at least one zero octet to a word */
    size_t len = HDR + ((4 + 2 + n + 1 + 3) & ~(size_t)3);

    if (n > 255 || len > cap)
        return -ENOSPC;
    memset(buf, 0, len);
    write_header(buf, 1, RTCP_SDES, len);
    wr32(buf + HDR, ssrc);
    buf[8] = 1; /* CNAME */
    buf[9] = (uint8_t)n;
    memcpy(buf + 10, cname, n);
    return (long)len;
}
