/* media/rtc.h: what a WebRTC leg (a guest's browser) holds besides a plain leg's allocation, and
 * the entry points of the files that work on it: rtc.c (signalling: offers, answers, candidates,
 * the end of a leg), rtc_path.c (ICE, DTLS and SRTP on the leg's datagrams) and sfu.c
 * (forwarding among the participants, RTCP). Private to media/; media thread only, except what
 * rtc_publish copies into the leg's pub under m->lock. */
#ifndef MEDIA_RTC_H
#define MEDIA_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "media/media_int.h"
#include "media/webrtc/dtls.h"
#include "media/webrtc/rtcp.h"
#include "media/webrtc/sdp.h"

enum { RTC_AUDIO, RTC_VIDEO, RTC__KINDS };
#define RTC_VALID_MAX 4
#define RTC_SR_KEPT 4 /* sender reports remembered per stream, for round trips (sfu.c) */
/* Refusals (a Binding request with wrong credentials, from an address no valid check came
 * from) answered per leg per second; the rest are dropped and counted as a stranger's. A 400 or
 * 401 is larger than the smallest request that earns it, and a UDP source address can be forged:
 * unbounded, the host candidate would reflect a flood at someone else. */
#define RTC_REFUSALS_PER_S 8

/* One m-line of the leg's offers. The first two are the guest's own camera and microphone
 * (callbridged receives them); the others each carry one kind of another participant's media. */
struct rtc_slot {
    int kind; /* RTC_AUDIO, RTC_VIDEO */
    char mid[8];
    bool own;                    /* the guest's own: a=recvonly */
    bool stopped;                /* its participant left: port 0 until the slot is reused */
    struct media_leg *src;       /* !own and !stopped: whose media it carries */
    struct rtcp_report_block rb; /* !own: the guest's latest report on the stream */
    bool have_rb;
};

struct rtc_tx { /* what callbridged sends the guest of one kind (the reports are per slot) */
    uint64_t packets, bytes, bytes_at_tick;
};

struct media_rtc {
    char name[64];
    char note[120]; /* the browser's word on its ICE trouble (media_rtc_note) */
    struct ice_lite ice;
    struct dtls_conn *dtls;
    struct srtp_ctx *in, *out;
    bool dtls_server;               /* the browser answered a=setup:active */
    uint8_t remote_fp[DTLS_FP_LEN]; /* from the answer */
    bool have_answer;
    struct sockaddr_storage peer; /* the selected pair's remote end (the browser's candidate) */
    bool have_peer;
    bool peer_host; /* the selected pair's local end is the host candidate, not the relay */
    /* Every pair a valid check came on (RFC 8445 §7.3.1.4), the newest last: the browser's
     * address, and which of our candidates it reached. DTLS and SRTP are taken from any of
     * them, since a controlling browser may move its media to another valid pair a moment
     * before its nominating check arrives. */
    struct rtc_pair {
        struct sockaddr_storage addr;
        bool host;
    } valid[RTC_VALID_MAX];
    size_t n_valid;
    struct sockaddr_storage host_cand; /* the host candidate as offered (AF_UNSPEC: none) */
    uint16_t next_channel;
    struct { /* the channels bound so far, each to a pair's remote end */
        uint16_t channel;
        struct sockaddr_storage addr;
    } chans[RTC_VALID_MAX];
    size_t n_chans;
    struct rtc_slot slots[SDP_MAX_MEDIA];
    size_t nslots;
    unsigned next_mid;
    uint64_t session_id, version;
    bool offered, awaiting_answer, need_offer, ended, connected;
    uint32_t fwd_ssrc[RTC__KINDS]; /* the SSRCs this guest's media goes out with to the others */
    uint32_t rx_ssrc[RTC__KINDS];  /* what the browser sends with (0: nothing seen yet) */
    uint32_t rtcp_ssrc;            /* callbridged's own, in the reports it sends this guest */
    char cname[17];
    struct media_rtpstats rx[RTC__KINDS];
    uint64_t rx_expected_prior[RTC__KINDS], rx_received_prior[RTC__KINDS];
    uint32_t last_sr_mid[RTC__KINDS]; /* the middle 32 bits of the last SR's NTP time (LSR) */
    int64_t last_sr_us[RTC__KINDS];
    /* the last RTC_SR_KEPT sender reports passed on (LSR and when), for the receivers' reports,
     * which may name one that is not the latest */
    uint32_t sr_kept_mid[RTC__KINDS][RTC_SR_KEPT];
    int64_t sr_kept_us[RTC__KINDS][RTC_SR_KEPT];
    unsigned sr_kept_next[RTC__KINDS];
    int64_t rtt_us; /* the last round trip to the browser (RFC 3550 §6.4.1); 0: none yet */
    struct rtc_tx tx[RTC__KINDS];
    /* sfu.c's forwarding table (media_sfu_route): the legs whose m-lines carry this guest's media
     * of each kind, so that a packet touches only its receivers */
    struct media_leg *routes[RTC__KINDS][MEDIA_MAX_LEGS_PER_CALL];
    size_t n_routes[RTC__KINDS];
    struct sdp_candidate remote_cands[SDP_MAX_CANDS]; /* trickled, for the pair's type */
    size_t n_remote_cands;
    int64_t last_alive_us, last_pli_us;
    int64_t refusals_since_us; /* the second the refusals are counted in (RTC_REFUSALS_PER_S) */
    unsigned refusals;
};

/* rtc.c */
int media_rtc_attach(struct media_leg *l, const struct media_cmd *c, int64_t now_us);
void media_rtc_end(struct media_leg *l, const char *why, bool reconnect); /* wire.c */
void media_rtc_advance(struct media_leg *l, int64_t now_us); /* after the allocation moved */
void media_rtc_housekeeping(struct media_leg *l, int64_t now_us);
void media_rtc_free(struct media_leg *l); /* the leg is going: the others' slots for it stop */
void media_rtc_publish(struct media_leg *l, int64_t interval_us); /* m->lock held */

/* rtc_path.c: a datagram that arrived on the leg's allocation (its TURN framing removed), or
 * one from the address from on the relay or on the host candidate's socket (on_host). */
void media_rtc_on_data(struct media_leg *l, const struct turn_data *d, int64_t now_us);
void media_rtc_on_datagram(struct media_leg *l, const uint8_t *data, size_t len,
                           const struct sockaddr *from, bool on_host, int64_t now_us);
/* rtc_host.c: the leg's host candidate: its socket opened (0 or -errno; the offered address in
 * r->host_cand), read (up to a batch of datagrams), closed. */
int media_rtc_host_open(struct media_leg *l);
void media_rtc_host_on_readable(struct media_leg *l, int64_t now_us);
void media_rtc_host_close(struct media_leg *l);
/* rtc.c: the leg's relay failed while its host candidate may still carry it (no pair selected,
 * or the host one): it goes on without TURN, offering now if it had not. */
void media_rtc_host_only(struct media_leg *l, int64_t now_us);
/* wire.c: sends data to the guest's selected address (through the relay or from the host
 * candidate), or to addr on the given candidate. 0 or -errno. */
int media_rtc_send(struct media_leg *l, const uint8_t *data, size_t len);
int media_rtc_send_to(struct media_leg *l, bool host, const struct sockaddr *addr,
                      const uint8_t *data, size_t len);
/* wire.c: an offer or an end for the guest signalling (media_config.rtc_signal). */
void media_rtc_signal(struct media_leg *l, enum media_rtc_signal kind, const char *text,
                      bool reconnect);
/* The DTLS retransmission timer. */
/* Starts DTLS when the leg has both a selected pair and an answer (and no DTLS yet). */
void media_rtc_start_dtls(struct media_leg *l, int64_t now_us);
int64_t media_rtc_deadline(const struct media_leg *l);
void media_rtc_on_timer(struct media_leg *l, int64_t now_us);

/* sfu.c: decrypted RTP and RTCP from the guest of leg l; key frame requests. */
void media_sfu_rtp(struct media_leg *l, uint8_t *pkt, size_t len, int64_t now_us);
void media_sfu_rtcp(struct media_leg *l, uint8_t *pkt, size_t len, int64_t now_us);
void media_sfu_request_key_frame(struct media_leg *src, int64_t now_us);
void media_sfu_reports(struct media_leg *l, int64_t now_us); /* every second: RR to the guest */
/* Rebuilds the forwarding tables of call c's WebRTC legs from their m-lines; rtc.c calls it
 * whenever those change (an offer adds sources, a participant who leaves stops its slots). */
void media_sfu_route(struct media_call *c);

#endif
