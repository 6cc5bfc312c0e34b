/* scripts/bench/rtcpeer_sdp.c: what rtcpeer reads in callbridged's offers and the answers it
 * writes back (RFC 3264 §6, RFC 8829 §5.3): the remote streams (each sendonly m-line's SSRC,
 * kind and msid, the sender's leg id) and an answer that lists every m-line of the offer in its
 * order: a=sendonly on the guest's own slots (the offer's recvonly) with a=ssrc lines for what
 * it sends, a=recvonly on the others, port 0 where the offer stopped one, the offer's payload
 * types, rtcp-mux, BUNDLE, a=setup:active (rtcpeer is the DTLS client), its ICE credentials and
 * fingerprint, and its one candidate: the relayed address on the TURN server.
 *
 * DESIGN: the answer is written here, not in media/webrtc/sdp.c: callbridged only ever offers,
 * and this writer serves a test and benchmark client; the parser it relies on is the daemon's. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scripts/bench/rtcpeer.h"

/* The msid (first token of a=msid) of each m-line of text, in order. */
static void msids(const char *text, char out[][64], size_t max)
{
    long m = -1;

    for (const char *line = text; line && *line;) {
        size_t n = strcspn(line, "\r\n");

        if (strncmp(line, "m=", 2) == 0)
            m++;
        else if (m >= 0 && (size_t)m < max && n > 7 && strncmp(line, "a=msid:", 7) == 0)
            snprintf(out[m], 64, "%.*s", (int)strcspn(line + 7, " \r\n"), line + 7);
        line += n;
        line += strspn(line, "\r\n");
    }
}

void peer_sdp_streams(struct peer_guest *g, const char *text)
{
    static char ids[SDP_MAX_MEDIA][64];
    const struct sdp_session *s = g->offer;

    memset(ids, 0, sizeof(ids));
    msids(text, ids, SDP_MAX_MEDIA);
    for (size_t i = 0; i < s->n_media; i++) {
        const struct sdp_media *m = &s->media[i];
        bool known = false;

        if (m->dir != SDP_SENDONLY || m->port == 0 || m->n_ssrc == 0)
            continue;
        for (size_t k = 0; k < g->nrx && !known; k++)
            known = g->rx[k].ssrc == m->ssrc[0];
        if (known || g->nrx == SDP_MAX_MEDIA)
            continue; /* a stream keeps its counters from one offer to the next */
        memset(&g->rx[g->nrx], 0, sizeof(g->rx[0]));
        g->rx[g->nrx].ssrc = m->ssrc[0];
        g->rx[g->nrx].kind = m->kind == SDP_AUDIO ? 0 : 1;
        snprintf(g->rx[g->nrx].msid, sizeof(g->rx[0].msid), "%s", ids[i]);
        g->nrx++;
    }
}

struct out {
    char *buf;
    size_t cap, len;
    bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->full = true;
    else
        o->len += (size_t)n;
}

static void put_media(struct out *o, const struct peer_guest *g, const struct sdp_media *m)
{
    int k = m->kind == SDP_AUDIO ? 0 : 1;
    int pt = k == 0 ? m->opus_pt : m->vp8_pt;
    bool own = m->dir == SDP_RECVONLY; /* callbridged receives it: the guest's own camera or mic */

    put(o, "m=%s %u UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n",
        k == 0 ? "audio" : "video", m->port ? 9u : 0u, pt, m->mid);
    if (m->port == 0) {
        put(o, "a=inactive\r\n");
        return;
    }
    put(o, "a=%s\r\na=rtcp-mux\r\n", own ? "sendonly" : "recvonly");
    if (k == 0)
        put(o, "a=rtpmap:%d opus/48000/2\r\n", pt);
    else
        put(o, "a=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d nack pli\r\n", pt, pt);
    if (own)
        put(o, "a=msid:%s %s-%d\r\na=ssrc:%u cname:%s\r\n", g->cname, g->cname, k, g->ssrc[k],
            g->cname);
}

long peer_sdp_answer(const struct peer_guest *g, const char *fingerprint, char *buf, size_t cap)
{
    const struct sdp_session *s = g->offer;
    struct out o = {.buf = buf, .cap = cap};
    struct turn_alloc_info info;
    struct sdp_candidate c = {.component = 1, .type = SDP_CAND_RELAY};
    char line[256];

    turn_alloc_get_info(g->alloc, &info);
    snprintf(c.foundation, sizeof(c.foundation), "1");
    c.priority = (0u << 24) | (65535u << 8) | 255u; /* RFC 8445 §5.1.2.1, relay */
    c.addr = info.relayed;
    if (!info.has_relayed || sdp_write_candidate(&c, line, sizeof(line)) < 0)
        return -1;
    put(&o, "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE", g->ssrc[0]);
    for (size_t i = 0; i < s->n_media; i++)
        if (s->media[i].port)
            put(&o, " %s", s->media[i].mid);
    put(&o, "\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\na=setup:active\r\n",
        g->ufrag, g->pwd, fingerprint);
    for (size_t i = 0; i < s->n_media; i++) {
        put_media(&o, g, &s->media[i]);
        if (i == 0)
            put(&o, "a=%s\r\na=end-of-candidates\r\n", line);
    }
    return o.full ? -1 : (long)o.len;
}
