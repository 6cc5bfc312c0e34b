/* media/media_int.h: what the files of media/ share and nothing outside uses: the media
 * thread's state (struct media), a leg, a call, a queued command, and each file's entry points.
 * Every field is owned by the media thread unless its comment says it is read under m->lock. */
#ifndef MEDIA_MEDIA_INT_H
#define MEDIA_MEDIA_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/base.h"
#include "media/media.h"
#include "media/rtpstats.h"
#include "turnclient/turnclient.h"

#define MEDIA_CHANNEL 0x4000 /* one peer per allocation: the leg's endpoint */

/* Per class of datagram, what a leg counts on the packet path (atomics: read by API threads). */
enum media_cnt {
    MEDIA_C_RX_PKT,
    MEDIA_C_RX_BYTES,
    MEDIA_C_FWD_PKT,
    MEDIA_C_FWD_BYTES,
    MEDIA_C_DROP,
    MEDIA_C__N
};

struct media_call;
struct media_rtc; /* media/rtc.h: what a WebRTC leg has besides */

/* What an epoll event of the media thread points to: a leg's socket to its TURN server, or its
 * host candidate's socket (NULL: the command queue). */
struct media_ep {
    struct media_leg *leg;
    bool host;
};

struct media_leg {
    struct media *m;
    struct media_call *call;
    char id[40];
    struct sockaddr_storage remote;
    int fd;                      /* to the TURN server (-1: not anchored) */
    int host_fd;                 /* a WebRTC leg's host candidate (-1: none) */
    struct media_ep ep, host_ep; /* epoll's pointers to fd and host_fd */
    struct turn_alloc *alloc;
    struct turn_best server; /* where it is anchored now */
    char prefer[40];         /* a WebRTC leg: the TURN server its browser uses ("": none) */
    bool asked_peer, ready;
    unsigned fresh_ports;        /* 437s answered from a fresh port since the last anchoring */
    int64_t retry_us;            /* while failed: when to anchor again */
    struct media_leg_status pub; /* published, under m->lock (counters aside) */
    _Atomic uint64_t cnt[MEDIA__CLASSES][MEDIA_C__N];
    _Atomic uint64_t strangers;
    uint64_t malformed_before; /* malformed datagrams on the leg's earlier allocations */
    uint64_t malformed_path;   /* those the packet path refused (the allocation counts its own) */
    struct media_rtpstats rtp;
    struct media_rtc *rtc; /* NULL for a plain leg (an endpoint at a fixed address) */
    unsigned mute;         /* MEDIA_MUTE_*: what the packet path withholds (call control) */
    struct media_leg *next;
};

struct media_call {
    char id[40];
    struct media_leg *legs[MEDIA_MAX_LEGS_PER_CALL];
    size_t n;
    struct media_call *next;
};

enum media_cmd_kind {
    MEDIA_CMD_ADD,
    MEDIA_CMD_RTC_ADD,
    MEDIA_CMD_RTC_ANSWER,
    MEDIA_CMD_RTC_CANDIDATE,
    MEDIA_CMD_RTC_NOTE,
    MEDIA_CMD_REMOVE,
    MEDIA_CMD_MUTE,
    MEDIA_CMD_KEY_FRAME,
    MEDIA_CMD_STOP
};

struct media_cmd {
    struct base_cmd link; /* first: the queue's */
    enum media_cmd_kind kind;
    char call[40], leg[40];
    struct sockaddr_storage remote;
    char name[160]; /* RTC_ADD: the guest's display name; RTC_NOTE: the note */
    unsigned mute;  /* MUTE: MEDIA_MUTE_* */
    void *data;     /* RTC_ANSWER: a struct sdp_session, RTC_CANDIDATE: a struct sdp_candidate
                     * (NULL: the end of them); freed with the command */
};

struct dtls_cert;

struct media {
    struct media_config cfg;
    struct dtls_cert *cert; /* the one certificate of every WebRTC leg's DTLS */
    pthread_t thread;
    int epfd;
    struct base_cmdq q;
    atomic_bool stopping;
    struct media_cmd stop; /* queued by media_stop to wake the thread; never freed alone */
    pthread_mutex_t lock;  /* the list of legs, every leg's pub, retired */
    struct media_leg *legs;
    struct media_call *calls;
    size_t nlegs, max_legs;
    int64_t housekeeping_us, last_housekeeping_us;
    struct media_totals retired;  /* the counters of legs that are gone; under lock */
    media_leg_state_fn leg_state; /* media_set_leg_state_fn's; under lock */
    void *leg_state_userdata;
    int64_t timer_us; /* no allocation's deadline is before this; it may be early (a deadline
                       * that moves later is seen at the next scan), never late */
};

/* loop.c: queues a command for the media thread, which takes ownership (frees it). */
void media_loop_push(struct media *m, struct media_cmd *c);

/* leg.c: legs and their anchoring on a TURN server. */
void media_leg_create(struct media *m, const struct media_cmd *c, int64_t now_us);
void media_leg_destroy(struct media *m, const char *id);
struct media_leg *media_leg_find(struct media *m, const char *id, struct media_leg ***ret_link);
void media_leg_advance(struct media_leg *l, int64_t now_us);
void media_leg_housekeeping(struct media *m, int64_t now_us);

/* leg_state.c: sets l's published state and reason (NULL: none) under m->lock, then tells
 * media_set_leg_state_fn's listener (outside the lock). */
void media_leg_publish(struct media_leg *l, enum media_leg_state state, const char *reason);

/* call.c: the calls table. Returns the call l joined, NULL when full or out of memory. */
struct media_call *media_call_join(struct media *m, const char *id, struct media_leg *l);
void media_call_leave(struct media *m, struct media_leg *l);

/* rtc.c: a command for WebRTC leg l (media/rtc.h has the rest). */
void media_rtc_command(struct media_leg *l, const struct media_cmd *c, int64_t now_us);

/* sfu.c: call control on leg l: its mute bits, a key frame request. */
void media_sfu_command(struct media_leg *l, const struct media_cmd *c, int64_t now_us);
/* sfu.c: whether mute (MEDIA_MUTE_*) withholds a plain leg's datagram, on the way in (tx false:
 * the sender's rx bits) or out (tx true: the receiver's tx bits); its kind from its payload type.
 */
bool media_mute_drops(unsigned mute, bool tx, const uint8_t *pkt, size_t len);

/* path.c: reads what is waiting on the leg's socket and forwards it. */
void media_path_on_readable(struct media_leg *l, int64_t now_us);

/* wire.c: addresses, and sending to a guest. The address of an AF_INET or AF_INET6 sockaddr as text
 * into host (cap >= INET6_ADDRSTRLEN), its port into *ret_port; "" and 0 for another family.
 * Returns host. */
const char *media_addr_text(const void *sa, char *host, size_t cap, unsigned *ret_port);
/* Same address and port. */
bool media_same_address(const struct sockaddr_storage *a, const struct sockaddr *b);

/* counters.c: one datagram counted on the packet path (a relaxed atomic), and what class of
 * datagram it is (RFC 7983, turn_demux). */
void media_count(struct media_leg *l, enum media_class c, enum media_cnt k, uint64_t v);
enum media_class media_class_of(const uint8_t *d, size_t len);
/* counters.c: a leg's counters now, and their sum into t (under m->lock). */
void media_leg_counters(const struct media_leg *l, struct media_counters ret[MEDIA__CLASSES]);
void media_totals_add_leg(struct media_totals *t, const struct media_leg *l);

#endif
