/* media/sfu.c: forwarding among the WebRTC participants of a call (a selective forwarding unit
 * that selects everything): each RTP packet a guest sends is decrypted once (rtc_path.c), its
 * SSRC rewritten to the one the offers announced for that guest's stream, and encrypted again
 * for every other guest whose offer carries the stream. RTCP: a sender report goes on to the
 * receivers under the rewritten SSRC (their lip sync and statistics); a receiver's PLI or FIR
 * becomes a PLI to the sender (at most one per RTCP_PLI_GAP_US, so ten receivers asking at once
 * cost the sender one key frame); a NACK goes to the sender with the SSRCs mapped back; receiver
 * reports about forwarded streams are kept as the tx statistics of the leg. Every second each
 * guest gets callbridged's own receiver report about what it sends (RFC 3550 §6.4.2), so its
 * congestion control sees loss and jitter. Who receives a guest's stream is a table of the
 * guest's (media_sfu_route), rebuilt whenever the m-lines change, so a packet touches only its
 * receivers, not every slot of every leg. Media thread only; buffers on the stack.
 *
 * DESIGN: payload types need no rewriting: callbridged is the offerer and offers Opus and VP8
 * with one payload type each, which every answer must keep for what the guest sends (RFC 3264
 * §6.1), so every guest sends and receives the same numbers. Sequence numbers and timestamps
 * are the sender's, unchanged: an SSRC carries one sender's stream for its whole life.
 *
 * Call control (media_leg_set_mute): a stream muted at its sender (rx) or at a receiver (tx)
 * is not sent, rather than replaced by silence or black frames: nothing here decodes, and a
 * browser shows a track that stops as frozen or silent. What is received is still counted and
 * reported on (its sender's congestion control keeps its RTCP), the sender reports of a muted
 * stream are not passed on (they would announce packets that never come), and unmuting video
 * asks for a key frame so the receivers' decoders start again at once. */
#include <pthread.h>
#include <string.h>

#include "media/rtc.h"

#define PKT_MAX (2048 + SRTP_OVERHEAD)
#define RTCP_PLI_GAP_US 300000

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int kind_of_pt(uint8_t pt)
{
    pt &= 0x7f;
    return pt == SDP_PT_OPUS ? RTC_AUDIO : pt == SDP_PT_VP8 ? RTC_VIDEO : -1;
}

/* Adds receiver o to the table of the source of o's slot s (once: o's slots are consecutive). */
static void add_route(struct media_leg *o, const struct rtc_slot *s)
{
    struct media_rtc *src;
    size_t *n;

    if (s->own || s->stopped || !s->src || s->src == o || !s->src->rtc)
        return;
    src = s->src->rtc;
    n = &src->n_routes[s->kind];
    if (*n < MEDIA_MAX_LEGS_PER_CALL && (*n == 0 || src->routes[s->kind][*n - 1] != o))
        src->routes[s->kind][(*n)++] = o;
}

void media_sfu_route(struct media_call *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->legs[i]->rtc)
            memset(c->legs[i]->rtc->n_routes, 0, sizeof(c->legs[i]->rtc->n_routes));
    for (size_t i = 0; i < c->n; i++) {
        struct media_leg *o = c->legs[i];

        for (size_t j = 0; o->rtc && !o->rtc->ended && j < o->rtc->nslots; j++)
            add_route(o, &o->rtc->slots[j]);
    }
}

static const unsigned rx_bit[RTC__KINDS] = {MEDIA_MUTE_RX_AUDIO, MEDIA_MUTE_RX_VIDEO};
static const unsigned tx_bit[RTC__KINDS] = {MEDIA_MUTE_TX_AUDIO, MEDIA_MUTE_TX_VIDEO};

/* Can o take what it receives now of kind k (its DTLS is done, its leg not over, and that kind
 * not muted towards it)? */
static bool can_take(const struct media_leg *o, int k)
{
    return o->rtc->out && !o->rtc->ended && !(o->mute & tx_bit[k]);
}

/* Protects a copy of the RTP or RTCP packet with o's keys and sends it to o. Returns the bytes
 * sent, or -1. */
static long protect_send(struct media_leg *o, const uint8_t *pkt, size_t len, bool rtcp)
{
    uint8_t buf[PKT_MAX];
    size_t n = len;
    int e;

    if (!o->rtc->out || len > sizeof(buf) - SRTP_OVERHEAD)
        return -1;
    memcpy(buf, pkt, len);
    e = rtcp ? srtp_ctx_protect_rtcp(o->rtc->out, buf, &n, sizeof(buf))
             : srtp_ctx_protect(o->rtc->out, buf, &n, sizeof(buf));
    return e < 0 || media_rtc_send(o, buf, n) < 0 ? -1 : (long)n;
}

static void send_rtcp(struct media_leg *o, const uint8_t *pkt, size_t len)
{
    (void)protect_send(o, pkt, len, true);
}

void media_sfu_rtp(struct media_leg *l, uint8_t *pkt, size_t len, int64_t now)
{
    struct media_rtc *r = l->rtc;
    int k = len >= 12 ? kind_of_pt(pkt[1]) : -1;
    uint64_t sent = 0, bytes = 0; /* added to l's atomics once, not once per receiver */

    if (k < 0) {
        media_count(l, MEDIA_RTP, MEDIA_C_DROP, 1);
        return;
    }
    r->rx_ssrc[k] = get32(pkt + 8);
    media_rtpstats_received(&r->rx[k], pkt, len, now);
    put32(pkt + 8, r->fwd_ssrc[k]);
    for (size_t i = 0; i < r->n_routes[k] && !(l->mute & rx_bit[k]); i++) {
        struct media_leg *o = r->routes[k][i];
        long n;

        if (!can_take(o, k) || (n = protect_send(o, pkt, len, false)) < 0)
            continue;
        o->rtc->tx[k].packets++;
        o->rtc->tx[k].bytes += (uint64_t)n;
        sent++;
        bytes += (uint64_t)n;
    }
    if (!sent) {
        media_count(l, MEDIA_RTP, MEDIA_C_DROP, 1);
        return;
    }
    media_count(l, MEDIA_RTP, MEDIA_C_FWD_PKT, sent);
    media_count(l, MEDIA_RTP, MEDIA_C_FWD_BYTES, bytes);
}

/* The guest whose stream goes out with SSRC ssrc, and its kind. */
static struct media_leg *source_of(const struct media_leg *l, uint32_t ssrc, int *ret_kind)
{
    for (size_t i = 0; i < l->call->n; i++) {
        struct media_leg *o = l->call->legs[i];

        for (int k = 0; o->rtc && k < RTC__KINDS; k++) {
            if (o->rtc->fwd_ssrc[k] == ssrc) {
                *ret_kind = k;
                return o;
            }
        }
    }
    return NULL;
}

static int kind_of_ssrc(const struct media_rtc *r, uint32_t ssrc)
{
    for (int k = 0; k < RTC__KINDS; k++)
        if (r->rx_ssrc[k] && r->rx_ssrc[k] == ssrc)
            return k;
    return -1;
}

/* A sender report from l about its stream of kind k: kept for our receiver reports (LSR), and
 * passed on to the receivers as a sender report of the rewritten SSRC, with a CNAME. */
static void on_sender_report(struct media_leg *l, const struct rtcp_pkt *p, int k, int64_t now)
{
    struct media_rtc *r = l->rtc;
    struct rtcp_sender_info si;
    uint8_t buf[256];
    long a, b;

    if (rtcp_sr_info(p, &si) < 0)
        return;
    r->last_sr_mid[k] = (uint32_t)(si.ntp >> 16);
    r->last_sr_us[k] = now;
    r->sr_kept_mid[k][r->sr_kept_next[k]] = r->last_sr_mid[k];
    r->sr_kept_us[k][r->sr_kept_next[k]] = now;
    r->sr_kept_next[k] = (r->sr_kept_next[k] + 1) % RTC_SR_KEPT;
    a = rtcp_write_sr(buf, sizeof(buf), r->fwd_ssrc[k], &si, NULL, 0);
    b = a < 0 ? a
              : rtcp_write_sdes_cname(buf + a, sizeof(buf) - (size_t)a, r->fwd_ssrc[k], r->cname);
    if (b < 0 || (l->mute & rx_bit[k]))
        return;
    for (size_t i = 0; i < r->n_routes[k]; i++)
        if (can_take(r->routes[k][i], k))
            send_rtcp(r->routes[k][i], buf, (size_t)(a + b));
}

/* The round trip to l's browser from a report block about src's stream of kind k (RFC 3550
 * §6.4.1): its LSR names one of the last sender reports of src that callbridged passed on to l
 * as it came (sr_kept_us), and DLSR is how long the browser held it, in 1/65536 s. A block that
 * names none of them gives no sample. */
static void round_trip(struct media_leg *l, const struct media_leg *src, int k,
                       const struct rtcp_report_block *b, int64_t now)
{
    const struct media_rtc *sr = src->rtc;
    int64_t rtt;

    for (int i = 0; b->lsr && i < RTC_SR_KEPT; i++) {
        if (sr->sr_kept_mid[k][i] != b->lsr || !sr->sr_kept_us[k][i])
            continue;
        rtt = now - sr->sr_kept_us[k][i] - (int64_t)((uint64_t)b->dlsr * 1000000 / 65536);
        if (rtt > 0 && rtt < 60 * 1000000LL)
            l->rtc->rtt_us = rtt;
        return;
    }
}

/* What l's browser reports about the streams it receives from us: l's tx statistics, and its
 * round trip. */
static void on_report_blocks(struct media_leg *l, const struct rtcp_pkt *p, int64_t now)
{
    struct rtcp_report_block b[8];
    size_t n = rtcp_report_blocks(p, b, 8);

    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < l->rtc->nslots; j++) { /* the slot that carries that SSRC */
            struct rtc_slot *s = &l->rtc->slots[j];

            if (!s->own && !s->stopped && s->src && s->src->rtc &&
                s->src->rtc->fwd_ssrc[s->kind] == b[i].ssrc) {
                s->rb = b[i];
                s->have_rb = true;
                round_trip(l, s->src, s->kind, &b[i], now);
            }
        }
    }
}

/* A NACK from l about src's stream of kind k: to src, in src's own SSRCs. */
static void on_nack(struct media_leg *l, struct rtcp_pkt *p, struct media_leg *src, int k)
{
    uint8_t buf[PKT_MAX];
    long a;

    if (!src->rtc->rx_ssrc[k] || p->len > sizeof(buf) - 64)
        return;
    (void)rtcp_rewrite_ssrc(p, p->media_ssrc, src->rtc->rx_ssrc[k]);
    (void)rtcp_rewrite_ssrc(p, p->sender_ssrc, src->rtc->rtcp_ssrc);
    a = rtcp_write_rr(buf, sizeof(buf), src->rtc->rtcp_ssrc, NULL, 0);
    if (a < 0)
        return;
    memcpy(buf + a, p->raw, p->len);
    send_rtcp(src, buf, (size_t)a + p->len);
    (void)l;
}

static void on_feedback(struct media_leg *l, struct rtcp_pkt *p, int64_t now)
{
    uint32_t firs[8];
    int k = -1;
    struct media_leg *src;

    if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_FIR) {
        size_t n = rtcp_fir_ssrcs(p, firs, 8);

        for (size_t i = 0; i < n; i++)
            if ((src = source_of(l, firs[i], &k)) && k == RTC_VIDEO)
                media_sfu_request_key_frame(src, now);
        return;
    }
    src = source_of(l, p->media_ssrc, &k);
    if (!src || src == l)
        return;
    if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_PLI && k == RTC_VIDEO)
        media_sfu_request_key_frame(src, now);
    else if (p->pt == RTCP_RTPFB && p->count == RTCP_FMT_NACK)
        on_nack(l, p, src, k);
}

void media_sfu_rtcp(struct media_leg *l, uint8_t *pkt, size_t len, int64_t now)
{
    struct rtcp_iter it;
    struct rtcp_pkt p;

    if (rtcp_validate(pkt, len) < 0) {
        l->malformed_path++;
        return;
    }
    rtcp_iter_init(&it, pkt, len);
    while (rtcp_next(&it, &p) == 1) {
        int k;

        if (p.pt == RTCP_SR && (k = kind_of_ssrc(l->rtc, p.sender_ssrc)) >= 0)
            on_sender_report(l, &p, k, now);
        if (p.pt == RTCP_SR || p.pt == RTCP_RR)
            on_report_blocks(l, &p, now);
        else if (p.pt == RTCP_PSFB || p.pt == RTCP_RTPFB)
            on_feedback(l, &p, now);
    }
}

void media_sfu_request_key_frame(struct media_leg *src, int64_t now)
{
    struct media_rtc *r = src->rtc;
    uint8_t buf[64];
    long a, b;

    if (!r || !r->out || !r->rx_ssrc[RTC_VIDEO] || now - r->last_pli_us < RTCP_PLI_GAP_US)
        return;
    a = rtcp_write_rr(buf, sizeof(buf), r->rtcp_ssrc, NULL, 0);
    b = a < 0
            ? a
            : rtcp_write_pli(buf + a, sizeof(buf) - (size_t)a, r->rtcp_ssrc, r->rx_ssrc[RTC_VIDEO]);
    if (b < 0)
        return;
    r->last_pli_us = now;
    send_rtcp(src, buf, (size_t)(a + b));
}

/* RFC 3550 §6.4.1 and A.3: a report block about what l's browser sends of kind k. */
static void report_block(struct media_rtc *r, int k, int64_t now, struct rtcp_report_block *b)
{
    const struct media_rtpstats *s = &r->rx[k];
    uint64_t expected = (uint64_t)s->cycles + s->max_seq - s->base + 1;
    uint64_t exp_int = expected - r->rx_expected_prior[k];
    uint64_t rcv_int = s->received - r->rx_received_prior[k];
    int64_t lost = (int64_t)expected - (int64_t)s->received;

    memset(b, 0, sizeof(*b));
    b->ssrc = s->ssrc;
    b->fraction_lost =
        exp_int > rcv_int && exp_int ? (uint8_t)(((exp_int - rcv_int) << 8) / exp_int) : 0;
    b->cumulative_lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : (int32_t)lost;
    b->ext_highest_seq = s->cycles + s->max_seq;
    b->jitter = (uint32_t)s->jitter;
    if (r->last_sr_us[k]) {
        b->lsr = r->last_sr_mid[k];
        b->dlsr = (uint32_t)((now - r->last_sr_us[k]) * 65536 / 1000000);
    }
    r->rx_expected_prior[k] = expected;
    r->rx_received_prior[k] = s->received;
}

void media_sfu_reports(struct media_leg *l, int64_t now)
{
    struct media_rtc *r = l->rtc;
    struct rtcp_report_block b[RTC__KINDS];
    uint8_t buf[256];
    size_t n = 0;
    long a, c;

    if (!r->out)
        return;
    for (int k = 0; k < RTC__KINDS; k++)
        if (r->rx[k].started)
            report_block(r, k, now, &b[n++]);
    a = rtcp_write_rr(buf, sizeof(buf), r->rtcp_ssrc, b, n);
    c = a < 0 ? a
              : rtcp_write_sdes_cname(buf + a, sizeof(buf) - (size_t)a, r->rtcp_ssrc, "callbridge");
    if (c >= 0)
        send_rtcp(l, buf, (size_t)(a + c));
}

/* Every source whose video o receives is asked for a key frame (o's video was unmuted). */
static void key_frames_for(struct media_leg *o, int64_t now)
{
    for (size_t j = 0; o->rtc && j < o->rtc->nslots; j++) {
        const struct rtc_slot *s = &o->rtc->slots[j];

        if (!s->own && !s->stopped && s->src && s->kind == RTC_VIDEO)
            media_sfu_request_key_frame(s->src, now);
    }
}

void media_sfu_command(struct media_leg *l, const struct media_cmd *c, int64_t now)
{
    unsigned was = l->mute;

    if (c->kind == MEDIA_CMD_KEY_FRAME) {
        if (l->rtc)
            l->rtc->last_pli_us = 0; /* asked for by an administrator: not held back */
        media_sfu_request_key_frame(l, now);
        return;
    }
    l->mute = c->mute;
    pthread_mutex_lock(&l->m->lock);
    l->pub.mute = c->mute;
    pthread_mutex_unlock(&l->m->lock);
    if (!l->rtc)
        return;
    if ((was & MEDIA_MUTE_RX_VIDEO) && !(c->mute & MEDIA_MUTE_RX_VIDEO)) {
        l->rtc->last_pli_us = 0;
        media_sfu_request_key_frame(l, now);
    }
    if ((was & MEDIA_MUTE_TX_VIDEO) && !(c->mute & MEDIA_MUTE_TX_VIDEO))
        key_frames_for(l, now);
}

bool media_mute_drops(unsigned mute, bool tx, const uint8_t *pkt, size_t len)
{
    unsigned pt = len >= 2 ? pkt[1] & 0x7fu : 0;
    int k = pt >= 24 && pt <= 34 ? RTC_VIDEO : RTC_AUDIO; /* RFC 3551 §6 */

    return (mute & (tx ? tx_bit[k] : rx_bit[k])) != 0;
}
