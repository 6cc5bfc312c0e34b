/* turnclient/ice.c: the ICE-lite agent of a WebRTC leg (RFC 8445 §2.5, §7.3): it answers the
 * browser's connectivity checks and remembers which pair the browser nominated and when the
 * last valid check came (consent freshness, RFC 7675). It never sends a check of its own.
 *
 * DESIGN: a datagram goes through the checks in the order RFC 8489 §6.3 and §9.1.3 give them:
 * anything that is not a well-formed Binding request with a correct FINGERPRINT is dropped
 * without a word (RFC 8445 §7.3 requires FINGERPRINT on checks, and a reply to garbage would
 * make us a reflector); then USERNAME and MESSAGE-INTEGRITY (400 when missing, 401 when wrong,
 * neither answer carrying MESSAGE-INTEGRITY since the sender is unproven); then, authenticated,
 * unknown comprehension-required attributes (420), PRIORITY (400) and the role (487: a lite
 * agent is always controlled, so a peer that also claims to be controlled is in conflict,
 * §7.3.1.1). Authenticated answers are signed with local_pwd, as §7.3.1.3 asks. */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/rand.h>

#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

#define ICE_UFRAG_LEN 8
#define ICE_PWD_LEN 24
#define ICE_REPLY_MIN 256

/* Fills n characters of [A-Za-z0-9+/] (ice-char, RFC 8839 §5.4) from RAND_bytes: 64
 * characters, so the low six bits of a byte pick one without bias. */
static int random_ice_chars(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char raw[ICE_PWD_LEN];

    if (n > sizeof(raw) || RAND_bytes(raw, (int)n) != 1)
        return -EIO;
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[raw[i] & 63];
    out[n] = '\0';
    return 0;
}

int ice_lite_init(struct ice_lite *ice)
{
    memset(ice, 0, sizeof(*ice));
    if (random_ice_chars(ice->local_ufrag, ICE_UFRAG_LEN) < 0 ||
        random_ice_chars(ice->local_pwd, ICE_PWD_LEN) < 0) {
        memset(ice, 0, sizeof(*ice)); /* no half-random credentials left behind */
        return -EIO;
    }
    return 0;
}

/* USERNAME of a check to us is "<our ufrag>:<its ufrag>" (RFC 8445 §7.2.2). Until the answer
 * has told us the remote ufrag, any non-empty remote part is taken. */
static bool is_our_username(const struct ice_lite *ice, const struct stun_bytes *u)
{
    size_t ll = strlen(ice->local_ufrag), rl = strlen(ice->remote_ufrag);

    if (ll == 0 || u->len < ll + 2 || memcmp(u->ptr, ice->local_ufrag, ll) != 0 ||
        u->ptr[ll] != ':')
        return false;
    if (rl == 0)
        return true;
    return u->len == ll + 1 + rl && memcmp(u->ptr + ll + 1, ice->remote_ufrag, rl) == 0;
}

/* Writes an error response; signed (with local_pwd) only once the request was authenticated. */
static long write_error(const struct ice_lite *ice, const struct stun_msg *m, int code,
                        const char *reason, bool sign, uint8_t *out, size_t cap)
{
    struct stun_writer w;

    stun_writer_init(&w, out, cap, STUN_BINDING, STUN_ERROR, m->tid);
    stun_put_error(&w, code, reason);
    if (code == 420) {
        uint8_t types[2 * STUN_MAX_UNKNOWN];

        for (size_t i = 0; i < m->n_unknown; i++) {
            types[2 * i] = (uint8_t)(m->unknown[i] >> 8);
            types[2 * i + 1] = (uint8_t)m->unknown[i];
        }
        stun_put_bytes(&w, STUN_ATTR_UNKNOWN_ATTRIBUTES, types, 2 * m->n_unknown);
    }
    if (sign)
        stun_put_integrity(&w, (const uint8_t *)ice->local_pwd, strlen(ice->local_pwd));
    stun_put_fingerprint(&w);
    return stun_writer_finish(&w);
}

static long write_success(const struct ice_lite *ice, const struct stun_msg *m,
                          const struct sockaddr *peer, uint8_t *out, size_t cap)
{
    struct stun_writer w;

    stun_writer_init(&w, out, cap, STUN_BINDING, STUN_SUCCESS, m->tid);
    stun_put_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, peer);
    stun_put_integrity(&w, (const uint8_t *)ice->local_pwd, strlen(ice->local_pwd));
    stun_put_fingerprint(&w);
    return stun_writer_finish(&w);
}

/* The error a decoded, fingerprinted Binding request earns, or 0 for a valid check; *ret_sign
 * says whether the request proved it knows local_pwd. */
static int check_error(const struct ice_lite *ice, const struct stun_msg *m, bool *ret_sign)
{
    *ret_sign = false;
    if (!m->username.ptr || !m->mi_off)
        return 400; /* RFC 8489 §9.1.3 */
    if (!is_our_username(ice, &m->username) ||
        stun_check_integrity(m, (const uint8_t *)ice->local_pwd, strlen(ice->local_pwd)) != 0)
        return 401;
    *ret_sign = true;
    if (m->n_unknown > 0)
        return 420; /* RFC 8489 §6.3.1, after authentication */
    if (!m->has_priority)
        return 400; /* RFC 8445 §7.1.1: every check carries it */
    if (m->has_ice_controlled || !m->has_ice_controlling)
        return 487; /* RFC 8445 §7.3.1.1: the full agent must be controlling */
    return 0;
}

static const char *reason_of(int code)
{
    switch (code) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 420:
        return "Unknown Attribute";
    default:
        return "Role Conflict";
    }
}

static void note_valid(struct ice_lite *ice, const struct stun_msg *m, const struct sockaddr *peer,
                       int64_t now_us)
{
    ice->valid++;
    ice->last_valid_us = now_us;
    if (m->use_candidate) {
        /* the latest nomination wins: Chrome renominates after a network change */
        size_t sl =
            peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

        memset(&ice->selected, 0, sizeof(ice->selected));
        memcpy(&ice->selected, peer, sl);
        ice->nominated = true;
        ice->nominations++;
    }
}

enum ice_verdict ice_lite_on_stun(struct ice_lite *ice, const uint8_t *msg, size_t len,
                                  const struct sockaddr *peer, int64_t now_us, uint8_t *out,
                                  size_t cap, size_t *ret_len)
{
    enum ice_verdict v = ICE_IGNORE;
    struct stun_msg m;
    bool sign;
    int code;
    long n;

    if (cap < ICE_REPLY_MIN || (peer->sa_family != AF_INET && peer->sa_family != AF_INET6) ||
        stun_decode_datagram(msg, len, &m) < 0 || m.method != STUN_BINDING ||
        m.cls != STUN_REQUEST || stun_check_fingerprint(&m) != 0)
        goto out;
    code = check_error(ice, &m, &sign);
    n = code ? write_error(ice, &m, code, reason_of(code), sign, out, cap)
             : write_success(ice, &m, peer, out, cap);
    if (n < 0)
        goto out;
    if (code) {
        v = ICE_ERROR_REPLY;
    } else {
        note_valid(ice, &m, peer, now_us);
        v = ICE_SUCCESS;
    }
    *ret_len = (size_t)n;
out:
    if (v != ICE_SUCCESS)
        ice->refused++;
    return v;
}
