/* tests/test_turn_stun.c: the STUN/TURN codec against published vectors (RFC 5769, RFC 8489
 * B.1 as corrected by errata 6268), known answers validated against coturn 4.6.1
 * (reference/turn.md 1.8), a real Chrome/coturn capture, and every truncation and single-byte
 * corruption of each vector. No sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/suites.h"
#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

/* Decodes hex (whitespace ignored) into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;

    for (; *hex; hex++) {
        int v;

        if (*hex >= '0' && *hex <= '9')
            v = *hex - '0';
        else if (*hex >= 'a' && *hex <= 'f')
            v = *hex - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            ck_assert_uint_lt(n, cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    ck_assert_int_lt(hi, 0);
    return n;
}

static const char rfc5769_request[] =
    "00010058 2112a442 b7e7a701 bc34d686 fa87dfae 80220010 5354554e"
    "20746573 7420636c 69656e74 00240004 6e0001ff 80290008 932ff9b1"
    "51263b36 00060009 6576746a 3a683676 59202020 00080014 9aeaa70c"
    "bfd8cb56 781ef2b5 b2d3f249 c1b571a2 80280004 e57a3bcf";
static const char rfc5769_ipv4[] = "0101003c 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374"
                                   "20766563 746f7220 00200008 0001a147 e112a643 00080014 2b91f599"
                                   "fd9e90c3 8c7489f9 2af9ba53 f06be7d7 80280004 c07d4c96";
static const char rfc5769_ipv6[] = "01010048 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374"
                                   "20766563 746f7220 00200014 0002a147 0113a9fa a5d3f179 bc25f4b5"
                                   "bed2b9d9 00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41"
                                   "80280004 c8fb0b4c";
static const char rfc5769_longterm[] = "00010060 2112a442 78ad3433 c6ad72c0 29da412e 00060012"
                                       "e3839ee3 8388e383 aae38383 e382afe3 82b90000 0015001c"
                                       "662f2f34 39396b39 35346436 4f4c3334 6f4c3946 53547679"
                                       "36347341 0014000b 6578616d 706c652e 6f726700 00080014"
                                       "f6702465 6dd64a3e 02b8e071 2e85c9a2 8ca89666";
static const char rfc8489_b1[] = "00010090 2112a442 78ad3433 c6ad72c0 29da412e 001e0020 4a3cf38f"
                                 "ef6992bd a952c678 0417da0f 24819415 569e60b2 05c46e41 407f1704"
                                 "00150029 6f624d61 744a6f73 32414141 43662f2f 3439396b 39353464"
                                 "364f4c33 346f4c39 46535476 79363473 41000000 0014000b 6578616d"
                                 "706c652e 6f726700 001d0004 00020000 001c0020 b5c7bf00 5b6c52a2"
                                 "1c51c5e8 92f81924 136296cb 927c4314 9309278c c6518e65";
static const char short_term_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const char longterm_key_hex[] = "e8ca7ad59d5eb0518e312911d2dab2a9";
static const char b1_key_hex[] = "dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1";

static void check_addr(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
    char text[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ss;

        inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
        ck_assert_uint_eq(ntohs(in->sin_port), port);
    } else {
        const struct sockaddr_in6 *in6 = (const void *)ss;

        ck_assert_int_eq(ss->ss_family, AF_INET6);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
        ck_assert_uint_eq(ntohs(in6->sin6_port), port);
    }
    ck_assert_str_eq(text, ip);
}

START_TEST(test_rfc5769_request)
{
    uint8_t buf[256];
    size_t n = unhex(rfc5769_request, buf, sizeof(buf));
    struct stun_msg m;

    ck_assert_uint_eq(n, 108);
    ck_assert_int_eq(stun_decode(buf, n, &m), 108);
    ck_assert_uint_eq(m.method, STUN_BINDING);
    ck_assert_uint_eq(m.cls, STUN_REQUEST);
    ck_assert_uint_eq(m.username.len, 9);
    ck_assert_int_eq(memcmp(m.username.ptr, "evtj:h6vY", 9), 0);
    ck_assert_int_eq(memcmp(m.software.ptr, "STUN test client", 16), 0);
    /* PRIORITY and ICE-CONTROLLED: an ICE check (the codec knows them for ice.c) */
    ck_assert_uint_eq(m.n_unknown, 0);
    ck_assert(m.has_priority);
    ck_assert_uint_eq(m.priority, 0x6e0001ffu);
    ck_assert(m.has_ice_controlled);
    ck_assert(!m.has_ice_controlling);
    ck_assert(!m.use_candidate);
    ck_assert_uint_eq(m.tie_breaker, 0x932ff9b151263b36ull);
    ck_assert_int_eq(
        stun_check_integrity(&m, (const uint8_t *)short_term_password, strlen(short_term_password)),
        0);
    ck_assert_int_eq(stun_check_fingerprint(&m), 0);
    ck_assert_int_eq(stun_check_integrity(&m, (const uint8_t *)"wrong", 5), -EBADMSG);
}
END_TEST

START_TEST(test_rfc5769_responses)
{
    uint8_t buf[256];
    struct stun_msg m;
    size_t n;

    n = unhex(rfc5769_ipv4, buf, sizeof(buf));
    ck_assert_int_eq(stun_decode(buf, n, &m), 80);
    ck_assert_uint_eq(m.cls, STUN_SUCCESS);
    ck_assert(m.has_xor_mapped);
    check_addr(&m.xor_mapped, "192.0.2.1", 32853);
    ck_assert_uint_eq(m.software.len, 11); /* the 0x20 padding byte is not part of it */
    ck_assert_int_eq(stun_check_integrity(&m, (const uint8_t *)short_term_password, 22), 0);
    ck_assert_int_eq(stun_check_fingerprint(&m), 0);

    n = unhex(rfc5769_ipv6, buf, sizeof(buf));
    ck_assert_int_eq(stun_decode(buf, n, &m), 92);
    check_addr(&m.xor_mapped, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
    ck_assert_int_eq(stun_check_integrity(&m, (const uint8_t *)short_term_password, 22), 0);
    ck_assert_int_eq(stun_check_fingerprint(&m), 0);
}
END_TEST

START_TEST(test_rfc5769_long_term)
{
    uint8_t buf[256], key[16];
    size_t n = unhex(rfc5769_longterm, buf, sizeof(buf));
    struct stun_msg m;

    unhex(longterm_key_hex, key, sizeof(key));
    ck_assert_int_eq(stun_decode(buf, n, &m), 116);
    ck_assert_uint_eq(m.username.len, 18);
    ck_assert_int_eq(memcmp(m.username.ptr,
                            "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83"
                            "\xe3\x82\xaf\xe3\x82\xb9",
                            18),
                     0);
    ck_assert_int_eq(memcmp(m.realm.ptr, "example.org", m.realm.len), 0);
    ck_assert_int_eq(memcmp(m.nonce.ptr, "f//499k954d6OL34oL9FSTvy64sA", m.nonce.len), 0);
    ck_assert_int_eq(stun_check_integrity(&m, key, 16), 0);
    ck_assert_int_eq(stun_check_fingerprint(&m), -ENOENT);
}
END_TEST

START_TEST(test_rfc8489_b1_corrected)
{
    uint8_t buf[256], key[32];
    size_t n = unhex(rfc8489_b1, buf, sizeof(buf));
    struct stun_msg m;

    unhex(b1_key_hex, key, sizeof(key));
    ck_assert_int_eq(stun_decode(buf, n, &m), 164);
    ck_assert_uint_eq(m.userhash.len, 32);
    ck_assert(m.has_password_algorithm);
    ck_assert_uint_eq(m.password_algorithm, STUN_PASSWORD_ALGORITHM_SHA256);
    ck_assert_uint_eq(m.nonce.len, 41);
    ck_assert_int_eq(stun_check_integrity(&m, key, 32), -ENOENT);
    ck_assert_int_eq(stun_check_integrity_sha256(&m, key, 32), 0);
    key[0] ^= 1;
    ck_assert_int_eq(stun_check_integrity_sha256(&m, key, 32), -EBADMSG);
}
END_TEST

/* Every prefix is refused; every single-byte change is refused or fails a check. A change that
 * turns FINGERPRINT into an unknown attribute after the integrity attribute (which RFC 8489
 * §14.5 says to ignore) counts as caught when FINGERPRINT disappears: a receiver that got one
 * on the original expects it. */
static void mangle(const char *hex, const uint8_t *key, size_t key_len, bool sha256)
{
    uint8_t orig[256], buf[256];
    size_t n = unhex(hex, orig, sizeof(orig));
    struct stun_msg m;
    bool had_fingerprint;

    ck_assert_int_eq(stun_decode_datagram(orig, n, &m), 0);
    had_fingerprint = m.fingerprint_off != 0;

    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees any over-read */

        memcpy(copy, orig, cut);
        ck_assert_msg(stun_decode_datagram(copy, cut, &m) == -EINVAL, "prefix %zu accepted", cut);
        free(copy);
    }
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            bool caught;

            memcpy(buf, orig, n);
            buf[i] ^= (uint8_t)(1 << bit);
            if (stun_decode_datagram(buf, n, &m) < 0)
                continue;
            caught = (sha256 ? stun_check_integrity_sha256(&m, key, key_len)
                             : stun_check_integrity(&m, key, key_len)) != 0;
            caught |= m.fingerprint_off && stun_check_fingerprint(&m) != 0;
            caught |= had_fingerprint && !m.fingerprint_off;
            ck_assert_msg(caught, "byte %zu bit %d flipped, still verifies", i, bit);
        }
    }
}

START_TEST(test_truncated_and_corrupted_vectors_refused)
{
    uint8_t lt[16], b1[32];

    unhex(longterm_key_hex, lt, sizeof(lt));
    unhex(b1_key_hex, b1, sizeof(b1));
    mangle(rfc5769_request, (const uint8_t *)short_term_password, 22, false);
    mangle(rfc5769_ipv4, (const uint8_t *)short_term_password, 22, false);
    mangle(rfc5769_ipv6, (const uint8_t *)short_term_password, 22, false);
    mangle(rfc5769_longterm, lt, 16, false);
    mangle(rfc8489_b1, b1, 32, true);
}
END_TEST

/* reference/turn.md 1.8: bytes coturn 4.6.1 accepted; our encoder must reproduce them. */
START_TEST(test_coturn_known_answers)
{
    static const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const char *const kat[] = {
        "000300102112a4420102030405060708090a0b0c00190004110000008028000441c778f0",
        "000300602112a4420102030405060708090a0b0c0019000411000000000d00040000025800060005616c696365"
        "0000000014000a746573742e6c6f63616c000000150010653564636364636565303764323065310008001"
        "4c9398d18a0dbce48735c35a22945fc71544cddce80280004c1c2fa28",
        "000400582112a4420102030405060708090a0b0c000d0004000000000006000561" /* Refresh(0) */
        "6c6963650000000014000a746573742e6c6f63616c000000150010653564636364636565303764323065"
        "3100080014ab187b42dc18b34b1b7527db2835d2861ae2a03c8028000449b90739",
        "0008005c2112a4420102030405060708090a0b0c001200080001a147e112a64300060005616c69636500"
        "00000014000a746573742e6c6f63616c00000015001065356463636463656530376432306531000800144d"
        "0cf1a87512dcccdebecb250734cab29b5ed72380280004ce7a0673",
        "000900642112a4420102030405060708090a0b0c000c00044000000000120008" /* ChannelBind */
        "0001a147e112a64300060005616c6963650000000014000a746573742e6c6f63616c000000150010653564"
        "6363646365653037643230653100080014 3d80796885c0def74cd6cff8ad6ce97022e4f983802800041b"
        "7b6d6b"};
    static const uint16_t methods[] = {STUN_ALLOCATE, STUN_ALLOCATE, STUN_REFRESH,
                                       STUN_CREATE_PERMISSION, STUN_CHANNEL_BIND};
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(32853)};
    uint8_t key[16], want[256], got[256];

    unhex("b0a2c476b89d2f9085dd463430f4617c", key, sizeof(key)); /* alice:test.local:secret */
    inet_pton(AF_INET, "192.0.2.1", &peer.sin_addr);
    for (size_t i = 0; i < 5; i++) {
        size_t n = unhex(kat[i], want, sizeof(want));
        struct stun_writer w;
        struct stun_msg m;

        stun_writer_init(&w, got, sizeof(got), methods[i], STUN_REQUEST, tid);
        if (i <= 1)
            stun_put_requested_transport(&w, 17);
        if (i == 1)
            stun_put_u32(&w, STUN_ATTR_LIFETIME, 600);
        if (i == 2)
            stun_put_u32(&w, STUN_ATTR_LIFETIME, 0);
        if (i == 4)
            stun_put_channel(&w, 0x4000);
        if (i >= 3)
            stun_put_addr(&w, STUN_ATTR_XOR_PEER_ADDRESS, (struct sockaddr *)&peer);
        if (i >= 1) {
            stun_put_str(&w, STUN_ATTR_USERNAME, "alice");
            stun_put_str(&w, STUN_ATTR_REALM, "test.local");
            stun_put_str(&w, STUN_ATTR_NONCE, "e5dccdcee07d20e1");
            stun_put_integrity(&w, key, 16);
        }
        stun_put_fingerprint(&w);
        ck_assert_int_eq(stun_writer_finish(&w), (long)n);
        ck_assert_msg(memcmp(got, want, n) == 0, "KAT%zu differs", i + 1);
        ck_assert_int_eq(stun_decode(got, n, &m), (long)n); /* and it reads back */
        ck_assert_int_eq(stun_check_fingerprint(&m), 0);
        if (i >= 1)
            ck_assert_int_eq(stun_check_integrity(&m, key, 16), 0);
    }
}
END_TEST

START_TEST(test_built_response_verifies_both_ways)
{
    static const uint8_t tid[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
    struct sockaddr_in6 relayed = {.sin6_family = AF_INET6, .sin6_port = htons(49160)};
    struct sockaddr_in mapped = {.sin_family = AF_INET, .sin_port = htons(40000)};
    uint8_t buf[512], key[32] = "0123456789abcdef0123456789abcdef";
    struct stun_writer w;
    struct stun_msg m;
    long n;

    inet_pton(AF_INET6, "2001:db8::7", &relayed.sin6_addr);
    inet_pton(AF_INET, "127.0.0.1", &mapped.sin_addr);
    stun_writer_init(&w, buf, sizeof(buf), STUN_ALLOCATE, STUN_SUCCESS, tid);
    stun_put_addr(&w, STUN_ATTR_XOR_RELAYED_ADDRESS, (struct sockaddr *)&relayed);
    stun_put_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, (struct sockaddr *)&mapped);
    stun_put_u32(&w, STUN_ATTR_LIFETIME, 600);
    stun_put_str(&w, STUN_ATTR_SOFTWARE, "callbridge"); /* 10 bytes: padded */
    stun_put_integrity(&w, key, 16);
    stun_put_integrity_sha256(&w, key, 32);
    stun_put_fingerprint(&w);
    n = stun_writer_finish(&w);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(stun_decode(buf, (size_t)n, &m), n);
    ck_assert_int_eq(memcmp(m.tid, tid, 12), 0);
    ck_assert_uint_eq(m.method, STUN_ALLOCATE);
    ck_assert_uint_eq(m.cls, STUN_SUCCESS);
    check_addr(&m.xor_relayed, "2001:db8::7", 49160);
    check_addr(&m.xor_mapped, "127.0.0.1", 40000);
    ck_assert_uint_eq(m.lifetime, 600);
    ck_assert_int_eq(stun_check_integrity(&m, key, 16), 0);
    ck_assert_int_eq(stun_check_integrity_sha256(&m, key, 32), 0);
    ck_assert_int_eq(stun_check_fingerprint(&m), 0);

    stun_writer_init(&w, buf, sizeof(buf), STUN_ALLOCATE, STUN_ERROR, tid);
    stun_put_error(&w, 431, "Integrity Check Failure");
    n = stun_writer_finish(&w);
    ck_assert_int_eq(stun_decode(buf, (size_t)n, &m), n);
    ck_assert_uint_eq(m.cls, STUN_ERROR);
    ck_assert_int_eq(m.error_code, 431);
    ck_assert_int_eq(memcmp(m.reason.ptr, "Integrity Check Failure", m.reason.len), 0);

    stun_writer_init(&w, buf, sizeof(buf), STUN_ALLOCATE, STUN_ERROR, tid);
    stun_put_error(&w, 420, "Unknown Attribute");
    stun_put_bytes(&w, STUN_ATTR_UNKNOWN_ATTRIBUTES, "\x00\x1a\x00\x18", 4); /* DF, EVEN-PORT */
    n = stun_writer_finish(&w);
    ck_assert_int_eq(stun_decode(buf, (size_t)n, &m), n);
    ck_assert_int_eq(m.error_code, 420);
    ck_assert_uint_eq(m.unknown_attributes.len, 4);
    ck_assert_int_eq(memcmp(m.unknown_attributes.ptr, "\x00\x1a\x00\x18", 4), 0);

    stun_writer_init(&w, buf, 40, STUN_ALLOCATE, STUN_REQUEST, tid); /* too small */
    stun_put_str(&w, STUN_ATTR_SOFTWARE, "a software name that does not fit");
    ck_assert_int_eq(stun_writer_finish(&w), -ENOSPC);
}
END_TEST

START_TEST(test_chrome_coturn_capture)
{
    static const char success[] =
        "010300582112a442324e50695a437a4634535034001600080001fb922b1ab211002000080001adb2f49f3"
        "8ae000d0004000002588022001a436f7475726e2d342e352e302e33202764616e2045696465722774750008"
        "00145d7e85b767a519ffce91dbf0a96775e370db92e3";
    uint8_t buf[256];
    size_t n = unhex(success, buf, sizeof(buf));
    struct stun_msg m;

    ck_assert_int_eq(stun_decode(buf, n, &m), (long)n);
    ck_assert_uint_eq(m.method, STUN_ALLOCATE);
    ck_assert_uint_eq(m.cls, STUN_SUCCESS);
    check_addr(&m.xor_relayed, "10.8.22.83", 55936);
    check_addr(&m.xor_mapped, "213.141.156.236", 36000);
    ck_assert_uint_eq(m.lifetime, 600);
    ck_assert_uint_eq(m.software.len, 26); /* its padding bytes are "tu", not zeros */
}
END_TEST

START_TEST(test_channel_data_framing)
{
    uint8_t buf[64], pion[] = {0x40, 0x00, 0x02, 0x23, 0x16, 0xfe, 0xfd};
    struct stun_bytes d;
    uint16_t ch;

    ck_assert_int_eq(
        stun_channel_data_encode(buf, sizeof(buf), 0x4000, (const uint8_t *)"abcde", 5, false), 9);
    ck_assert_int_eq(memcmp(buf,
                            "\x40\x00\x00\x05"
                            "abcde",
                            9),
                     0);
    ck_assert_int_eq(stun_channel_data_decode(buf, 9, false, &ch, &d), 9);
    ck_assert_uint_eq(ch, 0x4000);
    ck_assert_uint_eq(d.len, 5);
    ck_assert_int_eq(
        stun_channel_data_encode(buf, sizeof(buf), 0x4000, (const uint8_t *)"abcde", 5, true), 12);
    ck_assert_int_eq(memcmp(buf + 9, "\0\0\0", 3), 0);
    ck_assert_int_eq(stun_channel_data_decode(buf, 12, true, &ch, &d), 12);
    ck_assert_int_eq(stun_channel_data_decode(buf, 11, true, &ch, &d), -EINVAL);
    ck_assert_int_eq(stun_channel_data_encode(buf, sizeof(buf), 0x4000, NULL, 0, false), 4);
    ck_assert_int_eq(stun_channel_data_encode(buf, sizeof(buf), 0x5000, buf, 1, false), -EINVAL);
    ck_assert_int_eq(stun_channel_data_encode(buf, sizeof(buf), 0x3fff, buf, 1, false), -EINVAL);
    ck_assert_int_eq(stun_channel_data_encode(buf, 8, 0x4fff, buf, 5, false), -ENOSPC);
    /* pion's negatives: 3 bytes; channel 0x3fff; length beyond the datagram */
    ck_assert_int_eq(stun_channel_data_decode(pion, 3, false, &ch, &d), -EINVAL);
    ck_assert_int_eq(
        stun_channel_data_decode((const uint8_t *)"\x3f\xff\x00\x00", 4, false, &ch, &d), -EINVAL);
    ck_assert_int_eq(stun_channel_data_decode(pion, sizeof(pion), false, &ch, &d), -EINVAL);
    ck_assert_int_eq(
        stun_channel_data_decode((const uint8_t *)"\x50\x00\x00\x00", 4, false, &ch, &d), -EINVAL);
}
END_TEST

/* RFC 7983 §7 by the first byte, on both sides of every boundary: 3|4 (STUN), 15|16 and 19|20
 * (ZRTP), 63|64 (DTLS), 79|80 (ChannelData, RFC 8656 §12.4), 127|128 and 191|192 (RTP/RTCP);
 * and RFC 5761 §4 by the second byte: 191|192 and 223|224 (RTCP packet types). */
START_TEST(test_demux_at_every_boundary_byte)
{
    static const struct {
        uint8_t first;
        enum turn_demux want;
    } v[] = {{0, TURN_DEMUX_STUN},          {3, TURN_DEMUX_STUN},  {4, TURN_DEMUX_DROP},
             {15, TURN_DEMUX_DROP},         {16, TURN_DEMUX_ZRTP}, {19, TURN_DEMUX_ZRTP},
             {20, TURN_DEMUX_DTLS},         {63, TURN_DEMUX_DTLS}, {64, TURN_DEMUX_CHANNEL_DATA},
             {79, TURN_DEMUX_CHANNEL_DATA}, {80, TURN_DEMUX_DROP}, {127, TURN_DEMUX_DROP},
             {128, TURN_DEMUX_RTP},         {191, TURN_DEMUX_RTP}, {192, TURN_DEMUX_DROP},
             {255, TURN_DEMUX_DROP}};
    static const struct {
        uint8_t second;
        enum turn_demux want;
    } pt[] = {{0, TURN_DEMUX_RTP},    {191, TURN_DEMUX_RTP},  {192, TURN_DEMUX_RTCP},
              {200, TURN_DEMUX_RTCP}, {223, TURN_DEMUX_RTCP}, {224, TURN_DEMUX_RTP}};
    uint8_t buf[2] = {0x80, 0};

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        buf[0] = v[i].first;
        ck_assert_msg(turn_demux(buf, 1) == v[i].want, "first byte %u", v[i].first);
    }
    for (size_t i = 0; i < sizeof(pt) / sizeof(pt[0]); i++) {
        buf[0] = 0x80;
        buf[1] = pt[i].second;
        ck_assert_msg(turn_demux(buf, 2) == pt[i].want, "second byte %u", pt[i].second);
        buf[0] = 0xbf; /* the last first byte of RTP/RTCP */
        ck_assert_msg(turn_demux(buf, 2) == pt[i].want, "0xbf, second byte %u", pt[i].second);
    }
    buf[0] = 0x80;
    buf[1] = 200;
    ck_assert_int_eq(turn_demux(buf, 1), TURN_DEMUX_RTP); /* no second byte: not RTCP */
    ck_assert_int_eq(turn_demux(buf, 0), TURN_DEMUX_DROP);
}
END_TEST

/* The data path's decode: ChannelData gives its channel and payload, a Data indication its
 * peer and payload; an answer is -ENOMSG (the state machine's), the rest -EINVAL. */
START_TEST(test_data_decode_channel_data_and_data_indication)
{
    static const uint8_t tid[12] = {1, 2, 3};
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(5004)};
    uint8_t buf[128];
    struct stun_writer w;
    struct turn_data d;
    long n;

    n = turn_channel_data_encode(buf, sizeof(buf), 0x4001, (const uint8_t *)"rtp", 3, false);
    ck_assert_int_eq(n, 7);
    ck_assert_int_eq(turn_data_decode(buf, (size_t)n, false, &d), 0);
    ck_assert_uint_eq(d.channel, 0x4001);
    ck_assert(d.ptr == buf + 4 && d.len == 3);
    ck_assert_int_eq(turn_data_decode(buf, 6, false, &d), -EINVAL); /* truncated */

    inet_pton(AF_INET, "192.0.2.7", &peer.sin_addr);
    stun_writer_init(&w, buf, sizeof(buf), STUN_DATA, STUN_INDICATION, tid);
    stun_put_addr(&w, STUN_ATTR_XOR_PEER_ADDRESS, (const struct sockaddr *)&peer);
    stun_put_bytes(&w, STUN_ATTR_DATA, "media", 5);
    n = stun_writer_finish(&w);
    ck_assert_int_eq(turn_data_decode(buf, (size_t)n, false, &d), 0);
    ck_assert_uint_eq(d.channel, 0);
    check_addr(&d.peer, "192.0.2.7", 5004);
    ck_assert(d.len == 5 && memcmp(d.ptr, "media", 5) == 0);

    stun_writer_init(&w, buf, sizeof(buf), STUN_DATA, STUN_INDICATION, tid); /* no DATA */
    stun_put_addr(&w, STUN_ATTR_XOR_PEER_ADDRESS, (const struct sockaddr *)&peer);
    n = stun_writer_finish(&w);
    ck_assert_int_eq(turn_data_decode(buf, (size_t)n, false, &d), -EINVAL);

    stun_writer_init(&w, buf, sizeof(buf), STUN_REFRESH, STUN_SUCCESS, tid);
    stun_put_u32(&w, STUN_ATTR_LIFETIME, 600);
    n = stun_writer_finish(&w);
    ck_assert_int_eq(turn_data_decode(buf, (size_t)n, false, &d), -ENOMSG);
    ck_assert_int_eq(turn_data_decode(buf, 19, false, &d), -EINVAL); /* short header */
    ck_assert_int_eq(turn_data_decode((const uint8_t *)"\x80", 1, false, &d), -EINVAL); /* RTP */
}
END_TEST

START_TEST(test_malformed_attributes_refused)
{
    static const uint8_t tid[12];
    uint8_t buf[128];
    struct stun_writer w;
    struct stun_msg m;
    long n;

    /* an address attribute with family 3 */
    stun_writer_init(&w, buf, sizeof(buf), STUN_ALLOCATE, STUN_SUCCESS, tid);
    stun_put_bytes(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, "\x00\x03\x00\x00\x00\x00\x00\x00", 8);
    n = stun_writer_finish(&w);
    ck_assert_int_eq(stun_decode(buf, (size_t)n, &m), -EINVAL);
    /* an error code of class 7 */
    stun_writer_init(&w, buf, sizeof(buf), STUN_ALLOCATE, STUN_ERROR, tid);
    stun_put_bytes(&w, STUN_ATTR_ERROR_CODE, "\x00\x00\x07\x00", 4);
    n = stun_writer_finish(&w);
    ck_assert_int_eq(stun_decode(buf, (size_t)n, &m), -EINVAL);
    /* an attribute after FINGERPRINT */
    stun_writer_init(&w, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    stun_put_fingerprint(&w);
    stun_put_u32(&w, STUN_ATTR_LIFETIME, 1);
    n = stun_writer_finish(&w);
    ck_assert_int_eq(stun_decode(buf, (size_t)n, &m), -EINVAL);
    /* a length field that is not a multiple of 4, and a wrong cookie */
    stun_writer_init(&w, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    n = stun_writer_finish(&w);
    buf[3] = 2;
    ck_assert_int_eq(stun_decode(buf, (size_t)n + 2, &m), -EINVAL);
    buf[3] = 0;
    buf[4] ^= 1;
    ck_assert_int_eq(stun_decode(buf, (size_t)n, &m), -EINVAL);
}
END_TEST

Suite *turn_stun_suite(void)
{
    Suite *s = suite_create("turn_stun");
    TCase *tc = tcase_create("codec");

    tcase_add_test(tc, test_rfc5769_request);
    tcase_add_test(tc, test_rfc5769_responses);
    tcase_add_test(tc, test_rfc5769_long_term);
    tcase_add_test(tc, test_rfc8489_b1_corrected);
    tcase_add_test(tc, test_truncated_and_corrupted_vectors_refused);
    tcase_add_test(tc, test_coturn_known_answers);
    tcase_add_test(tc, test_built_response_verifies_both_ways);
    tcase_add_test(tc, test_chrome_coturn_capture);
    tcase_add_test(tc, test_channel_data_framing);
    tcase_add_test(tc, test_demux_at_every_boundary_byte);
    tcase_add_test(tc, test_data_decode_channel_data_and_data_indication);
    tcase_add_test(tc, test_malformed_attributes_refused);
    suite_add_tcase(s, tc);
    return s;
}
