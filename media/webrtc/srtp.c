/* media/webrtc/srtp.c: SRTP and SRTCP (RFC 3711, RFC 7714) on libsrtp2, keyed by DTLS-SRTP.
 * A struct srtp_ctx is one libsrtp2 session for one direction of one leg: outbound protects
 * with the local keys for any SSRC we send, inbound unprotects with the remote keys for any
 * SSRC the browser sends (it picks its own, and adds more for simulcast or RTX). libsrtp2 is
 * initialised once for the process. Packets are checked for the smallest valid header before
 * libsrtp2 sees them, and every refusal (tag, replay, shape) is one -EBADMSG. */
#include "media/webrtc/dtls.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#define SRTP_REPLAY_WINDOW 1024 /* packets: a browser's reordering fits in far less */
#define RTP_HEADER_MIN 12
#define RTCP_HEADER_MIN 8

struct srtp_ctx {
    srtp_t session;
};

static pthread_once_t srtp_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t srtp_init_status = srtp_err_status_fail;

static void srtp_init_once(void)
{
    srtp_init_status = srtp_init();
}

static int set_policy(const struct dtls_srtp_keys *k, srtp_crypto_policy_t *rtp,
                      srtp_crypto_policy_t *rtcp)
{
    if (k->key_len != 16)
        return -EINVAL;
    if (k->profile == SRTP_PROFILE_AES128_CM_SHA1_80 && k->salt_len == 14) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
        return 0;
    }
    if (k->profile == SRTP_PROFILE_AEAD_AES_128_GCM && k->salt_len == 12) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp);
        return 0;
    }
    return -EINVAL;
}

int srtp_ctx_new(const struct dtls_srtp_keys *k, bool outbound, struct srtp_ctx **ret)
{
    uint8_t master[32 + 14]; /* libsrtp2 takes the key and the salt back to back */
    srtp_policy_t p;
    struct srtp_ctx *s = NULL;
    int r;

    (void)pthread_once(&srtp_once, srtp_init_once);
    if (srtp_init_status != srtp_err_status_ok)
        return -ENOMEM;
    memset(&p, 0, sizeof(p));
    r = set_policy(k, &p.rtp, &p.rtcp);
    if (r < 0)
        return r;
    memcpy(master, outbound ? k->local_key : k->remote_key, k->key_len);
    memcpy(master + k->key_len, outbound ? k->local_salt : k->remote_salt, k->salt_len);
    p.key = master;
    p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    p.window_size = SRTP_REPLAY_WINDOW;
    p.allow_repeat_tx = outbound; /* a NACKed packet goes out again with the same index */
    s = calloc(1, sizeof(*s));
    if (!s) {
        r = -ENOMEM;
        goto out;
    }
    if (srtp_create(&s->session, &p) != srtp_err_status_ok) {
        free(s);
        r = -ENOMEM;
        goto out;
    }
    *ret = s;
    r = 0;
out:
    OPENSSL_cleanse(master, sizeof(master)); /* a wipe the compiler keeps */
    return r;
}

void srtp_ctx_free(struct srtp_ctx *s)
{
    if (!s)
        return;
    (void)srtp_dealloc(s->session);
    free(s);
}

/* RFC 3550 §5.1: version 2, and a header at least as long as its CSRC list says. */
static bool is_rtp(const uint8_t *buf, size_t len)
{
    return len >= RTP_HEADER_MIN && (buf[0] >> 6) == 2 &&
           len >= RTP_HEADER_MIN + 4 * (size_t)(buf[0] & 0x0f);
}

static bool is_rtcp(const uint8_t *buf, size_t len)
{
    return len >= RTCP_HEADER_MIN && (buf[0] >> 6) == 2;
}

static int protect(struct srtp_ctx *s, uint8_t *buf, size_t *len, size_t cap, bool rtcp)
{
    int n;
    srtp_err_status_t e;

    if (!(rtcp ? is_rtcp(buf, *len) : is_rtp(buf, *len)))
        return -EBADMSG;
    if (cap < *len || cap - *len < SRTP_OVERHEAD || *len > INT_MAX - SRTP_OVERHEAD)
        return -ENOSPC;
    n = (int)*len;
    e = rtcp ? srtp_protect_rtcp(s->session, buf, &n) : srtp_protect(s->session, buf, &n);
    if (e != srtp_err_status_ok)
        return -EBADMSG;
    *len = (size_t)n;
    return 0;
}

static int unprotect(struct srtp_ctx *s, uint8_t *buf, size_t *len, bool rtcp)
{
    int n;
    srtp_err_status_t e;

    if (!(rtcp ? is_rtcp(buf, *len) : is_rtp(buf, *len)) || *len > INT_MAX)
        return -EBADMSG;
    n = (int)*len;
    e = rtcp ? srtp_unprotect_rtcp(s->session, buf, &n) : srtp_unprotect(s->session, buf, &n);
    if (e != srtp_err_status_ok || n < 0 || (size_t)n > *len)
        return -EBADMSG;
    *len = (size_t)n;
    return 0;
}

int srtp_ctx_protect(struct srtp_ctx *s, uint8_t *buf, size_t *len, size_t cap)
{
    return protect(s, buf, len, cap, false);
}

int srtp_ctx_unprotect(struct srtp_ctx *s, uint8_t *buf, size_t *len)
{
    return unprotect(s, buf, len, false);
}

int srtp_ctx_protect_rtcp(struct srtp_ctx *s, uint8_t *buf, size_t *len, size_t cap)
{
    return protect(s, buf, len, cap, true);
}

int srtp_ctx_unprotect_rtcp(struct srtp_ctx *s, uint8_t *buf, size_t *len)
{
    return unprotect(s, buf, len, true);
}
