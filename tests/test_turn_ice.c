/* tests/test_turn_ice.c: the ICE-lite agent (turnclient/ice.c) on real checks: the RFC 5769
 * §2.1 sample request (an ICE check from a controlled agent), two checks Chromium 156 sent to
 * an ice-lite offer on 127.0.0.1 (captured 2026-11-30; Chromium took our answer to the first and
 * then nominated with the second), checks built attribute by attribute as the RFC 5769 vector
 * is, and every refusal. Each answer is read back the way the browser reads it: stun_decode,
 * MESSAGE-INTEGRITY with the password the browser knows from our offer, FINGERPRINT. The
 * last test (tag "net") has headless Chromium answer an ice-lite offer on a loopback socket
 * and checks it nominates the pair after our answers: the real peer. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "tests/skip.h"
#include "tests/suites.h"
#include "turnclient/stun.h"
#include "turnclient/turnclient.h"

/* RFC 5769 §2.1: USERNAME "evtj:h6vY", password below, PRIORITY, ICE-CONTROLLED. */
static const uint8_t rfc5769_request[108] =
    "\x00\x01\x00\x58\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\x80\x22"
    "\x00\x10\x53\x54\x55\x4e\x20\x74\x65\x73\x74\x20\x63\x6c\x69\x65\x6e\x74\x00\x24\x00\x04"
    "\x6e\x00\x01\xff\x80\x29\x00\x08\x93\x2f\xf9\xb1\x51\x26\x3b\x36\x00\x06\x00\x09\x65\x76"
    "\x74\x6a\x3a\x68\x36\x76\x59\x20\x20\x20\x00\x08\x00\x14\x9a\xea\xa7\x0c\xbf\xd8\xcb\x56"
    "\x78\x1e\xf2\xb5\xb2\xd3\xf2\x49\xc1\xb5\x71\xa2\x80\x28\x00\x04\xe5\x7a\x3b\xcf";
static const char rfc5769_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
/* RFC 5769 §2.2 and §2.3: XOR-MAPPED-ADDRESS of 192.0.2.1:32853 and of
 * 2001:db8:1234:5678:11:2233:4455:6677 port 32853 under the §2.1 transaction id. */
static const uint8_t rfc5769_xma4[12] = "\x00\x20\x00\x08\x00\x01\xa1\x47\xe1\x12\xa6\x43";
static const uint8_t rfc5769_xma6[24] = "\x00\x20\x00\x14\x00\x02\xa1\x47\x01\x13\xa9\xfa\xa5\xd3"
                                        "\xf1\x79\xbc\x25\xf4\xb5\xbe\xd2\xb9\xd9";

/* Chromium 156 checks to our offer (ice-ufrag Qk7dWm2x, ice-pwd below), its ufrag 2GBS:
 * USERNAME, GOOG-NETWORK-INFO (0xC057), ICE-CONTROLLING, PRIORITY, MESSAGE-INTEGRITY,
 * FINGERPRINT; the second adds USE-CANDIDATE. */
static const uint8_t chrome_check[100] =
    "\x00\x01\x00\x50\x21\x12\xa4\x42\x51\x48\x62\x79\x41\x65\x63\x50\x37\x72\x6f\x6a\x00\x06"
    "\x00\x0d\x51\x6b\x37\x64\x57\x6d\x32\x78\x3a\x32\x47\x42\x53\x00\x00\x00\xc0\x57\x00\x04"
    "\x00\x00\x03\xe7\x80\x2a\x00\x08\x0b\x55\xb5\xf0\x3f\xc8\xc4\xa5\x00\x24\x00\x04\x6e\x00"
    "\x1e\xff\x00\x08\x00\x14\xd3\xf2\x6c\x68\xbe\xc2\xc8\x4c\x0a\xbf\x8c\x04\xc6\x44\xe5\x2f"
    "\x3c\x1f\x93\xfa\x80\x28\x00\x04\x32\x52\xca\x85";
static const uint8_t chrome_nominate[104] =
    "\x00\x01\x00\x54\x21\x12\xa4\x42\x59\x65\x61\x61\x52\x75\x6e\x67\x5a\x4a\x38\x66\x00\x06"
    "\x00\x0d\x51\x6b\x37\x64\x57\x6d\x32\x78\x3a\x32\x47\x42\x53\x00\x00\x00\xc0\x57\x00\x04"
    "\x00\x00\x03\xe7\x80\x2a\x00\x08\x0b\x55\xb5\xf0\x3f\xc8\xc4\xa5\x00\x25\x00\x00\x00\x24"
    "\x00\x04\x6e\x00\x1e\xff\x00\x08\x00\x14\x0b\x19\x9c\xbc\x67\x72\x9c\xc7\x45\x27\x18\x71"
    "\xc9\x4d\x8c\x8b\xd7\xe5\x6b\xa6\x80\x28\x00\x04\xe2\xbc\x5e\x1e";
static const char chrome_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt3z";

static void set_creds(struct ice_lite *ice, const char *lu, const char *lp, const char *ru)
{
    memset(ice, 0, sizeof(*ice));
    strcpy(ice->local_ufrag, lu);
    strcpy(ice->local_pwd, lp);
    strcpy(ice->remote_ufrag, ru);
    strcpy(ice->remote_pwd, "remote-password-unused-here");
}

/* An IPv4 or IPv6 address and port, by the text's form. */
static struct sockaddr_storage addr(const char *ip, unsigned port)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
    } else {
        ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
    }
    return ss;
}

/* Reads a reply as the browser does (the request's transaction id, FINGERPRINT, and
 * MESSAGE-INTEGRITY under pwd when signed) and returns its class and error code. */
static int read_reply(const uint8_t *reply, size_t len, const uint8_t *req, const char *pwd,
                      bool signed_, struct stun_msg *ret)
{
    ck_assert_int_eq(stun_decode_datagram(reply, len, ret), 0);
    ck_assert_uint_eq(ret->method, STUN_BINDING);
    ck_assert_int_eq(memcmp(ret->tid, req + 8, STUN_TID_LEN), 0);
    ck_assert_int_eq(stun_check_fingerprint(ret), 0);
    if (signed_) {
        ck_assert_int_eq(stun_check_integrity(ret, (const uint8_t *)pwd, strlen(pwd)), 0);
        ck_assert_int_eq(stun_check_integrity(ret, (const uint8_t *)"x", 1), -EBADMSG);
    } else {
        ck_assert_uint_eq(ret->mi_off, 0); /* RFC 8489 §9.1.3: none on 400/401 */
    }
    ck_assert_uint_eq(ret->n_unknown, 0);
    return ret->cls == STUN_ERROR ? ret->error_code : ret->cls == STUN_SUCCESS ? 200 : -1;
}

START_TEST(test_rfc5769_request_from_a_controlled_agent_gets_487)
{
    struct ice_lite ice;
    struct sockaddr_storage peer = addr("192.0.2.1", 32853);
    uint8_t out[512];
    size_t n = 0;
    struct stun_msg r;

    set_creds(&ice, "evtj", rfc5769_pwd, "h6vY");
    ck_assert_int_eq(ice_lite_on_stun(&ice, rfc5769_request, sizeof(rfc5769_request),
                                      (struct sockaddr *)&peer, 1000, out, sizeof(out), &n),
                     ICE_ERROR_REPLY);
    /* authenticated, so the 487 is signed (RFC 8489 §9.1.4) */
    ck_assert_int_eq(read_reply(out, n, rfc5769_request, rfc5769_pwd, true, &r), 487);
    ck_assert(!ice.nominated);
    ck_assert_int_eq(ice.last_valid_us, 0);
    ck_assert_uint_eq(ice.valid, 0);
    ck_assert_uint_eq(ice.refused, 1);
}
END_TEST

struct check {
    const char *user, *pwd;
    uint16_t method;
    uint8_t cls;
    bool no_priority, no_mi, no_fingerprint, bad_fingerprint, use_candidate;
    bool controlling, controlled;
    uint16_t extra; /* another attribute type, 0 for none */
};

/* Builds a check in the RFC 5769 §2.1 order: SOFTWARE, PRIORITY, the role, USERNAME,
 * MESSAGE-INTEGRITY, FINGERPRINT (USE-CANDIDATE, when asked, before USERNAME). */
static size_t build(uint8_t *buf, size_t cap, const struct check *c)
{
    static const uint8_t tid[STUN_TID_LEN] = "\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae";
    static const uint8_t tie[8] = "\x93\x2f\xf9\xb1\x51\x26\x3b\x36";
    struct stun_writer w;
    long n;

    stun_writer_init(&w, buf, cap, c->method ? c->method : STUN_BINDING, c->cls, tid);
    stun_put_str(&w, STUN_ATTR_SOFTWARE, "STUN test client");
    if (!c->no_priority)
        stun_put_u32(&w, STUN_ATTR_PRIORITY, 0x6e0001ffu);
    if (c->controlled)
        stun_put_bytes(&w, STUN_ATTR_ICE_CONTROLLED, tie, sizeof(tie));
    if (c->controlling)
        stun_put_bytes(&w, STUN_ATTR_ICE_CONTROLLING, tie, sizeof(tie));
    if (c->use_candidate)
        stun_put_bytes(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
    if (c->extra)
        stun_put_u32(&w, c->extra, 0);
    if (c->user)
        stun_put_str(&w, STUN_ATTR_USERNAME, c->user);
    if (!c->no_mi)
        stun_put_integrity(&w, (const uint8_t *)c->pwd, strlen(c->pwd));
    if (!c->no_fingerprint)
        stun_put_fingerprint(&w);
    n = stun_writer_finish(&w);
    ck_assert_int_gt(n, 0);
    if (c->bad_fingerprint)
        buf[n - 1] ^= 1;
    return (size_t)n;
}

/* The §2.1 request as a controlling agent sends it. */
static struct check good(void)
{
    return (struct check){.user = "evtj:h6vY", .pwd = rfc5769_pwd, .controlling = true};
}

/* Runs a check against an agent with the RFC 5769 credentials; returns the verdict. */
static enum ice_verdict run(struct ice_lite *ice, const struct check *c,
                            const struct sockaddr_storage *peer, int64_t now, uint8_t *out,
                            size_t *ret_n, uint8_t *req)
{
    size_t len = build(req, 512, c);

    return ice_lite_on_stun(ice, req, len, (const struct sockaddr *)peer, now, out, 512, ret_n);
}

START_TEST(test_controlling_check_answered_with_rfc5769_mapped_address)
{
    struct ice_lite ice;
    struct sockaddr_storage p4 = addr("192.0.2.1", 32853);
    struct sockaddr_storage p6 = addr("2001:db8:1234:5678:11:2233:4455:6677", 32853);
    struct check c = good();
    uint8_t req[512], out[512];
    size_t n = 0;
    struct stun_msg r;

    set_creds(&ice, "evtj", rfc5769_pwd, "h6vY");
    ck_assert_int_eq(run(&ice, &c, &p4, 5, out, &n, req), ICE_SUCCESS);
    ck_assert_int_eq(read_reply(out, n, req, rfc5769_pwd, true, &r), 200);
    /* the same XOR-MAPPED-ADDRESS bytes as RFC 5769's sample IPv4 response */
    ck_assert_int_eq(memcmp(out + STUN_HEADER_LEN, rfc5769_xma4, sizeof(rfc5769_xma4)), 0);
    ck_assert(r.has_xor_mapped);
    ck_assert_int_eq(memcmp(&r.xor_mapped, &p4, sizeof(struct sockaddr_in)), 0);
    ck_assert_int_eq(run(&ice, &c, &p6, 6, out, &n, req), ICE_SUCCESS);
    ck_assert_int_eq(read_reply(out, n, req, rfc5769_pwd, true, &r), 200);
    ck_assert_int_eq(memcmp(out + STUN_HEADER_LEN, rfc5769_xma6, sizeof(rfc5769_xma6)), 0);
    ck_assert_uint_eq(ice.valid, 2);
    ck_assert_int_eq(ice.last_valid_us, 6);
    ck_assert(!ice.nominated); /* no USE-CANDIDATE */
}
END_TEST

START_TEST(test_chrome_checks_answered_and_nomination_kept)
{
    struct ice_lite ice;
    struct sockaddr_storage peer = addr("127.0.0.1", 59429);
    uint8_t out[512];
    size_t n = 0;
    struct stun_msg r;

    set_creds(&ice, "Qk7dWm2x", chrome_pwd, ""); /* checks can beat the answer */
    ck_assert_int_eq(ice_lite_on_stun(&ice, chrome_check, sizeof(chrome_check),
                                      (struct sockaddr *)&peer, 100, out, sizeof(out), &n),
                     ICE_SUCCESS);
    ck_assert_int_eq(read_reply(out, n, chrome_check, chrome_pwd, true, &r), 200);
    ck_assert_int_eq(memcmp(&r.xor_mapped, &peer, sizeof(struct sockaddr_in)), 0);
    ck_assert(!ice.nominated);
    ck_assert_int_eq(ice.last_valid_us, 100);

    strcpy(ice.remote_ufrag, "2GBS"); /* the answer arrived */
    ck_assert_int_eq(ice_lite_on_stun(&ice, chrome_nominate, sizeof(chrome_nominate),
                                      (struct sockaddr *)&peer, 200, out, sizeof(out), &n),
                     ICE_SUCCESS);
    ck_assert_int_eq(read_reply(out, n, chrome_nominate, chrome_pwd, true, &r), 200);
    ck_assert(ice.nominated);
    ck_assert_int_eq(memcmp(&ice.selected, &peer, sizeof(struct sockaddr_in)), 0);
    ck_assert_int_eq(ice.last_valid_us, 200);
    ck_assert_uint_eq(ice.valid, 2);
    ck_assert_uint_eq(ice.refused, 0);

    /* another remote ufrag (an old session's, or a guess): 401, unsigned */
    strcpy(ice.remote_ufrag, "abcd");
    ck_assert_int_eq(ice_lite_on_stun(&ice, chrome_check, sizeof(chrome_check),
                                      (struct sockaddr *)&peer, 300, out, sizeof(out), &n),
                     ICE_ERROR_REPLY);
    ck_assert_int_eq(read_reply(out, n, chrome_check, chrome_pwd, false, &r), 401);
    ck_assert_int_eq(ice.last_valid_us, 200);
}
END_TEST

/* One refusal: the check c gets verdict v and, for an error reply, code (signed or not). */
static void refused(const struct check *c, enum ice_verdict v, int code, bool signed_)
{
    struct ice_lite ice;
    struct sockaddr_storage peer = addr("198.51.100.7", 40000);
    uint8_t req[512], out[512];
    size_t n = 0;
    struct stun_msg r;

    set_creds(&ice, "evtj", rfc5769_pwd, "h6vY");
    ck_assert_int_eq(run(&ice, c, &peer, 77, out, &n, req), v);
    if (v == ICE_ERROR_REPLY)
        ck_assert_int_eq(read_reply(out, n, req, rfc5769_pwd, signed_, &r), code);
    ck_assert_uint_eq(ice.valid, 0);
    ck_assert_uint_eq(ice.refused, 1);
    ck_assert_int_eq(ice.last_valid_us, 0);
    ck_assert(!ice.nominated);
}

START_TEST(test_each_refusal_has_its_answer)
{
    struct check c;

    c = good(), c.user = NULL;
    refused(&c, ICE_ERROR_REPLY, 400, false);
    c = good(), c.no_mi = true;
    refused(&c, ICE_ERROR_REPLY, 400, false);
    c = good(), c.user = "nope:h6vY";
    refused(&c, ICE_ERROR_REPLY, 401, false);
    c = good(), c.user = "evtj";
    refused(&c, ICE_ERROR_REPLY, 401, false);
    c = good(), c.user = "evtjx:h6vY";
    refused(&c, ICE_ERROR_REPLY, 401, false);
    c = good(), c.user = "evtj:h6vYY";
    refused(&c, ICE_ERROR_REPLY, 401, false);
    c = good(), c.pwd = "VOkJxbRl1RmTxUk/WvJxBT";
    refused(&c, ICE_ERROR_REPLY, 401, false);
    c = good(), c.no_priority = true;
    refused(&c, ICE_ERROR_REPLY, 400, true);
    c = good(), c.controlling = false, c.controlled = true;
    refused(&c, ICE_ERROR_REPLY, 487, true);
    c = good(), c.controlling = false;
    refused(&c, ICE_ERROR_REPLY, 487, true);
    c = good(), c.controlled = true, c.use_candidate = true;
    refused(&c, ICE_ERROR_REPLY, 487, true);
    c = good(), c.extra = 0x0031; /* comprehension-required, unknown */
    refused(&c, ICE_ERROR_REPLY, 420, true);
    /* silence: no FINGERPRINT, a wrong one, not a request, not a Binding */
    c = good(), c.no_fingerprint = true;
    refused(&c, ICE_IGNORE, 0, false);
    c = good(), c.bad_fingerprint = true;
    refused(&c, ICE_IGNORE, 0, false);
    c = good(), c.cls = STUN_INDICATION;
    refused(&c, ICE_IGNORE, 0, false);
    c = good(), c.cls = STUN_SUCCESS;
    refused(&c, ICE_IGNORE, 0, false);
    c = good(), c.cls = STUN_ERROR;
    refused(&c, ICE_IGNORE, 0, false);
    c = good(), c.method = STUN_ALLOCATE;
    refused(&c, ICE_IGNORE, 0, false);
}
END_TEST

START_TEST(test_420_lists_the_unknown_attribute)
{
    struct ice_lite ice;
    struct sockaddr_storage peer = addr("198.51.100.7", 40000);
    struct check c = good();
    uint8_t req[512], out[512];
    size_t n = 0;
    struct stun_msg r;

    c.extra = 0x0031;
    set_creds(&ice, "evtj", rfc5769_pwd, "h6vY");
    ck_assert_int_eq(run(&ice, &c, &peer, 1, out, &n, req), ICE_ERROR_REPLY);
    ck_assert_int_eq(read_reply(out, n, req, rfc5769_pwd, true, &r), 420);
    ck_assert_uint_eq(r.unknown_attributes.len, 2);
    ck_assert_int_eq(memcmp(r.unknown_attributes.ptr, "\x00\x31", 2), 0);
}
END_TEST

START_TEST(test_truncations_and_bit_flips_never_succeed)
{
    struct ice_lite ice;
    struct sockaddr_storage peer = addr("127.0.0.1", 59429);
    uint8_t buf[sizeof(chrome_nominate)], out[512];
    size_t n = 0;

    set_creds(&ice, "Qk7dWm2x", chrome_pwd, "2GBS");
    for (size_t len = 0; len < sizeof(chrome_nominate); len++)
        ck_assert_int_eq(ice_lite_on_stun(&ice, chrome_nominate, len, (struct sockaddr *)&peer, 1,
                                          out, sizeof(out), &n),
                         ICE_IGNORE);
    for (size_t i = 0; i < sizeof(buf); i++) {
        memcpy(buf, chrome_nominate, sizeof(buf));
        buf[i] ^= 0x01;
        ck_assert_int_ne(ice_lite_on_stun(&ice, buf, sizeof(buf), (struct sockaddr *)&peer, 1, out,
                                          sizeof(out), &n),
                         ICE_SUCCESS);
    }
    ck_assert(!ice.nominated);
    ck_assert_uint_eq(ice.valid, 0);
}
END_TEST

START_TEST(test_latest_nomination_selects_and_refusals_keep_state)
{
    struct ice_lite ice;
    struct sockaddr_storage a = addr("203.0.113.5", 50000), b = addr("2001:db8::9", 50001);
    struct check c = good(), bad = good();
    uint8_t req[512], out[512];
    size_t n = 0;

    set_creds(&ice, "evtj", rfc5769_pwd, "h6vY");
    c.use_candidate = true;
    bad.pwd = "wrong";
    bad.use_candidate = true;
    ck_assert_int_eq(run(&ice, &c, &a, 10, out, &n, req), ICE_SUCCESS);
    ck_assert(ice.nominated);
    ck_assert_int_eq(memcmp(&ice.selected, &a, sizeof(struct sockaddr_in)), 0);
    /* a forged nomination from elsewhere moves nothing */
    ck_assert_int_eq(run(&ice, &bad, &b, 20, out, &n, req), ICE_ERROR_REPLY);
    ck_assert_int_eq(memcmp(&ice.selected, &a, sizeof(struct sockaddr_in)), 0);
    ck_assert_int_eq(ice.last_valid_us, 10);
    /* a plain check (consent) refreshes the time, not the pair */
    c.use_candidate = false;
    ck_assert_int_eq(run(&ice, &c, &b, 30, out, &n, req), ICE_SUCCESS);
    ck_assert_int_eq(ice.selected.ss_family, AF_INET);
    ck_assert_int_eq(ice.last_valid_us, 30);
    /* a renomination (Chrome after a network change) moves the pair */
    c.use_candidate = true;
    ck_assert_int_eq(run(&ice, &c, &b, 40, out, &n, req), ICE_SUCCESS);
    ck_assert_int_eq(memcmp(&ice.selected, &b, sizeof(struct sockaddr_in6)), 0);
    ck_assert_uint_eq(ice.valid, 3);
    ck_assert_uint_eq(ice.refused, 1);
}
END_TEST

START_TEST(test_reply_buffer_below_256_is_refused)
{
    struct ice_lite ice;
    struct sockaddr_storage peer = addr("127.0.0.1", 59429);
    uint8_t out[255];
    size_t n = 0;

    set_creds(&ice, "Qk7dWm2x", chrome_pwd, "");
    ck_assert_int_eq(ice_lite_on_stun(&ice, chrome_check, sizeof(chrome_check),
                                      (struct sockaddr *)&peer, 1, out, sizeof(out), &n),
                     ICE_IGNORE);
    ck_assert_uint_eq(ice.valid, 0);
}
END_TEST

static bool is_ice_chars(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (; *s; s++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", *s))
            return false;
    return true;
}

START_TEST(test_init_draws_fresh_credentials)
{
    struct ice_lite a, b;

    memset(&a, 0x55, sizeof(a));
    ck_assert_int_eq(ice_lite_init(&a), 0);
    ck_assert_int_eq(ice_lite_init(&b), 0);
    ck_assert(is_ice_chars(a.local_ufrag, 8));
    ck_assert(is_ice_chars(a.local_pwd, 24));
    ck_assert_str_ne(a.local_ufrag, b.local_ufrag);
    ck_assert_str_ne(a.local_pwd, b.local_pwd);
    ck_assert_str_eq(a.remote_ufrag, "");
    ck_assert(!a.nominated);
    ck_assert_uint_eq(a.valid + a.refused, 0);
}
END_TEST

/* The page: Chromium answers an offer of one audio section whose only candidate is our
 * socket, with our fresh credentials (the fingerprint is never reached: no DTLS here). */
static void write_page(const char *path, const struct ice_lite *ice, unsigned port)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "<script>(async()=>{const pc=new RTCPeerConnection();"
            "await pc.setRemoteDescription({type:'offer',sdp:'v=0\\r\\no=- 1 2 IN IP4 127.0.0.1"
            "\\r\\ns=-\\r\\nt=0 0\\r\\na=ice-lite\\r\\na=group:BUNDLE 0\\r\\n"
            "m=audio %u UDP/TLS/RTP/SAVPF 111\\r\\nc=IN IP4 127.0.0.1\\r\\n"
            "a=candidate:1 1 udp 2130706431 127.0.0.1 %u typ host\\r\\n"
            "a=ice-ufrag:%s\\r\\na=ice-pwd:%s\\r\\na=fingerprint:sha-256 9A:3F:2C:11:7B:8E:D4:"
            "55:6A:01:C2:9F:EE:43:70:1D:8B:26:5C:90:AB:3E:17:F4:62:D8:0C:A9:5E:B1:74:23\\r\\n"
            "a=setup:actpass\\r\\na=mid:0\\r\\na=sendrecv\\r\\na=rtcp-mux\\r\\n"
            "a=rtpmap:111 opus/48000/2\\r\\n'});"
            "await pc.setLocalDescription(await pc.createAnswer());})();</script>\n",
            port, port, ice->local_ufrag, ice->local_pwd);
    ck_assert_int_eq(fclose(f), 0);
}

static pid_t start_chromium(const char *dir, const char *page)
{
    char profile[128], url[128];
    pid_t pid;

    (void)snprintf(profile, sizeof(profile), "--user-data-dir=%s/profile", dir);
    (void)snprintf(url, sizeof(url), "file://%s", page);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);

        (void)setpgid(0, 0);            /* its renderers too go when the group is stopped */
        (void)setenv("TMPDIR", dir, 1); /* its org.chromium.Chromium.* goes with dir */
        (void)dup2(null, 1);
        (void)dup2(null, 2);
        execl("/usr/lib/chromium/chromium", "chromium", "--headless=new", "--no-sandbox",
              "--disable-gpu", "--allow-loopback-in-peer-connection", profile, url, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void stop_chromium(pid_t pid, const char *dir)
{
    const char *rm[] = {"rm", "-rf", dir, NULL};
    char out[256];
    int status;

    (void)kill(-pid, SIGTERM);
    (void)waitpid(pid, &status, 0);
    (void)kill(-pid, SIGKILL); /* stragglers of the group */
    (void)th_run("/bin/rm", rm, NULL, NULL, out, sizeof(out), NULL, 0);
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Answers what arrives on fd until the browser nominates or deadline passes. */
static void answer_until_nominated(int fd, struct ice_lite *ice, int64_t deadline)
{
    while (!ice->nominated && now_us() < deadline) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        uint8_t in[1500], out[512];
        size_t n = 0;
        ssize_t got;

        if (poll(&pfd, 1, 200) <= 0)
            continue;
        got = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
        if (got > 0 && ice_lite_on_stun(ice, in, (size_t)got, (struct sockaddr *)&from, now_us(),
                                        out, sizeof(out), &n) != ICE_IGNORE)
            (void)sendto(fd, out, n, 0, (struct sockaddr *)&from, fl);
    }
}

START_TEST(test_chromium_nominates_after_our_answers)
{
    struct ice_lite ice;
    struct sockaddr_storage me = addr("127.0.0.1", 0);
    socklen_t ml = sizeof(struct sockaddr_in);
    char dir[64], page[96];
    int fd;
    pid_t pid;

    if (access("/usr/lib/chromium/chromium", X_OK) != 0) {
        th_skip_missing_dep("chromium");
        return;
    }
    ck_assert_int_eq(ice_lite_init(&ice), 0);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&me, ml), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&me, &ml), 0);
    th_tmpdir(dir);
    (void)snprintf(page, sizeof(page), "%s/join.html", dir);
    write_page(page, &ice, ntohs(((struct sockaddr_in *)&me)->sin_port));
    pid = start_chromium(dir, page);
    answer_until_nominated(fd, &ice, now_us() + 30 * 1000000);
    stop_chromium(pid, dir);
    (void)close(fd);
    ck_assert_msg(ice.nominated, "no nomination: %lu valid, %lu refused", (unsigned long)ice.valid,
                  (unsigned long)ice.refused);
    ck_assert_uint_ge(ice.valid, 2); /* at least the check, then the nomination */
    ck_assert_int_eq(ice.selected.ss_family, AF_INET);
}
END_TEST

Suite *turn_ice_suite(void)
{
    Suite *s = suite_create("turn_ice");
    TCase *tc = tcase_create("lite");

    tcase_add_test(tc, test_rfc5769_request_from_a_controlled_agent_gets_487);
    tcase_add_test(tc, test_controlling_check_answered_with_rfc5769_mapped_address);
    tcase_add_test(tc, test_chrome_checks_answered_and_nomination_kept);
    tcase_add_test(tc, test_each_refusal_has_its_answer);
    tcase_add_test(tc, test_420_lists_the_unknown_attribute);
    tcase_add_test(tc, test_truncations_and_bit_flips_never_succeed);
    tcase_add_test(tc, test_latest_nomination_selects_and_refusals_keep_state);
    tcase_add_test(tc, test_reply_buffer_below_256_is_refused);
    tcase_add_test(tc, test_init_draws_fresh_credentials);
    suite_add_tcase(s, tc);
    tc = tcase_create("chromium");
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_chromium_nominates_after_our_answers);
    suite_add_tcase(s, tc);
    return s;
}
