/* scripts/bench/rtcpeer_media.c: one rtcpeer guest's media path, as a browser with
 * iceTransportPolicy relay runs it: a relay allocated on the TURN server of iceServers
 * (turn_alloc_*), a permission and a channel for callbridged's relayed candidate, ICE
 * connectivity checks to it as the controlling agent with aggressive nomination (RFC 8445
 * §7.2.2, §8.1.1: USERNAME "<their ufrag>:<our ufrag>", PRIORITY, ICE-CONTROLLING,
 * USE-CANDIDATE, MESSAGE-INTEGRITY with their ice-pwd, FINGERPRINT) repeated as consent checks
 * (RFC 7675), DTLS as the client once a check succeeded (media/webrtc/dtls.h), then SRTP:
 * synthetic Opus-sized audio every 20 ms and VP8-sized video at 30 frames a second (or, with
 * --codecs, the real frames of rtcpeer_codec.c), and what comes back counted per remote stream
 * (packets, bytes, loss from sequence numbers).
 *
 * DESIGN: a valid answer to a check is one whose transaction id is ours and whose
 * MESSAGE-INTEGRITY is made with their ice-pwd (RFC 8445 §7.2.5.2.1), so a stranger on the
 * relay cannot make the guest believe it is connected. Media goes out as the payload sizes of
 * a real call, not real codecs: callbridged forwards without decoding. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "media/webrtc/rtcp.h"
#include "scripts/bench/rtcpeer.h"
#include "turnclient/stun.h"
#include "turnclient/txn.h"

#define PKT_MAX (1500 + SRTP_OVERHEAD)
#define CHANNEL 0x4000
#define AUDIO_BYTES 100 /* an Opus frame of 20 ms at about 40 kbit/s */
#define VIDEO_MTU 1100  /* payload bytes per video packet */
#define KEY_EVERY 90    /* frames: a key frame every 3 s */
#define CHECK_GAP_US 500000
#define CONSENT_GAP_US 2000000

static int send_fn(void *userdata, const uint8_t *buf, size_t len)
{
    const struct peer_guest *g = userdata;

    if (send(g->fd, buf, len, MSG_NOSIGNAL) < 0)
        return errno == EAGAIN || errno == ENOBUFS ? 0 : -errno;
    return 0;
}

static void random_chars(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char raw[32];

    (void)RAND_bytes(raw, (int)n);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[raw[i] & 63];
    out[n] = '\0';
}

int peer_media_start(struct peer_guest *g, int64_t now_us)
{
    struct turn_alloc_config cfg = {.username = g->turn_user,
                                    .password = g->turn_pass,
                                    .software = "rtcpeer",
                                    .max_stale_nonce = 3,
                                    .send = send_fn,
                                    .userdata = g};
    socklen_t alen =
        g->turn.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = g};

    random_chars(g->ufrag, 8);
    random_chars(g->pwd, 24);
    random_chars(g->cname, 16);
    (void)RAND_bytes((unsigned char *)g->ssrc, sizeof(g->ssrc));
    (void)RAND_bytes((unsigned char *)g->seq, sizeof(g->seq));
    (void)RAND_bytes(g->tie_breaker, sizeof(g->tie_breaker));
    turn_txn_config_rfc(&cfg.txn);
    g->fd = socket(g->turn.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g->fd < 0 || connect(g->fd, (struct sockaddr *)&g->turn, alen) < 0 ||
        epoll_ctl(g->p->epfd, EPOLL_CTL_ADD, g->fd, &ev) < 0)
        return -errno;
    if (turn_alloc_new(&cfg, &g->alloc) < 0)
        return -ENOMEM;
    return turn_alloc_start(g->alloc, now_us);
}

/* The first offer's candidate is callbridged's relayed address: the one remote candidate. */
static void take_remote(struct peer_guest *g, int64_t now_us)
{
    const struct sdp_session *s = g->offer;

    for (size_t i = 0; i < s->n_cand && !g->have_remote; i++) {
        if (s->cand[i].component != 1 || s->cand[i].tcp ||
            s->cand[i].addr.ss_family != g->turn.ss_family)
            continue;
        g->remote = s->cand[i].addr;
        g->have_remote = true;
    }
    if (g->have_remote)
        (void)turn_alloc_add_peer(g->alloc, (struct sockaddr *)&g->remote, CHANNEL, now_us);
}

/* Answers the latest offer once the relay is up: its relayed address is our candidate. */
static void try_answer(struct peer_guest *g, int64_t now_us)
{
    const struct peer *p = g->p;
    const char *fp = dtls_cert_fingerprint(p->opt.forge_fingerprint ? p->forged : p->cert);
    static char sdp[64 * 1024];
    struct turn_alloc_info info;
    json_t *j;
    char *body;
    long n;

    turn_alloc_get_info(g->alloc, &info);
    if (g->answered || !g->offer || info.state != TURN_ALLOC_READY)
        return;
    if (!g->have_remote)
        take_remote(g, now_us);
    for (size_t i = 0; i < g->offer->n_media; i++) { /* our own slots: the offer's recvonly */
        const struct sdp_media *m = &g->offer->media[i];

        if (m->dir == SDP_RECVONLY && m->kind == SDP_AUDIO)
            g->pt[0] = m->opus_pt;
        else if (m->dir == SDP_RECVONLY && m->kind == SDP_VIDEO)
            g->pt[1] = m->vp8_pt;
    }
    n = peer_sdp_answer(g, fp, sdp, sizeof(sdp));
    j = n < 0 ? NULL : json_pack("{s:s, s:s}", "session", g->session, "sdp", sdp);
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (!body || peer_sig_post(g, "answer", body) < 0)
        fprintf(stderr, "rtcpeer: guest %u: cannot send an answer\n", g->idx);
    else
        g->answered = true;
    free(body);
    json_decref(j);
}

void peer_media_on_offer(struct peer_guest *g, int64_t now_us)
{
    g->answered = false;
    try_answer(g, now_us);
}

static void send_check(struct peer_guest *g)
{
    const struct sdp_session *s = g->offer;
    uint8_t buf[1024];
    char user[2 * SDP_ICE_MAX + 2];
    struct stun_writer w;
    long n;

    (void)RAND_bytes(g->tid, sizeof(g->tid));
    snprintf(user, sizeof(user), "%s:%s", s->ice_ufrag, g->ufrag);
    stun_writer_init(&w, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, g->tid);
    stun_put_str(&w, STUN_ATTR_USERNAME, user);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, (110u << 24) | (65535u << 8) | 255u); /* prflx */
    stun_put_bytes(&w, STUN_ATTR_ICE_CONTROLLING, g->tie_breaker, sizeof(g->tie_breaker));
    stun_put_bytes(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
    stun_put_integrity(&w, (const uint8_t *)s->ice_pwd, strlen(s->ice_pwd));
    stun_put_fingerprint(&w);
    n = stun_writer_finish(&w);
    if (n > 0)
        (void)turn_alloc_send(g->alloc, (struct sockaddr *)&g->remote, buf, (size_t)n);
}

static void flush_dtls(struct peer_guest *g)
{
    uint8_t buf[PKT_MAX];
    long n;

    while ((n = dtls_conn_take(g->dtls, buf, sizeof(buf))) > 0)
        (void)turn_alloc_send(g->alloc, (struct sockaddr *)&g->remote, buf, (size_t)n);
}

static void after_dtls(struct peer_guest *g, int64_t now_us)
{
    struct dtls_srtp_keys k;

    flush_dtls(g);
    if (g->out || dtls_conn_state(g->dtls) != DTLS_CONNECTED)
        return;
    if (dtls_conn_srtp_keys(g->dtls, &k) == 0 && srtp_ctx_new(&k, false, &g->in) == 0 &&
        srtp_ctx_new(&k, true, &g->out) == 0) {
        g->connected_us = now_us;
        g->next_send_us[0] = g->next_send_us[1] = now_us;
        g->key_frame = true;
    }
    memset(&k, 0, sizeof(k));
}

/* A valid answer to our check: the pair works; DTLS starts (we are a=setup:active). */
static void on_stun(struct peer_guest *g, const uint8_t *buf, size_t len, int64_t now_us)
{
    const char *pwd = g->offer ? g->offer->ice_pwd : "";
    struct stun_msg m;

    if (stun_decode_datagram(buf, len, &m) < 0 || m.method != STUN_BINDING ||
        m.cls != STUN_SUCCESS || memcmp(m.tid, g->tid, sizeof(g->tid)) != 0 ||
        stun_check_integrity(&m, (const uint8_t *)pwd, strlen(pwd)) != 0)
        return;
    g->ice_ok = true;
    if (g->dtls || dtls_conn_new(g->p->cert, false, g->offer->fp, &g->dtls) < 0)
        return;
    (void)dtls_conn_start(g->dtls, now_us);
    after_dtls(g, now_us);
}

static struct peer_rx *stream_of(struct peer_guest *g, uint32_t ssrc)
{
    for (size_t i = 0; i < g->nrx; i++)
        if (g->rx[i].ssrc == ssrc)
            return &g->rx[i];
    return NULL;
}

static void on_rtp(struct peer_guest *g, const uint8_t *data, size_t len, int64_t now_us)
{
    uint8_t buf[PKT_MAX];
    size_t n = len;
    struct peer_rx *s;
    uint16_t seq;

    if (!g->in || len > sizeof(buf))
        return;
    memcpy(buf, data, len);
    if (srtp_ctx_unprotect(g->in, buf, &n) < 0 || n < 12) {
        g->undecryptable++;
        return;
    }
    s = stream_of(g, (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 |
                         buf[11]);
    if (!s) {
        g->unknown_ssrc++;
        return;
    }
    seq = (uint16_t)(buf[2] << 8 | buf[3]);
    if (s->packets == 0) {
        s->base_seq = s->max_ext = seq;
    } else {
        uint16_t ahead = (uint16_t)(seq - (uint16_t)s->max_ext);

        if (ahead < 0x8000) /* newer (RFC 3550 A.1); an older one is a reordering */
            s->max_ext += ahead;
    }
    s->packets++;
    s->bytes += n;
    if (!g->first_media_us)
        g->first_media_us = now_us;
}

/* --rtcp-reports: a sender report (RFC 3550 §6.4.1) from ssrc, its NTP time's middle 32 bits
 * in h[10..13], kept for the report blocks. */
static void keep_sr(struct peer_guest *g, const uint8_t *h, int64_t now_us)
{
    uint32_t ssrc = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
    size_t i;

    for (i = 0; i < g->nsrs && g->srs[i].ssrc != ssrc; i++)
        ;
    if (i == g->nsrs && g->nsrs < sizeof(g->srs) / sizeof(g->srs[0]))
        g->nsrs++;
    if (i == g->nsrs)
        return;
    g->srs[i].ssrc = ssrc;
    g->srs[i].lsr = (uint32_t)h[10] << 24 | (uint32_t)h[11] << 16 | (uint32_t)h[12] << 8 | h[13];
    g->srs[i].at_us = now_us;
}

/* SRTCP: counted; a PLI or FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1) asks for a key frame. */
static void on_rtcp(struct peer_guest *g, const uint8_t *data, size_t len, int64_t now_us)
{
    uint8_t buf[PKT_MAX];
    size_t n = len;

    if (!g->in || len > sizeof(buf))
        return;
    memcpy(buf, data, len);
    if (srtp_ctx_unprotect_rtcp(g->in, buf, &n) < 0) {
        g->undecryptable++;
        return;
    }
    g->rtcp++;
    for (size_t off = 0; off + 4 <= n;) {
        const uint8_t *h = buf + off;

        if (h[1] == 206 && ((h[0] & 31) == 1 || (h[0] & 31) == 4))
            g->key_frame = true;
        if (h[1] == 200 && off + 28 <= n && g->p->opt.rtcp_reports)
            keep_sr(g, h, now_us);
        off += ((size_t)(h[2] << 8 | h[3]) + 1) * 4;
    }
}

static bool is_remote(const struct peer_guest *g, const struct turn_data *d)
{
    const struct sockaddr_in *a = (const struct sockaddr_in *)&d->peer;
    const struct sockaddr_in *b = (const struct sockaddr_in *)&g->remote;
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&d->peer;
    const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&g->remote;

    if (d->channel)
        return d->channel == turn_alloc_channel(g->alloc, (const struct sockaddr *)&g->remote);
    if (d->peer.ss_family != g->remote.ss_family)
        return false;
    if (d->peer.ss_family == AF_INET)
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    return a6->sin6_port == b6->sin6_port &&
           memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

void peer_media_on_readable(struct peer_guest *g, int64_t now_us)
{
    uint8_t buf[PKT_MAX + 64];
    ssize_t n;

    while ((n = recv(g->fd, buf, sizeof(buf), 0)) > 0) {
        struct turn_data d;
        int r = turn_data_decode(buf, (size_t)n, false, &d);

        if (r == -ENOMSG)
            (void)turn_alloc_feed(g->alloc, buf, (size_t)n, now_us);
        if (r < 0 || !g->have_remote || !is_remote(g, &d))
            continue; /* only callbridged's candidate is a peer of ours */
        switch (turn_demux(d.ptr, d.len)) {
        case TURN_DEMUX_STUN:
            on_stun(g, d.ptr, d.len, now_us);
            break;
        case TURN_DEMUX_DTLS:
            if (g->dtls) {
                (void)dtls_conn_feed(g->dtls, d.ptr, d.len, now_us);
                after_dtls(g, now_us);
            }
            break;
        case TURN_DEMUX_RTP:
            on_rtp(g, d.ptr, d.len, now_us);
            break;
        case TURN_DEMUX_RTCP:
            on_rtcp(g, d.ptr, d.len, now_us);
            break;
        default:
            break;
        }
    }
}

/* The 12-byte RTP header of the guest's next packet of kind k; its sequence number is taken. */
static void rtp_header(struct peer_guest *g, int k, bool marker, uint8_t *buf)
{
    buf[0] = 0x80;
    buf[1] = (uint8_t)((marker ? 0x80 : 0) | (g->pt[k] & 0x7f));
    buf[2] = (uint8_t)(g->seq[k] >> 8);
    buf[3] = (uint8_t)g->seq[k];
    for (int i = 0; i < 4; i++) {
        buf[4 + i] = (uint8_t)(g->ts[k] >> (24 - 8 * i));
        buf[8 + i] = (uint8_t)(g->ssrc[k] >> (24 - 8 * i));
    }
    g->seq[k]++;
}

/* Protects and sends the packet (header and payload bytes in buf), counted as kind k. */
static void send_srtp(struct peer_guest *g, int k, uint8_t *buf, size_t n, size_t cap)
{
    size_t plain = n;

    if (srtp_ctx_protect(g->out, buf, &n, cap) < 0 ||
        turn_alloc_send(g->alloc, (struct sockaddr *)&g->remote, buf, n) < 0)
        return;
    g->sent_packets[k]++;
    g->sent_bytes[k] += plain;
}

static void send_rtp(struct peer_guest *g, int k, size_t payload, bool first, bool last, bool key)
{
    uint8_t buf[PKT_MAX];
    size_t n = 12 + payload;

    memset(buf, 0, n);
    rtp_header(g, k, last && k == 1, buf);
    if (k == 1) { /* VP8 payload descriptor (RFC 7741 §4.2): S on a frame's first packet */
        buf[12] = first ? 0x10 : 0x00;
        buf[13] = first && !key ? 0x01 : 0x00; /* VP8 header: P = 1 for an inter frame */
    }
    send_srtp(g, k, buf, n, sizeof(buf));
}

static void send_frame(struct peer_guest *g)
{
    bool key = g->key_frame || g->frames % KEY_EVERY == 0;
    size_t bytes = (size_t)g->p->opt.video_kbps * 1000 / 8 / 30 * (key ? 4 : 1);

    for (size_t off = 0; off < bytes; off += VIDEO_MTU) {
        size_t n = bytes - off < VIDEO_MTU ? bytes - off : VIDEO_MTU;

        send_rtp(g, 1, n < 2 ? 2 : n, off == 0, off + VIDEO_MTU >= bytes, key);
    }
    g->key_frame = false;
    g->frames++;
    g->ts[1] += 3000; /* 90 kHz, 30 frames a second */
}

/* RFC 7741 §4.2: a VP8 frame in packets of at most VIDEO_MTU bytes, each behind a payload
 * descriptor with a 15-bit PictureID (X, I and M set), S on the first, the marker on the last. */
static void send_vp8(struct peer_guest *g, const uint8_t *frame, size_t len)
{
    uint8_t buf[PKT_MAX];

    for (size_t off = 0; off < len; off += VIDEO_MTU) {
        size_t chunk = len - off < VIDEO_MTU ? len - off : VIDEO_MTU;

        rtp_header(g, 1, off + chunk >= len, buf);
        buf[12] = (uint8_t)(0x80 | (off == 0 ? 0x10 : 0)); /* X, S, partition 0 */
        buf[13] = 0x80;                                    /* I: a PictureID follows */
        buf[14] = (uint8_t)(0x80 | ((g->frames >> 8) & 0x7f));
        buf[15] = (uint8_t)g->frames;
        memcpy(buf + 16, frame + off, chunk);
        send_srtp(g, 1, buf, 16 + chunk, sizeof(buf));
    }
}

void peer_media_send_frame(struct peer_guest *g, int kind, const uint8_t *data, size_t len,
                           uint32_t ts_step)
{
    uint8_t buf[PKT_MAX];

    if (kind == 1) {
        send_vp8(g, data, len);
        g->frames++;
    } else if (12 + len + SRTP_OVERHEAD <= sizeof(buf)) {
        rtp_header(g, 0, false, buf);
        memcpy(buf + 12, data, len);
        send_srtp(g, 0, buf, 12 + len, sizeof(buf));
    }
    g->ts[kind] += ts_step;
}

static void send_media(struct peer_guest *g, int64_t now_us)
{
    static const int64_t gap_us[PEER_KINDS] = {20000, 33333};

    for (int k = 0; k < PEER_KINDS; k++) {
        if (g->next_send_us[k] < now_us - 200000)
            g->next_send_us[k] = now_us; /* the loop stalled: no burst to catch up */
        while (g->next_send_us[k] <= now_us) {
            if (k == 0) {
                send_rtp(g, 0, AUDIO_BYTES, true, true, false);
                g->ts[0] += 960; /* 48 kHz, 20 ms */
            } else if (g->p->opt.video_kbps > 0) {
                send_frame(g);
            }
            g->next_send_us[k] += gap_us[k];
        }
    }
}

/* --rtcp-reports: every second a compound SR (its audio stream, with a block on each remote
 * stream whose sender report came: LSR and DLSR, RFC 3550 §6.4.1) and SDES CNAME. */
static void send_report(struct peer_guest *g, int64_t now_us)
{
    struct rtcp_report_block b[8] = {0};
    struct rtcp_sender_info si = {0};
    uint8_t buf[PKT_MAX];
    struct timespec ts;
    size_t n;
    long a, c;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    si.ntp = ((uint64_t)ts.tv_sec + 2208988800u) << 32 | ((uint64_t)ts.tv_nsec << 32) / 1000000000u;
    si.rtp_ts = g->ts[0];
    si.packets = (uint32_t)g->sent_packets[0];
    si.octets = (uint32_t)g->sent_bytes[0];
    for (size_t i = 0; i < g->nsrs; i++) {
        b[i].ssrc = g->srs[i].ssrc;
        b[i].lsr = g->srs[i].lsr;
        b[i].dlsr = (uint32_t)((now_us - g->srs[i].at_us) * 65536 / 1000000);
    }
    a = rtcp_write_sr(buf, sizeof(buf), g->ssrc[0], &si, b, g->nsrs);
    c = a < 0 ? a : rtcp_write_sdes_cname(buf + a, sizeof(buf) - (size_t)a, g->ssrc[0], g->cname);
    if (c < 0)
        return;
    n = (size_t)(a + c);
    if (srtp_ctx_protect_rtcp(g->out, buf, &n, sizeof(buf)) == 0)
        (void)turn_alloc_send(g->alloc, (struct sockaddr *)&g->remote, buf, n);
}

/* --silent-after: S seconds after the guest connected, it stops every check and all media. */
static bool is_silent(const struct peer_guest *g, int64_t now_us)
{
    double after = g->p->opt.silent_after_s;

    return after >= 0 && g->connected_us && now_us - g->connected_us >= (int64_t)(after * 1e6);
}

void peer_media_tick(struct peer_guest *g, int64_t now_us)
{
    bool silent = is_silent(g, now_us);
    struct turn_alloc_info info;

    if (turn_alloc_next_deadline(g->alloc) <= now_us)
        turn_alloc_on_timer(g->alloc, now_us);
    turn_alloc_get_info(g->alloc, &info);
    if (info.state == TURN_ALLOC_FAILED && !g->ended) { /* a guest without a relay is done */
        g->ended = true;
        g->ended_us = now_us;
        snprintf(g->end, sizeof(g->end), "rtcpeer: no relay on the TURN server (%s: %s)",
                 turn_failure_name(info.failure), info.reason);
    }
    try_answer(g, now_us);
    if (g->dtls && dtls_conn_deadline(g->dtls) <= now_us) {
        dtls_conn_on_timer(g->dtls, now_us);
        after_dtls(g, now_us);
    }
    if (silent || g->ended || !g->answered || !g->have_remote ||
        !turn_alloc_peer_ready(g->alloc, (struct sockaddr *)&g->remote))
        return;
    if (now_us >= g->next_check_us) {
        send_check(g);
        g->next_check_us = now_us + (g->ice_ok ? CONSENT_GAP_US : CHECK_GAP_US);
    }
    if (g->out && !g->p->codec)
        send_media(g, now_us);
    if (g->out && g->p->opt.rtcp_reports && now_us >= g->next_report_us) {
        send_report(g, now_us);
        g->next_report_us = now_us + 1000000;
    }
}

bool peer_media_sending(const struct peer_guest *g, int64_t now_us)
{
    return g->out && !g->ended && !is_silent(g, now_us) && g->answered && g->have_remote &&
           turn_alloc_peer_ready(g->alloc, (const struct sockaddr *)&g->remote);
}

void peer_media_free(struct peer_guest *g)
{
    if (g->alloc)
        (void)turn_alloc_release(g->alloc, turn_now_us()); /* one Refresh LIFETIME=0 */
    turn_alloc_free(g->alloc);
    dtls_conn_free(g->dtls);
    srtp_ctx_free(g->in);
    srtp_ctx_free(g->out);
    if (g->fd >= 0)
        close(g->fd);
}
