/* tests/test_webrtc_dtls.c: DTLS-SRTP and SRTP (media/webrtc/dtls.h). Two dtls_conn with their
 * own certificates handshake in memory and export mirrored keys; SRTP and SRTCP round trips,
 * tampering and replay; a fingerprint that does not match; the retransmission timer and the
 * handshake timeout; and OpenSSL's own s_client and s_server as the independent peer over
 * loopback UDP, whose exported keying material must be the keys we derived. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "media/webrtc/dtls.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define OPENSSL_BIN "/usr/bin/openssl"
#define PEER_SECONDS 10 /* how long a real peer gets for the whole exchange */

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- two dtls_conn in memory ------------------------------------------------------------ */

struct pair {
    struct dtls_cert *cc, *sc;
    struct dtls_conn *client, *server;
};

/* wrong: 'c' gives the client a wrong fingerprint for the server, 's' the other way. */
static void pair_new(struct pair *p, char wrong)
{
    uint8_t cfp[DTLS_FP_LEN], sfp[DTLS_FP_LEN];

    ck_assert_int_eq(dtls_cert_new(&p->cc), 0);
    ck_assert_int_eq(dtls_cert_new(&p->sc), 0);
    memcpy(cfp, dtls_cert_fingerprint_raw(p->cc), DTLS_FP_LEN);
    memcpy(sfp, dtls_cert_fingerprint_raw(p->sc), DTLS_FP_LEN);
    if (wrong == 'c')
        sfp[7] ^= 0x01;
    if (wrong == 's')
        cfp[31] ^= 0x80;
    ck_assert_int_eq(dtls_conn_new(p->cc, false, sfp, &p->client), 0);
    ck_assert_int_eq(dtls_conn_new(p->sc, true, cfp, &p->server), 0);
}

static void pair_free(struct pair *p)
{
    dtls_conn_free(p->client);
    dtls_conn_free(p->server);
    dtls_cert_free(p->cc);
    dtls_cert_free(p->sc);
}

/* Moves every waiting datagram from one end to the other; returns how many. */
static int shuttle(struct dtls_conn *from, struct dtls_conn *to, int64_t now)
{
    uint8_t buf[2048];
    long n;
    int count = 0;

    while ((n = dtls_conn_take(from, buf, sizeof(buf))) > 0) {
        ck_assert_int_le(n, 1200); /* the MTU holds */
        (void)dtls_conn_feed(to, buf, (size_t)n, now);
        count++;
    }
    ck_assert_int_eq(n, 0);
    return count;
}

static void pair_run(struct pair *p, int64_t now)
{
    for (int round = 0; round < 16; round++) {
        int moved = shuttle(p->client, p->server, now) + shuttle(p->server, p->client, now);

        if (!moved)
            return;
    }
    ck_abort_msg("handshake did not settle in 16 rounds");
}

static void pair_connect(struct pair *p)
{
    int64_t now = mono_us();

    pair_new(p, 0);
    ck_assert_int_eq(dtls_conn_start(p->client, now), 0);
    pair_run(p, now);
    ck_assert_int_eq(dtls_conn_state(p->client), DTLS_CONNECTED);
    ck_assert_int_eq(dtls_conn_state(p->server), DTLS_CONNECTED);
}

START_TEST(test_certificate_fingerprint_is_sha256_hex)
{
    struct dtls_cert *c;
    const char *fp;
    const uint8_t *raw;
    char hex[4];

    ck_assert_int_eq(dtls_cert_new(&c), 0);
    fp = dtls_cert_fingerprint(c);
    raw = dtls_cert_fingerprint_raw(c);
    ck_assert_uint_eq(strlen(fp), 95);
    for (int i = 0; i < DTLS_FP_LEN; i++) {
        snprintf(hex, sizeof(hex), "%02X", raw[i]);
        ck_assert(strncmp(fp + 3 * i, hex, 2) == 0);
        if (i + 1 < DTLS_FP_LEN)
            ck_assert_int_eq(fp[3 * i + 2], ':');
    }
    dtls_cert_free(c);
    dtls_cert_free(NULL);
    dtls_conn_free(NULL);
    srtp_ctx_free(NULL);
}
END_TEST

START_TEST(test_handshake_in_memory_exports_mirrored_keys)
{
    struct pair p = {0};
    struct dtls_srtp_keys ck, sk;
    static const uint8_t zero[16];

    pair_connect(&p);
    ck_assert_str_eq(dtls_conn_error(p.client), "");
    ck_assert_int_eq(dtls_conn_srtp_keys(p.client, &ck), 0);
    ck_assert_int_eq(dtls_conn_srtp_keys(p.server, &sk), 0);
    /* OpenSSL's server takes its own first choice the client offers: the AEAD profile. */
    ck_assert_int_eq(ck.profile, SRTP_PROFILE_AEAD_AES_128_GCM);
    ck_assert_int_eq(sk.profile, ck.profile);
    ck_assert_uint_eq(ck.key_len, 16);
    ck_assert_uint_eq(ck.salt_len, 12);
    ck_assert_mem_eq(ck.local_key, sk.remote_key, 16);
    ck_assert_mem_eq(ck.remote_key, sk.local_key, 16);
    ck_assert_mem_eq(ck.local_salt, sk.remote_salt, 12);
    ck_assert_mem_eq(ck.remote_salt, sk.local_salt, 12);
    ck_assert(memcmp(ck.local_key, ck.remote_key, 16) != 0);
    ck_assert(memcmp(ck.local_key, zero, 16) != 0);
    pair_free(&p);
}
END_TEST

static void parse_hex(const char *s, uint8_t *out, size_t n, char sep);

/* ---- SRTP and SRTCP ----------------------------------------------------------------------- */

/* An Opus packet as a browser sends it: PT 111, one-byte header extension (RFC 8285) with
 * the audio level, 20 bytes of payload. */
static size_t rtp_packet(uint8_t *buf, uint16_t seq)
{
    static const uint8_t head[] = {0x90, 0x6f, 0x00, 0x00, 0x00, 0x01, 0xe2, 0x40, 0x3a, 0x1b,
                                   0x7c, 0x5d, 0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00};
    memcpy(buf, head, sizeof(head));
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    for (size_t i = 0; i < 20; i++)
        buf[sizeof(head) + i] = (uint8_t)(0xf8 ^ i);
    return sizeof(head) + 20;
}

/* A receiver report with one report block (RFC 3550 §6.4.2). */
static size_t rtcp_packet(uint8_t *buf)
{
    static const uint8_t rr[] = {0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x3a, 0x1b, 0x7c,
                                 0x5d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x2a, 0x00, 0x00,
                                 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    memcpy(buf, rr, sizeof(rr));
    return sizeof(rr);
}

/* Protects with the sender's local keys and unprotects with the receiver's remote keys:
 * round trip, a flipped bit refused, the same packet twice refused. */
static void srtp_across(const struct dtls_srtp_keys *tx, const struct dtls_srtp_keys *rx)
{
    struct srtp_ctx *out, *in;
    uint8_t plain[64], buf[128], copy[128];
    size_t len, plen, clen;

    ck_assert_int_eq(srtp_ctx_new(tx, true, &out), 0);
    ck_assert_int_eq(srtp_ctx_new(rx, false, &in), 0);
    for (uint16_t seq = 1000; seq < 1003; seq++) {
        plen = rtp_packet(plain, seq);
        memcpy(buf, plain, plen);
        len = plen;
        ck_assert_int_eq(srtp_ctx_protect(out, buf, &len, sizeof(buf)), 0);
        ck_assert_uint_gt(len, plen);
        ck_assert_uint_le(len, plen + SRTP_OVERHEAD);
        ck_assert(memcmp(buf + 20, plain + 20, 20) != 0); /* payload encrypted */
        memcpy(copy, buf, len);
        clen = len;
        if (seq == 1001) { /* tampered: one bit of the payload */
            buf[25] ^= 0x04;
            ck_assert_int_eq(srtp_ctx_unprotect(in, buf, &len), -EBADMSG);
            continue;
        }
        ck_assert_int_eq(srtp_ctx_unprotect(in, buf, &len), 0);
        ck_assert_uint_eq(len, plen);
        ck_assert_mem_eq(buf, plain, plen);
        ck_assert_int_eq(srtp_ctx_unprotect(in, copy, &clen), -EBADMSG); /* replayed */
    }
    len = rtp_packet(buf, 1);
    ck_assert_int_eq(srtp_ctx_protect(out, buf, &len, len + SRTP_OVERHEAD - 1), -ENOSPC);

    plen = rtcp_packet(plain);
    memcpy(buf, plain, plen);
    len = plen;
    ck_assert_int_eq(srtp_ctx_protect_rtcp(out, buf, &len, sizeof(buf)), 0);
    ck_assert_uint_le(len, plen + SRTP_OVERHEAD);
    memcpy(copy, buf, len);
    clen = len;
    copy[len - 1] ^= 0x01;
    ck_assert_int_eq(srtp_ctx_unprotect_rtcp(in, copy, &clen), -EBADMSG); /* tampered tag */
    memcpy(copy, buf, len);
    clen = len;
    ck_assert_int_eq(srtp_ctx_unprotect_rtcp(in, buf, &len), 0);
    ck_assert_uint_eq(len, plen);
    ck_assert_mem_eq(buf, plain, plen);
    ck_assert_int_eq(srtp_ctx_unprotect_rtcp(in, copy, &clen), -EBADMSG); /* replayed */
    srtp_ctx_free(out);
    srtp_ctx_free(in);
}

START_TEST(test_srtp_gcm_round_trips_and_refuses_tamper_and_replay)
{
    struct pair p = {0};
    struct dtls_srtp_keys ck, sk;

    pair_connect(&p);
    ck_assert_int_eq(dtls_conn_srtp_keys(p.client, &ck), 0);
    ck_assert_int_eq(dtls_conn_srtp_keys(p.server, &sk), 0);
    srtp_across(&ck, &sk);
    srtp_across(&sk, &ck);
    pair_free(&p);
}
END_TEST

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Our profile against RFC 3711 / RFC 7714 written again in Python (tests/fixtures/srtp_ref.py,
 * which first checks its key derivation against the vectors of RFC 3711 Appendix B.3): the same
 * packet protected by both is the same bytes, and ours unprotects theirs. The keys are B.3's. */
static void check_against_reference(enum srtp_profile profile)
{
    bool gcm = profile == SRTP_PROFILE_AEAD_AES_128_GCM;
    struct dtls_srtp_keys k = {.profile = profile, .key_len = 16, .salt_len = gcm ? 12 : 14};
    static const uint8_t key[16] = {0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
                                    0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39};
    static const uint8_t salt[14] = {0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe,
                                     0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};
    /* PCMU, one CSRC, 40 bytes of payload */
    uint8_t plain[56] = {0x81, 0x00, 0x1f, 0x40, 0x00, 0x00, 0xa0, 0x00,
                         0x12, 0x34, 0x56, 0x78, 0x0a, 0x0b, 0x0c, 0x0d};
    uint8_t buf[128], ref[128];
    char key_hex[33], salt_hex[29], pkt_hex[113], ours[257], theirs[512];
    size_t len = sizeof(plain);
    struct srtp_ctx *out, *in;

    for (size_t i = 16; i < sizeof(plain); i++)
        plain[i] = (uint8_t)(0xff - 3 * i);
    memcpy(k.local_key, key, 16);
    memcpy(k.remote_key, key, 16);
    memcpy(k.local_salt, salt, k.salt_len);
    memcpy(k.remote_salt, salt, k.salt_len);
    to_hex(key, 16, key_hex);
    to_hex(salt, k.salt_len, salt_hex);
    to_hex(plain, sizeof(plain), pkt_hex);
    const char *argv[] = {
        "python3", "tests/fixtures/srtp_ref.py", gcm ? "gcm" : "cm", key_hex, salt_hex, pkt_hex,
        NULL};
    ck_assert_int_eq(th_run("/usr/bin/python3", argv, NULL, NULL, theirs, sizeof(theirs), NULL, 0),
                     0);
    theirs[strcspn(theirs, "\n")] = '\0';
    ck_assert_int_eq(srtp_ctx_new(&k, true, &out), 0);
    ck_assert_int_eq(srtp_ctx_new(&k, false, &in), 0);
    memcpy(buf, plain, len);
    ck_assert_int_eq(srtp_ctx_protect(out, buf, &len, sizeof(buf)), 0);
    ck_assert_uint_eq(len, sizeof(plain) + (gcm ? 16 : 10));
    to_hex(buf, len, ours);
    ck_assert_str_eq(ours, theirs);
    parse_hex(theirs, ref, len, 0);
    ck_assert_int_eq(srtp_ctx_unprotect(in, ref, &len), 0);
    ck_assert_uint_eq(len, sizeof(plain));
    ck_assert_mem_eq(ref, plain, len);
    srtp_ctx_free(out);
    srtp_ctx_free(in);
}

START_TEST(test_srtp_both_profiles_match_an_rfc_reference)
{
    check_against_reference(SRTP_PROFILE_AES128_CM_SHA1_80);
    check_against_reference(SRTP_PROFILE_AEAD_AES_128_GCM);
}
END_TEST

START_TEST(test_srtp_refuses_bad_keys_and_short_packets)
{
    struct dtls_srtp_keys k = {
        .profile = SRTP_PROFILE_AES128_CM_SHA1_80, .key_len = 16, .salt_len = 12};
    struct srtp_ctx *s = NULL;
    uint8_t buf[64] = {0x80};
    size_t len = 11;

    ck_assert_int_eq(srtp_ctx_new(&k, true, &s), -EINVAL); /* CM salts are 14 bytes */
    k.salt_len = 14;
    ck_assert_int_eq(srtp_ctx_new(&k, true, &s), 0);
    ck_assert_int_eq(srtp_ctx_protect(s, buf, &len, sizeof(buf)), -EBADMSG);
    ck_assert_int_eq(srtp_ctx_unprotect(s, buf, &len), -EBADMSG);
    len = 12;
    buf[0] = 0x8f; /* 15 CSRCs announced, none there */
    ck_assert_int_eq(srtp_ctx_protect(s, buf, &len, sizeof(buf)), -EBADMSG);
    srtp_ctx_free(s);
}
END_TEST

/* ---- failures and timers ------------------------------------------------------------------ */

static void assert_fp_failure(char wrong)
{
    struct pair p = {0};
    struct dtls_srtp_keys k;
    int64_t now = mono_us();
    struct dtls_conn *judge;

    pair_new(&p, wrong);
    judge = wrong == 'c' ? p.client : p.server;
    ck_assert_int_eq(dtls_conn_start(p.client, now), 0);
    pair_run(&p, now);
    ck_assert_int_eq(dtls_conn_state(judge), DTLS_FAILED);
    ck_assert_str_eq(dtls_conn_error(judge),
                     "certificate does not match the fingerprint in the SDP");
    ck_assert_int_ne(dtls_conn_state(p.client), DTLS_CONNECTED);
    ck_assert_int_ne(dtls_conn_state(p.server), DTLS_CONNECTED);
    ck_assert_int_eq(dtls_conn_srtp_keys(p.client, &k), -EAGAIN);
    ck_assert_int_eq(dtls_conn_srtp_keys(p.server, &k), -EAGAIN);
    ck_assert_int_eq(dtls_conn_feed(judge, (const uint8_t *)"\x16\xfe\xfd", 3, now), -EPROTO);
    ck_assert_int_eq(dtls_conn_deadline(judge), INT64_MAX);
    pair_free(&p);
}

START_TEST(test_wrong_fingerprint_fails_without_keys)
{
    assert_fp_failure('c'); /* the client checks the server's certificate */
    assert_fp_failure('s'); /* and the server the client's */
}
END_TEST

START_TEST(test_lost_first_flight_is_sent_again_on_timer)
{
    struct pair p = {0};
    uint8_t hello[2048], again[2048];
    long n, m;
    int64_t start = mono_us(), deadline;

    pair_new(&p, 0);
    ck_assert_int_eq(dtls_conn_start(p.client, start), 0);
    n = dtls_conn_take(p.client, hello, sizeof(hello));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(hello[0], 22); /* a handshake record: the ClientHello, lost */
    ck_assert_int_eq(dtls_conn_take(p.client, hello, sizeof(hello)), 0);
    deadline = dtls_conn_deadline(p.client);
    ck_assert_int_gt(deadline, start);
    ck_assert_int_le(deadline, start + 1100000); /* RFC 6347 §4.2.4.1: 1 s at first */
    dtls_conn_on_timer(p.client, start);         /* early: nothing yet */
    ck_assert_int_eq(dtls_conn_take(p.client, again, sizeof(again)), 0);
    /* As the media loop does: the timer at each deadline. OpenSSL's own timer started a little
     * after 'start' (the ClientHello took time to make), so one more turn may be needed. */
    m = 0;
    for (int turn = 0; turn < 8 && m == 0 && mono_us() < start + 2000000; turn++) {
        while (mono_us() < dtls_conn_deadline(p.client))
            usleep(5000);
        dtls_conn_on_timer(p.client, mono_us());
        m = dtls_conn_take(p.client, again, sizeof(again));
    }
    ck_assert_int_eq(m, n);
    ck_assert_mem_eq(again + 13, hello + 13, 10); /* same handshake header, new record */
    ck_assert_int_gt(dtls_conn_deadline(p.client), deadline);
    (void)dtls_conn_feed(p.server, again, (size_t)m, mono_us());
    pair_run(&p, mono_us());
    ck_assert_int_eq(dtls_conn_state(p.client), DTLS_CONNECTED);
    ck_assert_int_eq(dtls_conn_state(p.server), DTLS_CONNECTED);
    ck_assert_int_eq(dtls_conn_deadline(p.client), INT64_MAX);
    pair_free(&p);
}
END_TEST

START_TEST(test_handshake_times_out_after_30_s_on_the_given_clock)
{
    struct pair p = {0};
    uint8_t buf[2048];
    long n;
    const int64_t t0 = 5000000000LL; /* an injected clock, far from the real one */
    struct dtls_srtp_keys k;

    pair_new(&p, 0);
    ck_assert_int_eq(dtls_conn_deadline(p.server), INT64_MAX); /* nothing arrived yet */
    ck_assert_int_eq(dtls_conn_start(p.client, t0), 0);
    n = dtls_conn_take(p.client, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(dtls_conn_feed(p.server, buf, (size_t)n, t0 + 1000), 0);
    ck_assert_int_le(dtls_conn_deadline(p.client), t0 + 30000000);
    ck_assert_int_le(dtls_conn_deadline(p.server), t0 + 1000 + 30000000);
    dtls_conn_on_timer(p.client, t0 + 29999999);
    ck_assert_int_eq(dtls_conn_state(p.client), DTLS_HANDSHAKING);
    dtls_conn_on_timer(p.client, t0 + 30000000);
    ck_assert_int_eq(dtls_conn_state(p.client), DTLS_FAILED);
    ck_assert_str_eq(dtls_conn_error(p.client), "handshake timeout");
    ck_assert_int_eq(dtls_conn_deadline(p.client), INT64_MAX);
    dtls_conn_on_timer(p.server, t0 + 30000000);
    ck_assert_int_eq(dtls_conn_state(p.server), DTLS_HANDSHAKING);
    dtls_conn_on_timer(p.server, t0 + 1000 + 30000000);
    ck_assert_int_eq(dtls_conn_state(p.server), DTLS_FAILED);
    ck_assert_str_eq(dtls_conn_error(p.server), "handshake timeout");
    ck_assert_int_eq(dtls_conn_srtp_keys(p.server, &k), -EAGAIN);
    pair_free(&p);
}
END_TEST

/* ---- openssl s_client and s_server as the peer -------------------------------------------- */

struct peer {
    char dir[64], cert[96], key[96];
    uint8_t fp[DTLS_FP_LEN];
    pid_t pid;
    int in, out; /* its stdin (ours to close) and its stdout+stderr */
    char text[65536];
    size_t len;
};

/* n bytes from hex, with 'sep' between bytes or not (sep 0), as OpenSSL reads it. */
static void parse_hex(const char *s, uint8_t *out, size_t n, char sep)
{
    char tmp[256];
    size_t chars = sep ? 3 * n - 1 : 2 * n, got = 0;

    ck_assert_uint_lt(chars, sizeof(tmp));
    ck_assert_uint_ge(strnlen(s, chars), chars);
    memcpy(tmp, s, chars);
    tmp[chars] = '\0';
    ck_assert_msg(OPENSSL_hexstr2buf_ex(out, n, &got, tmp, sep) == 1 && got == n, "not hex: %s",
                  tmp);
}

/* A certificate made by openssl req, and its fingerprint as openssl x509 prints it. */
static void peer_cert(struct peer *pr)
{
    char out[4096];
    const char *f;

    th_tmpdir(pr->dir);
    snprintf(pr->cert, sizeof(pr->cert), "%s/peer.crt", pr->dir);
    snprintf(pr->key, sizeof(pr->key), "%s/peer.key", pr->dir);
    const char *req[] = {
        "openssl", "req",     "-x509", "-newkey", "ec",     "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes",  "-keyout", pr->key, "-out",    pr->cert, "-subj",    "/CN=openssl-peer",
        "-days",   "1",       NULL};
    ck_assert_int_eq(th_run(OPENSSL_BIN, req, NULL, NULL, out, sizeof(out), NULL, 0), 0);
    const char *x509[] = {"openssl", "x509", "-noout", "-fingerprint",
                          "-sha256", "-in",  pr->cert, NULL};
    ck_assert_int_eq(th_run(OPENSSL_BIN, x509, NULL, NULL, out, sizeof(out), NULL, 0), 0);
    f = strstr(out, "Fingerprint=");
    ck_assert_ptr_nonnull(f);
    parse_hex(f + strlen("Fingerprint="), pr->fp, DTLS_FP_LEN, ':');
}

/* openssl COMMAND ARGS... -dtls1_2, its certificate, and the SRTP exporter printed. */
static void peer_spawn(struct peer *pr, const char *const *args)
{
    const char *argv[32] = {"openssl"};
    const char *const tail[] = {"-dtls1_2",
                                "-cert",
                                pr->cert,
                                "-key",
                                pr->key,
                                "-keymatexport",
                                "EXTRACTOR-dtls_srtp",
                                "-keymatexportlen",
                                "60",
                                NULL};
    size_t n = 1;
    int in[2], out[2];

    for (size_t i = 0; args[i] && n < 16; i++)
        argv[n++] = args[i];
    for (size_t i = 0; tail[i]; i++)
        argv[n++] = tail[i];

    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    pr->pid = fork();
    ck_assert_int_ge(pr->pid, 0);
    if (pr->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        close(in[1]);
        close(out[0]);
        execv(OPENSSL_BIN, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    pr->in = in[1];
    pr->out = out[0];
    (void)fcntl(pr->out, F_SETFL, O_NONBLOCK);
}

/* Reads what it printed so far; false at end of file. */
static bool peer_read(struct peer *pr)
{
    ssize_t n = read(pr->out, pr->text + pr->len, sizeof(pr->text) - 1 - pr->len);

    if (n > 0)
        pr->len += (size_t)n;
    pr->text[pr->len] = '\0';
    return n != 0 && pr->len + 1 < sizeof(pr->text);
}

/* Stops it by its PID: EOF on stdin first (it says goodbye), then SIGTERM, then SIGKILL. */
static void peer_stop(struct peer *pr)
{
    int status;

    if (pr->in >= 0)
        close(pr->in);
    pr->in = -1;
    for (int i = 0; i < 100 && waitpid(pr->pid, &status, WNOHANG) == 0; i++) {
        if (i == 50)
            kill(pr->pid, SIGTERM);
        usleep(20000);
    }
    if (waitpid(pr->pid, &status, WNOHANG) == 0) {
        kill(pr->pid, SIGKILL);
        (void)waitpid(pr->pid, &status, 0);
    }
    close(pr->out);
    th_rmdir(pr->dir);
}

/* What the peer exported with -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 60. */
static void peer_keymat(const struct peer *pr, uint8_t km[60])
{
    const char *k = strstr(pr->text, "Keying material: ");

    ck_assert_msg(k != NULL, "no keying material printed:\n%s", pr->text);
    ck_assert(strstr(pr->text, "Label: 'EXTRACTOR-dtls_srtp'") != NULL);
    parse_hex(k + strlen("Keying material: "), km, 60, 0);
}

/* Runs the conn behind the UDP socket until it and the peer are done: datagrams both ways,
 * the timer, the peer's output; after the handshake the peer's stdin closes and it leaves
 * with a close_notify. Bounded by PEER_SECONDS. */
static void pump(struct dtls_conn *d, int fd, struct peer *pr)
{
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    bool have_from = false, open = true;
    uint8_t buf[2048];
    int64_t end = mono_us() + PEER_SECONDS * 1000000LL;

    /* Its goodbye may still be in the socket when its output ends: half a second more. */
    while (mono_us() < end && (open || dtls_conn_state(d) == DTLS_CONNECTED)) {
        struct pollfd p[2] = {{fd, POLLIN, 0}, {pr->out, POLLIN, 0}};
        long n;

        (void)poll(p, 2, 50);
        if (p[0].revents & POLLIN) {
            flen = sizeof(from);
            n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
            if (n > 0)
                (void)dtls_conn_feed(d, buf, (size_t)n, mono_us());
            have_from = have_from || n > 0;
        }
        if (dtls_conn_deadline(d) <= mono_us())
            dtls_conn_on_timer(d, mono_us());
        while ((n = dtls_conn_take(d, buf, sizeof(buf))) > 0) {
            ck_assert_int_le(n, 1200);
            if (have_from)
                (void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
            else
                (void)send(fd, buf, (size_t)n, 0);
        }
        if (open && p[1].revents && !peer_read(pr)) {
            open = false;
            end = mono_us() + 500000;
        }
        if (dtls_conn_state(d) != DTLS_HANDSHAKING && pr->in >= 0) {
            (void)!write(pr->in, "Q\n", 2); /* s_server's "end and exit"; EOF for s_client */
            close(pr->in);
            pr->in = -1;
        }
    }
}

static void assert_keys_match(const struct dtls_conn *d, bool server, const uint8_t km[60])
{
    struct dtls_srtp_keys k;
    const uint8_t *ck = km, *sk = km + 16, *cs = km + 32, *ss = km + 46;

    ck_assert_int_eq(dtls_conn_srtp_keys(d, &k), 0);
    ck_assert_int_eq(k.profile, SRTP_PROFILE_AES128_CM_SHA1_80);
    ck_assert_uint_eq(k.key_len, 16);
    ck_assert_uint_eq(k.salt_len, 14);
    ck_assert_mem_eq(k.local_key, server ? sk : ck, 16);
    ck_assert_mem_eq(k.remote_key, server ? ck : sk, 16);
    ck_assert_mem_eq(k.local_salt, server ? ss : cs, 14);
    ck_assert_mem_eq(k.remote_salt, server ? cs : ss, 14);
}

/* The peer's view of the keys, from its own exporter output: SRTP across the two views in
 * both directions, with the CM profile. */
static void srtp_with_peer_view(const struct dtls_conn *d, bool server, const uint8_t km[60])
{
    struct dtls_srtp_keys ours,
        theirs = {.profile = SRTP_PROFILE_AES128_CM_SHA1_80, .key_len = 16, .salt_len = 14};

    ck_assert_int_eq(dtls_conn_srtp_keys(d, &ours), 0);
    memcpy(theirs.local_key, km + (server ? 0 : 16), 16);
    memcpy(theirs.remote_key, km + (server ? 16 : 0), 16);
    memcpy(theirs.local_salt, km + (server ? 32 : 46), 14);
    memcpy(theirs.remote_salt, km + (server ? 46 : 32), 14);
    srtp_across(&ours, &theirs);
    srtp_across(&theirs, &ours);
}

/* The keys the peer printed are ours, mirrored, and SRTP works across the two views. */
static void peer_agrees(const struct peer *pr, const struct dtls_conn *d, bool server)
{
    uint8_t km[60];

    peer_keymat(pr, km);
    assert_keys_match(d, server, km);
    srtp_with_peer_view(d, server, km);
}

static int udp_socket(unsigned short *ret_port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *ret_port = ntohs(a.sin_port);
    return fd;
}

START_TEST(test_openssl_s_client_against_server_role)
{
    struct peer pr = {.in = -1};
    struct dtls_cert *c;
    struct dtls_conn *d;
    unsigned short port;
    char target[32];
    int fd = udp_socket(&port);

    peer_cert(&pr);
    ck_assert_int_eq(dtls_cert_new(&c), 0);
    ck_assert_int_eq(dtls_conn_new(c, true, pr.fp, &d), 0);
    snprintf(target, sizeof(target), "127.0.0.1:%u", port);
    const char *argv[] = {"s_client", "-use_srtp", "SRTP_AES128_CM_SHA1_80",
                          "-connect", target,      NULL};
    peer_spawn(&pr, argv);
    pump(d, fd, &pr);
    ck_assert_msg(dtls_conn_state(d) == DTLS_CLOSED, "state %d (%s), s_client said:\n%s",
                  dtls_conn_state(d), dtls_conn_error(d), pr.text);
    peer_agrees(&pr, d, true);
    peer_stop(&pr);
    close(fd);
    dtls_conn_free(d);
    dtls_cert_free(c);
}
END_TEST

/* s_server prints "ACCEPT 127.0.0.1:PORT" once it listens on the free port it was given. */
static unsigned short peer_accept_port(struct peer *pr)
{
    int64_t end = mono_us() + PEER_SECONDS * 1000000LL;
    const char *a;

    while (mono_us() < end) {
        struct pollfd p = {pr->out, POLLIN, 0};

        (void)poll(&p, 1, 50);
        if (p.revents && !peer_read(pr))
            break;
        a = strstr(pr->text, "ACCEPT 127.0.0.1:");
        if (a && strchr(a, '\n'))
            return (unsigned short)atoi(a + strlen("ACCEPT 127.0.0.1:"));
    }
    ck_abort_msg("s_server did not listen:\n%s", pr->text);
    return 0;
}

START_TEST(test_openssl_s_server_against_client_role)
{
    struct peer pr = {.in = -1};
    struct dtls_cert *c;
    struct dtls_conn *d;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    unsigned short port;
    int fd = udp_socket(&port);

    peer_cert(&pr);
    const char *argv[] = {
        "s_server", "-accept", "127.0.0.1:0", "-use_srtp", "SRTP_AES128_CM_SHA1_80",
        "-verify",  "1",       "-naccept",    "1",         NULL};
    peer_spawn(&pr, argv);
    to.sin_port = htons(peer_accept_port(&pr));
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
    ck_assert_int_eq(dtls_cert_new(&c), 0);
    ck_assert_int_eq(dtls_conn_new(c, false, pr.fp, &d), 0);
    ck_assert_int_eq(dtls_conn_start(d, mono_us()), 0);
    pump(d, fd, &pr);
    /* s_server 3.0 leaves without a close_notify on DTLS: connected is as far as it goes. */
    ck_assert_msg(dtls_conn_state(d) == DTLS_CONNECTED || dtls_conn_state(d) == DTLS_CLOSED,
                  "state %d (%s), s_server said:\n%s", dtls_conn_state(d), dtls_conn_error(d),
                  pr.text);
    peer_agrees(&pr, d, false);
    peer_stop(&pr);
    close(fd);
    dtls_conn_free(d);
    dtls_cert_free(c);
}
END_TEST

Suite *webrtc_dtls_suite(void)
{
    Suite *s = suite_create("webrtc_dtls");
    TCase *mem = tcase_create("memory");
    TCase *peer = tcase_create("openssl");

    tcase_set_timeout(mem, 30);
    tcase_add_test(mem, test_certificate_fingerprint_is_sha256_hex);
    tcase_add_test(mem, test_handshake_in_memory_exports_mirrored_keys);
    tcase_add_test(mem, test_srtp_gcm_round_trips_and_refuses_tamper_and_replay);
    tcase_add_test(mem, test_srtp_both_profiles_match_an_rfc_reference);
    tcase_add_test(mem, test_srtp_refuses_bad_keys_and_short_packets);
    tcase_add_test(mem, test_wrong_fingerprint_fails_without_keys);
    tcase_add_test(mem, test_lost_first_flight_is_sent_again_on_timer);
    tcase_add_test(mem, test_handshake_times_out_after_30_s_on_the_given_clock);
    suite_add_tcase(s, mem);
    tcase_set_timeout(peer, 30);
    tcase_add_test(peer, test_openssl_s_client_against_server_role);
    tcase_add_test(peer, test_openssl_s_server_against_client_role);
    suite_add_tcase(s, peer);
    return s;
}
