/* media/rtc.c: a WebRTC leg's signalling and life: the m-lines of its offers (the guest's own
 * camera and microphone, then each other participant's audio and video), the offers themselves,
 * the browser's answer and trickled candidates, the silence timeout, and the end of the leg,
 * told to the guest signalling (media_config.rtc_signal). The datagrams are rtc_path.c's.
 *
 * DESIGN: callbridged is always the offerer, so there is never glare: while an offer waits for
 * its answer, changes to the call only set need_offer, and the answer sends the next offer. A
 * participant who leaves keeps its m-lines, stopped (port 0); once SDP_MAX_MEDIA are in use a
 * newcomer reuses stopped ones with a new mid (RFC 8843 §7.3, RFC 3264 §8.3.3), so a long meeting
 * does not grow its SDP without end. The m-lines change only as an offer is made. A WebRTC leg
 * does not move to another TURN server by itself, as a plain leg does: the browser holds a pair
 * on the old relay, so the leg ends with reconnect set and the page joins again (leg.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "media/rtc.h"

#define SILENCE_DEFAULT_S 30
#define OFFER_MAX (64 * 1024) /* an offer of SDP_MAX_MEDIA m-lines is about 33 KB (sdp.h) */

static uint32_t random_u32(void)
{
    uint32_t v = 0;

    while (v == 0)
        if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
            v = (uint32_t)turn_now_us() | 1;
    return v;
}

/* ---- slots and offers ---------------------------------------------------------------------- */

static struct rtc_slot *new_slot(struct media_rtc *r)
{
    struct rtc_slot *s = NULL;

    if (r->nslots < SDP_MAX_MEDIA) {
        s = &r->slots[r->nslots++];
    } else {
        for (size_t i = 2; i < r->nslots && !s; i++) /* reuse a stopped one, with a new mid */
            if (r->slots[i].stopped)
                s = &r->slots[i];
    }
    if (s) {
        memset(s, 0, sizeof(*s));
        snprintf(s->mid, sizeof(s->mid), "%u", r->next_mid++);
    }
    return s;
}

/* Gives leg l the m-lines that carry src's audio and video. */
static void add_source(struct media_leg *l, struct media_leg *src)
{
    for (int k = 0; k < RTC__KINDS; k++) {
        struct rtc_slot *s = new_slot(l->rtc);

        if (!s) {
            base_logf(&l->m->cfg.log, BASE_LOG_WARN,
                      "callLeg %s: no m-line left for callLeg %s's media", l->id, src->id);
            return;
        }
        s->kind = k;
        s->src = src;
    }
}

static bool has_source(const struct media_rtc *r, const struct media_leg *src)
{
    for (size_t i = 0; i < r->nslots; i++)
        if (r->slots[i].src == src)
            return true;
    return false;
}

/* The m-lines change only here, as an offer is made: an answer always answers the m-lines of
 * the offer it answers, however the call changed while it was on its way. */
static void add_new_sources(struct media_leg *l)
{
    for (size_t i = 0; i < l->call->n; i++) {
        struct media_leg *o = l->call->legs[i];

        if (o != l && o->rtc && !o->rtc->ended && !has_source(l->rtc, o))
            add_source(l, o);
    }
    media_sfu_route(l->call);
}

static void fill_offer_media(const struct media_leg *l, struct sdp_offer *o)
{
    const struct media_rtc *r = l->rtc;

    for (size_t i = 0; i < r->nslots; i++) {
        const struct rtc_slot *s = &r->slots[i];
        struct sdp_offer_media *om = &o->media[o->n_media++];

        om->kind = s->kind == RTC_AUDIO ? SDP_AUDIO : SDP_VIDEO;
        snprintf(om->mid, sizeof(om->mid), "%s", s->mid);
        om->dir = s->own ? SDP_RECVONLY : SDP_SENDONLY;
        om->stopped = s->stopped;
        if (s->own || s->stopped)
            continue;
        om->ssrc = s->src->rtc->fwd_ssrc[s->kind];
        snprintf(om->msid, sizeof(om->msid), "%s", s->src->id);
        snprintf(om->track, sizeof(om->track), "%s-%s", s->src->id,
                 s->kind == RTC_AUDIO ? "audio" : "video");
        snprintf(om->cname, sizeof(om->cname), "%s", s->src->rtc->cname);
    }
}

static void add_candidate(struct sdp_offer *o, const struct sockaddr_storage *addr,
                          enum sdp_cand_type type)
{
    struct sdp_candidate *c = &o->cand[o->n_cand++];
    /* RFC 8445 §5.1.2.1: type preference 126 for host, 0 for relayed */
    uint32_t pref = type == SDP_CAND_HOST ? 126u : 0u;

    memset(c, 0, sizeof(*c));
    snprintf(c->foundation, sizeof(c->foundation), "%d", type == SDP_CAND_HOST ? 2 : 1);
    c->component = 1;
    c->priority = (pref << 24) | (65535u << 8) | 255u;
    c->addr = *addr;
    c->type = type;
}

/* The leg's relayed address and its host candidate, those it has (a lite agent's candidates
 * are its offer's). */
static void fill_offer_candidates(const struct media_leg *l, struct sdp_offer *o)
{
    o->n_cand = 0;
    if (l->alloc) {
        struct turn_alloc_info info;

        turn_alloc_get_info(l->alloc, &info);
        if (info.state == TURN_ALLOC_READY)
            add_candidate(o, &info.relayed, SDP_CAND_RELAY);
    }
    if (l->rtc->host_cand.ss_family != AF_UNSPEC)
        add_candidate(o, &l->rtc->host_cand, SDP_CAND_HOST);
}

static void send_offer(struct media_leg *l)
{
    struct media_rtc *r = l->rtc;
    struct sdp_offer *o = calloc(1, sizeof(*o));
    char *text = malloc(OFFER_MAX);
    long n = -ENOMEM;

    if (o && text) {
        add_new_sources(l);
        o->session_id = r->session_id;
        o->version = ++r->version;
        snprintf(o->ice_ufrag, sizeof(o->ice_ufrag), "%s", r->ice.local_ufrag);
        snprintf(o->ice_pwd, sizeof(o->ice_pwd), "%s", r->ice.local_pwd);
        snprintf(o->fingerprint, sizeof(o->fingerprint), "%s", dtls_cert_fingerprint(l->m->cert));
        o->ice_lite = true;
        fill_offer_candidates(l, o);
        fill_offer_media(l, o);
        n = sdp_write_offer(o, text, OFFER_MAX);
    }
    if (n < 0) {
        base_logf(&l->m->cfg.log, BASE_LOG_ERR, "callLeg %s: cannot write an offer (%s)", l->id,
                  strerror((int)-n));
    } else {
        r->offered = r->awaiting_answer = true;
        r->need_offer = false;
        base_logf(&l->m->cfg.log, BASE_LOG_DEBUG, "callLeg %s: offer %llu, %zu m-lines", l->id,
                  (unsigned long long)r->version, r->nslots);
        media_rtc_signal(l, MEDIA_RTC_OFFER, text, false);
    }
    free(o);
    free(text);
}

static void maybe_offer(struct media_leg *l)
{
    struct media_rtc *r = l->rtc;

    if (r->ended || !l->ready || r->awaiting_answer || (r->offered && !r->need_offer))
        return;
    send_offer(l);
}

/* ---- life of the leg ----------------------------------------------------------------------- */

/* Sets up l (just created, in its call) as a WebRTC leg, and tells the call's other WebRTC legs
 * about it. Returns 0 or -ENOMEM/-EIO. */
int media_rtc_attach(struct media_leg *l, const struct media_cmd *c, int64_t now)
{
    struct media_rtc *r = calloc(1, sizeof(*r));
    int e;

    if (!r)
        return -ENOMEM;
    l->rtc = r;
    snprintf(r->name, sizeof(r->name), "%.63s", c->name);
    if (ice_lite_init(&r->ice) < 0)
        return -EIO;
    for (int k = 0; k < RTC__KINDS; k++) {
        r->fwd_ssrc[k] = random_u32();
        r->rx[k].dynamic_clock = k == RTC_AUDIO ? 48000 : 90000;
    }
    r->rtcp_ssrc = random_u32();
    snprintf(r->cname, sizeof(r->cname), "%08x%08x", random_u32(), random_u32());
    r->session_id = random_u32();
    r->next_channel = MEDIA_CHANNEL;
    r->last_alive_us = now;
    if ((e = media_rtc_host_open(l)) < 0) /* the relay may do without it */
        base_logf(&l->m->cfg.log, BASE_LOG_ERR, "callLeg %s: no host candidate (%s)", l->id,
                  strerror(-e));
    for (int k = 0; k < RTC__KINDS; k++) {
        struct rtc_slot *s = new_slot(r);

        s->kind = k;
        s->own = true;
    }
    for (size_t i = 0; i < l->call->n; i++) { /* the others offer the newcomer's media */
        struct media_leg *o = l->call->legs[i];

        if (o == l || !o->rtc || o->rtc->ended)
            continue;
        o->rtc->need_offer = true;
        maybe_offer(o);
    }
    return 0;
}

/* The pair's local end as the API shows it: the host candidate when the selected pair is on
 * it; else the relay, or the host candidate when there is no relay. m->lock held. */
static void local_candidate_text(struct media_leg *l)
{
    const struct media_rtc *r = l->rtc;
    char host[INET6_ADDRSTRLEN];
    unsigned port;

    if (l->pub.relayed[0] && !(r->have_peer && r->peer_host)) {
        snprintf(l->pub.local_candidate, sizeof(l->pub.local_candidate), "relay %s:%u",
                 l->pub.relayed, l->pub.relayed_port);
    } else if (r->host_cand.ss_family != AF_UNSPEC) {
        media_addr_text(&r->host_cand, host, sizeof(host), &port);
        snprintf(l->pub.local_candidate, sizeof(l->pub.local_candidate), "host %s:%u", host, port);
    }
}

/* The leg may offer: published once, with the address the browser will be offered. */
static void ready_to_offer(struct media_leg *l, const struct sockaddr_storage *relayed,
                           int64_t expires_us, int64_t now)
{
    unsigned port;

    l->ready = true;
    pthread_mutex_lock(&l->m->lock);
    l->pub.webrtc = true;
    if (!l->rtc->have_answer)
        snprintf(l->pub.reason, sizeof(l->pub.reason), "waiting for the browser's answer");
    if (relayed) {
        media_addr_text(relayed, l->pub.relayed, sizeof(l->pub.relayed), &port);
        l->pub.relayed_port = (uint16_t)port;
        l->pub.lifetime_left_s = (expires_us - now) / 1000000;
    }
    local_candidate_text(l);
    pthread_mutex_unlock(&l->m->lock);
}

/* The allocation is ready: the relayed address is a candidate of the first offer. */
void media_rtc_advance(struct media_leg *l, int64_t now)
{
    if (!l->ready) {
        struct turn_alloc_info info;

        turn_alloc_get_info(l->alloc, &info);
        ready_to_offer(l, &info.relayed, info.expires_us, now);
    }
    maybe_offer(l);
}

void media_rtc_host_only(struct media_leg *l, int64_t now)
{
    if (!l->ready)
        ready_to_offer(l, NULL, 0, now);
    maybe_offer(l);
}

void media_rtc_free(struct media_leg *l)
{
    struct media_rtc *r = l->rtc;

    if (!r)
        return;
    r->ended = true; /* the others' next offers (made just below) must not take it back in */
    for (size_t i = 0; l->call && i < l->call->n; i++) {
        struct media_leg *o = l->call->legs[i];

        if (o == l || !o->rtc)
            continue;
        for (size_t j = 0; j < o->rtc->nslots; j++) {
            if (o->rtc->slots[j].src == l) {
                o->rtc->slots[j].src = NULL;
                o->rtc->slots[j].stopped = true;
                o->rtc->need_offer = true;
            }
        }
        maybe_offer(o);
    }
    if (l->call)
        media_sfu_route(l->call); /* l is ended: no table keeps it */
    media_rtc_host_close(l);
    dtls_conn_free(r->dtls);
    srtp_ctx_free(r->in);
    srtp_ctx_free(r->out);
    free(r);
    l->rtc = NULL;
}

/* ---- the browser's answer and candidates --------------------------------------------------- */

/* A candidate of the browser's: kept for the pair's type, and given a permission on the relay
 * (the host candidate needs none). */
static void permit(struct media_leg *l, const struct sdp_candidate *c, int64_t now)
{
    struct media_rtc *r = l->rtc;
    struct turn_alloc_info info = {.state = TURN_ALLOC_FAILED};

    if (c->component != 1 || c->tcp)
        return; /* rtcp-mux: component 1 only */
    if (r->n_remote_cands < SDP_MAX_CANDS)
        r->remote_cands[r->n_remote_cands++] = *c;
    if (l->alloc)
        turn_alloc_get_info(l->alloc, &info);
    /* a relay over UDP reaches only its own family */
    if (info.state != TURN_ALLOC_READY || c->addr.ss_family != info.relayed.ss_family ||
        turn_alloc_has_permission(l->alloc, (const struct sockaddr *)&c->addr))
        return;
    if (turn_alloc_add_peer(l->alloc, (const struct sockaddr *)&c->addr, 0, now) < 0)
        base_logf(&l->m->cfg.log, BASE_LOG_WARN,
                  "callLeg %s: no permission for one more candidate address (the most is %d)",
                  l->id, TURN_MAX_PEERS);
}

static void on_answer(struct media_leg *l, const struct sdp_session *s, int64_t now)
{
    struct media_rtc *r = l->rtc;
    char why[160];

    if (!r->awaiting_answer) {
        base_logf(&l->m->cfg.log, BASE_LOG_WARN, "callLeg %s: an answer to no offer, ignored",
                  l->id);
        return;
    }
    if (s->n_media != r->nslots) {
        snprintf(why, sizeof(why), "signallingFailed: the answer has %zu m-lines, the offer %zu",
                 s->n_media, r->nslots);
        media_rtc_end(l, why, false);
        return;
    }
    if (r->have_answer && memcmp(r->remote_fp, s->fp, DTLS_FP_LEN) != 0) {
        media_rtc_end(l, "dtlsFailed: the fingerprint changed in a later answer", false);
        return;
    }
    memcpy(r->remote_fp, s->fp, DTLS_FP_LEN);
    r->dtls_server = s->setup == SDP_SETUP_ACTIVE;
    snprintf(r->ice.remote_ufrag, sizeof(r->ice.remote_ufrag), "%s", s->ice_ufrag);
    snprintf(r->ice.remote_pwd, sizeof(r->ice.remote_pwd), "%s", s->ice_pwd);
    if (!r->have_answer) /* the browser's checks can start only now: its silence too */
        r->last_alive_us = now;
    r->have_answer = true;
    r->awaiting_answer = false;
    base_logf(&l->m->cfg.log, BASE_LOG_DEBUG, "callLeg %s: answer to offer %llu", l->id,
              (unsigned long long)r->version);
    for (size_t i = 0; i < s->n_cand; i++)
        permit(l, &s->cand[i], now);
    media_rtc_start_dtls(l, now);          /* its checks may have come first */
    for (size_t i = 0; i < r->nslots; i++) /* the streams it has just agreed to receive */
        if (r->slots[i].src && !r->slots[i].stopped)
            media_sfu_request_key_frame(r->slots[i].src, now);
    maybe_offer(l);
}

void media_rtc_command(struct media_leg *l, const struct media_cmd *c, int64_t now)
{
    if (!l->rtc || l->rtc->ended) /* over */
        return;
    if (c->kind == MEDIA_CMD_RTC_NOTE) /* the browser's TURN server may refuse it at once */
        snprintf(l->rtc->note, sizeof(l->rtc->note), "%.119s", c->name);
    else if (!l->ready) /* an answer or a candidate before any offer: nothing to apply it to */
        return;
    else if (c->kind == MEDIA_CMD_RTC_ANSWER)
        on_answer(l, c->data, now);
    else if (c->data)
        permit(l, c->data, now);
}

/* ---- every second ------------------------------------------------------------------------- */

void media_rtc_housekeeping(struct media_leg *l, int64_t now)
{
    struct media_rtc *r = l->rtc;
    unsigned silence = l->m->cfg.rtc_silence_s ? l->m->cfg.rtc_silence_s : SILENCE_DEFAULT_S;
    char why[200];

    if (r->ended)
        return;
    if (now - r->last_alive_us > (int64_t)silence * 1000000) {
        if (r->connected)
            snprintf(why, sizeof(why), "timeout: no consent check and no media for %u s", silence);
        else if (r->ice.valid)
            snprintf(why, sizeof(why), "dtlsFailed: no DTLS handshake in %u s", silence);
        else if (r->note[0])
            snprintf(why, sizeof(why), "iceFailed: %s", r->note);
        else if (!r->have_answer)
            snprintf(why, sizeof(why), "signallingFailed: no answer to the offer in %u s", silence);
        else
            snprintf(why, sizeof(why), "iceFailed: no valid connectivity check in %u s%s", silence,
                     r->ice.refused ? " (checks came with wrong credentials)" : "");
        media_rtc_end(l, why, false);
        return;
    }
    media_sfu_reports(l, now);
}

static void pair_text(const struct media_leg *l, char *out, size_t cap)
{
    const struct media_rtc *r = l->rtc;
    char host[INET6_ADDRSTRLEN] = "?";
    const char *type = "prflx";
    unsigned port;

    if (!r->have_peer) {
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; i < r->n_remote_cands; i++) {
        const struct sdp_candidate *c = &r->remote_cands[i];

        if (media_same_address(&c->addr, (const struct sockaddr *)&r->peer))
            type = c->type == SDP_CAND_RELAY   ? "relay"
                   : c->type == SDP_CAND_SRFLX ? "srflx"
                   : c->type == SDP_CAND_HOST  ? "host"
                                               : "prflx";
    }
    media_addr_text(&r->peer, host, sizeof(host), &port);
    snprintf(out, cap, "%s %s:%u", type, host, port);
}

/* What the guest's reports say of the streams of kind k it receives now, one per other
 * participant: the packets lost added up, the worst stream's loss and jitter. */
static void tx_reports(const struct media_rtc *r, int k, struct media_stream_status *tx)
{
    for (size_t i = 0; i < r->nslots; i++) {
        const struct rtc_slot *s = &r->slots[i];
        double loss, jitter;

        if (s->own || s->stopped || s->kind != k || !s->have_rb)
            continue;
        tx->lost += s->rb.cumulative_lost > 0 ? (uint64_t)s->rb.cumulative_lost : 0;
        loss = s->rb.fraction_lost * 100.0 / 256.0;
        jitter = s->rb.jitter * 1000.0 / (k == RTC_AUDIO ? 48000.0 : 90000.0);
        if (loss > tx->loss_percent)
            tx->loss_percent = loss;
        if (jitter > tx->jitter_ms)
            tx->jitter_ms = jitter;
    }
}

/* m->lock held. */
void media_rtc_publish(struct media_leg *l, int64_t interval_us)
{
    struct media_rtc *r = l->rtc;

    l->pub.webrtc = true;
    l->pub.has_rtt = r->rtt_us > 0;
    l->pub.rtt_ms = (double)r->rtt_us / 1000.0;
    local_candidate_text(l);
    pair_text(l, l->pub.remote_candidate, sizeof(l->pub.remote_candidate));
    for (int k = 0; k < RTC__KINDS; k++) {
        struct media_stream_status *rx =
            &l->pub.streams[k == RTC_AUDIO ? MEDIA_RX_AUDIO : MEDIA_RX_VIDEO];
        struct media_stream_status *tx =
            &l->pub.streams[k == RTC_AUDIO ? MEDIA_TX_AUDIO : MEDIA_TX_VIDEO];
        const char *codec = k == RTC_AUDIO ? "opus" : "vp8";
        struct media_rtp_stats s;
        struct rtc_tx *t = &r->tx[k];

        media_rtpstats_publish(&r->rx[k], &s, interval_us);
        memset(rx, 0, sizeof(*rx));
        rx->active = s.seen;
        snprintf(rx->codec, sizeof(rx->codec), "%s", codec);
        rx->packets = s.received;
        rx->bytes = r->rx[k].bytes;
        rx->lost = s.lost;
        rx->loss_percent = s.loss_percent;
        rx->jitter_ms = s.jitter_ms;
        rx->bit_rate = s.bit_rate;
        memset(tx, 0, sizeof(*tx));
        tx->active = t->packets > 0;
        snprintf(tx->codec, sizeof(tx->codec), "%s", codec);
        tx->packets = t->packets;
        tx->bytes = t->bytes;
        tx->bit_rate = media_rtpstats_bit_rate(t->bytes, &t->bytes_at_tick, interval_us);
        tx_reports(r, k, tx);
    }
}
