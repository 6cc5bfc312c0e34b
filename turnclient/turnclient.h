/* turnclient/turnclient.h: the public header of turnclient/, a TURN (RFC 8656) client.
 * turnclient depends on base/ alone; it reports through return values, queries and callbacks,
 * and the prober logs through the struct base_logger it is given. Times are monotonic
 * microseconds supplied by the caller. */
#ifndef TURNCLIENT_TURNCLIENT_H
#define TURNCLIENT_TURNCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/base.h"
#include "turnclient/txn.h"

/* Why an allocation failed, in the words the status API uses (turn_failure_name()). */
enum turn_failure {
    TURN_OK = 0,
    TURN_FAIL_DNS,               /* dnsFailure: the name did not resolve */
    TURN_FAIL_TIMEOUT,           /* timeout: no answer within the budget */
    TURN_FAIL_PORT_UNREACHABLE,  /* portUnreachable: ICMP port unreachable / TCP refused */
    TURN_FAIL_UNAUTHORIZED,      /* unauthorized: 401 after credentials */
    TURN_FAIL_INTEGRITY,         /* integrityCheckFailure: 431, as Expressway answers */
    TURN_FAIL_MISMATCH,          /* allocationMismatch: 437 */
    TURN_FAIL_WRONG_CREDENTIALS, /* wrongCredentials: 441, or 437 naming the credentials */
    TURN_FAIL_QUOTA,             /* quotaReached: 486 */
    TURN_FAIL_CAPACITY,          /* insufficientCapacity: 508 */
    TURN_FAIL_FORBIDDEN,         /* forbidden: 403 */
    TURN_FAIL_SERVER_ERROR,      /* serverError: 5xx */
    TURN_FAIL_PROTOCOL,          /* protocolError: anything else the server got wrong */
    TURN_FAIL_LOCAL, /* localResourceLimit: no socket here (descriptors, memory); not the server */
    TURN_FAIL__COUNT
};

/* "dnsFailure", "timeout", ...; "" for TURN_OK. */
const char *turn_failure_name(enum turn_failure f);
/* True for an errno (negative) that says this process or host ran out of something (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM): a local problem, never the TURN server's. */
bool turn_err_is_local(int err);

enum turn_alloc_state {
    TURN_ALLOC_IDLE,
    TURN_ALLOC_ALLOCATING,
    TURN_ALLOC_READY,     /* allocated: relayed address known, refreshed as needed */
    TURN_ALLOC_REDIRECT,  /* 300 Try Alternate: see turn_alloc_info.alternate */
    TURN_ALLOC_RELEASING, /* Refresh LIFETIME=0 sent */
    TURN_ALLOC_RELEASED,
    TURN_ALLOC_FAILED,
};

#define TURN_MAX_PEERS 8

struct turn_alloc_config {
    const char *username; /* long-term credentials (or TURN REST ones); copied */
    const char *password;
    const char *software;     /* SOFTWARE attribute, or NULL */
    bool reliable;            /* TCP: no retransmission, ChannelData padded */
    uint32_t lifetime_s;      /* requested lifetime; 0 = the server's default */
    unsigned max_stale_nonce; /* 438 retries per request (pion: 3) */
    struct turn_txn_config txn;
    turn_send_fn send; /* to the server */
    void *userdata;
};

struct turn_alloc_info {
    enum turn_alloc_state state;
    enum turn_failure failure;
    int error_code;   /* the STUN error behind the failure, 0 if none */
    char reason[128]; /* its reason phrase, or what went wrong */
    struct sockaddr_storage relayed, mapped, alternate;
    bool has_relayed, has_mapped;
    uint32_t lifetime_s; /* granted */
    int64_t expires_us;  /* when the allocation runs out unless refreshed (monotonic) */
    int64_t rtt_us;      /* of the allocation's last unretransmitted transaction, -1 if none */
};

struct turn_alloc; /* opaque */

int turn_alloc_new(const struct turn_alloc_config *cfg, struct turn_alloc **ret_alloc);
void turn_alloc_free(struct turn_alloc *a); /* NULL is a no-op */

/* Sends the first (unauthenticated) Allocate. Returns 0 or a send error. */
int turn_alloc_start(struct turn_alloc *a, int64_t now_us);
/* Feeds one datagram (UDP) or one complete frame (TCP) from the server: the answers to our
 * requests. Peer data is not for the state machine but for the owner's data path
 * (turn_data_decode); fed here it is counted and dropped, like malformed input and answers to no
 * transaction of ours. Returns 0. */
int turn_alloc_feed(struct turn_alloc *a, const uint8_t *buf, size_t len, int64_t now_us);
/* Drives retransmissions, refreshes and timeouts; call at turn_alloc_next_deadline(). */
void turn_alloc_on_timer(struct turn_alloc *a, int64_t now_us);
int64_t turn_alloc_next_deadline(const struct turn_alloc *a);
/* A socket error on the path to the server (e.g. -ECONNREFUSED) fails the allocation. */
void turn_alloc_on_error(struct turn_alloc *a, int err);
/* Deletes the allocation (Refresh LIFETIME=0); RELEASED when answered (437 counts) or timed
 * out. Also while an authenticated Allocate is unanswered (the server may have made it).
 * Returns 0, or -EINVAL when there is nothing to release (state then RELEASED). */
int turn_alloc_release(struct turn_alloc *a, int64_t now_us);

/* Installs (and keeps refreshed) a permission for peer's address, and, when channel is
 * non-zero (0x4000-0x4FFF), binds that channel to peer. Returns 0, -ENOSPC (TURN_MAX_PEERS),
 * -EINVAL (channel out of range, not READY). */
int turn_alloc_add_peer(struct turn_alloc *a, const struct sockaddr *peer, uint16_t channel,
                        int64_t now_us);
/* True once the server confirmed the permission (and the channel, if one was asked for). */
bool turn_alloc_peer_ready(const struct turn_alloc *a, const struct sockaddr *peer);
/* The channel bound to peer (address and port) and confirmed by the server, or 0. A plain
 * query for the data path, which frames with it (turn_channel_data_encode). */
uint16_t turn_alloc_channel(const struct turn_alloc *a, const struct sockaddr *peer);
/* True when a permission was asked for peer's IP address, whatever the port (RFC 8656 §9: a
 * permission is by address): data from any other address is none of ours. */
bool turn_alloc_has_permission(const struct turn_alloc *a, const struct sockaddr *peer);
/* Sends data to peer through the relay through cfg.send: ChannelData when its channel is bound,
 * else a Send indication. For owners without a data path of their own (tests, the benchmark's
 * endpoints); media frames its own (turn_channel_data_encode). Returns 0, -ENOTCONN (no permission
 * yet), or a send error. */
int turn_alloc_send(struct turn_alloc *a, const struct sockaddr *peer, const uint8_t *data,
                    size_t len);

void turn_alloc_get_info(const struct turn_alloc *a, struct turn_alloc_info *ret_info);
/* Datagrams dropped: malformed, unmatched, or failing integrity. */
uint64_t turn_alloc_dropped(const struct turn_alloc *a);

/* ---- the data path: pure framing of peer data (RFC 7983, RFC 8656 §11, §12) ---------------- */

/* What a datagram is, by its first byte (RFC 7983, RFC 8656 §12.4 for ChannelData); RTP and
 * RTCP apart by the payload type in the second byte (RFC 5761 §4: 192-223 is RTCP). */
enum turn_demux {
    TURN_DEMUX_STUN,         /* 0-3 */
    TURN_DEMUX_ZRTP,         /* 16-19 */
    TURN_DEMUX_DTLS,         /* 20-63 */
    TURN_DEMUX_CHANNEL_DATA, /* 64-79 */
    TURN_DEMUX_RTP,          /* 128-191, second byte not 192-223 (or absent) */
    TURN_DEMUX_RTCP,         /* 128-191, second byte 192-223 */
    TURN_DEMUX_DROP,         /* empty, or any other first byte */
};
enum turn_demux turn_demux(const uint8_t *buf, size_t len);

/* Peer data inside a datagram from the TURN server: a view into that datagram. */
struct turn_data {
    uint16_t channel;             /* ChannelData: its channel; 0 for a Data indication */
    struct sockaddr_storage peer; /* Data indication: its XOR-PEER-ADDRESS; unset for ChannelData */
    const uint8_t *ptr;
    size_t len;
};
/* Decodes a ChannelData frame (RFC 8656 §12.4; padded when reliable) or a Data indication
 * (§11.6, which must carry XOR-PEER-ADDRESS and DATA). Pure. Returns 0; -ENOMSG for a
 * well-formed STUN message that is not a Data indication (an answer: turn_alloc_feed's);
 * -EINVAL for anything else (malformed, or neither STUN nor ChannelData). */
int turn_data_decode(const uint8_t *buf, size_t len, bool reliable, struct turn_data *ret_data);
/* Frames data for channel (0x4000-0x4FFF) into buf: ChannelData, padded to 4 bytes when
 * reliable. Pure. Returns the frame length, -EINVAL or -ENOSPC. */
long turn_channel_data_encode(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data,
                              size_t len, bool reliable);

/* ---- ICE lite (RFC 8445 §2.5, §7.3; consent freshness RFC 7675): turnclient/ice.c ----------
 * callbridged is a lite agent on WebRTC legs: it never sends checks, it answers the browser's.
 * Pure: the caller passes the datagram and gets the answer to send back to the same address. */
#define ICE_UFRAG_MAX 256
#define ICE_PWD_MAX 256

struct ice_lite {
    char local_ufrag[ICE_UFRAG_MAX + 1], local_pwd[ICE_PWD_MAX + 1];   /* from our offer */
    char remote_ufrag[ICE_UFRAG_MAX + 1], remote_pwd[ICE_PWD_MAX + 1]; /* from the answer */
    /* What the checks said so far (ice_lite_on_stun keeps them): */
    bool nominated;                   /* a valid check with USE-CANDIDATE arrived */
    unsigned nominations;             /* how many (each one names the pair anew) */
    struct sockaddr_storage selected; /* the address that check came from (the pair's remote) */
    int64_t last_valid_us;            /* the last valid check (consent, RFC 7675 §5.1) */
    uint64_t valid, refused;          /* checks answered with success, with an error or none */
};

/* Fills local ufrag (8 characters) and pwd (24), random from [A-Za-z0-9+/] (RFC 8839 §5.4).
 * Returns 0 or -EIO. */
int ice_lite_init(struct ice_lite *ice);

enum ice_verdict {
    ICE_SUCCESS,     /* a valid check: answer with *ret_len bytes (a 200 with XOR-MAPPED-ADDRESS) */
    ICE_ERROR_REPLY, /* refused with an error response to send (400 malformed request, 401 bad
                      * USERNAME or MESSAGE-INTEGRITY, 420 unknown comprehension-required
                      * attribute, 487 role conflict) */
    ICE_IGNORE,      /* nothing to send: not a Binding request, a malformed message, a response
                      * or indication (RFC 8489 §6.3: silently discarded) */
};
/* Handles a STUN datagram msg that peer sent. When the verdict is ICE_SUCCESS or
 * ICE_ERROR_REPLY, *ret_len bytes of out (cap at least 256) are the reply to send to peer.
 * A valid check has USERNAME "<local_ufrag>:<remote_ufrag>" (remote_ufrag unchecked while it is
 * still empty: a check may come before the answer), MESSAGE-INTEGRITY with local_pwd, a correct
 * FINGERPRINT, PRIORITY, and ICE-CONTROLLING (a lite agent is always controlled). */
enum ice_verdict ice_lite_on_stun(struct ice_lite *ice, const uint8_t *msg, size_t len,
                                  const struct sockaddr *peer, int64_t now_us, uint8_t *out,
                                  size_t cap, size_t *ret_len);

/* ---- the prober ------------------------------------------------------------------------- */
#define TURN_PROBER_MAX_ADDRS 8 /* addresses per name (A and AAAA together) */

/* What to probe: one configured TURN server. */
struct turn_server_spec {
    char id[40];
    char host[256];     /* name or address, without port or brackets */
    uint16_t port;      /* UDP port */
    uint16_t tcp_port;  /* 0: no TCP probe */
    char username[514]; /* long-term credentials, or the user part of REST credentials */
    char password[256];
    bool use_shared_secret; /* derive TURN REST credentials from shared_secret */
    char shared_secret[256];
};

struct turn_host_status {
    char address[46]; /* numeric */
    uint16_t port;
    bool tcp;
    bool reachable;
    int64_t rtt_us; /* smoothed (RFC 6298, alpha 1/8), when reachable */
    bool has_mapped, has_relayed;
    char mapped[46], relayed[46];
    uint16_t mapped_port, relayed_port;
    enum turn_failure failure;
    int error_code;
    char detail[320];         /* a sentence an administrator can act on */
    char redirected_from[64]; /* "addr:port" when a 300 was followed, else "" */
    int64_t checked_unix;     /* wall clock, seconds */
    /* Probes of this host since its server was configured as it is, by result: [TURN_OK] the
     * ones that allocated, [failure] the others. Counters: they only grow. */
    uint64_t probes[TURN_FAIL__COUNT];
};

struct turn_server_status {
    bool probed;           /* false until the first probe of this configuration ends */
    enum turn_failure dns; /* TURN_FAIL_DNS when the name did not resolve */
    char dns_detail[400];
    uint64_t dns_failures; /* name lookups that failed, a counter like probes[] */
    size_t nhosts;
    struct turn_host_status hosts[2 * TURN_PROBER_MAX_ADDRS];
};

struct turn_prober_config {
    int64_t interval_us;        /* between the starts of two probes of one server */
    struct turn_txn_config txn; /* per request; budget_us bounds each transaction */
    const char *software;
    unsigned resolver_threads; /* getaddrinfo() runs there, off the probe loop */
    /* At most this many probe sockets open at once; 0: no cap. Probes past it wait in a queue
     * (first come, first served) and start as sockets are released, so a cycle over many
     * servers takes longer instead of taking descriptors the rest of the process needs. */
    size_t max_sockets;
    /* Log lines (the prober thread calls it); log.fn may be NULL. */
    struct base_logger log;
};

struct turn_prober; /* opaque; the thread that owns every probe socket */

/* Starts the prober thread. Returns 0 or -errno. */
int turn_prober_start(const struct turn_prober_config *cfg, struct turn_prober **ret_prober);
/* Stops the thread, releasing allocations in progress on the way out, and fires every waiter.
 * NULL is a no-op. */
void turn_prober_stop(struct turn_prober *p);
/* Adds or replaces a server and probes it at once; a changed configuration forgets the
 * previous results and RTT history. Thread-safe. Returns 0 or -ENOMEM. */
int turn_prober_set(struct turn_prober *p, const struct turn_server_spec *spec);
/* Stops probing a server and forgets it. Thread-safe. */
void turn_prober_remove(struct turn_prober *p, const char *id);
/* Probe sockets open now, the most open at once since the start, and cfg.max_sockets (for
 * /metrics and tests). Thread-safe. */
void turn_prober_sockets(struct turn_prober *p, size_t *ret_open, size_t *ret_peak,
                         size_t *ret_max);
/* Copies the latest results. Returns 0, or -ENOENT for a server the prober does not know.
 * Thread-safe. */
int turn_prober_get(struct turn_prober *p, const char *id, struct turn_server_status *ret);
/* Calls done(ctx) once, from the prober thread, when the server has results or at until_us
 * (monotonic), whichever comes first; at once when it already has results. Thread-safe. */
int turn_prober_wait(struct turn_prober *p, const char *id, int64_t until_us,
                     void (*done)(void *ctx), void *ctx);
/* The best place to anchor media: a reachable UDP host with the lowest smoothed RTT (ties: the
 * server configured first), with its server's credentials. */
struct turn_best {
    struct turn_server_spec spec; /* the server, credentials included */
    struct sockaddr_storage addr; /* the host, with its port */
    int64_t rtt_us;
};
/* Fills *ret with the best host, skipping server exclude_id (may be NULL). Thread-safe.
 * Returns 0, or -ENOENT when no host is reachable. */
int turn_prober_best(struct turn_prober *p, const char *exclude_id, struct turn_best *ret);
/* The same, but server prefer_id's best host while it has a reachable one (a guest's leg goes
 * on the server its browser was told to use, whatever a tie in RTT would pick). */
int turn_prober_best_prefer(struct turn_prober *p, const char *prefer_id, const char *exclude_id,
                            struct turn_best *ret);
/* True while server id's host addr (UDP) was reachable at its last probe. Thread-safe. */
bool turn_prober_is_reachable(struct turn_prober *p, const char *id, const struct sockaddr *addr);
/* True when server id's host addr is gone for the allocations already on it: its last probe got
 * no answer (timeout, port unreachable), or the server is no longer configured at that address.
 * A server that answers but allocates no more (full: 486, 508; credentials refused) is not down:
 * what it holds keeps working, and each allocation's refresh says when it does not. */
bool turn_prober_is_down(struct turn_prober *p, const char *id, const struct sockaddr *addr);

/* The credentials to allocate with on spec's server: its username and password, or TURN REST
 * credentials derived from its shared secret (valid for a day). Returns 0 or -ENOSPC/-EIO. */
int turn_spec_credentials(const struct turn_server_spec *spec, char *ret_user, size_t ucap,
                          char *ret_pass, size_t pcap);

/* The same for someone else (a guest's browser): with a shared secret, TURN REST credentials
 * for user that expire ttl_s from now; else the configured username and password. */
int turn_spec_credentials_for(const struct turn_server_spec *spec, const char *user, int64_t ttl_s,
                              char *ret_user, size_t ucap, char *ret_pass, size_t pcap);

/* Monotonic microseconds, the clock the prober uses. */
int64_t turn_now_us(void);

#endif
