/* turnclient/stun.c: STUN/TURN message codec (RFC 8489, RFC 8656), after libjuice's stun.c shape:
 * a pure reader and writer over caller buffers.
 *
 * DESIGN: every read is bounded by the datagram length first and by each attribute's length
 * second; padding is skipped, never checked (RFC 5769's vectors pad with spaces, coturn with
 * garbage). MESSAGE-INTEGRITY is computed over the header with its length field rewritten to end
 * at the integrity attribute, then the attributes before it (RFC 8489 §14.5); nothing but
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow it, and anything else there is ignored. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "turnclient/stun.h"

#define FINGERPRINT_XOR 0x5354554eu
#define MI_LEN 20
#define MI256_LEN 32

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

/* Continues a CRC-32 (start with 0xffffffff, finish with ^ 0xffffffff). */
static uint32_t crc_update(uint32_t crc, const uint8_t *buf, size_t len)
{
    (void)pthread_once(&crc_once, crc_init);
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

uint32_t stun_crc32(const uint8_t *buf, size_t len)
{
    return crc_update(0xffffffffu, buf, len) ^ 0xffffffffu;
}

bool stun_is_message(const uint8_t *buf, size_t len)
{
    return len >= STUN_HEADER_LEN && (buf[0] & 0xc0) == 0 && get32(buf + 4) == STUN_MAGIC_COOKIE &&
           get16(buf + 2) % 4 == 0 && STUN_HEADER_LEN + (size_t)get16(buf + 2) <= len;
}

/* ---- decoding ----------------------------------------------------------------------------- */

/* RFC 8489 §14.1/§14.2: family 1 (IPv4, 8 bytes) or 2 (IPv6, 20 bytes); XOR with the cookie
 * (and the transaction id for IPv6) when xor. */
static int read_addr(const uint8_t *v, size_t len, bool xor, const uint8_t *header,
                     struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (len == 8 && v[1] == 1) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        uint32_t a = get32(v + 4);
        uint16_t port = get16(v + 2);

        if (xor) {
            port ^= (uint16_t)(STUN_MAGIC_COOKIE >> 16);
            a ^= STUN_MAGIC_COOKIE;
        }
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(a);
        return 0;
    }
    if (len == 20 && v[1] == 2) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        uint16_t port = get16(v + 2);

        memcpy(in6->sin6_addr.s6_addr, v + 4, 16);
        if (xor) {
            port ^= (uint16_t)(STUN_MAGIC_COOKIE >> 16);
            for (int i = 0; i < 16; i++) /* cookie || transaction id */
                in6->sin6_addr.s6_addr[i] ^= header[4 + i];
        }
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        return 0;
    }
    return -EINVAL;
}

/* Reads an address attribute unless one of that type was already read. */
static int read_addr_once(bool *has, struct sockaddr_storage *ss, const uint8_t *v, size_t len,
                          bool xor, const uint8_t *header)
{
    if (*has)
        return 0;
    if (read_addr(v, len, xor, header, ss) < 0)
        return -EINVAL;
    *has = true;
    return 0;
}

static void set_bytes(struct stun_bytes *b, const uint8_t *v, size_t len)
{
    if (!b->ptr) {
        b->ptr = v;
        b->len = len;
    }
}

/* ICE-CONTROLLED / ICE-CONTROLLING: an 8-byte tie-breaker (RFC 8445 §16.1). Both may appear in
 * one (broken) request; the role checks then see both flags, the first one's tie-breaker. */
static int read_role(struct stun_msg *m, bool *has, const uint8_t *v, size_t len)
{
    if (len != 8)
        return -EINVAL;
    if (!m->has_ice_controlled && !m->has_ice_controlling)
        m->tie_breaker = (uint64_t)get32(v) << 32 | get32(v + 4);
    *has = true;
    return 0;
}

/* Reads one attribute into m. Returns 0 or -EINVAL. */
static int read_attr(struct stun_msg *m, uint16_t type, const uint8_t *v, size_t len)
{
    const uint8_t *h = m->raw;

    switch (type) {
    case STUN_ATTR_MAPPED_ADDRESS:
        return read_addr_once(&m->has_mapped, &m->mapped, v, len, false, h);
    case STUN_ATTR_XOR_MAPPED_ADDRESS:
        return read_addr_once(&m->has_xor_mapped, &m->xor_mapped, v, len, true, h);
    case STUN_ATTR_XOR_RELAYED_ADDRESS:
        return read_addr_once(&m->has_xor_relayed, &m->xor_relayed, v, len, true, h);
    case STUN_ATTR_XOR_PEER_ADDRESS:
        return read_addr_once(&m->has_xor_peer, &m->xor_peer, v, len, true, h);
    case STUN_ATTR_ALTERNATE_SERVER:
        return read_addr_once(&m->has_alternate, &m->alternate, v, len, false, h);
    case STUN_ATTR_USERNAME:
        set_bytes(&m->username, v, len);
        return len <= 513 ? 0 : -EINVAL;
    case STUN_ATTR_USERHASH:
        set_bytes(&m->userhash, v, len);
        return len == 32 ? 0 : -EINVAL;
    case STUN_ATTR_REALM:
        set_bytes(&m->realm, v, len);
        return len <= 763 ? 0 : -EINVAL;
    case STUN_ATTR_NONCE:
        set_bytes(&m->nonce, v, len);
        return len <= 763 ? 0 : -EINVAL;
    case STUN_ATTR_SOFTWARE:
        set_bytes(&m->software, v, len);
        return 0;
    case STUN_ATTR_DATA:
        set_bytes(&m->data, v, len);
        return 0;
    case STUN_ATTR_ERROR_CODE:
        if (len < 4 || (v[2] & 7) < 3 || (v[2] & 7) > 6 || v[3] > 99)
            return -EINVAL;
        if (!m->error_code) {
            m->error_code = (v[2] & 7) * 100 + v[3];
            set_bytes(&m->reason, v + 4, len - 4);
        }
        return 0;
    case STUN_ATTR_LIFETIME:
        if (len != 4)
            return -EINVAL;
        if (!m->has_lifetime) {
            m->has_lifetime = true;
            m->lifetime = get32(v);
        }
        return 0;
    case STUN_ATTR_CHANNEL_NUMBER:
        if (len != 4)
            return -EINVAL;
        if (!m->has_channel) {
            m->has_channel = true;
            m->channel = get16(v);
        }
        return 0;
    case STUN_ATTR_REQUESTED_TRANSPORT:
        if (len != 4)
            return -EINVAL;
        m->has_requested_transport = true;
        m->requested_transport = v[0];
        return 0;
    case STUN_ATTR_REQUESTED_ADDRESS_FAMILY:
        if (len != 4 || (v[0] != 1 && v[0] != 2))
            return -EINVAL;
        m->has_requested_family = true;
        m->requested_family = v[0];
        return 0;
    case STUN_ATTR_EVEN_PORT:
        if (len != 1)
            return -EINVAL;
        m->has_even_port = true;
        m->even_port_reserve = (v[0] & 0x80) != 0;
        return 0;
    case STUN_ATTR_DONT_FRAGMENT:
        m->dont_fragment = true;
        return len == 0 ? 0 : -EINVAL;
    case STUN_ATTR_RESERVATION_TOKEN:
        set_bytes(&m->reservation_token, v, len);
        return len == 8 ? 0 : -EINVAL;
    case STUN_ATTR_PASSWORD_ALGORITHMS:
        set_bytes(&m->password_algorithms, v, len);
        return len % 4 == 0 ? 0 : -EINVAL;
    case STUN_ATTR_PASSWORD_ALGORITHM:
        if (len < 4)
            return -EINVAL;
        m->has_password_algorithm = true;
        m->password_algorithm = get16(v);
        return 0;
    case STUN_ATTR_PRIORITY:
        if (len != 4)
            return -EINVAL;
        if (!m->has_priority) {
            m->has_priority = true;
            m->priority = get32(v);
        }
        return 0;
    case STUN_ATTR_USE_CANDIDATE:
        m->use_candidate = true;
        return len == 0 ? 0 : -EINVAL;
    case STUN_ATTR_ICE_CONTROLLED:
        return read_role(m, &m->has_ice_controlled, v, len);
    case STUN_ATTR_ICE_CONTROLLING:
        return read_role(m, &m->has_ice_controlling, v, len);
    case STUN_ATTR_UNKNOWN_ATTRIBUTES:
        set_bytes(&m->unknown_attributes, v, len);
        return len % 2 == 0 ? 0 : -EINVAL;
    default:
        if (type < 0x8000 && m->n_unknown < STUN_MAX_UNKNOWN) /* comprehension-required */
            m->unknown[m->n_unknown++] = type;
        return 0;
    }
}

long stun_decode(const uint8_t *buf, size_t len, struct stun_msg *ret_msg)
{
    struct stun_msg m;
    size_t end, off = STUN_HEADER_LEN;
    uint16_t type;

    if (!stun_is_message(buf, len))
        return -EINVAL;
    memset(&m, 0, sizeof(m));
    m.raw = buf;
    m.len = end = STUN_HEADER_LEN + get16(buf + 2);
    type = get16(buf);
    m.method = (uint16_t)((type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2));
    m.cls = (uint8_t)(((type & 0x0010) >> 4) | ((type & 0x0100) >> 7));
    memcpy(m.tid, buf + 8, STUN_TID_LEN);
    while (off < end) {
        uint16_t atype, alen;
        size_t padded;

        if (end - off < 4)
            return -EINVAL;
        atype = get16(buf + off);
        alen = get16(buf + off + 2);
        padded = ((size_t)alen + 3) & ~(size_t)3;
        if (padded > end - off - 4)
            return -EINVAL;
        if (m.fingerprint_off) /* nothing may follow FINGERPRINT */
            return -EINVAL;
        if (atype == STUN_ATTR_FINGERPRINT) {
            if (alen != 4)
                return -EINVAL;
            m.fingerprint_off = off;
        } else if (atype == STUN_ATTR_MESSAGE_INTEGRITY && !m.mi_off && !m.mi256_off) {
            if (alen != MI_LEN)
                return -EINVAL;
            m.mi_off = off;
        } else if (atype == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 && !m.mi256_off) {
            if (alen < 16 || alen > MI256_LEN || alen % 4 != 0)
                return -EINVAL;
            m.mi256_off = off;
            m.mi256_len = alen;
        } else if (!m.mi_off && !m.mi256_off) { /* after integrity: ignored (§14.5) */
            if (read_attr(&m, atype, buf + off + 4, alen) < 0)
                return -EINVAL;
        }
        off += 4 + padded;
    }
    *ret_msg = m;
    return (long)end;
}

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL); /* once: fetching is a provider lookup */
}

int stun_decode_datagram(const uint8_t *buf, size_t len, struct stun_msg *ret_msg)
{
    struct stun_msg m;

    if (stun_decode(buf, len, &m) != (long)len) /* trailing bytes: not one message */
        return -EINVAL;
    *ret_msg = m;
    return 0;
}

/* HMAC-<digest> of the pieces (p1, n1) and (p2, n2) into out; returns the MAC length or -EIO. */
static long hmac2(const char *digest, const uint8_t *key, size_t key_len, const uint8_t *p1,
                  size_t n1, const uint8_t *p2, size_t n2, uint8_t *out)
{
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)(uintptr_t)digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *ctx;
    size_t out_len = 0;
    long r = -EIO;

    (void)pthread_once(&hmac_once, hmac_fetch);
    ctx = hmac_alg ? EVP_MAC_CTX_new(hmac_alg) : NULL;
    if (ctx && EVP_MAC_init(ctx, key, key_len, params) == 1 && EVP_MAC_update(ctx, p1, n1) == 1 &&
        EVP_MAC_update(ctx, p2, n2) == 1 && EVP_MAC_final(ctx, out, &out_len, EVP_MAX_MD_SIZE) == 1)
        r = (long)out_len;
    EVP_MAC_CTX_free(ctx);
    return r;
}

/* HMAC over the header with its length field set to end at the attribute at 'off' of 'vlen'
 * value bytes, then everything between the header and that attribute (RFC 8489 §14.5). */
static int hmac(const struct stun_msg *m, const char *digest, size_t off, size_t vlen,
                const uint8_t *key, size_t key_len, uint8_t *out)
{
    uint8_t hdr[STUN_HEADER_LEN];

    memcpy(hdr, m->raw, STUN_HEADER_LEN);
    put16(hdr + 2, (uint16_t)(off + 4 + vlen - STUN_HEADER_LEN));
    return hmac2(digest, key, key_len, hdr, sizeof(hdr), m->raw + STUN_HEADER_LEN,
                 off - STUN_HEADER_LEN, out) < 0
               ? -EIO
               : 0;
}

int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t key_len)
{
    uint8_t mac[EVP_MAX_MD_SIZE];

    if (!m->mi_off)
        return -ENOENT;
    if (hmac(m, "SHA1", m->mi_off, MI_LEN, key, key_len, mac) < 0)
        return -EIO;
    return CRYPTO_memcmp(mac, m->raw + m->mi_off + 4, MI_LEN) == 0 ? 0 : -EBADMSG;
}

int stun_check_integrity_sha256(const struct stun_msg *m, const uint8_t *key, size_t key_len)
{
    uint8_t mac[EVP_MAX_MD_SIZE];

    if (!m->mi256_off)
        return -ENOENT;
    if (hmac(m, "SHA256", m->mi256_off, m->mi256_len, key, key_len, mac) < 0)
        return -EIO;
    return CRYPTO_memcmp(mac, m->raw + m->mi256_off + 4, m->mi256_len) == 0 ? 0 : -EBADMSG;
}

int stun_check_fingerprint(const struct stun_msg *m)
{
    uint8_t hdr[STUN_HEADER_LEN];
    uint32_t crc;

    if (!m->fingerprint_off)
        return -ENOENT;
    memcpy(hdr, m->raw, STUN_HEADER_LEN);
    put16(hdr + 2, (uint16_t)(m->fingerprint_off + 8 - STUN_HEADER_LEN));
    crc = crc_update(0xffffffffu, hdr, sizeof(hdr));
    crc = crc_update(crc, m->raw + STUN_HEADER_LEN, m->fingerprint_off - STUN_HEADER_LEN);
    crc = crc ^ 0xffffffffu ^ FINGERPRINT_XOR;
    return crc == get32(m->raw + m->fingerprint_off + 4) ? 0 : -EBADMSG;
}

/* ---- encoding ----------------------------------------------------------------------------- */

void stun_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method, uint8_t cls,
                      const uint8_t *tid)
{
    uint16_t type = (uint16_t)((method & 0x000f) | ((method & 0x0070) << 1) |
                               ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7));

    w->buf = buf;
    w->cap = cap;
    w->len = STUN_HEADER_LEN;
    w->err = cap < STUN_HEADER_LEN || method > 0x0fff ? -ENOSPC : 0;
    if (w->err)
        return;
    put16(buf, type);
    put16(buf + 2, 0);
    put32(buf + 4, STUN_MAGIC_COOKIE);
    memcpy(buf + 8, tid, STUN_TID_LEN);
}

/* Reserves an attribute of 'len' value bytes (zero padding written) and returns its value
 * pointer, or NULL after recording an error. The header's length field is kept current. */
static uint8_t *reserve(struct stun_writer *w, uint16_t type, size_t len)
{
    size_t padded = (len + 3) & ~(size_t)3;
    uint8_t *p;

    if (w->err)
        return NULL;
    if (len > 0xffff || w->cap - w->len < 4 + padded || w->len + 4 + padded > 0xffff + 20) {
        w->err = len > 0xffff ? -EINVAL : -ENOSPC;
        return NULL;
    }
    p = w->buf + w->len;
    put16(p, type);
    put16(p + 2, (uint16_t)len);
    memset(p + 4 + len, 0, padded - len);
    w->len += 4 + padded;
    put16(w->buf + 2, (uint16_t)(w->len - STUN_HEADER_LEN));
    return p + 4;
}

void stun_put_bytes(struct stun_writer *w, uint16_t type, const void *data, size_t len)
{
    uint8_t *v = reserve(w, type, len);

    if (v && len)
        memcpy(v, data, len);
}

void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t value)
{
    uint8_t *v = reserve(w, type, 4);

    if (v)
        put32(v, value);
}

void stun_put_str(struct stun_writer *w, uint16_t type, const char *s)
{
    stun_put_bytes(w, type, s, strlen(s));
}

void stun_put_addr(struct stun_writer *w, uint16_t type, const struct sockaddr *sa)
{
    bool xor = type == STUN_ATTR_XOR_MAPPED_ADDRESS || type == STUN_ATTR_XOR_PEER_ADDRESS ||
               type == STUN_ATTR_XOR_RELAYED_ADDRESS;
    uint16_t mask = xor? (uint16_t)(STUN_MAGIC_COOKIE >> 16) : 0;
    uint8_t *v;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

        v = reserve(w, type, 8);
        if (!v)
            return;
        v[0] = 0;
        v[1] = 1;
        put16(v + 2, (uint16_t)(ntohs(in->sin_port) ^ mask));
        put32(v + 4, ntohl(in->sin_addr.s_addr) ^ (xor? STUN_MAGIC_COOKIE : 0));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

        v = reserve(w, type, 20);
        if (!v)
            return;
        v[0] = 0;
        v[1] = 2;
        put16(v + 2, (uint16_t)(ntohs(in6->sin6_port) ^ mask));
        for (int i = 0; i < 16; i++)
            v[4 + i] = (uint8_t)(in6->sin6_addr.s6_addr[i] ^ (xor? w->buf[4 + i] : 0));
    } else if (!w->err) {
        w->err = -EINVAL;
    }
}

void stun_put_error(struct stun_writer *w, int code, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    uint8_t *v;

    if (code < 300 || code > 699) {
        w->err = w->err ? w->err : -EINVAL;
        return;
    }
    v = reserve(w, STUN_ATTR_ERROR_CODE, 4 + n);
    if (!v)
        return;
    v[0] = v[1] = 0;
    v[2] = (uint8_t)(code / 100);
    v[3] = (uint8_t)(code % 100);
    if (n > 0)
        memcpy(v + 4, reason, n);
}

void stun_put_channel(struct stun_writer *w, uint16_t channel)
{
    stun_put_u32(w, STUN_ATTR_CHANNEL_NUMBER, (uint32_t)channel << 16); /* RFFU = 0 */
}

void stun_put_requested_transport(struct stun_writer *w, uint8_t protocol)
{
    stun_put_u32(w, STUN_ATTR_REQUESTED_TRANSPORT, (uint32_t)protocol << 24);
}

static void put_mac(struct stun_writer *w, uint16_t type, const char *digest, size_t mac_len,
                    const uint8_t *key, size_t key_len)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    uint8_t *v = reserve(w, type, mac_len); /* the length field now ends at this attribute */
    size_t start = w->len - 4 - mac_len;

    if (!v)
        return;
    if (hmac2(digest, key, key_len, w->buf, start, NULL, 0, mac) < 0) {
        w->err = -EIO;
        return;
    }
    memcpy(v, mac, mac_len);
}

void stun_put_integrity(struct stun_writer *w, const uint8_t *key, size_t key_len)
{
    put_mac(w, STUN_ATTR_MESSAGE_INTEGRITY, "SHA1", MI_LEN, key, key_len);
}

void stun_put_integrity_sha256(struct stun_writer *w, const uint8_t *key, size_t key_len)
{
    put_mac(w, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, "SHA256", MI256_LEN, key, key_len);
}

void stun_put_fingerprint(struct stun_writer *w)
{
    uint8_t *v = reserve(w, STUN_ATTR_FINGERPRINT, 4);

    if (v)
        put32(v, stun_crc32(w->buf, w->len - 8) ^ FINGERPRINT_XOR);
}

long stun_writer_finish(const struct stun_writer *w)
{
    return w->err ? w->err : (long)w->len;
}

/* ---- ChannelData and demultiplexing ------------------------------------------------------- */

long stun_channel_data_encode(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data,
                              size_t len, bool pad)
{
    size_t total = 4 + len, framed = pad ? (total + 3) & ~(size_t)3 : total;

    if (channel < STUN_CHANNEL_MIN || channel > STUN_CHANNEL_MAX || len > 0xffff)
        return -EINVAL;
    if (framed > cap)
        return -ENOSPC;
    put16(buf, channel);
    put16(buf + 2, (uint16_t)len);
    if (len > 0)
        memmove(buf + 4, data, len);
    memset(buf + total, 0, framed - total);
    return (long)framed;
}

long stun_channel_data_decode(const uint8_t *buf, size_t len, bool pad, uint16_t *ret_channel,
                              struct stun_bytes *ret_data)
{
    uint16_t channel, dlen;
    size_t framed;

    if (len < 4)
        return -EINVAL;
    channel = get16(buf);
    dlen = get16(buf + 2);
    if (channel < STUN_CHANNEL_MIN || channel > STUN_CHANNEL_MAX || (size_t)dlen > len - 4)
        return -EINVAL;
    framed = 4 + (size_t)dlen;
    if (pad)
        framed = (framed + 3) & ~(size_t)3;
    if (framed > len)
        return -EINVAL;
    *ret_channel = channel;
    ret_data->ptr = buf + 4;
    ret_data->len = dlen;
    return (long)framed;
}

long stun_stream_frame_len(const uint8_t *buf, size_t len)
{
    if (len < 4)
        return 0;
    if ((buf[0] & 0xc0) == 0)
        return STUN_HEADER_LEN + (long)get16(buf + 2);
    if (buf[0] >= 0x40 && buf[0] <= 0x4f)
        return (long)((4 + (size_t)get16(buf + 2) + 3) & ~(size_t)3);
    return -EINVAL;
}
