/* turnclient/stun.h: the STUN (RFC 8489) and TURN (RFC 8656) message codec, private to
 * turnclient/ and its tests. Pure: no sockets, no clocks, no allocation. Decoding gives a view
 * into the caller's buffer; encoding writes into the caller's buffer. */
#ifndef TURNCLIENT_STUN_H
#define TURNCLIENT_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN 20
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_TID_LEN 12
#define STUN_MAX_UNKNOWN 8

/* Methods (RFC 8489 §18.2, RFC 8656 §17). */
enum {
    STUN_BINDING = 0x001,
    STUN_ALLOCATE = 0x003,
    STUN_REFRESH = 0x004,
    STUN_SEND = 0x006,
    STUN_DATA = 0x007,
    STUN_CREATE_PERMISSION = 0x008,
    STUN_CHANNEL_BIND = 0x009,
};

/* Classes. */
enum { STUN_REQUEST = 0, STUN_INDICATION = 1, STUN_SUCCESS = 2, STUN_ERROR = 3 };

/* Attribute types (RFC 8489 §18.3, RFC 8656 §18). */
enum {
    STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    STUN_ATTR_USERNAME = 0x0006,
    STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    STUN_ATTR_ERROR_CODE = 0x0009,
    STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    STUN_ATTR_CHANNEL_NUMBER = 0x000C,
    STUN_ATTR_LIFETIME = 0x000D,
    STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
    STUN_ATTR_DATA = 0x0013,
    STUN_ATTR_REALM = 0x0014,
    STUN_ATTR_NONCE = 0x0015,
    STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
    STUN_ATTR_EVEN_PORT = 0x0018,
    STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
    STUN_ATTR_DONT_FRAGMENT = 0x001A,
    STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
    STUN_ATTR_USERHASH = 0x001E,
    STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    STUN_ATTR_RESERVATION_TOKEN = 0x0022,
    STUN_ATTR_PRIORITY = 0x0024,      /* ICE, RFC 8445 §16.1 */
    STUN_ATTR_USE_CANDIDATE = 0x0025, /* ICE */
    STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
    STUN_ATTR_SOFTWARE = 0x8022,
    STUN_ATTR_ALTERNATE_SERVER = 0x8023,
    STUN_ATTR_FINGERPRINT = 0x8028,
    STUN_ATTR_ICE_CONTROLLED = 0x8029,
    STUN_ATTR_ICE_CONTROLLING = 0x802A,
};

enum { STUN_PASSWORD_ALGORITHM_MD5 = 0x0001, STUN_PASSWORD_ALGORITHM_SHA256 = 0x0002 };

/* A byte string inside the decoded buffer; ptr NULL when the attribute was absent. */
struct stun_bytes {
    const uint8_t *ptr;
    size_t len;
};

/* A decoded message: views into the buffer given to stun_decode(), which must outlive it.
 * Only the first occurrence of an attribute counts (RFC 8489 §14). */
struct stun_msg {
    const uint8_t *raw;
    size_t len; /* the whole message: 20 + length field */
    uint16_t method;
    uint8_t cls;
    uint8_t tid[STUN_TID_LEN];

    bool has_mapped, has_xor_mapped, has_xor_relayed, has_xor_peer, has_alternate;
    struct sockaddr_storage mapped, xor_mapped, xor_relayed, xor_peer, alternate;
    struct stun_bytes username, userhash, realm, nonce, software, data, reason, reservation_token;
    struct stun_bytes password_algorithms; /* raw list, to be echoed back */
    struct stun_bytes unknown_attributes;  /* with a 420: the types the server refused */
    int error_code;                        /* 300..699, or 0 when absent */
    bool has_lifetime;
    uint32_t lifetime;
    bool has_channel;
    uint16_t channel;
    bool has_requested_transport;
    uint8_t requested_transport;
    bool has_requested_family;
    uint8_t requested_family;
    bool has_even_port, even_port_reserve, dont_fragment;
    bool has_password_algorithm;
    uint16_t password_algorithm;
    /* ICE connectivity checks (RFC 8445 §7.1.1, §7.1.2, §7.1.3) */
    bool has_priority, use_candidate, has_ice_controlling, has_ice_controlled;
    uint32_t priority;
    uint64_t tie_breaker; /* of ICE-CONTROLLING or ICE-CONTROLLED, whichever came first */
    uint16_t unknown[STUN_MAX_UNKNOWN]; /* comprehension-required types we do not know */
    size_t n_unknown;
    /* offsets of the integrity attributes from the start (0 = absent) */
    size_t mi_off, mi256_off, mi256_len, fingerprint_off;
};

/* True when buf could be a STUN message: first two bits zero, magic cookie, length a multiple
 * of 4 and within len. */
bool stun_is_message(const uint8_t *buf, size_t len);

/* Decodes the message at the start of buf (a stream may hold more after it). Returns its
 * length (20 + attributes), or -EINVAL when it is not a well-formed STUN message. Every length
 * is checked against len; padding bytes may hold anything. */
long stun_decode(const uint8_t *buf, size_t len, struct stun_msg *ret_msg);
/* The same for a UDP datagram, which must hold exactly one message: returns 0 or -EINVAL. */
int stun_decode_datagram(const uint8_t *buf, size_t len, struct stun_msg *ret_msg);

/* Integrity checks over a decoded message (RFC 8489 §14.5, §14.6, §14.7). key is the
 * short-term password or the long-term key (see cred.c). Return 0, -ENOENT (attribute absent)
 * or -EBADMSG (mismatch). */
int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t key_len);
int stun_check_integrity_sha256(const struct stun_msg *m, const uint8_t *key, size_t key_len);
int stun_check_fingerprint(const struct stun_msg *m);

/* ---- encoding ---------------------------------------------------------------------------- */
struct stun_writer {
    uint8_t *buf;
    size_t cap, len;
    int err; /* first error: -ENOSPC or -EINVAL; later calls do nothing */
};

/* Starts a message of method/class with transaction id tid (12 bytes). */
void stun_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method, uint8_t cls,
                      const uint8_t *tid);
void stun_put_bytes(struct stun_writer *w, uint16_t type, const void *data, size_t len);
void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t value);
void stun_put_str(struct stun_writer *w, uint16_t type, const char *s);
/* Address attributes: XOR-encoded for the XOR-* types, plain for MAPPED-ADDRESS and
 * ALTERNATE-SERVER. */
void stun_put_addr(struct stun_writer *w, uint16_t type, const struct sockaddr *sa);
void stun_put_error(struct stun_writer *w, int code, const char *reason);
void stun_put_channel(struct stun_writer *w, uint16_t channel);
void stun_put_requested_transport(struct stun_writer *w, uint8_t protocol);
/* MESSAGE-INTEGRITY (HMAC-SHA1), MESSAGE-INTEGRITY-SHA256 (full 32 bytes), FINGERPRINT: in
 * that order and last. */
void stun_put_integrity(struct stun_writer *w, const uint8_t *key, size_t key_len);
void stun_put_integrity_sha256(struct stun_writer *w, const uint8_t *key, size_t key_len);
void stun_put_fingerprint(struct stun_writer *w);
/* Returns the message length, or the first error. */
long stun_writer_finish(const struct stun_writer *w);

/* ---- ChannelData and demultiplexing ------------------------------------------------------ */
#define STUN_CHANNEL_MIN 0x4000
#define STUN_CHANNEL_MAX 0x4FFF /* RFC 8656 §12; 0x5000+ would break RFC 7983 demux */

/* Frames data for channel into buf: 4-byte header, data, and, when pad (TCP/TLS), zero bytes up
 * to a multiple of 4. Returns the frame length, -EINVAL (channel out of range, data > 65535) or
 * -ENOSPC. */
long stun_channel_data_encode(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data,
                              size_t len, bool pad);
/* Parses a ChannelData frame at buf. Returns the bytes it occupies (with padding when pad), and
 * its channel and payload view; -EINVAL for a channel outside 0x4000-0x4FFF or a length beyond
 * len. */
long stun_channel_data_decode(const uint8_t *buf, size_t len, bool pad, uint16_t *ret_channel,
                              struct stun_bytes *ret_data);

/* Over TCP/TLS (RFC 8656 §12.5): the length of the frame at the start of a stream buffer, a
 * STUN message (20 + length) or a padded ChannelData frame. Returns the length, 0 when fewer
 * than 4 bytes are there yet, or -EINVAL when the stream holds neither. */
long stun_stream_frame_len(const uint8_t *buf, size_t len);

/* The RFC 7983 demux is public: turn_demux() in turnclient.h. */

/* CRC-32 (ISO-HDLC, as FINGERPRINT uses before its XOR). */
uint32_t stun_crc32(const uint8_t *buf, size_t len);

#endif
