/* scripts/bench/rtcpeer.c: the project's own WebRTC client, N guests in one process on one
 * epoll loop, for tests that need a peer a browser will not be (a forged DTLS fingerprint, a
 * guest that goes silent) and as the capacity benchmark's load generator (Chromium is too heavy
 * for rooms of five). Each guest joins through the guest signalling, answers callbridged's
 * offers, and runs real ICE, DTLS and SRTP through its own relay on the TURN server of
 * iceServers (rtcpeer_media.c). At the end it leaves and prints what each guest did.
 *
 * Usage: rtcpeer --url https://127.0.0.1:PORT --call-id ID --secret S [--cacert FILE]
 *          [--guests N] [--seconds S] [--video-kbps K] [--forge-fingerprint]
 *          [--silent-after S] [--codecs] [--rtcp-reports] [--json]
 * --forge-fingerprint announces the fingerprint of a certificate other than the one the
 * handshake uses; --silent-after S stops every check and all media S seconds after the guest
 * connected (signalling goes on, so the end event is seen); --codecs sends real VP8 (160x120,
 * 10 frames a second) and Opus instead of payload-sized filler, so that browsers in the meeting
 * decode it (--video-kbps then does not apply); --json prints one summary object per
 * guest: its leg, remoteCandidate (callbridged's relayed candidate), connected (DTLS done), end
 * (the detail of its end event, e.g. "dtlsFailed: ..."), packets and bytes sent per kind, received
 * per remote stream (msid: the sender's leg; packets, bytes, lost by sequence numbers),
 * undecryptable and unknownSsrc packets, connectMs, firstMediaMs and endMs from its join.
 * SIGTERM or SIGINT ends the run early: the guests leave and the summary is printed as at the
 * end of --seconds. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <jansson.h>

#include "scripts/bench/rtcpeer.h"

#define TICK_MS 5
#define MAX_GUESTS 1000
#define LEAVE_WAIT_US 2000000

static void usage(void)
{
    fprintf(stderr,
            "usage: rtcpeer --url https://HOST:PORT --call-id ID --secret SECRET "
            "[--cacert FILE] [--guests N] [--seconds S] [--video-kbps K] "
            "[--forge-fingerprint] [--silent-after S] [--codecs] [--rtcp-reports] [--json]\n");
    exit(2);
}

static unsigned number(const char *s, unsigned max)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (*s == '\0' || *end || v > max)
        usage();
    return (unsigned)v;
}

static void parse_options(int argc, char **argv, struct peer_options *o)
{
    static const struct option opts[] = {{"url", 1, NULL, 'u'},
                                         {"call-id", 1, NULL, 'c'},
                                         {"secret", 1, NULL, 's'},
                                         {"cacert", 1, NULL, 'C'},
                                         {"guests", 1, NULL, 'n'},
                                         {"seconds", 1, NULL, 't'},
                                         {"video-kbps", 1, NULL, 'v'},
                                         {"forge-fingerprint", 0, NULL, 'f'},
                                         {"silent-after", 1, NULL, 'S'},
                                         {"json", 0, NULL, 'j'},
                                         {"codecs", 0, NULL, 'k'},
                                         {"rtcp-reports", 0, NULL, 'R'},
                                         {NULL, 0, NULL, 0}};
    int c;

    *o = (struct peer_options){.guests = 1, .seconds = 10, .video_kbps = 500, .silent_after_s = -1};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o->url = optarg;
            break;
        case 'c':
            o->call_id = optarg;
            break;
        case 's':
            o->secret = optarg;
            break;
        case 'C':
            o->cacert = optarg;
            break;
        case 'n':
            o->guests = number(optarg, MAX_GUESTS);
            break;
        case 't':
            o->seconds = number(optarg, 3600);
            break;
        case 'v':
            o->video_kbps = number(optarg, 20000);
            break;
        case 'f':
            o->forge_fingerprint = true;
            break;
        case 'S':
            o->silent_after_s = number(optarg, 3600);
            break;
        case 'j':
            o->json = true;
            break;
        case 'k':
            o->codecs = true;
            break;
        case 'R':
            o->rtcp_reports = true;
            break;
        default:
            usage();
        }
    }
    if (!o->url || !o->call_id || !o->secret || o->guests == 0 || optind != argc)
        usage();
}

static int setup(struct peer *p)
{
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->multi = curl_multi_init();
    p->g = calloc(p->opt.guests, sizeof(*p->g));
    for (unsigned i = 0; p->g && i < p->opt.guests; i++)
        p->g[i].fd = -1;
    if (p->epfd < 0 || !p->multi || !p->g || dtls_cert_new(&p->cert) < 0 ||
        dtls_cert_new(&p->forged) < 0 || (p->opt.codecs && peer_codec_new(&p->codec) < 0))
        return -1;
    p->start_us = turn_now_us();
    for (unsigned i = 0; i < p->opt.guests; i++) {
        struct peer_guest *g = &p->g[i];

        g->p = p;
        g->idx = i;
        snprintf(g->name, sizeof(g->name), "rtcpeer %u", i + 1);
        g->joined_us = turn_now_us();
        if (peer_sig_join(g) < 0 || peer_media_start(g, turn_now_us()) < 0)
            return -1;
        peer_sig_poll(g);
    }
    return 0;
}

static volatile sig_atomic_t stopping; /* SIGTERM or SIGINT: leave now, as at the end */

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static bool all_ended(const struct peer *p)
{
    for (unsigned i = 0; i < p->opt.guests; i++)
        if (!p->g[i].ended)
            return false;
    return true;
}

struct codec_round {
    struct peer *p;
    int64_t now;
};

/* --codecs: one encoded frame, sent by every guest that is sending. */
static void send_to_all(void *userdata, int kind, const uint8_t *data, size_t len, bool key,
                        uint32_t ts_step)
{
    const struct codec_round *r = userdata;

    (void)key;
    for (unsigned i = 0; i < r->p->opt.guests; i++)
        if (peer_media_sending(&r->p->g[i], r->now))
            peer_media_send_frame(&r->p->g[i], kind, data, len, ts_step);
}

/* --codecs: a key frame asked of any guest is made for all of them. */
static void codec_tick(struct peer *p, int64_t now)
{
    struct codec_round r = {p, now};

    for (unsigned i = 0; i < p->opt.guests; i++) {
        if (p->g[i].key_frame)
            peer_codec_key_frame(p->codec);
        p->g[i].key_frame = false;
    }
    peer_codec_tick(p->codec, now, send_to_all, &r);
}

static void run(struct peer *p)
{
    int64_t end = p->start_us + (int64_t)p->opt.seconds * 1000000;
    struct epoll_event ev[64];

    while (turn_now_us() < end && !all_ended(p) && !stopping) {
        int n = epoll_wait(p->epfd, ev, 64, TICK_MS);
        int64_t now = turn_now_us();

        for (int i = 0; i < n; i++)
            peer_media_on_readable(ev[i].data.ptr, now);
        peer_sig_done(p);
        for (unsigned i = 0; i < p->opt.guests; i++) {
            if (p->g[i].offer_pending) {
                p->g[i].offer_pending = false;
                peer_media_on_offer(&p->g[i], now);
            }
            peer_media_tick(&p->g[i], now);
            peer_sig_poll(&p->g[i]);
        }
        if (p->codec)
            codec_tick(p, now);
    }
}

/* Leaves the meeting: one POST per guest still in it, waited for (bounded). */
static void leave(struct peer *p)
{
    int64_t until = turn_now_us() + LEAVE_WAIT_US;
    bool busy = true;

    for (unsigned i = 0; i < p->opt.guests; i++) {
        struct peer_guest *g = &p->g[i];
        json_t *j = json_pack("{s:s}", "session", g->session);
        char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;

        g->leaving = true;
        if (body && !g->ended)
            (void)peer_sig_post(g, "leave", body);
        free(body);
        json_decref(j);
    }
    while (busy && turn_now_us() < until) {
        busy = false;
        (void)curl_multi_wait(p->multi, NULL, 0, 50, NULL);
        peer_sig_done(p);
        for (unsigned i = 0; i < p->opt.guests; i++)
            busy |= p->g[i].post_busy || p->g[i].nqueue > 0;
    }
}

/* "ADDR:PORT" of callbridged's relayed candidate, "" before the first offer. */
static void remote_text(const struct peer_guest *g, char *out, size_t cap)
{
    const struct sockaddr_in *a = (const struct sockaddr_in *)&g->remote;
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&g->remote;
    char host[INET6_ADDRSTRLEN] = "";

    out[0] = '\0';
    if (!g->have_remote)
        return;
    if (g->remote.ss_family == AF_INET)
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    else
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
    snprintf(out, cap, "%s:%u", host,
             ntohs(g->remote.ss_family == AF_INET ? a->sin_port : a6->sin6_port));
}

static json_t *summary(const struct peer_guest *g)
{
    static const char *const kinds[PEER_KINDS] = {"audio", "video"};
    json_t *rx = json_array();
    int64_t t0 = g->joined_us;
    char remote[INET6_ADDRSTRLEN + 8];

    for (size_t i = 0; i < g->nrx; i++) {
        const struct peer_rx *s = &g->rx[i];
        uint64_t expected = s->packets ? (uint64_t)(s->max_ext - s->base_seq) + 1 : 0;

        json_array_append_new(
            rx, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "msid", s->msid, "kind", kinds[s->kind],
                          "ssrc", (json_int_t)s->ssrc, "packets", (json_int_t)s->packets, "bytes",
                          (json_int_t)s->bytes, "lost",
                          (json_int_t)(expected > s->packets ? expected - s->packets : 0)));
    }
    remote_text(g, remote, sizeof(remote));
    return json_pack(
        "{s:i, s:s, s:s, s:b, s:s, s:{s:{s:I, s:I}, s:{s:I, s:I}}, s:o, s:I, s:I, s:I, s:I, s:I, "
        "s:I}",
        "guest", (int)g->idx, "leg", g->leg, "remoteCandidate", remote, "connected", g->out != NULL,
        "end", g->end, "sent", "audio", "packets", (json_int_t)g->sent_packets[0], "bytes",
        (json_int_t)g->sent_bytes[0], "video", "packets", (json_int_t)g->sent_packets[1], "bytes",
        (json_int_t)g->sent_bytes[1], "received", rx, "rtcpReceived", (json_int_t)g->rtcp,
        "undecryptable", (json_int_t)g->undecryptable, "unknownSsrc", (json_int_t)g->unknown_ssrc,
        "connectMs", (json_int_t)(g->connected_us ? (g->connected_us - t0) / 1000 : -1),
        "firstMediaMs", (json_int_t)(g->first_media_us ? (g->first_media_us - t0) / 1000 : -1),
        "endMs", (json_int_t)(g->ended_us ? (g->ended_us - t0) / 1000 : -1));
}

static void report(const struct peer *p)
{
    for (unsigned i = 0; i < p->opt.guests; i++) {
        const struct peer_guest *g = &p->g[i];
        json_t *j = summary(g);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

        if (p->opt.json && text) {
            printf("%s\n", text);
        } else if (!p->opt.json) {
            uint64_t rx = 0;

            for (size_t k = 0; k < g->nrx; k++)
                rx += g->rx[k].packets;
            printf(
                "guest %u leg %s: %s, sent %llu+%llu packets, received %llu in %zu streams%s%s\n",
                i, g->leg, g->out ? "connected" : "not connected",
                (unsigned long long)g->sent_packets[0], (unsigned long long)g->sent_packets[1],
                (unsigned long long)rx, g->nrx, g->end[0] ? ", ended: " : "", g->end);
        }
        free(text);
        json_decref(j);
    }
    fflush(stdout);
}

static void teardown(struct peer *p)
{
    for (unsigned i = 0; p->g && i < p->opt.guests; i++) {
        peer_sig_free(&p->g[i]);
        peer_media_free(&p->g[i]);
    }
    free(p->g);
    if (p->multi)
        curl_multi_cleanup(p->multi);
    if (p->epfd >= 0)
        close(p->epfd);
    dtls_cert_free(p->cert);
    dtls_cert_free(p->forged);
    peer_codec_free(p->codec);
}

int main(int argc, char **argv)
{
    struct peer p = {.epfd = -1};
    int rc = 0;

    parse_options(argc, argv, &p.opt);
    (void)signal(SIGPIPE, SIG_IGN);
    (void)signal(SIGTERM, on_stop);
    (void)signal(SIGINT, on_stop);
    alarm(p.opt.seconds + 60); /* a bound whatever happens */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    if (setup(&p) < 0) {
        fprintf(stderr, "rtcpeer: cannot start (see above)\n");
        rc = 1;
    } else {
        run(&p);
        leave(&p);
        report(&p);
    }
    teardown(&p);
    curl_global_cleanup();
    return rc;
}
