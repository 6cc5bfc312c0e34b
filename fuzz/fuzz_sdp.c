/* fuzz/fuzz_sdp.c: the SDP parser (media/webrtc/sdp.c) on arbitrary bytes, as a whole
 * description and as one trickled candidate. Nothing may read outside the input or crash, and
 * what parses must survive the writer: an offer built from the parsed description is written,
 * parsed again and must say the same (m-lines, directions, SSRCs, credentials, candidates); a
 * parsed candidate with an address is written and read back unchanged. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "media/webrtc/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void candidate_round_trip(const struct sdp_candidate *c)
{
    struct sdp_candidate back;
    char line[256], err[128];
    long n;

    if (c->addr.ss_family == AF_UNSPEC)
        return; /* an mDNS name is not kept, so not written */
    n = sdp_write_candidate(c, line, sizeof(line));
    if (n <= 0 || sdp_parse_candidate(line, (size_t)n, &back, err, sizeof(err)) != 0 ||
        memcmp(&back, c, sizeof(back)) != 0)
        __builtin_trap();
}

/* An offer saying what s says, as far as an offer can: audio and video m-lines only. */
static void offer_from(const struct sdp_session *s, struct sdp_offer *o)
{
    memset(o, 0, sizeof(*o));
    o->session_id = 1;
    o->version = 2;
    snprintf(o->ice_ufrag, sizeof(o->ice_ufrag), "%s", s->ice_ufrag[0] ? s->ice_ufrag : "ufrag");
    snprintf(o->ice_pwd, sizeof(o->ice_pwd), "%s", s->ice_pwd[0] ? s->ice_pwd : "pwd");
    for (size_t i = 0; i < 32; i++)
        snprintf(o->fingerprint + 3 * i, 4, i < 31 ? "%02X:" : "%02X",
                 s->fp_len == 32 ? s->fp[i] : (unsigned)i);
    o->ice_lite = s->ice_lite;
    for (size_t i = 0; i < s->n_cand; i++)
        if (s->cand[i].addr.ss_family != AF_UNSPEC)
            o->cand[o->n_cand++] = s->cand[i];
    for (size_t i = 0; i < s->n_media; i++) {
        const struct sdp_media *m = &s->media[i];
        struct sdp_offer_media *om = &o->media[o->n_media];

        if (m->kind != SDP_AUDIO && m->kind != SDP_VIDEO)
            continue;
        om->kind = m->kind;
        snprintf(om->mid, sizeof(om->mid), "%s", m->mid);
        om->dir = m->dir;
        om->stopped = m->port == 0;
        if (m->n_ssrc > 0) {
            om->ssrc = m->ssrc[0];
            snprintf(om->cname, sizeof(om->cname), "fuzz");
            snprintf(om->msid, sizeof(om->msid), "leg");
            snprintf(om->track, sizeof(om->track), "track-%zu", i);
        }
        o->n_media++;
    }
    for (size_t i = 0; i < o->n_media; i++)
        if (!o->media[i].mid[0]) /* no a=mid: number them all, as no parsed mid can clash */
            for (size_t k = 0; k < o->n_media; k++)
                snprintf(o->media[k].mid, sizeof(o->media[k].mid), "#%zu", k);
}

static void check_same(const struct sdp_offer *o, const struct sdp_session *s)
{
    bool live = false;

    for (size_t i = 0; i < o->n_media; i++)
        live = live || !o->media[i].stopped;
    /* the candidates go on the first live m-line; with none, nowhere */
    if (s->n_media != o->n_media || s->n_cand != (live ? o->n_cand : 0) ||
        strcmp(s->ice_ufrag, o->ice_ufrag) != 0 || strcmp(s->ice_pwd, o->ice_pwd) != 0 ||
        s->fp_len != 32 || s->setup != SDP_SETUP_ACTPASS || s->ice_lite != o->ice_lite)
        __builtin_trap();
    for (size_t i = 0; i < o->n_media; i++) {
        const struct sdp_offer_media *om = &o->media[i];
        const struct sdp_media *m = &s->media[i];
        bool ssrc = om->ssrc && !om->stopped;

        if (m->kind != om->kind || strcmp(m->mid, om->mid) != 0 ||
            m->dir != (om->stopped ? SDP_INACTIVE : om->dir) || (m->port == 0) != om->stopped ||
            m->n_ssrc != (ssrc ? 1u : 0u) || (ssrc && m->ssrc[0] != om->ssrc) || !m->rtcp_mux)
            __builtin_trap();
    }
    for (size_t i = 0; i < s->n_cand; i++)
        if (memcmp(&s->cand[i], &o->cand[i], sizeof(s->cand[i])) != 0)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp_session s, back;
    static struct sdp_offer o;
    static char buf[SDP_MAX_LEN + 1]; /* more would be refused as -E2BIG */
    struct sdp_candidate c;
    char err[128];
    long n;

    if (sdp_parse_candidate((const char *)data, size, &c, err, sizeof(err)) == 0)
        candidate_round_trip(&c);
    if (sdp_parse((const char *)data, size, &s, err, sizeof(err)) != 0)
        return 0;
    offer_from(&s, &o);
    if (o.n_media == 0)
        return 0;
    n = sdp_write_offer(&o, buf, sizeof(buf));
    if (n == -ENOSPC)
        return 0; /* 64 m-lines with 256-character credentials outgrow SDP_MAX_LEN */
    if (n <= 0 || sdp_parse(buf, (size_t)n, &back, err, sizeof(err)) != 0)
        __builtin_trap();
    check_same(&o, &back);
    return 0;
}
