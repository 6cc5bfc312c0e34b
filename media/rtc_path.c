/* media/rtc_path.c: a WebRTC leg's datagrams, after path.c took off the TURN framing or as they
 * came to the host candidate (rtc_host.c): who sent it (a permitted candidate address, the
 * selected pair's remote end on its channel, or any address on the host candidate), then by its
 * first byte (RFC 7983): STUN to ICE lite (turnclient), DTLS to the leg's handshake, SRTP and
 * SRTCP decrypted and handed to the forwarding (sfu.c). Media thread only.
 *
 * DESIGN: the pair is selected by the browser (it is controlling, RFC 8445 §7.3.1.5): the
 * address of the first valid check is the peer until one with USE-CANDIDATE names another; a
 * channel is bound to it, and what callbridged sends goes there. DTLS and media are accepted
 * from every address a valid check came from (a browser may move its media to another valid pair
 * a moment before its nominating check arrives); what comes from another permitted address is a
 * stranger's and is counted. Until the channel is confirmed, answers go out as Send indications
 * (turn_alloc_send picks). A pair is an address and the candidate of ours it reached (relay or
 * host): an answer goes back the way its check came. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "media/rtc.h"

/* An SRTP packet and the room protect needs, on the stack: what a TURN datagram can carry. */
#define PKT_MAX (2048 + SRTP_OVERHEAD)

static void flush_dtls(struct media_leg *l)
{
    uint8_t buf[PKT_MAX];
    long n;

    while ((n = dtls_conn_take(l->rtc->dtls, buf, sizeof(buf))) > 0)
        (void)media_rtc_send(l, buf, (size_t)n);
}

/* The handshake finished: SRTP both ways, and a key frame from every sender for the newcomer. */
static void dtls_connected(struct media_leg *l, int64_t now)
{
    struct media_rtc *r = l->rtc;
    struct dtls_srtp_keys k;
    int e = dtls_conn_srtp_keys(r->dtls, &k);

    if (e == 0)
        e = srtp_ctx_new(&k, false, &r->in);
    if (e == 0)
        e = srtp_ctx_new(&k, true, &r->out);
    memset(&k, 0, sizeof(k));
    if (e < 0) {
        media_rtc_end(l, "dtlsFailed: no SRTP keys from the handshake", false);
        return;
    }
    r->connected = true;
    media_leg_publish(l, MEDIA_LEG_CONNECTED, NULL);
    if (r->peer_host)
        base_logf(&l->m->cfg.log, BASE_LOG_INFO, "callLeg %s (%s): connected on its host candidate",
                  l->id, r->name);
    else
        base_logf(&l->m->cfg.log, BASE_LOG_INFO, "callLeg %s (%s): connected through turnServer %s",
                  l->id, r->name, l->server.spec.id);
    for (size_t i = 0; i < l->call->n; i++)
        if (l->call->legs[i] != l && l->call->legs[i]->rtc)
            media_sfu_request_key_frame(l->call->legs[i], now);
}

static void after_dtls(struct media_leg *l, int64_t now)
{
    struct media_rtc *r = l->rtc;
    char why[200];

    flush_dtls(l);
    switch (dtls_conn_state(r->dtls)) {
    case DTLS_CONNECTED:
        if (!r->in)
            dtls_connected(l, now);
        break;
    case DTLS_FAILED:
        snprintf(why, sizeof(why), "dtlsFailed: %s", dtls_conn_error(r->dtls));
        media_rtc_end(l, why, false);
        break;
    case DTLS_CLOSED:
        media_rtc_end(l, "left: the browser closed DTLS", false);
        break;
    default:
        break;
    }
}

/* The channel bound to addr, 0 when none. */
static uint16_t channel_of(const struct media_rtc *r, const struct sockaddr *addr)
{
    for (size_t i = 0; i < r->n_chans; i++)
        if (media_same_address(&r->chans[i].addr, addr))
            return r->chans[i].channel;
    return 0;
}

/* The selected peer gets a channel (RFC 8656 §12: 4 bytes of framing instead of 36), once; a
 * channel stays bound to its address (it cannot be rebound for 10 minutes), so a browser that
 * moves among a few pairs finds each one's channel again. */
static void bind_channel(struct media_leg *l, const struct sockaddr *peer, int64_t now)
{
    struct media_rtc *r = l->rtc;

    if (channel_of(r, peer) || r->n_chans == RTC_VALID_MAX || r->next_channel > 0x4FFF ||
        turn_alloc_add_peer(l->alloc, peer, r->next_channel, now) < 0)
        return;
    r->chans[r->n_chans].channel = r->next_channel++;
    memcpy(&r->chans[r->n_chans++].addr, peer,
           peer->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

/* The browser selected a pair: a channel bound to its address when it is on the relay, DTLS
 * started when we are the client. */
static void select_peer(struct media_leg *l, const struct sockaddr *peer, bool on_host, int64_t now)
{
    struct media_rtc *r = l->rtc;
    char host[INET6_ADDRSTRLEN];
    unsigned port;

    if (r->have_peer && r->peer_host == on_host && media_same_address(&r->peer, peer))
        return;
    memcpy(&r->peer, peer,
           peer->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    r->have_peer = true;
    r->peer_host = on_host;
    media_addr_text(peer, host, sizeof(host), &port);
    base_logf(&l->m->cfg.log, BASE_LOG_DEBUG, "callLeg %s: the pair is now %s:%u on the %s", l->id,
              host, port, on_host ? "host candidate" : "relay");
    if (!on_host)
        bind_channel(l, peer, now);
    media_rtc_start_dtls(l, now);
}

/* DTLS starts once there are both a pair and an answer, whichever came last: a browser's first
 * check may reach us before its answer does. */
void media_rtc_start_dtls(struct media_leg *l, int64_t now)
{
    struct media_rtc *r = l->rtc;

    if (r->dtls || !r->have_answer || !r->have_peer || r->ended)
        return;
    if (dtls_conn_new(l->m->cert, r->dtls_server, r->remote_fp, &r->dtls) < 0) {
        media_rtc_end(l, "dtlsFailed: out of memory", false);
        return;
    }
    base_logf(&l->m->cfg.log, BASE_LOG_DEBUG, "callLeg %s: DTLS starts, callbridged is the %s",
              l->id, r->dtls_server ? "server" : "client");
    if (!r->dtls_server)
        (void)dtls_conn_start(r->dtls, now);
    after_dtls(l, now);
}

static bool is_valid(const struct media_rtc *r, const struct sockaddr *from, bool on_host)
{
    for (size_t i = 0; i < r->n_valid; i++)
        if (r->valid[i].host == on_host && media_same_address(&r->valid[i].addr, from))
            return true;
    return false;
}

static void remember_valid(struct media_rtc *r, const struct sockaddr *from, bool on_host)
{
    if (is_valid(r, from, on_host))
        return;
    if (r->n_valid == RTC_VALID_MAX) { /* the oldest goes */
        memmove(r->valid, r->valid + 1, (RTC_VALID_MAX - 1) * sizeof(r->valid[0]));
        r->n_valid--;
    }
    memcpy(&r->valid[r->n_valid].addr, from,
           from->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    r->valid[r->n_valid++].host = on_host;
}

static void on_stun(struct media_leg *l, const uint8_t *msg, size_t len,
                    const struct sockaddr *from, bool on_host, int64_t now)
{
    struct media_rtc *r = l->rtc;
    uint8_t out[512];
    size_t n = 0;
    unsigned nominations = r->ice.nominations;
    enum ice_verdict v = ice_lite_on_stun(&r->ice, msg, len, from, now, out, sizeof(out), &n);

    if (v != ICE_SUCCESS && !is_valid(r, from, on_host)) { /* a stranger's */
        atomic_fetch_add_explicit(&l->strangers, 1, memory_order_relaxed);
        if (now - r->refusals_since_us >= 1000000) {
            r->refusals_since_us = now;
            r->refusals = 0;
        }
        if (v == ICE_IGNORE || r->refusals >= RTC_REFUSALS_PER_S)
            return;
        r->refusals++;
    }
    if (v == ICE_IGNORE)
        return;
    (void)media_rtc_send_to(l, on_host, from, out, n);
    if (v != ICE_SUCCESS)
        return;
    r->last_alive_us = now;
    remember_valid(r, from, on_host);
    /* the first valid check's pair serves until the browser nominates (its DTLS may start as
     * soon as a check succeeds); the latest nominating check's pair is the pair from then on
     * (the same address may be valid on both of our candidates) */
    if (!r->have_peer || r->ice.nominations != nominations)
        select_peer(l, from, on_host, now);
}

/* SRTP or SRTCP from the selected peer: decrypted into a copy, then forwarded. */
static void on_srtp(struct media_leg *l, const uint8_t *data, size_t len, bool rtcp, int64_t now)
{
    struct media_rtc *r = l->rtc;
    uint8_t buf[PKT_MAX];
    size_t n = len;
    int e;

    if (!r->in || len > sizeof(buf) - SRTP_OVERHEAD) {
        media_count(l, rtcp ? MEDIA_RTCP : MEDIA_RTP, MEDIA_C_DROP, 1);
        return;
    }
    memcpy(buf, data, len);
    e = rtcp ? srtp_ctx_unprotect_rtcp(r->in, buf, &n) : srtp_ctx_unprotect(r->in, buf, &n);
    if (e < 0) {
        media_count(l, rtcp ? MEDIA_RTCP : MEDIA_RTP, MEDIA_C_DROP, 1);
        return;
    }
    r->last_alive_us = now;
    if (rtcp)
        media_sfu_rtcp(l, buf, n, now);
    else
        media_sfu_rtp(l, buf, n, now);
}

/* Anyone may send to the host candidate: only a valid check makes a pair of its address. */
void media_rtc_on_datagram(struct media_leg *l, const uint8_t *data, size_t len,
                           const struct sockaddr *from, bool on_host, int64_t now)
{
    struct media_rtc *r = l->rtc;
    enum media_class c = media_class_of(data, len);

    media_count(l, c, MEDIA_C_RX_PKT, 1);
    media_count(l, c, MEDIA_C_RX_BYTES, len);
    if (r->ended)
        return;
    if (c == MEDIA_STUN) {
        on_stun(l, data, len, from, on_host, now);
        return;
    }
    if (c == MEDIA_OTHER || !is_valid(r, from, on_host)) { /* counted, not logged: a stranger's
                                                            * flood must cost it more than it
                                                            * costs us */
        atomic_fetch_add_explicit(&l->strangers, 1, memory_order_relaxed);
        media_count(l, c, MEDIA_C_DROP, 1);
        return;
    }
    if (c == MEDIA_DTLS) {
        if (!r->dtls) { /* before the answer, or before a valid check: it comes again */
            media_count(l, c, MEDIA_C_DROP, 1);
            return;
        }
        (void)dtls_conn_feed(r->dtls, data, len, now);
        after_dtls(l, now);
        return;
    }
    on_srtp(l, data, len, c == MEDIA_RTCP, now);
}

void media_rtc_on_data(struct media_leg *l, const struct turn_data *d, int64_t now)
{
    struct media_rtc *r = l->rtc;
    const struct sockaddr *from;

    if (d->channel) { /* a channel of ours: the address it is bound to */
        const struct sockaddr_storage *a = NULL;

        for (size_t i = 0; i < r->n_chans && !a; i++)
            if (r->chans[i].channel == d->channel)
                a = &r->chans[i].addr;
        if (!a) {
            l->malformed_path++;
            return;
        }
        from = (const struct sockaddr *)a;
    } else {
        from = (const struct sockaddr *)&d->peer;
        if (!turn_alloc_has_permission(l->alloc, from)) {
            l->malformed_path++;
            return;
        }
    }
    media_rtc_on_datagram(l, d->ptr, d->len, from, false, now);
}

int64_t media_rtc_deadline(const struct media_leg *l)
{
    return l->rtc && l->rtc->dtls && !l->rtc->ended ? dtls_conn_deadline(l->rtc->dtls) : INT64_MAX;
}

void media_rtc_on_timer(struct media_leg *l, int64_t now)
{
    if (media_rtc_deadline(l) > now)
        return;
    dtls_conn_on_timer(l->rtc->dtls, now);
    after_dtls(l, now);
}
