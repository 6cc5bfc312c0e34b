/* media/webrtc/sdp.h: the SDP (RFC 8866) callbridged needs as a WebRTC endpoint: a parser for
 * what a browser sends (its answer, and the candidates it trickles) and a writer for the offers
 * callbridged makes. Pure: no sockets, no clocks, no allocation; everything lives in the
 * caller's structs. The parser refuses, with a sentence naming the line, anything it cannot
 * read safely, and ignores the attributes it does not use (RFC 8866 §5.13). */
#ifndef MEDIA_WEBRTC_SDP_H
#define MEDIA_WEBRTC_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SDP_MAX_LEN (32 * 1024) /* larger is refused before parsing */
#define SDP_MAX_MEDIA 64        /* m-lines (32 participants' audio and video) */
#define SDP_MAX_SSRC 4          /* a=ssrc ids kept per m-line */
#define SDP_MAX_CANDS 16        /* a=candidate lines kept per description */
#define SDP_MID_MAX 32
#define SDP_ICE_MAX 256 /* ice-ufrag and ice-pwd, RFC 8839 §5.4: at most 256 characters */
#define SDP_FP_MAX 64   /* fingerprint bytes (sha-512 at most) */

/* The payload types callbridged offers and forwards with. */
#define SDP_PT_OPUS 111
#define SDP_PT_VP8 96

enum sdp_kind { SDP_AUDIO, SDP_VIDEO, SDP_APPLICATION, SDP_OTHER };
enum sdp_dir { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };
enum sdp_setup { SDP_SETUP_NONE, SDP_SETUP_ACTPASS, SDP_SETUP_ACTIVE, SDP_SETUP_PASSIVE };
enum sdp_cand_type { SDP_CAND_HOST, SDP_CAND_SRFLX, SDP_CAND_PRFLX, SDP_CAND_RELAY };
enum sdp_tcptype { SDP_TCPTYPE_PASSIVE, SDP_TCPTYPE_ACTIVE, SDP_TCPTYPE_SO }; /* RFC 6544 §4.5 */

/* An ICE candidate (RFC 8839 §5.1). */
struct sdp_candidate {
    char foundation[33];
    unsigned component;       /* 1 = RTP (with rtcp-mux the only one that counts) */
    bool tcp;                 /* transport TCP (RFC 6544); false: UDP */
    enum sdp_tcptype tcptype; /* with tcp: its tcptype (a TCP candidate without one is refused) */
    uint32_t priority;
    struct sockaddr_storage addr; /* address and port; AF_UNSPEC for an mDNS name (.local) */
    enum sdp_cand_type type;
};

struct sdp_media {
    enum sdp_kind kind;
    uint16_t port; /* 0: rejected or stopped */
    char mid[SDP_MID_MAX + 1];
    enum sdp_dir dir;
    bool rtcp_mux;
    int opus_pt, vp8_pt; /* the payload type the description gives each codec, -1 when absent */
    uint32_t ssrc[SDP_MAX_SSRC]; /* a=ssrc ids in order of first appearance; for an
                                  * a=ssrc-group:FID (RTX) only the first (the media) */
    size_t n_ssrc;
};

struct sdp_session {
    /* ICE and DTLS: session level, or else the first m-line's (browsers write them per m-line;
     * with BUNDLE they are the same on every one) */
    char ice_ufrag[SDP_ICE_MAX + 1], ice_pwd[SDP_ICE_MAX + 1];
    bool ice_lite;
    char fp_alg[16]; /* "sha-256", lower case; "" when no a=fingerprint */
    uint8_t fp[SDP_FP_MAX];
    size_t fp_len;
    enum sdp_setup setup;
    bool bundle; /* a=group:BUNDLE present */
    struct sdp_media media[SDP_MAX_MEDIA];
    size_t n_media;
    struct sdp_candidate cand[SDP_MAX_CANDS]; /* every m-line's, in order; the rest dropped */
    size_t n_cand;
};

/* Parses an SDP description of len bytes (need not be NUL-terminated; CRLF or LF line ends).
 * Returns 0, or -EINVAL with a sentence in err (e.g. "line 7: a=fingerprint: not hex pairs"),
 * or -E2BIG when len > SDP_MAX_LEN or more than SDP_MAX_MEDIA m-lines. */
int sdp_parse(const char *text, size_t len, struct sdp_session *ret, char *err, size_t errcap);

/* Parses one trickled candidate, "candidate:..." with or without the "a=" in front (the
 * RTCIceCandidate.candidate string). Returns 0, -EINVAL (malformed; err says why) or
 * -EPROTONOSUPPORT (well-formed but of no use: an unknown transport or candidate type, or a host
 * name that is not an mDNS .local one). sdp_parse skips such candidates. */
int sdp_parse_candidate(const char *line, size_t len, struct sdp_candidate *ret, char *err,
                        size_t errcap);

/* ---- the offers callbridged writes ------------------------------------------------------- */

/* One m-line of an offer. dir is callbridged's direction: SDP_RECVONLY for the guest's own
 * camera and microphone (it receives them), SDP_SENDONLY for another participant's stream it
 * forwards. Audio offers Opus (SDP_PT_OPUS, 48000/2, minptime=10;useinbandfec=1), video VP8
 * (SDP_PT_VP8, rtcp-fb nack, nack pli, ccm fir); every m-line has rtcp-mux and is in BUNDLE. */
struct sdp_offer_media {
    enum sdp_kind kind; /* SDP_AUDIO or SDP_VIDEO */
    char mid[SDP_MID_MAX + 1];
    enum sdp_dir dir;
    bool stopped;   /* port 0 and a=inactive: a participant who left (the slot stays, RFC 8843) */
    uint32_t ssrc;  /* sendonly: the SSRC callbridged forwards with (a=ssrc, msid); else 0 */
    char msid[64];  /* sendonly: the MediaStream id (the participant's leg id) */
    char track[64]; /* sendonly: the track id */
    char cname[33]; /* sendonly: a=ssrc:<ssrc> cname: */
};

struct sdp_offer {
    uint64_t session_id, version; /* o= line; version grows by one per renegotiation */
    char ice_ufrag[SDP_ICE_MAX + 1], ice_pwd[SDP_ICE_MAX + 1];
    char fingerprint[3 * SDP_FP_MAX]; /* sha-256, "AB:CD:...", upper case */
    bool ice_lite; /* a=ice-lite (callbridged answers checks, never sends them) */
    struct sdp_candidate cand[SDP_MAX_CANDS]; /* written on the first m-line, end-of-candidates */
    size_t n_cand;
    struct sdp_offer_media media[SDP_MAX_MEDIA];
    size_t n_media;
};

/* Writes o as SDP (CRLF line ends, a=setup:actpass, a=group:BUNDLE of every m-line that is not
 * stopped) into buf with a terminating NUL. Returns its length, -ENOSPC or -EINVAL (an offer
 * with no m-line, or a field that would break a line). SDP_MAX_MEDIA m-lines with msids take
 * about 33 KB, more than SDP_MAX_LEN: give the writer 64 KiB (Chrome 156's answer to such an
 * offer was 26 KB, within SDP_MAX_LEN). */
long sdp_write_offer(const struct sdp_offer *o, char *buf, size_t cap);

/* Writes a candidate line (without "a=") for c, e.g. for the page's debugging; returns length,
 * -ENOSPC, or -EINVAL for a candidate with no IP address (an mDNS one) or a bad field. */
long sdp_write_candidate(const struct sdp_candidate *c, char *buf, size_t cap);

#endif
