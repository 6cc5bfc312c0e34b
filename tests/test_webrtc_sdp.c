/* tests/test_webrtc_sdp.c: the SDP parser and offer writer (media/webrtc/sdp.c) against real
 * browser SDP, every refusal the contract names, and the writer's round trip and bounds. No
 * sockets.
 *
 * The real vectors are the fuzzer's seeds in fuzz/corpus/sdp/, one copy for both. The chrome156_*
 * ones were captured from Chromium 156.0.8078.114 on this machine (headless, driven over
 * --remote-debugging-pipe): chrome156_answer_mdns is its answer to callbridged_offer (this
 * writer's output for sample_offer below, which Chrome took as a remote offer), sending canvas and
 * WebAudio tracks on mids 0 and 1, so its host candidates are mDNS names; chrome156_answer_ip_tcp
 * is the same with the fake camera granted, which makes Chrome show its IPv4, IPv6 and TCP
 * candidates; chrome156_offer_rtx is Chrome's own offer for two sendrecv and two recvonly
 * transceivers (extmap, RTX and its ssrc-group:FID, many codecs); chrome156_candidate_* are its
 * trickled RTCIceCandidate.candidate strings; chrome156_answer_renegotiated is its answer to a
 * second offer from this writer in which mids 2 and 3 stopped and 4 and 5 were added. The Firefox
 * vectors are as Firefox wrote them, from public captures: firefox68_audio_offer (a FreeSWITCH
 * interop log: 20 candidates with RTCP components, IPv6 and TCP active ones) and
 * firefox61_video_offer (aiortc's tests/test_sdp.py). 192.0.2.2 and fd00::2 are this machine's
 * addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/webrtc/sdp.h"
#include "tests/suites.h"

/* A real vector: the fuzzer's seed of that name, read from the tree (the tests run from its
 * root). The text stays valid until the next call. */
static const char *vector(const char *name)
{
    static char buf[SDP_MAX_LEN + 1];
    char path[128];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "fuzz/corpus/sdp/%s", name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    (void)fclose(f);
    ck_assert_uint_lt(n, sizeof(buf) - 1);
    buf[n] = '\0';
    return buf;
}

/* Parses text, failing the test with the parser's sentence on an error. */
static void parse_ok(const char *text, struct sdp_session *s)
{
    char err[160] = "";
    int r = sdp_parse(text, strlen(text), s, err, sizeof(err));

    ck_assert_msg(r == 0, "sdp_parse: %d (%s)", r, err);
}

static void check_ip(const struct sockaddr_storage *ss, int family, const char *ip, unsigned port)
{
    char text[INET6_ADDRSTRLEN] = "";

    ck_assert_int_eq(ss->ss_family, family);
    if (family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ss;

        inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
        ck_assert_uint_eq(ntohs(in->sin_port), port);
    } else {
        const struct sockaddr_in6 *in6 = (const void *)ss;

        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
        ck_assert_uint_eq(ntohs(in6->sin6_port), port);
    }
    ck_assert_str_eq(text, ip);
}

static void check_media(const struct sdp_media *m, enum sdp_kind kind, unsigned port,
                        const char *mid, enum sdp_dir dir)
{
    ck_assert_int_eq(m->kind, kind);
    ck_assert_uint_eq(m->port, port);
    ck_assert_str_eq(m->mid, mid);
    ck_assert_int_eq(m->dir, dir);
    ck_assert(m->rtcp_mux);
    ck_assert_int_eq(m->opus_pt, kind == SDP_AUDIO ? SDP_PT_OPUS : -1);
    ck_assert_int_eq(m->vp8_pt, kind == SDP_VIDEO ? SDP_PT_VP8 : -1);
}

START_TEST(test_chrome_answer_mdns)
{
    static const uint8_t fp_head[4] = {0x69, 0x97, 0xc7, 0x86};
    struct sdp_session s;

    parse_ok(vector("chrome156_answer_mdns"), &s);
    ck_assert_uint_eq(s.n_media, 6);
    check_media(&s.media[0], SDP_AUDIO, 9, "0", SDP_SENDONLY);
    check_media(&s.media[1], SDP_VIDEO, 9, "1", SDP_SENDONLY);
    check_media(&s.media[2], SDP_AUDIO, 9, "2", SDP_RECVONLY);
    check_media(&s.media[3], SDP_VIDEO, 9, "3", SDP_RECVONLY);
    check_media(&s.media[4], SDP_AUDIO, 0, "4", SDP_INACTIVE);
    check_media(&s.media[5], SDP_VIDEO, 0, "5", SDP_INACTIVE);
    ck_assert_uint_eq(s.media[0].n_ssrc, 1);
    ck_assert_uint_eq(s.media[0].ssrc[0], 1090902261u);
    ck_assert_uint_eq(s.media[1].n_ssrc, 1);
    ck_assert_uint_eq(s.media[1].ssrc[0], 1196314461u);
    ck_assert_uint_eq(s.media[2].n_ssrc, 0);
    /* the first m-line's credentials, not the stopped lines' own */
    ck_assert_str_eq(s.ice_ufrag, "ip9j");
    ck_assert_str_eq(s.ice_pwd, "sWFHzTGMGSUdNUQvAboq2wGz");
    ck_assert(!s.ice_lite);
    ck_assert_str_eq(s.fp_alg, "sha-256");
    ck_assert_uint_eq(s.fp_len, 32);
    ck_assert_mem_eq(s.fp, fp_head, sizeof(fp_head));
    ck_assert_uint_eq(s.fp[31], 0x6c);
    ck_assert_int_eq(s.setup, SDP_SETUP_ACTIVE);
    ck_assert(s.bundle);
    ck_assert_uint_eq(s.n_cand, 2);
    ck_assert_int_eq(s.cand[0].addr.ss_family, AF_UNSPEC);
    ck_assert_str_eq(s.cand[0].foundation, "641208375");
    ck_assert_uint_eq(s.cand[0].priority, 2113937151u);
    ck_assert_uint_eq(s.cand[0].component, 1);
    ck_assert(!s.cand[0].tcp);
    ck_assert_int_eq(s.cand[0].type, SDP_CAND_HOST);
    ck_assert_str_eq(s.cand[1].foundation, "3982414295");
}
END_TEST

START_TEST(test_chrome_answer_ip_candidates)
{
    struct sdp_session s;

    parse_ok(vector("chrome156_answer_ip_tcp"), &s);
    ck_assert_uint_eq(s.n_media, 6);
    check_media(&s.media[0], SDP_AUDIO, 49654, "0", SDP_SENDONLY);
    ck_assert_uint_eq(s.media[1].ssrc[0], 608754646u);
    ck_assert_str_eq(s.ice_ufrag, "PFlX");
    ck_assert_uint_eq(s.n_cand, 4);
    check_ip(&s.cand[0].addr, AF_INET, "192.0.2.2", 49654);
    check_ip(&s.cand[1].addr, AF_INET6, "fd00::2", 34257);
    check_ip(&s.cand[2].addr, AF_INET, "192.0.2.2", 9);
    check_ip(&s.cand[3].addr, AF_INET6, "fd00::2", 9);
    ck_assert(!s.cand[1].tcp);
    ck_assert(s.cand[2].tcp && s.cand[3].tcp);
    ck_assert_int_eq(s.cand[2].tcptype, SDP_TCPTYPE_ACTIVE);
    ck_assert_uint_eq(s.cand[3].priority, 1518285567u);
}
END_TEST

START_TEST(test_chrome_offer_rtx_is_not_kept)
{
    struct sdp_session s;

    parse_ok(vector("chrome156_offer_rtx"), &s);
    ck_assert_uint_eq(s.n_media, 4);
    check_media(&s.media[0], SDP_AUDIO, 9, "0", SDP_SENDRECV);
    check_media(&s.media[1], SDP_VIDEO, 9, "1", SDP_SENDRECV);
    check_media(&s.media[2], SDP_AUDIO, 9, "2", SDP_RECVONLY);
    check_media(&s.media[3], SDP_VIDEO, 9, "3", SDP_RECVONLY);
    ck_assert_uint_eq(s.media[0].n_ssrc, 1);
    ck_assert_uint_eq(s.media[0].ssrc[0], 3086296853u);
    /* a=ssrc-group:FID 2150188143 2620084327: the RTX stream is dropped */
    ck_assert_uint_eq(s.media[1].n_ssrc, 1);
    ck_assert_uint_eq(s.media[1].ssrc[0], 2150188143u);
    ck_assert_int_eq(s.setup, SDP_SETUP_ACTPASS);
    ck_assert_str_eq(s.ice_ufrag, "AWZo");
    ck_assert_uint_eq(s.n_cand, 8); /* two per m-line, all mDNS */
    for (size_t i = 0; i < s.n_cand; i++)
        ck_assert_int_eq(s.cand[i].addr.ss_family, AF_UNSPEC);
}
END_TEST

/* Chrome's answer to a renegotiation: participant A (mids 2, 3) left and B (4, 5) joined; the
 * slots A had are stopped (port 0, inactive) and out of the BUNDLE group. */
START_TEST(test_chrome_answer_renegotiated)
{
    struct sdp_session s;

    parse_ok(vector("chrome156_answer_renegotiated"), &s);
    ck_assert_uint_eq(s.n_media, 6);
    check_media(&s.media[0], SDP_AUDIO, 42313, "0", SDP_SENDONLY);
    check_media(&s.media[1], SDP_VIDEO, 9, "1", SDP_SENDONLY);
    check_media(&s.media[2], SDP_AUDIO, 0, "2", SDP_INACTIVE);
    check_media(&s.media[3], SDP_VIDEO, 0, "3", SDP_INACTIVE);
    check_media(&s.media[4], SDP_AUDIO, 9, "4", SDP_RECVONLY);
    check_media(&s.media[5], SDP_VIDEO, 9, "5", SDP_RECVONLY);
    ck_assert_uint_eq(s.media[0].ssrc[0], 1178328311u);
    ck_assert_uint_eq(s.media[1].ssrc[0], 3942803620u);
    ck_assert_str_eq(s.ice_ufrag, "JGM6");
    ck_assert_uint_eq(s.n_cand, 2);
    check_ip(&s.cand[0].addr, AF_INET, "192.0.2.2", 42313);
    check_ip(&s.cand[1].addr, AF_INET6, "fd00::2", 34986);
}
END_TEST

START_TEST(test_firefox_offers)
{
    struct sdp_session s;

    parse_ok(vector("firefox68_audio_offer"), &s);
    ck_assert_uint_eq(s.n_media, 1);
    ck_assert_int_eq(s.media[0].kind, SDP_AUDIO);
    ck_assert_uint_eq(s.media[0].port, 52511);
    ck_assert_int_eq(s.media[0].opus_pt, 109); /* not Chrome's 111 */
    ck_assert_int_eq(s.media[0].vp8_pt, -1);
    ck_assert_uint_eq(s.media[0].ssrc[0], 2570216174u);
    ck_assert_str_eq(s.ice_ufrag, "7848ec25"); /* media level, after ice-pwd */
    ck_assert_str_eq(s.ice_pwd, "f33756ad90c1fd221cd854e713fc8305");
    ck_assert_uint_eq(s.fp[0], 0xcc);           /* session level */
    ck_assert_uint_eq(s.n_cand, SDP_MAX_CANDS); /* 20 written, the first 16 kept */
    check_ip(&s.cand[4].addr, AF_INET6, "2406:3003:2005:244:4ac1:faa5:1124:9fe7", 50474);
    ck_assert(s.cand[5].tcp);
    ck_assert_uint_eq(s.cand[10].component, 2);
    ck_assert_str_eq(s.cand[10].foundation, "0");

    parse_ok(vector("firefox61_video_offer"), &s);
    ck_assert_uint_eq(s.n_media, 1);
    ck_assert_str_eq(s.media[0].mid, "sdparta_0");
    ck_assert_int_eq(s.media[0].vp8_pt, 120);
    ck_assert_int_eq(s.media[0].dir, SDP_SENDRECV);
    ck_assert_uint_eq(s.media[0].ssrc[0], 3408404552u);
    ck_assert_uint_eq(s.n_cand, 4);
    ck_assert_int_eq(s.setup, SDP_SETUP_ACTPASS);
}
END_TEST

/* Chrome's LF-only, Firefox's FID after its a=ssrc lines, a session-level direction as the
 * default, codec names in any case, and attributes that are not used. */
START_TEST(test_variants_and_unknown_attributes)
{
    static const char text[] =
        "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=recvonly\n"
        "a=x-unknown:anything at all\nm=video 9 UDP/TLS/RTP/SAVPF 98 99\n"
        "a=rtpmap:98 vp8/90000\na=rtpmap:99 rtx/90000\na=ssrc:5 cname:x\n"
        "a=ssrc:6 cname:x\na=ssrc-group:FID 5 6\na=ssrc:7 cname:y\n"
        "a=mid:v\nm=audio 9 UDP/TLS/RTP/SAVPF 101\na=rtpmap:101 OPUS/48000/2\n"
        "a=sendonly\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
        "a=sctp-port:5000";
    struct sdp_session s;

    parse_ok(text, &s);
    ck_assert_uint_eq(s.n_media, 3);
    ck_assert_int_eq(s.media[0].vp8_pt, 98);
    ck_assert_int_eq(s.media[0].dir, SDP_RECVONLY);
    ck_assert_uint_eq(s.media[0].n_ssrc, 2);
    ck_assert_uint_eq(s.media[0].ssrc[0], 5);
    ck_assert_uint_eq(s.media[0].ssrc[1], 7);
    ck_assert_int_eq(s.media[1].opus_pt, 101);
    ck_assert_int_eq(s.media[1].dir, SDP_SENDONLY);
    ck_assert(!s.media[1].rtcp_mux);
    ck_assert_int_eq(s.media[2].kind, SDP_APPLICATION);
    ck_assert_str_eq(s.fp_alg, "");
    ck_assert_int_eq(s.setup, SDP_SETUP_NONE);
    ck_assert(!s.bundle);
}
END_TEST

struct refusal {
    const char *text;
    int r;
    const char *err; /* the start of the sentence */
};

/* Every refusal the contract names, each on the line it names. */
static const struct refusal refusals[] = {
    {"", -EINVAL, "line 1: "},
    {"o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", -EINVAL, "line 1: "},
    {"v=1\r\n", -EINVAL, "line 1: "},
    {"v=0\r\ns=-\r\nv=0\r\n", -EINVAL, "line 3: "},
    {"v=0\r\nhello\r\n", -EINVAL, "line 2: not \"<letter>=\""},
    {"v=0\r\nA=x\r\n", -EINVAL, "line 2: not"},
    {"v=0\r\n=x\r\n", -EINVAL, "line 2: not"},
    {"v=0\r\ns=-\r\n\r\nt=0 0\r\n", -EINVAL, "line 3: not"},
    {"v=0\r\ns=a\tb\r\n", -EINVAL, "line 2: a byte that is not printable"},
    {"v=0\r\ns=a\rb\r\n", -EINVAL, "line 2: a byte that is not printable"},
    {"v=0\r\ns=caf\xc3\xa9\r\n", -EINVAL, "line 2: a byte that is not printable"},
    {"v=0\r\ns=\x7f\r\n", -EINVAL, "line 2: a byte"},
    {"v=0\r\nm=audio 65536 UDP/TLS/RTP/SAVPF 111\r\n", -EINVAL, "line 2: m=: a bad port"},
    {"v=0\r\nm=audio -9 UDP/TLS/RTP/SAVPF 111\r\n", -EINVAL, "line 2: m=: a bad port"},
    {"v=0\r\nm=audio 9/2 UDP/TLS/RTP/SAVPF 111\r\n", -EINVAL, "line 2: m=: a bad port"},
    {"v=0\r\nm=audio 99999999999 UDP/TLS/RTP/SAVPF 111\r\n", -EINVAL, "line 2: m=: a bad port"},
    {"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPFF 111\r\n", -EINVAL, "line 2: m=: an unknown proto"},
    {"v=0\r\nm=audio 9 udp/tls/rtp/savpf 111\r\n", -EINVAL, "line 2: m=: an unknown proto"},
    {"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF\r\n", -EINVAL, "line 2: m=: not"},
    {"v=0\r\na=fingerprint:sha-256 AB:CD\r\n", -EINVAL, "line 2: a=fingerprint: not hex pairs"},
    {"v=0\r\na=fingerprint:sha-1 "
     "G9:4A:09:1E:0E:33:32:85:51:03:49:95:54:0B:41:09:A2:10:60:CC\r\n",
     -EINVAL, "line 2: a=fingerprint: not hex pairs"},
    {"v=0\r\na=fingerprint:sha-1 "
     "394A:091E:0E33:3285:5103:4995:540B:4109:A210:60CC:39:8F\r\n",
     -EINVAL, "line 2: a=fingerprint: not hex pairs"},
    {"v=0\r\na=fingerprint:sha-256 "
     "39:4A:09:1E:0E:33:32:85:51:03:49:95:54:0B:41:09:A2:10:60:CC\r\n",
     -EINVAL, "line 2: a=fingerprint: not hex pairs"},
    {"v=0\r\na=fingerprint:sha-3 AB:CD\r\n", -EINVAL, "line 2: a=fingerprint: an unknown hash"},
    {"v=0\r\na=fingerprint:sha-256\r\n", -EINVAL, "line 2: a=fingerprint: not"},
    {"v=0\r\na=ice-ufrag:ab-cd\r\n", -EINVAL, "line 2: a=ice-ufrag: a character outside"},
    {"v=0\r\na=ice-pwd:abc def ghi\r\n", -EINVAL, "line 2: a=ice-pwd: a character outside"},
    {"v=0\r\na=ice-pwd:\r\n", -EINVAL, "line 2: a=ice-pwd: empty or over 256"},
    {"v=0\r\na=setup:holdconn\r\n", -EINVAL, "line 2: a=setup: not actpass"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:a b\r\n", -EINVAL, "line 3: a=mid: not a token"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n", -EINVAL,
     "line 5: a=mid: the same as an earlier"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=mid:1\r\n", -EINVAL,
     "line 4: a=mid: a second one"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:128 opus/48000/2\r\n", -EINVAL, "line 3: a=rtpmap"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:111 opus\r\n", -EINVAL, "line 3: a=rtpmap"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=ssrc:4294967296 cname:x\r\n", -EINVAL, "line 3: a=ssrc:"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=ssrc-group:FID 1 x\r\n", -EINVAL, "line 3: a=ssrc-group:"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=candidate:1 1 udp 1 192.0.2.1 99999 typ host\r\n", -EINVAL,
     "line 3: a bad component, priority or port"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=candidate:1 1 tcp 1 192.0.2.1 9 typ host\r\n", -EINVAL,
     "line 3: TCP without a tcptype"},
};

START_TEST(test_refusals)
{
    const struct refusal *t = &refusals[_i];
    struct sdp_session s, before;
    char err[160] = "";
    int r;

    memset(&s, 0xa5, sizeof(s));
    memcpy(&before, &s, sizeof(s));
    r = sdp_parse(t->text, strlen(t->text), &s, err, sizeof(err));
    ck_assert_msg(r == t->r, "case %d: %d, not %d (%s)", _i, r, t->r, err);
    ck_assert_msg(strncmp(err, t->err, strlen(t->err)) == 0, "case %d: \"%s\"", _i, err);
    ck_assert_msg(memcmp(&s, &before, sizeof(s)) == 0, "case %d: ret written on failure", _i);
}
END_TEST

/* NUL is a byte like any other: the length, not a terminator, ends the description. */
START_TEST(test_nul_byte_refused)
{
    static const char text[] = "v=0\r\ns=a\0b\r\n";
    struct sdp_session s;
    char err[160] = "";

    ck_assert_int_eq(sdp_parse(text, sizeof(text) - 1, &s, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "line 2: a byte that is not printable ASCII");
}
END_TEST

/* 256 ice-chars are taken, 257 refused; the refusal never quotes the password. */
START_TEST(test_ice_credential_length)
{
    static char text[1024];
    char pwd[258], err[160] = "";
    struct sdp_session s;

    memset(pwd, 'P', 256);
    pwd[256] = '\0';
    snprintf(text, sizeof(text), "v=0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", pwd, pwd);
    parse_ok(text, &s);
    ck_assert_uint_eq(strlen(s.ice_ufrag), 256);
    ck_assert_uint_eq(strlen(s.ice_pwd), 256);
    strcpy(pwd + 256, "Q");
    snprintf(text, sizeof(text), "v=0\r\na=ice-pwd:%s\r\n", pwd);
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "line 2: a=ice-pwd: empty or over 256 characters");
    snprintf(text, sizeof(text), "v=0\r\na=ice-ufrag:%s\r\n", pwd);
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "line 2: a=ice-ufrag: empty or over 256 characters");
    /* a tiny err buffer is cut, never overrun */
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, err, 5), -EINVAL);
    ck_assert_str_eq(err, "line");
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, NULL, 0), -EINVAL);
}
END_TEST

/* SDP_MAX_MEDIA m-lines are taken, one more is -E2BIG; SDP_MAX_LEN bytes are read, one more
 * is -E2BIG before any. */
START_TEST(test_limits)
{
    static char text[SDP_MAX_LEN + 2];
    static const char mline[] = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    struct sdp_session s;
    char err[160] = "";
    size_t n = 0;

    n += (size_t)snprintf(text, sizeof(text), "v=0\r\n");
    for (int i = 0; i < SDP_MAX_MEDIA; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", mline);
    parse_ok(text, &s);
    ck_assert_uint_eq(s.n_media, SDP_MAX_MEDIA);
    snprintf(text + n, sizeof(text) - n, "%s", mline);
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, err, sizeof(err)), -E2BIG);
    ck_assert_str_eq(err, "line 66: more than 64 m-lines");

    n = (size_t)snprintf(text, sizeof(text), "v=0\r\na=x-pad:");
    memset(text + n, 'x', SDP_MAX_LEN - n);
    text[SDP_MAX_LEN] = '\0';
    ck_assert_int_eq(sdp_parse(text, SDP_MAX_LEN, &s, err, sizeof(err)), 0);
    text[SDP_MAX_LEN] = 'x';
    ck_assert_int_eq(sdp_parse(text, SDP_MAX_LEN + 1, &s, err, sizeof(err)), -E2BIG);
    text[0] = 'X'; /* refused by length alone: not even the first line is read */
    ck_assert_int_eq(sdp_parse(text, SDP_MAX_LEN + 1, &s, err, sizeof(err)), -E2BIG);
    ck_assert_msg(strncmp(err, "an SDP of ", 10) == 0 && strstr(err, "the most is"),
                  "the page is told what was too big: %s", err);
}
END_TEST

/* Fingerprints of each hash's length, in either case; only the first is kept. */
START_TEST(test_fingerprint_lengths)
{
    static const char text[] =
        "v=0\r\na=fingerprint:SHA-1 39:4a:09:1E:0E:33:32:85:51:03:49:95:54:0B:41:09:A2:10:60:cc\r\n"
        "a=fingerprint:sha-512 "
        "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:"
        "1D:1E:1F:20:21:22:23:24:25:26:27:28:29:2A:2B:2C:2D:2E:2F:30:31:32:33:34:35:36:37:38:39:"
        "3A:3B:3C:3D:3E:3F\r\n";
    struct sdp_session s;

    parse_ok(text, &s);
    ck_assert_str_eq(s.fp_alg, "sha-1");
    ck_assert_uint_eq(s.fp_len, 20);
    ck_assert_uint_eq(s.fp[1], 0x4a);
    ck_assert_uint_eq(s.fp[19], 0xcc);
}
END_TEST

/* ---- candidates ---------------------------------------------------------------------------- */

START_TEST(test_trickled_candidates)
{
    /* Chrome 156's onicecandidate strings, then RFC 8839 §5.1's srflx example shape */
    static const char v4[] = "candidate:2723009690 1 udp 2122194687 192.0.2.2 49654 typ host "
                             "generation 0 ufrag PFlX network-id 1";
    static const char v6[] = "a=candidate:1764431226 1 udp 2122265343 fd00::2 34257 typ host "
                             "generation 0 ufrag PFlX network-id 2\r\n";
    static const char tcp[] = "candidate:2541863406 1 tcp 1518285567 fd00::2 9 typ host tcptype "
                              "active generation 0 ufrag PFlX network-id 2";
    static const char mdns[] = "candidate:1718743795 1 udp 2113937151 "
                               "ac42467b-281a-4c55-9d8a-9bcd943d23b3.local 52931 typ host "
                               "generation 0 ufrag 3hp9 network-cost 999";
    static const char srflx[] =
        "candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998";
    static const char udp_tcptype[] = "candidate:9 1 udp 5 192.0.2.3 4 typ host tcptype so";
    struct sdp_candidate c;
    char err[160];

    ck_assert_int_eq(sdp_parse_candidate(v4, strlen(v4), &c, err, sizeof(err)), 0);
    check_ip(&c.addr, AF_INET, "192.0.2.2", 49654);
    ck_assert_str_eq(c.foundation, "2723009690");
    ck_assert_uint_eq(c.priority, 2122194687u);
    ck_assert_int_eq(sdp_parse_candidate(v6, strlen(v6), &c, err, sizeof(err)), 0);
    check_ip(&c.addr, AF_INET6, "fd00::2", 34257);
    ck_assert_int_eq(sdp_parse_candidate(tcp, strlen(tcp), &c, err, sizeof(err)), 0);
    ck_assert(c.tcp);
    ck_assert_int_eq(c.tcptype, SDP_TCPTYPE_ACTIVE);
    check_ip(&c.addr, AF_INET6, "fd00::2", 9);
    ck_assert_int_eq(sdp_parse_candidate(mdns, strlen(mdns), &c, err, sizeof(err)), 0);
    ck_assert_int_eq(c.addr.ss_family, AF_UNSPEC);
    ck_assert_int_eq(sdp_parse_candidate(srflx, strlen(srflx), &c, err, sizeof(err)), 0);
    ck_assert_int_eq(c.type, SDP_CAND_SRFLX);
    ck_assert(!c.tcp);
    /* a tcptype on a UDP candidate means nothing and is not kept */
    ck_assert_int_eq(sdp_parse_candidate(udp_tcptype, strlen(udp_tcptype), &c, err, sizeof(err)),
                     0);
    ck_assert_int_eq(c.tcptype, SDP_TCPTYPE_PASSIVE);
}
END_TEST

static const struct refusal bad_candidates[] = {
    {"", -EINVAL, "candidate: not a"},
    {"a=candidate:", -EINVAL, "candidate: the foundation"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ", -EINVAL, "candidate: fewer fields"},
    {"candidate:1 1 udp 1 192.0.2.1 1 type host", -EINVAL, "candidate: fewer fields"},
    {"candidate:123456789012345678901234567890123 1 udp 1 192.0.2.1 1 typ host", -EINVAL,
     "candidate: the foundation"},
    {"candidate:a-b 1 udp 1 192.0.2.1 1 typ host", -EINVAL, "candidate: the foundation"},
    {"candidate:1 0 udp 1 192.0.2.1 1 typ host", -EINVAL, "candidate: a bad component"},
    {"candidate:1 257 udp 1 192.0.2.1 1 typ host", -EINVAL, "candidate: a bad component"},
    {"candidate:1 1 udp 4294967296 192.0.2.1 1 typ host", -EINVAL, "candidate: a bad comp"},
    {"candidate:1 1 udp 1 192.0.2.1 65536 typ host", -EINVAL, "candidate: a bad component"},
    {"candidate:1 1 udp 1 256.0.2.1 1 typ host", -EINVAL, "candidate: not an IP address"},
    {"candidate:1 1 udp 1 192.0.2 1 typ host", -EINVAL, "candidate: not an IP address"},
    {"candidate:1 1 udp 1 fe80::1%eth0 1 typ host", -EINVAL, "candidate: not an IP address"},
    {"candidate:1 1 udp 1 a_b.local 1 typ host", -EINVAL, "candidate: not an address"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ host generation", -EINVAL,
     "candidate: an extension without"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ relay raddr 192.0.2.9 rport x", -EINVAL,
     "candidate: a bad rport"},
    {"candidate:1 1 tcp 1 192.0.2.1 9 typ host tcptype sideways", -EINVAL,
     "candidate: an unknown tcptype"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ host\x01", -EINVAL, "candidate: not a"},
    {"candidate:1 1 sctp 1 192.0.2.1 1 typ host", -EPROTONOSUPPORT, "candidate: an unknown"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ bogus", -EPROTONOSUPPORT, "candidate: an unknown"},
    {"candidate:1 1 udp 1 turn.example.com 1 typ host", -EPROTONOSUPPORT, "candidate: an unknown"},
    /* malformed wins over unusable */
    {"candidate:1 1 sctp 1 192.0.2.1 1 typ host generation", -EINVAL, "candidate: an ext"},
};

START_TEST(test_candidate_refusals)
{
    const struct refusal *t = &bad_candidates[_i];
    struct sdp_candidate c, before;
    char err[160] = "";
    int r;

    memset(&c, 0x5a, sizeof(c));
    memcpy(&before, &c, sizeof(c));
    r = sdp_parse_candidate(t->text, strlen(t->text), &c, err, sizeof(err));
    ck_assert_msg(r == t->r, "case %d: %d, not %d (%s)", _i, r, t->r, err);
    ck_assert_msg(strncmp(err, t->err, strlen(t->err)) == 0, "case %d: \"%s\"", _i, err);
    ck_assert(memcmp(&c, &before, sizeof(c)) == 0);
}
END_TEST

/* An unusable candidate in a description is skipped, not refused; a long line is refused. */
START_TEST(test_candidate_skip_and_cap)
{
    static const char text[] = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                               "a=candidate:1 1 sctp 1 192.0.2.1 1 typ host\r\n"
                               "a=candidate:2 1 udp 1 relay.example.com 3478 typ relay\r\n"
                               "a=candidate:3 1 udp 7 192.0.2.1 1 typ host\r\n";
    static char line[1100];
    struct sdp_session s;
    struct sdp_candidate c;
    char err[160];

    parse_ok(text, &s);
    ck_assert_uint_eq(s.n_cand, 1);
    ck_assert_uint_eq(s.cand[0].priority, 7);
    memset(line, 'a', sizeof(line));
    memcpy(line, "candidate:", 10);
    ck_assert_int_eq(sdp_parse_candidate(line, sizeof(line), &c, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(sdp_parse_candidate(NULL, 0, &c, err, sizeof(err)), -EINVAL);
}
END_TEST

/* ---- the writer ---------------------------------------------------------------------------- */

static void set_v4(struct sockaddr_storage *ss, const char *ip, unsigned port)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;

    memset(ss, 0, sizeof(*ss));
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET, ip, &in->sin_addr), 1);
}

static void set_v6(struct sockaddr_storage *ss, const char *ip, unsigned port)
{
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
}

static void set_cand(struct sdp_candidate *c, const char *f, uint32_t prio, enum sdp_cand_type t)
{
    snprintf(c->foundation, sizeof(c->foundation), "%s", f);
    c->component = 1;
    c->priority = prio;
    c->type = t;
}

/* The offer whose output Chrome 156 accepted (fuzz/corpus/sdp/callbridged_offer): the guest's own
 * audio and video (recvonly), one participant's forwarded streams (sendonly), one who left. */
static void sample_offer(struct sdp_offer *o)
{
    memset(o, 0, sizeof(*o));
    o->session_id = 4611686018427387903ull;
    o->version = 2;
    strcpy(o->ice_ufrag, "cbQ7");
    strcpy(o->ice_pwd, "Zk2v9cT1pPq8bX3nW6yR0sLd");
    strcpy(o->fingerprint, "3B:47:0A:9C:E2:51:6F:08:D4:7A:1E:C3:95:22:B0:6D:8F:31:AC:5E:07:94:"
                           "E6:2B:D1:48:7F:0C:A3:69:5B:12");
    o->ice_lite = true;
    set_cand(&o->cand[0], "1", 16777215, SDP_CAND_RELAY);
    set_v4(&o->cand[0].addr, "127.0.0.1", 49170);
    set_cand(&o->cand[1], "2", 2130706431, SDP_CAND_HOST);
    set_v6(&o->cand[1].addr, "::1", 40000);
    set_cand(&o->cand[2], "3", 1518280447, SDP_CAND_HOST);
    set_v4(&o->cand[2].addr, "127.0.0.1", 8443);
    o->cand[2].tcp = true;
    o->cand[2].tcptype = SDP_TCPTYPE_PASSIVE;
    o->n_cand = 3;
    for (int i = 0; i < 6; i++) {
        struct sdp_offer_media *m = &o->media[i];

        m->kind = i % 2 ? SDP_VIDEO : SDP_AUDIO;
        snprintf(m->mid, sizeof(m->mid), "%d", i);
        m->dir = i < 2 ? SDP_RECVONLY : SDP_SENDONLY;
        if (i >= 2) {
            m->ssrc = (uint32_t)(1000 + i);
            snprintf(m->msid, sizeof(m->msid), "leg-%d", i / 2);
            snprintf(m->track, sizeof(m->track), "leg-%d-%s", i / 2, i % 2 ? "video" : "audio");
            strcpy(m->cname, "callbridged");
        }
        m->stopped = i >= 4;
    }
    o->n_media = 6;
}

START_TEST(test_writer_output_chrome_accepted)
{
    static struct sdp_offer o;
    static char buf[SDP_MAX_LEN];
    long n;

    sample_offer(&o);
    n = sdp_write_offer(&o, buf, sizeof(buf));
    ck_assert_str_eq(buf, vector("callbridged_offer"));
    ck_assert_int_eq(n, (long)strlen(buf));
}
END_TEST

START_TEST(test_writer_round_trip)
{
    static struct sdp_offer o;
    static char buf[SDP_MAX_LEN];
    struct sdp_session s;
    long n;

    sample_offer(&o);
    n = sdp_write_offer(&o, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    parse_ok(buf, &s);
    ck_assert_uint_eq(s.n_media, o.n_media);
    for (size_t i = 0; i < o.n_media; i++) {
        const struct sdp_offer_media *om = &o.media[i];

        check_media(&s.media[i], om->kind, om->stopped ? 0 : 9, om->mid,
                    om->stopped ? SDP_INACTIVE : om->dir);
        ck_assert_uint_eq(s.media[i].n_ssrc, om->ssrc && !om->stopped ? 1 : 0);
        if (om->ssrc && !om->stopped)
            ck_assert_uint_eq(s.media[i].ssrc[0], om->ssrc);
    }
    ck_assert_str_eq(s.ice_ufrag, o.ice_ufrag);
    ck_assert_str_eq(s.ice_pwd, o.ice_pwd);
    ck_assert(s.ice_lite && s.bundle);
    ck_assert_int_eq(s.setup, SDP_SETUP_ACTPASS);
    ck_assert_uint_eq(s.fp_len, 32);
    ck_assert_uint_eq(s.fp[0], 0x3b);
    ck_assert_uint_eq(s.fp[31], 0x12);
    ck_assert_uint_eq(s.n_cand, o.n_cand);
    for (size_t i = 0; i < o.n_cand; i++)
        ck_assert_mem_eq(&s.cand[i], &o.cand[i], sizeof(s.cand[i]));
    ck_assert_ptr_nonnull(strstr(buf, "a=group:BUNDLE 0 1 2 3\r\n")); /* not the stopped 4, 5 */
}
END_TEST

/* With the first slot stopped, the BUNDLE group and the candidates start at the first live
 * m-line (RFC 8843 §7.1.1: the tagged m-line carries the transport). */
START_TEST(test_writer_first_slot_stopped)
{
    static struct sdp_offer o;
    static char buf[SDP_MAX_LEN];
    struct sdp_session s;
    const char *group, *cand, *m1, *m2;

    sample_offer(&o);
    o.media[0].stopped = true;
    ck_assert_int_gt(sdp_write_offer(&o, buf, sizeof(buf)), 0);
    group = strstr(buf, "a=group:BUNDLE 1 2 3\r\n");
    cand = strstr(buf, "a=candidate:");
    m1 = strstr(buf, "a=mid:1\r\n");
    m2 = strstr(buf, "a=mid:2\r\n");
    ck_assert_ptr_nonnull(group);
    ck_assert(cand && m1 && m2 && m1 < cand && cand < m2);
    parse_ok(buf, &s);
    ck_assert_uint_eq(s.media[0].port, 0);
    ck_assert_uint_eq(s.n_cand, 3);
    for (int i = 0; i < 6; i++)
        o.media[i].stopped = true;
    ck_assert_int_gt(sdp_write_offer(&o, buf, sizeof(buf)), 0);
    ck_assert_ptr_null(strstr(buf, "a=group:"));
    ck_assert_ptr_null(strstr(buf, "a=candidate:"));
}
END_TEST

/* A full room: SDP_MAX_MEDIA m-lines fit the 64 KiB sdp.h asks for, each in the BUNDLE group. */
START_TEST(test_writer_full_room)
{
    static struct sdp_offer o;
    static char buf[64 * 1024];
    const char *p = buf;
    size_t lines = 0;
    long n;

    sample_offer(&o);
    for (int i = 0; i < SDP_MAX_MEDIA; i++) {
        o.media[i] = o.media[i % 2 + 2]; /* sendonly, with ssrc and msid */
        snprintf(o.media[i].mid, sizeof(o.media[i].mid), "%d", i);
    }
    o.n_media = SDP_MAX_MEDIA;
    n = sdp_write_offer(&o, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    while ((p = strstr(p, "\r\nm=")) != NULL) {
        lines++;
        p++;
    }
    ck_assert_uint_eq(lines, SDP_MAX_MEDIA);
    ck_assert_ptr_nonnull(strstr(buf, " 62 63\r\n"));
}
END_TEST

/* Every capacity short of the whole offer and its NUL is -ENOSPC; the exact one is not. */
START_TEST(test_writer_enospc_at_every_cap)
{
    static struct sdp_offer o;
    static char full[SDP_MAX_LEN], buf[SDP_MAX_LEN];
    char cand[128];
    long n, k;

    sample_offer(&o);
    n = sdp_write_offer(&o, full, sizeof(full));
    ck_assert_int_gt(n, 0);
    for (long cap = 0; cap <= n; cap++)
        ck_assert_int_eq(sdp_write_offer(&o, cap ? buf : NULL, (size_t)cap), -ENOSPC);
    ck_assert_int_eq(sdp_write_offer(&o, buf, (size_t)n + 1), n);
    ck_assert_str_eq(buf, full);

    k = sdp_write_candidate(&o.cand[2], cand, sizeof(cand));
    ck_assert_str_eq(cand, "candidate:3 1 tcp 1518280447 127.0.0.1 8443 typ host tcptype passive");
    for (long cap = 0; cap <= k; cap++)
        ck_assert_int_eq(sdp_write_candidate(&o.cand[2], cand, (size_t)cap), -ENOSPC);
}
END_TEST

/* What the writer writes, the candidate parser reads back the same. */
START_TEST(test_write_candidate_round_trip)
{
    static struct sdp_offer o;
    struct sdp_candidate c;
    char line[128], err[160];

    sample_offer(&o);
    for (size_t i = 0; i < o.n_cand; i++) {
        long n = sdp_write_candidate(&o.cand[i], line, sizeof(line));

        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(sdp_parse_candidate(line, (size_t)n, &c, err, sizeof(err)), 0);
        ck_assert_mem_eq(&c, &o.cand[i], sizeof(c));
    }
    c = o.cand[0];
    c.addr.ss_family = AF_UNSPEC; /* an mDNS candidate has no address to write */
    ck_assert_int_eq(sdp_write_candidate(&c, line, sizeof(line)), -EINVAL);
}
END_TEST

/* Fields that would break a line or that a browser refuses are -EINVAL before anything. */
START_TEST(test_writer_refuses_bad_fields)
{
    static struct sdp_offer o;
    static char buf[SDP_MAX_LEN];

    sample_offer(&o);
    o.n_media = 0;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    o.n_media = SDP_MAX_MEDIA + 1;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    strcpy(o.ice_ufrag, "ab\r\na=x");
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.ice_pwd[0] = '\0';
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.fingerprint[2] = '-';
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    strcpy(o.media[3].mid, "1"); /* a second mid 1 */
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    strcpy(o.media[2].cname, "a b");
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.media[2].track[0] = '\0'; /* an msid without its track */
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    memset(o.media[0].mid, '7', sizeof(o.media[0].mid)); /* no NUL in the field */
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.media[1].kind = SDP_APPLICATION;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.cand[1].addr.ss_family = AF_UNSPEC;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.n_cand = SDP_MAX_CANDS + 1;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
}
END_TEST

Suite *webrtc_sdp_suite(void)
{
    Suite *s = suite_create("webrtc_sdp");
    TCase *tc = tcase_create("parse");
    TCase *tw = tcase_create("write");

    tcase_add_test(tc, test_chrome_answer_mdns);
    tcase_add_test(tc, test_chrome_answer_ip_candidates);
    tcase_add_test(tc, test_chrome_offer_rtx_is_not_kept);
    tcase_add_test(tc, test_chrome_answer_renegotiated);
    tcase_add_test(tc, test_firefox_offers);
    tcase_add_test(tc, test_variants_and_unknown_attributes);
    tcase_add_loop_test(tc, test_refusals, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
    tcase_add_test(tc, test_nul_byte_refused);
    tcase_add_test(tc, test_ice_credential_length);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_fingerprint_lengths);
    tcase_add_test(tc, test_trickled_candidates);
    tcase_add_loop_test(tc, test_candidate_refusals, 0,
                        (int)(sizeof(bad_candidates) / sizeof(bad_candidates[0])));
    tcase_add_test(tc, test_candidate_skip_and_cap);
    suite_add_tcase(s, tc);
    tcase_add_test(tw, test_writer_output_chrome_accepted);
    tcase_add_test(tw, test_writer_round_trip);
    tcase_add_test(tw, test_writer_first_slot_stopped);
    tcase_add_test(tw, test_writer_full_room);
    tcase_add_test(tw, test_writer_enospc_at_every_cap);
    tcase_add_test(tw, test_write_candidate_round_trip);
    tcase_add_test(tw, test_writer_refuses_bad_fields);
    suite_add_tcase(s, tw);
    return s;
}
