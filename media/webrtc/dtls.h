/* media/webrtc/dtls.h: DTLS-SRTP (RFC 5763, RFC 5764) for WebRTC legs, on OpenSSL, and SRTP
 * and SRTCP on libsrtp2. No I/O: a DTLS connection is fed the datagrams that arrived and hands
 * back the datagrams to send (memory BIOs), with a deadline for its retransmission timer. One
 * certificate (EC P-256, self-signed) serves every leg; its SHA-256 fingerprint goes in the
 * offers. The peer's certificate must match the fingerprint of its SDP, or the handshake fails
 * and no key is exported. No OpenSSL or libsrtp2 type leaves this header. */
#ifndef MEDIA_WEBRTC_DTLS_H
#define MEDIA_WEBRTC_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DTLS_FP_LEN 32   /* SHA-256 */
#define SRTP_OVERHEAD 32 /* the most protect adds to a packet (tag + SRTCP index, no MKI) */

struct dtls_cert; /* opaque */
/* A new key pair and self-signed certificate (CN "callbridge"), valid 30 days back and one year
 * on. Returns 0 or -ENOMEM/-EIO. */
int dtls_cert_new(struct dtls_cert **ret);
void dtls_cert_free(struct dtls_cert *c); /* NULL is a no-op */
/* "AB:CD:..." (95 characters and a NUL) and the raw 32 bytes. */
const char *dtls_cert_fingerprint(const struct dtls_cert *c);
const uint8_t *dtls_cert_fingerprint_raw(const struct dtls_cert *c);

enum dtls_state { DTLS_HANDSHAKING, DTLS_CONNECTED, DTLS_FAILED, DTLS_CLOSED };

/* SRTP protection profiles, as negotiated by use_srtp (RFC 5764 §4.1.2, RFC 7714 §14.2). */
enum srtp_profile { SRTP_PROFILE_AES128_CM_SHA1_80 = 1, SRTP_PROFILE_AEAD_AES_128_GCM = 7 };

struct dtls_srtp_keys {
    enum srtp_profile profile;
    size_t key_len, salt_len;
    uint8_t local_key[32], local_salt[14]; /* what this end protects with */
    uint8_t remote_key[32], remote_salt[14];
};

struct dtls_conn; /* opaque */
/* server: this end waits for the ClientHello (the peer answered a=setup:active); else it sends
 * one at dtls_conn_start. remote_fp: the SHA-256 fingerprint of the peer's certificate from its
 * SDP (DTLS_FP_LEN bytes). Returns 0 or -ENOMEM. */
int dtls_conn_new(const struct dtls_cert *c, bool server, const uint8_t *remote_fp,
                  struct dtls_conn **ret);
void dtls_conn_free(struct dtls_conn *d);                 /* NULL is a no-op */
int dtls_conn_start(struct dtls_conn *d, int64_t now_us); /* client: the ClientHello */
/* A datagram that arrived (RFC 7983: first byte 20-63). Returns 0, or -EPROTO once the
 * handshake failed (dtls_conn_error says why). Application data and alerts are handled; a
 * close_notify moves to DTLS_CLOSED. */
int dtls_conn_feed(struct dtls_conn *d, const uint8_t *buf, size_t len, int64_t now_us);
/* The next datagram to send, copied into buf: its length, 0 when none is waiting, -ENOSPC. */
long dtls_conn_take(struct dtls_conn *d, uint8_t *buf, size_t cap);
/* When dtls_conn_on_timer must run (retransmission, RFC 6347 §4.2.4), INT64_MAX when never. A
 * handshake that has not finished 30 s after the first datagram fails ("handshake timeout"). */
int64_t dtls_conn_deadline(const struct dtls_conn *d);
void dtls_conn_on_timer(struct dtls_conn *d, int64_t now_us);
enum dtls_state dtls_conn_state(const struct dtls_conn *d);
/* Why it failed, as an administrator reads it: "certificate does not match the fingerprint in
 * the SDP", "handshake timeout", "no SRTP profile in common", or OpenSSL's reason. "" if none. */
const char *dtls_conn_error(const struct dtls_conn *d);
/* The keys, once DTLS_CONNECTED (RFC 5764 §4.2), and still after a close_notify (DTLS_CLOSED).
 * Returns 0 or -EAGAIN (never connected). */
int dtls_conn_srtp_keys(const struct dtls_conn *d, struct dtls_srtp_keys *ret);

/* ---- SRTP and SRTCP (libsrtp2) ----------------------------------------------------------- */
struct srtp_ctx; /* opaque: one direction of one leg, any SSRC */
/* outbound: protects with the local keys; else unprotects with the remote keys. Returns 0 or
 * -EINVAL/-ENOMEM. */
int srtp_ctx_new(const struct dtls_srtp_keys *k, bool outbound, struct srtp_ctx **ret);
void srtp_ctx_free(struct srtp_ctx *s); /* NULL is a no-op */
/* In place. protect needs SRTP_OVERHEAD bytes of room after *len in buf (cap is the buffer's
 * size). Return 0, -ENOSPC, or -EBADMSG (authentication failed, replayed, malformed). */
int srtp_ctx_protect(struct srtp_ctx *s, uint8_t *buf, size_t *len, size_t cap);
int srtp_ctx_unprotect(struct srtp_ctx *s, uint8_t *buf, size_t *len);
int srtp_ctx_protect_rtcp(struct srtp_ctx *s, uint8_t *buf, size_t *len, size_t cap);
int srtp_ctx_unprotect_rtcp(struct srtp_ctx *s, uint8_t *buf, size_t *len);

#endif
