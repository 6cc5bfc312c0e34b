/* media/media.h: the media anchor. Each call leg is a TURN allocation on the reachable TURN
 * server with the lowest smoothed RTT (turnclient's prober says which), with a channel bound to
 * the leg's remote endpoint; what an endpoint sends to its leg's relayed address is forwarded to
 * every other leg of the same call. One thread owns every leg (media/loop.c); media/media.c
 * lists the module's files. */
#ifndef MEDIA_MEDIA_H
#define MEDIA_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/base.h"

#define MEDIA_MAX_LEGS_PER_CALL 32 /* the API refuses more (participantLimitReached) */

struct turn_prober;
struct media; /* opaque */

/* WebRTC legs talk to their browser through the guest signalling of the API: the media thread
 * hands it each offer and the end of a leg. */
enum media_rtc_signal { MEDIA_RTC_OFFER, MEDIA_RTC_END };
/* Called on the media thread with no lock of media's held: text is the SDP offer, or why the leg
 * ended ("iceFailed: ...", "dtlsFailed: ...", "timeout: ...", "noReachableTurnServer"); reconnect
 * is true when a new leg may do better (its TURN server failed). Must not block. */
typedef void (*media_rtc_signal_fn)(void *userdata, const char *leg_id, enum media_rtc_signal kind,
                                    const char *text, bool reconnect);

struct media_config {
    struct turn_prober *prober;
    struct base_logger log; /* lines from the media thread; fn may be NULL */
    media_rtc_signal_fn rtc_signal;
    void *rtc_userdata;
    unsigned rtc_silence_s; /* a WebRTC leg with no consent check and no media this long ends
                             * (0: 30 s, as a CMS web app gives up) */
    /* Host candidates (--host-candidate): each WebRTC leg also gets a UDP port of its own on
     * host_bind (AF_UNSPEC: none), offered at host_public's address (the same, or the public
     * side of a 1:1 NAT), so a browser may reach callbridged directly, without TURN. */
    struct sockaddr_storage host_bind, host_public;
};

/* Datagram classes (RFC 7983), for counters. */
enum media_class { MEDIA_RTP, MEDIA_RTCP, MEDIA_DTLS, MEDIA_STUN, MEDIA_OTHER, MEDIA__CLASSES };
const char *media_class_name(enum media_class c); /* "rtp", "rtcp", ... */

enum media_leg_state { MEDIA_LEG_CONNECTING, MEDIA_LEG_CONNECTED, MEDIA_LEG_FAILED };

/* A leg's published state changed (media_leg_get shows the new one): called on the media thread
 * with no lock of media's held. Must not block. */
typedef void (*media_leg_state_fn)(void *userdata, const char *leg_id, enum media_leg_state state);
/* Sets who is told of every leg's state changes (fn NULL: nobody), RTP and WebRTC legs alike.
 * Thread-safe; m may be NULL. Whoever it names must outlive media_stop() or unset it first. */
void media_set_leg_state_fn(struct media *m, media_leg_state_fn fn, void *userdata);

struct media_counters {
    uint64_t rx_packets, rx_bytes;   /* from the leg's endpoint */
    uint64_t fwd_packets, fwd_bytes; /* sent on to other legs */
    uint64_t dropped;                /* not forwarded (no other leg ready, bad framing) */
};

/* What the leg receives from its endpoint as RTP (RFC 3550 A.1, A.3, A.8). */
struct media_rtp_stats {
    bool seen;
    uint32_t ssrc;
    uint8_t payload_type;
    uint64_t received, expected, lost;
    double loss_percent;
    bool has_jitter; /* only for payload types whose clock rate is fixed (RFC 3551) */
    double jitter_ms;
    uint64_t bit_rate; /* bits per second over the last second */
};

/* A WebRTC leg's four streams, as CMS's callLeg status names them; tx is what callbridged sends
 * the guest (the other participants' media), with the loss and jitter its browser reports (lost
 * added up over the streams, the worst stream's loss and jitter). */
enum media_stream {
    MEDIA_RX_AUDIO,
    MEDIA_RX_VIDEO,
    MEDIA_TX_AUDIO,
    MEDIA_TX_VIDEO,
    MEDIA__STREAMS
};
struct media_stream_status {
    bool active;
    char codec[8]; /* "opus", "vp8" */
    uint64_t packets, bytes, lost;
    double loss_percent, jitter_ms;
    uint64_t bit_rate; /* bits per second over the last second */
};

struct media_leg_status {
    enum media_leg_state state;
    bool webrtc;
    char local_candidate[64], remote_candidate[64]; /* the selected pair: "relay 1.2.3.4:5" */
    struct media_stream_status streams[MEDIA__STREAMS];
    char reason[160];     /* why connecting or failed */
    char turn_server[40]; /* id of the TURN server the leg is anchored on */
    char relayed[46];     /* the address the endpoint sends its media to */
    uint16_t relayed_port;
    int64_t lifetime_left_s;
    struct media_counters cls[MEDIA__CLASSES];
    uint64_t strangers; /* datagrams from addresses other than the endpoint's */
    unsigned anchors;   /* allocations made for this leg (more than 1 after a failover) */
    uint64_t malformed; /* datagrams from the TURN server that were not valid TURN */
    struct media_rtp_stats rx_rtp;
    unsigned mute; /* MEDIA_MUTE_* in effect on the media thread */
    /* a WebRTC leg's round trip between callbridged and its browser, from the last receiver
     * report whose LSR names the sender report callbridged passed on (RFC 3550 §6.4.1) */
    bool has_rtt;
    double rtt_ms;
};

int media_start(const struct media_config *cfg, struct media **ret_media);
/* Releases every allocation (Refresh LIFETIME=0) and stops the thread. NULL is a no-op. */
void media_stop(struct media *m);

/* Adds leg leg_id to call call_id for the endpoint at remote; it connects in the background.
 * Thread-safe. Returns 0, -EEXIST, -EINVAL or -ENOMEM. */
int media_leg_add(struct media *m, const char *call_id, const char *leg_id,
                  const struct sockaddr *remote);
/* A WebRTC leg (a guest's browser) named name in call call_id: it allocates on TURN server
 * turn_id (the one its browser was told to use) while that is reachable, else on the best, then
 * offers (media_rtc_signal_fn). Thread-safe. Returns 0, -EINVAL or -ENOMEM. */
int media_rtc_leg_add(struct media *m, const char *call_id, const char *leg_id, const char *name,
                      const char *turn_id);
/* The browser's answer to the leg's last offer. Parsed here, on the caller's thread: -EINVAL or
 * -E2BIG with a sentence in err when it is not SDP callbridged can use (nothing changes then).
 * Thread-safe; an unknown leg is ignored. Returns 0, -EINVAL, -E2BIG or -ENOMEM. */
int media_rtc_answer(struct media *m, const char *leg_id, const char *sdp, size_t len, char *err,
                     size_t errcap);
/* A candidate the browser trickled ("candidate:..."; "" is the end of them): its address gets a
 * permission on the leg's allocation. Same returns as media_rtc_answer. */
int media_rtc_candidate(struct media *m, const char *leg_id, const char *cand, size_t len,
                        char *err, size_t errcap);
/* What the browser said of its own side of ICE (a candidate error: its TURN server refused
 * its credentials, or did not answer), kept for the reason the leg gives if ICE fails. Same
 * returns as media_rtc_leg_add. */
int media_rtc_note(struct media *m, const char *leg_id, const char *note);
/* Whether WebRTC legs get host candidates (media_config.host_bind): a guest may then join
 * without a TURN server. Thread-safe. */
bool media_has_host_candidates(const struct media *m);
/* Call control (PUT /callLegs/<id>): what the media path withholds, as bits. rx: what the leg's
 * endpoint sends is not forwarded to the others; tx: the others' media is not sent to the leg.
 * A muted stream sends no packets at all (no silence, no black frames): the receiving page sees
 * its track go quiet and shows the tile muted from the roster; RTCP goes on (reports, key frame
 * requests), and unmuting video asks the sender for a key frame so the picture comes back at
 * once. A plain leg's RTP counts as video for static payload types 24-34 (RFC 3551), else as
 * audio. Thread-safe (queued); 0 or -ENOMEM, an unknown leg is ignored. */
#define MEDIA_MUTE_RX_AUDIO 1u
#define MEDIA_MUTE_RX_VIDEO 2u
#define MEDIA_MUTE_TX_AUDIO 4u
#define MEDIA_MUTE_TX_VIDEO 8u
int media_leg_set_mute(struct media *m, const char *leg_id, unsigned mute);
/* Asks a WebRTC leg's browser for a key frame now (RTCP PLI; POST generateKeyFrame). Same
 * returns. */
int media_leg_key_frame(struct media *m, const char *leg_id);
/* Releases the leg's allocation and forgets it. Thread-safe; -ENOENT when unknown. */
int media_leg_remove(struct media *m, const char *leg_id);
/* Copies the leg's status. Thread-safe; -ENOENT when unknown. */
int media_leg_get(struct media *m, const char *leg_id, struct media_leg_status *ret);
/* CPU time the media thread has used, in nanoseconds (for benchmarks). Thread-safe. */
int64_t media_cpu_ns(struct media *m);
/* Legs now, and the most there have been at once. Thread-safe. */
void media_leg_counts(struct media *m, size_t *ret_active, size_t *ret_max);
/* Every leg's counters added up, those of removed legs included: they only grow (for
 * /metrics). Thread-safe. */
struct media_totals {
    struct media_counters cls[MEDIA__CLASSES];
    uint64_t strangers, malformed;
};
void media_totals(struct media *m, struct media_totals *ret);

#endif
