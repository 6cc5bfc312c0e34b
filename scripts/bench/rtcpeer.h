/* scripts/bench/rtcpeer.h: the project's own WebRTC guest (rtcpeer), shared by its files:
 * rtcpeer.c (options, the one epoll loop, the summary), rtcpeer_sig.c (the guest signalling over
 * HTTPS: join, events, answer, leave), rtcpeer_sdp.c (what an offer says, the answer written
 * back), rtcpeer_media.c (TURN relay, ICE checks, DTLS client, SRTP, synthetic media) and
 * rtcpeer_codec.c (--codecs: real VP8 and Opus instead). */
#ifndef SCRIPTS_BENCH_RTCPEER_H
#define SCRIPTS_BENCH_RTCPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "media/webrtc/dtls.h"
#include "media/webrtc/sdp.h"
#include "turnclient/turnclient.h"

#define PEER_KINDS 2 /* 0 audio (Opus), 1 video (VP8) */
#define PEER_QUEUE 4 /* POSTs waiting per guest */

struct peer_options {
    const char *url, *call_id, *secret, *cacert;
    unsigned guests, seconds, video_kbps;
    bool forge_fingerprint, json;
    bool codecs;           /* real VP8 and Opus (rtcpeer_codec.c), not payload-sized filler */
    double silent_after_s; /* after connecting; < 0: never */
    bool rtcp_reports;     /* a sender report every second, with a report block on each
                            * remote stream whose sender report came (LSR, DLSR), as browsers
                            * send them: the server can measure its round trip */
};

/* What one guest receives of one remote stream (a sendonly m-line of the offers). */
struct peer_rx {
    uint32_t ssrc;
    int kind;
    char msid[64]; /* the sender's leg id */
    uint64_t packets, bytes;
    uint32_t base_seq, max_ext; /* extended sequence numbers (RFC 3550 A.1, without probation) */
};

struct peer_buf {
    char *data;
    size_t len;
};

struct peer;

struct peer_guest {
    struct peer *p;
    unsigned idx;
    bool offer_pending; /* an offer event came in (rtcpeer_sig.c); the loop answers it */
    char name[32], session[80], leg[64];
    char base[256]; /* the node it was sent to in a cluster ("": --url) */
    /* signalling */
    CURL *ev, *post;
    struct peer_buf ev_body, post_body;
    bool ev_busy, post_busy, leaving;
    char *queue[PEER_QUEUE]; /* "verb\nbody" */
    size_t nqueue;
    unsigned post_tries; /* of the head of the queue */
    long long after;
    /* the TURN relay */
    char turn_user[520], turn_pass[260];
    struct sockaddr_storage turn;
    int fd;
    struct turn_alloc *alloc;
    bool answered;
    /* ICE, DTLS, SRTP toward callbridged's relayed candidate */
    struct sdp_session *offer; /* the latest offer */
    struct sockaddr_storage remote;
    bool have_remote;
    char ufrag[9], pwd[25];
    uint8_t tid[12], tie_breaker[8];
    int pt[PEER_KINDS]; /* the offer's payload types for what we send */
    bool ice_ok;
    int64_t next_check_us;
    struct dtls_conn *dtls;
    struct srtp_ctx *in, *out;
    /* media sent */
    uint32_t ssrc[PEER_KINDS], ts[PEER_KINDS];
    uint16_t seq[PEER_KINDS];
    uint64_t sent_packets[PEER_KINDS], sent_bytes[PEER_KINDS];
    int64_t next_send_us[PEER_KINDS];
    unsigned frames;
    bool key_frame; /* a PLI or FIR came: the next frame is a key frame */
    char cname[17];
    /* media received */
    struct peer_rx rx[SDP_MAX_MEDIA];
    size_t nrx;
    uint64_t undecryptable, unknown_ssrc, rtcp;
    int64_t joined_us, connected_us, first_media_us, ended_us;
    bool ended;
    char end[256];
    /* --rtcp-reports: the last sender report of each remote stream, and the next report due */
    struct {
        uint32_t ssrc, lsr; /* lsr: the middle 32 bits of its NTP time */
        int64_t at_us;
    } srs[8];
    size_t nsrs;
    int64_t next_report_us;
};

struct peer {
    struct peer_options opt;
    CURLM *multi;
    int epfd;
    struct dtls_cert *cert, *forged; /* forged: announced, never used */
    struct peer_codec *codec;        /* --codecs */
    struct peer_guest *g;
    int64_t start_us;
};

/* rtcpeer_sig.c */
int peer_sig_join(struct peer_guest *g);
void peer_sig_poll(struct peer_guest *g); /* keeps an events request running */
int peer_sig_post(struct peer_guest *g, const char *verb, const char *body); /* queued */
void peer_sig_done(struct peer *p); /* finished transfers */
void peer_sig_free(struct peer_guest *g);

/* rtcpeer_sdp.c */
void peer_sdp_streams(struct peer_guest *g, const char *text);
long peer_sdp_answer(const struct peer_guest *g, const char *fingerprint, char *buf, size_t cap);

/* rtcpeer_media.c */
void peer_media_on_offer(struct peer_guest *g, int64_t now_us);
void peer_media_on_readable(struct peer_guest *g, int64_t now_us);
void peer_media_tick(struct peer_guest *g, int64_t now_us);
int peer_media_start(struct peer_guest *g, int64_t now_us); /* the allocation */
void peer_media_free(struct peer_guest *g);
/* --codecs: true when the guest is connected and sending; sends one encoded frame of kind
 * (0 Opus, 1 VP8) and then advances its RTP timestamp by ts_step. */
bool peer_media_sending(const struct peer_guest *g, int64_t now_us);
void peer_media_send_frame(struct peer_guest *g, int kind, const uint8_t *data, size_t len,
                           uint32_t ts_step);

/* rtcpeer_codec.c */
struct peer_codec;
typedef void (*peer_codec_send_fn)(void *userdata, int kind, const uint8_t *data, size_t len,
                                   bool key, uint32_t ts_step);
int peer_codec_new(struct peer_codec **ret); /* 0, -ENOMEM or -EINVAL (an encoder refused) */
void peer_codec_free(struct peer_codec *c);
void peer_codec_key_frame(struct peer_codec *c); /* the next video frame is a key frame */
/* Encodes what is due by now_us, each frame given to send. */
void peer_codec_tick(struct peer_codec *c, int64_t now_us, peer_codec_send_fn send, void *userdata);

#endif
