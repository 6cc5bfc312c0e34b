/* media/webrtc/dtls.c: DTLS-SRTP (RFC 5763, RFC 5764) on OpenSSL 3.0, without I/O. A struct
 * dtls_cert holds the key pair, the self-signed certificate, its fingerprint and the SSL_CTX
 * every leg shares (DTLS 1.2 only, ECDHE, use_srtp with the AEAD and the CM profile). A struct
 * dtls_conn is one SSL object between a memory BIO (the datagrams fed in, one at a time) and a
 * small BIO of our own that keeps each datagram OpenSSL writes in a bounded queue, so a flight
 * leaves as the datagrams OpenSSL packed to the MTU. Self-signed certificates are accepted
 * because the trust comes from the SDP: the verify callback compares the SHA-256 fingerprint
 * of the peer's certificate with the one the signalling gave (RFC 5763 §5). OpenSSL keeps its
 * own retransmission timer (1 s doubling, RFC 6347 §4.2.4); the handshake timeout is ours, on
 * the caller's clock. Keys are exported once, at the end of the handshake, and never logged. */
#include "media/webrtc/dtls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define DTLS_MTU 1200                      /* below every path MTU a browser meets */
#define DTLS_HANDSHAKE_US (30 * 1000000LL) /* the whole handshake, first datagram on */
#define DTLS_QUEUE_LEN 8                   /* datagrams waiting to be taken */
#define DTLS_DGRAM_MAX 1500                /* what one queued datagram may hold */
#define DTLS_FEED_MAX 4096                 /* a larger datagram is not DTLS from a browser */
#define DTLS_CERT_LIST_MAX 8192            /* the peer's certificate chain, in bytes */
#define DTLS_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define DTLS_EXPORTER_LABEL "EXTRACTOR-dtls_srtp"

struct dtls_cert {
    EVP_PKEY *key;
    X509 *crt;
    SSL_CTX *ctx;
    uint8_t fp_raw[DTLS_FP_LEN];
    char fp[DTLS_FP_LEN * 3]; /* "AB:" per byte, the last ':' becomes the NUL */
};

struct dtls_dgram {
    size_t len;
    uint8_t data[DTLS_DGRAM_MAX];
};

struct dtls_conn {
    SSL *ssl;
    BIO *rbio; /* memory BIO: the datagram being fed */
    enum dtls_state state;
    bool server;
    bool fp_mismatch;      /* set by the verify callback */
    int64_t start_us;      /* first datagram in or out, -1 before */
    int64_t retx_deadline; /* OpenSSL's timer on the caller's clock, INT64_MAX when off */
    struct dtls_srtp_keys keys;
    bool has_keys;
    uint8_t remote_fp[DTLS_FP_LEN];
    char error[128];
    size_t q_head, q_len; /* the ring of datagrams to send */
    struct dtls_dgram q[DTLS_QUEUE_LEN];
};

static BIO_METHOD *queue_method;
static CRYPTO_ONCE queue_method_once = CRYPTO_ONCE_STATIC_INIT;

/* ---- the write side: each BIO_write is one datagram ------------------------------------- */

static int queue_write(BIO *b, const char *data, int len)
{
    struct dtls_conn *d = BIO_get_data(b);
    struct dtls_dgram *g;

    if (len <= 0)
        return 0;
    /* A full queue or an oversized write is a datagram lost on the way, which DTLS repairs by
     * retransmission; it must not be an error that kills the handshake. */
    if (d->q_len == DTLS_QUEUE_LEN || (size_t)len > DTLS_DGRAM_MAX)
        return len;
    g = &d->q[(d->q_head + d->q_len) % DTLS_QUEUE_LEN];
    memcpy(g->data, data, (size_t)len);
    g->len = (size_t)len;
    d->q_len++;
    return len;
}

static long queue_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
        return DTLS_MTU;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
    default:
        return 0;
    }
}

static int queue_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void queue_method_make(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dtls queue");

    if (!m)
        return;
    if (!BIO_meth_set_write(m, queue_write) || !BIO_meth_set_ctrl(m, queue_ctrl) ||
        !BIO_meth_set_create(m, queue_create)) {
        BIO_meth_free(m);
        return;
    }
    queue_method = m;
}

/* ---- the certificate ------------------------------------------------------------------- */

static int verify_peer(int preverify_ok, X509_STORE_CTX *store);

static int cert_sign(struct dtls_cert *c)
{
    X509_NAME *name = X509_get_subject_name(c->crt);
    unsigned char serial[8];
    BIGNUM *bn = NULL;
    int ok;

    if (RAND_bytes(serial, sizeof(serial)) != 1)
        return -EIO;
    serial[0] &= 0x7f; /* a positive serial */
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c->crt)) &&
         X509_set_version(c->crt, 2) &&
         X509_gmtime_adj(X509_getm_notBefore(c->crt), -30L * 24 * 3600) &&
         X509_gmtime_adj(X509_getm_notAfter(c->crt), 365L * 24 * 3600) &&
         X509_set_pubkey(c->crt, c->key) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"callbridge",
                                    -1, -1, 0) &&
         X509_set_issuer_name(c->crt, name) && X509_sign(c->crt, c->key, EVP_sha256()) > 0;
    BN_free(bn);
    return ok ? 0 : -EIO;
}

static int cert_fingerprint(struct dtls_cert *c)
{
    unsigned int n = 0;
    size_t i;

    if (!X509_digest(c->crt, EVP_sha256(), c->fp_raw, &n) || n != DTLS_FP_LEN)
        return -EIO;
    for (i = 0; i < DTLS_FP_LEN; i++)
        snprintf(c->fp + 3 * i, 4, "%02X%s", c->fp_raw[i], i + 1 < DTLS_FP_LEN ? ":" : "");
    return 0;
}

static int cert_ctx(struct dtls_cert *c)
{
    static char groups[] = "X25519:P-256:P-384"; /* the macro casts away const */
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());

    if (!ctx)
        return -ENOMEM;
    c->ctx = ctx;
    /* DTLS 1.2 is what browsers speak; SRTP keys come from its exporter (RFC 5764 §4.2). */
    if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(ctx, "ECDHE:!aNULL:!eNULL:!3DES:!RC4") ||
        !SSL_CTX_set1_groups_list(ctx, groups) ||
        SSL_CTX_set_tlsext_use_srtp(ctx, DTLS_SRTP_PROFILES) != 0 ||
        SSL_CTX_use_certificate(ctx, c->crt) != 1 || SSL_CTX_use_PrivateKey(ctx, c->key) != 1)
        return -EIO;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_peer);
    SSL_CTX_set_max_cert_list(ctx, DTLS_CERT_LIST_MAX);
    /* ICE connectivity checks already proved the peer answers at its address (RFC 5763 §5),
     * so no cookie exchange; one connection per SSL, so no session resumption. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
    return 0;
}

int dtls_cert_new(struct dtls_cert **ret)
{
    struct dtls_cert *c = calloc(1, sizeof(*c));
    int r = -ENOMEM;

    if (!c)
        goto out;
    c->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    c->crt = X509_new();
    if (!c->key || !c->crt)
        goto out;
    r = cert_sign(c);
    if (r == 0)
        r = cert_fingerprint(c);
    if (r == 0)
        r = cert_ctx(c);
out:
    if (r < 0) {
        dtls_cert_free(c);
        ERR_clear_error();
        return r;
    }
    *ret = c;
    return 0;
}

void dtls_cert_free(struct dtls_cert *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    X509_free(c->crt);
    EVP_PKEY_free(c->key);
    free(c);
}

const char *dtls_cert_fingerprint(const struct dtls_cert *c)
{
    return c->fp;
}

const uint8_t *dtls_cert_fingerprint_raw(const struct dtls_cert *c)
{
    return c->fp_raw;
}

/* ---- the connection -------------------------------------------------------------------- */

/* The chain is not trusted by anyone, and need not be: the leaf (depth 0) must be the
 * certificate whose fingerprint the peer put in its SDP, and nothing else counts. */
static int verify_peer(int preverify_ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct dtls_conn *d = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *crt = X509_STORE_CTX_get_current_cert(store);
    uint8_t fp[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    (void)preverify_ok;
    if (!d || !crt)
        return 0;
    if (X509_STORE_CTX_get_error_depth(store) > 0)
        return 1;
    if (!X509_digest(crt, EVP_sha256(), fp, &n) || n != DTLS_FP_LEN ||
        CRYPTO_memcmp(fp, d->remote_fp, DTLS_FP_LEN) != 0) {
        d->fp_mismatch = true;
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
}

int dtls_conn_new(const struct dtls_cert *c, bool server, const uint8_t *remote_fp,
                  struct dtls_conn **ret)
{
    struct dtls_conn *d = NULL;
    BIO *wbio = NULL;

    if (!CRYPTO_THREAD_run_once(&queue_method_once, queue_method_make) || !queue_method)
        return -ENOMEM;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->state = DTLS_HANDSHAKING;
    d->server = server;
    d->start_us = -1;
    d->retx_deadline = INT64_MAX;
    memcpy(d->remote_fp, remote_fp, DTLS_FP_LEN);
    d->ssl = SSL_new(c->ctx);
    d->rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(queue_method);
    if (!d->ssl || !d->rbio || !wbio || !SSL_set_app_data(d->ssl, d)) {
        BIO_free(d->rbio);
        BIO_free(wbio);
        SSL_free(d->ssl);
        free(d);
        ERR_clear_error();
        return -ENOMEM;
    }
    BIO_set_data(wbio, d);
    BIO_set_mem_eof_return(d->rbio, -1); /* empty means "wait", not end of file */
    SSL_set_bio(d->ssl, d->rbio, wbio);  /* the SSL owns both now */
    SSL_set_mtu(d->ssl, DTLS_MTU);
    if (server)
        SSL_set_accept_state(d->ssl);
    else
        SSL_set_connect_state(d->ssl);
    *ret = d;
    return 0;
}

void dtls_conn_free(struct dtls_conn *d)
{
    if (!d)
        return;
    SSL_free(d->ssl);
    OPENSSL_cleanse(&d->keys, sizeof(d->keys));
    free(d);
}

static void fail(struct dtls_conn *d, const char *why)
{
    if (d->state == DTLS_FAILED)
        return;
    d->state = DTLS_FAILED;
    d->retx_deadline = INT64_MAX;
    snprintf(d->error, sizeof(d->error), "%s", why);
}

/* After an SSL call that failed: our fingerprint check, or what OpenSSL says went wrong. */
static void fail_from_openssl(struct dtls_conn *d)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;

    if (d->fp_mismatch)
        fail(d, "certificate does not match the fingerprint in the SDP");
    else
        fail(d, reason ? reason : "DTLS handshake failed");
    ERR_clear_error();
}

/* RFC 5764 §4.2: client key, server key, client salt, server salt, in that order. */
static int export_keys(struct dtls_conn *d)
{
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    struct dtls_srtp_keys *k = &d->keys;
    uint8_t m[2 * (32 + 14)];
    const uint8_t *ck, *sk, *cs, *ss;

    if (!p)
        return -ENOENT;
    if (p->id == SRTP_AEAD_AES_128_GCM) {
        k->profile = SRTP_PROFILE_AEAD_AES_128_GCM;
        k->key_len = 16;
        k->salt_len = 12;
    } else if (p->id == SRTP_AES128_CM_SHA1_80) {
        k->profile = SRTP_PROFILE_AES128_CM_SHA1_80;
        k->key_len = 16;
        k->salt_len = 14;
    } else {
        return -ENOENT;
    }
    if (SSL_export_keying_material(d->ssl, m, 2 * (k->key_len + k->salt_len), DTLS_EXPORTER_LABEL,
                                   strlen(DTLS_EXPORTER_LABEL), NULL, 0, 0) != 1)
        return -EIO;
    ck = m;
    sk = ck + k->key_len;
    cs = sk + k->key_len;
    ss = cs + k->salt_len;
    memcpy(k->local_key, d->server ? sk : ck, k->key_len);
    memcpy(k->remote_key, d->server ? ck : sk, k->key_len);
    memcpy(k->local_salt, d->server ? ss : cs, k->salt_len);
    memcpy(k->remote_salt, d->server ? cs : ss, k->salt_len);
    OPENSSL_cleanse(m, sizeof(m));
    d->has_keys = true;
    return 0;
}

/* OpenSSL's timer counts real time from now; the caller's clock is the one that runs us. */
static void update_deadline(struct dtls_conn *d, int64_t now_us)
{
    struct timeval tv;

    d->retx_deadline = INT64_MAX;
    if (d->state != DTLS_HANDSHAKING && d->state != DTLS_CONNECTED)
        return;
    if (DTLSv1_get_timeout(d->ssl, &tv) == 1)
        d->retx_deadline = now_us + (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void finish_handshake(struct dtls_conn *d)
{
    int r = export_keys(d);

    if (r == -ENOENT)
        fail(d, "no SRTP profile in common");
    else if (r < 0)
        fail_from_openssl(d);
    else
        d->state = DTLS_CONNECTED;
}

static void step_handshake(struct dtls_conn *d)
{
    int r, e;

    ERR_clear_error();
    r = SSL_do_handshake(d->ssl);
    if (r == 1) {
        finish_handshake(d);
        return;
    }
    e = SSL_get_error(d->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        fail_from_openssl(d);
}

/* After the handshake only alerts matter: WebRTC data channels are not ours to carry, so
 * application data is read and dropped. */
static void step_connected(struct dtls_conn *d)
{
    uint8_t sink[2048];
    int r, e, n;

    for (n = 0; n < 16; n++) { /* the records of one datagram */
        ERR_clear_error();
        r = SSL_read(d->ssl, sink, sizeof(sink));
        if (r > 0)
            continue;
        e = SSL_get_error(d->ssl, r);
        if (e == SSL_ERROR_ZERO_RETURN) {
            d->state = DTLS_CLOSED;
            (void)SSL_shutdown(d->ssl); /* our close_notify back, queued for take */
        } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            fail_from_openssl(d);
        }
        break;
    }
    OPENSSL_cleanse(sink, sizeof(sink));
    ERR_clear_error();
}

int dtls_conn_start(struct dtls_conn *d, int64_t now_us)
{
    if (d->server || d->state != DTLS_HANDSHAKING || d->start_us >= 0)
        return 0;
    d->start_us = now_us;
    step_handshake(d);
    update_deadline(d, now_us);
    return d->state == DTLS_FAILED ? -EPROTO : 0;
}

int dtls_conn_feed(struct dtls_conn *d, const uint8_t *buf, size_t len, int64_t now_us)
{
    if (d->state == DTLS_FAILED)
        return -EPROTO;
    /* RFC 7983 §7: 20-63 is DTLS; anything else is not ours, whoever demultiplexed it. */
    if (d->state == DTLS_CLOSED || len == 0 || len > DTLS_FEED_MAX || buf[0] < 20 || buf[0] > 63)
        return 0;
    if (d->start_us < 0)
        d->start_us = now_us;
    if (BIO_write(d->rbio, buf, (int)len) != (int)len)
        return 0;
    if (d->state == DTLS_HANDSHAKING)
        step_handshake(d);
    if (d->state == DTLS_CONNECTED)
        step_connected(d);
    /* What OpenSSL left unread (a record cut short) must not be glued to the next datagram. */
    (void)BIO_reset(d->rbio);
    update_deadline(d, now_us);
    return d->state == DTLS_FAILED ? -EPROTO : 0;
}

long dtls_conn_take(struct dtls_conn *d, uint8_t *buf, size_t cap)
{
    struct dtls_dgram *g;
    long n;

    if (d->q_len == 0)
        return 0;
    g = &d->q[d->q_head];
    if (g->len > cap)
        return -ENOSPC;
    memcpy(buf, g->data, g->len);
    n = (long)g->len;
    d->q_head = (d->q_head + 1) % DTLS_QUEUE_LEN;
    d->q_len--;
    return n;
}

int64_t dtls_conn_deadline(const struct dtls_conn *d)
{
    int64_t t = d->retx_deadline;

    if (d->state == DTLS_HANDSHAKING && d->start_us >= 0 && d->start_us + DTLS_HANDSHAKE_US < t)
        t = d->start_us + DTLS_HANDSHAKE_US;
    return t;
}

void dtls_conn_on_timer(struct dtls_conn *d, int64_t now_us)
{
    if (d->state == DTLS_HANDSHAKING && d->start_us >= 0 &&
        now_us - d->start_us >= DTLS_HANDSHAKE_US) {
        fail(d, "handshake timeout");
        return;
    }
    if (d->state != DTLS_HANDSHAKING && d->state != DTLS_CONNECTED)
        return;
    ERR_clear_error();
    /* 0 when OpenSSL's own timer has not run out yet: then only the deadline moves. */
    if (DTLSv1_handle_timeout(d->ssl) < 0)
        fail_from_openssl(d);
    ERR_clear_error();
    update_deadline(d, now_us);
}

enum dtls_state dtls_conn_state(const struct dtls_conn *d)
{
    return d->state;
}

const char *dtls_conn_error(const struct dtls_conn *d)
{
    return d->error;
}

int dtls_conn_srtp_keys(const struct dtls_conn *d, struct dtls_srtp_keys *ret)
{
    if (!d->has_keys) /* from the end of the handshake on, a close included */
        return -EAGAIN;
    *ret = d->keys;
    return 0;
}
