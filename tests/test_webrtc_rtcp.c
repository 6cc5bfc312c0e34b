/* tests/test_webrtc_rtcp.c: the RTCP walker, rewriter, readers and writers (media/webrtc/rtcp.c)
 * on compound packets laid out as Chrome sends them after SRTCP decryption (SR or RR first,
 * then SDES with a 16-character CNAME; PLI, NACK and REMB behind an empty RR; a reduced-size
 * PLI alone, RFC 5506), the writers checked byte by byte against RFC 3550 §6.4 and RFC 4585 /
 * RFC 5104 layouts, and every malformed case the validator must refuse. No sockets. */
#include <errno.h>
#include <string.h>

#include "media/webrtc/rtcp.h"
#include "tests/suites.h"

/* SR (one report block) + SDES CNAME, as a sending Chrome tab writes them. */
static const uint8_t sr_sdes[80] =
    "\x81\xc8\x00\x0c"                 /* V=2 RC=1 SR, 13 words */
    "\x3a\x4b\x5c\x6d"                 /* sender SSRC */
    "\xe9\x4a\x12\x34\x56\x78\x9a\xbc" /* NTP */
    "\x5f\x5e\x10\x00"                 /* RTP timestamp */
    "\x00\x00\x04\xd2"                 /* packets 1234 */
    "\x00\x12\xd6\x87"                 /* octets 1234567 */
    "\x11\x22\x33\x44\x05\x00\x00\x0a" /* block: SSRC, fraction 5, lost 10 */
    "\x00\x01\x23\x45\x00\x00\x00\x1e" /* highest seq, jitter 30 */
    "\x4a\x12\x34\x56\x00\x01\x00\x00" /* LSR, DLSR */
    "\x81\xca\x00\x06"                 /* SDES SC=1, 7 words */
    "\x3a\x4b\x5c\x6d\x01\x10"
    "Aq9e4fJm7LxN2pQk"
    "\x00\x00";
/* RR (one block) + SDES from a receive-only Chrome (its sender SSRC is 1). */
static const uint8_t rr_sdes[60] = "\x81\xc9\x00\x07"
                                   "\x00\x00\x00\x01"
                                   "\x3a\x4b\x5c\x6d\x00\xff\xff\xfe" /* lost -2 (duplicates) */
                                   "\x00\x00\xff\xff\x00\x00\x01\x00"
                                   "\xe9\x4a\x12\x34\x00\x00\x80\x00"
                                   "\x81\xca\x00\x06"
                                   "\x00\x00\x00\x01\x01\x10"
                                   "Zk3PqR8sT1uVw2Xy"
                                   "\x00\x00";
/* Empty RR + PLI (RFC 4585 §6.3.1). */
static const uint8_t rr_pli[20] = "\x80\xc9\x00\x01\x00\x00\x00\x01"
                                  "\x81\xce\x00\x02\x00\x00\x00\x01\x3a\x4b\x5c\x6d";
/* Empty RR + generic NACK for seq 0x1234 and 0x1235, 0x1237 (RFC 4585 §6.2.1). */
static const uint8_t rr_nack[24] = "\x80\xc9\x00\x01\x00\x00\x00\x01"
                                   "\x81\xcd\x00\x03\x00\x00\x00\x01\x3a\x4b\x5c\x6d"
                                   "\x12\x34\x00\x05";
/* Empty RR + REMB (draft-alvestrand-rmcat-remb): one SSRC, 2.5 Mbit/s. */
static const uint8_t rr_remb[32] = "\x80\xc9\x00\x01\x00\x00\x00\x01"
                                   "\x8f\xce\x00\x05\x00\x00\x00\x01\x00\x00\x00\x00"
                                   "REMB\x01\x12\x62\x5a\x3a\x4b\x5c\x6d";
/* A reduced-size PLI on its own (RFC 5506, a=rtcp-rsize). */
static const uint8_t pli_alone[12] = "\x81\xce\x00\x02\x00\x00\x00\x01\x3a\x4b\x5c\x6d";
/* FIR with two entries, then BYE of two sources. */
static const uint8_t fir_bye[40] = "\x84\xce\x00\x06\x00\x00\x00\x01\x00\x00\x00\x00"
                                   "\x3a\x4b\x5c\x6d\x07\x00\x00\x00"
                                   "\x55\x66\x77\x88\x09\x00\x00\x00"
                                   "\x82\xcb\x00\x02\x00\x00\x00\x01\x3a\x4b\x5c\x6d";

/* Copies a const vector into buf and returns its packets (up to 4) after validating it. */
static size_t walk(const uint8_t *vec, size_t len, uint8_t *buf, struct rtcp_pkt *pkts)
{
    struct rtcp_iter it;
    size_t n = 0;
    int r;

    memcpy(buf, vec, len);
    ck_assert_int_eq(rtcp_validate(buf, len), 0);
    rtcp_iter_init(&it, buf, len);
    while ((r = rtcp_next(&it, &pkts[n])) == 1) {
        ck_assert_uint_lt(n, 4);
        n++;
    }
    ck_assert_int_eq(r, 0);
    return n;
}

START_TEST(test_chrome_sr_and_sdes_read)
{
    uint8_t buf[128];
    struct rtcp_pkt p[4];
    struct rtcp_sender_info si;
    struct rtcp_report_block b[2];

    ck_assert_uint_eq(walk(sr_sdes, sizeof(sr_sdes), buf, p), 2);
    ck_assert_uint_eq(p[0].pt, RTCP_SR);
    ck_assert_uint_eq(p[0].count, 1);
    ck_assert_uint_eq(p[0].len, 52);
    ck_assert_uint_eq(p[0].sender_ssrc, 0x3a4b5c6du);
    ck_assert_int_eq(rtcp_sr_info(&p[0], &si), 0);
    ck_assert_uint_eq(si.ntp, 0xe94a123456789abcull);
    ck_assert_uint_eq(si.rtp_ts, 0x5f5e1000u);
    ck_assert_uint_eq(si.packets, 1234);
    ck_assert_uint_eq(si.octets, 1234567);
    ck_assert_uint_eq(rtcp_report_blocks(&p[0], b, 2), 1);
    ck_assert_uint_eq(b[0].ssrc, 0x11223344u);
    ck_assert_uint_eq(b[0].fraction_lost, 5);
    ck_assert_int_eq(b[0].cumulative_lost, 10);
    ck_assert_uint_eq(b[0].ext_highest_seq, 0x12345);
    ck_assert_uint_eq(b[0].jitter, 30);
    ck_assert_uint_eq(b[0].lsr, 0x4a123456u);
    ck_assert_uint_eq(b[0].dlsr, 0x10000);
    ck_assert_uint_eq(p[1].pt, RTCP_SDES);
    ck_assert_uint_eq(p[1].len, 28);
    ck_assert_uint_eq(p[1].sender_ssrc, 0);
    ck_assert_int_eq(rtcp_sr_info(&p[1], &si), -EINVAL);
    ck_assert_uint_eq(rtcp_report_blocks(&p[1], b, 2), 0);
}
END_TEST

START_TEST(test_chrome_rr_negative_loss_and_feedback_read)
{
    uint8_t buf[128];
    struct rtcp_pkt p[4];
    struct rtcp_report_block b[1];

    ck_assert_uint_eq(walk(rr_sdes, sizeof(rr_sdes), buf, p), 2);
    ck_assert_uint_eq(p[0].pt, RTCP_RR);
    ck_assert_uint_eq(p[0].sender_ssrc, 1);
    ck_assert_uint_eq(rtcp_report_blocks(&p[0], b, 1), 1);
    ck_assert_int_eq(b[0].cumulative_lost, -2);
    ck_assert_uint_eq(b[0].ext_highest_seq, 0xffff);
    ck_assert_uint_eq(b[0].dlsr, 0x8000);

    ck_assert_uint_eq(walk(rr_pli, sizeof(rr_pli), buf, p), 2);
    ck_assert_uint_eq(p[0].count, 0);
    ck_assert_uint_eq(p[1].pt, RTCP_PSFB);
    ck_assert_uint_eq(p[1].count, RTCP_FMT_PLI);
    ck_assert_uint_eq(p[1].sender_ssrc, 1);
    ck_assert_uint_eq(p[1].media_ssrc, 0x3a4b5c6du);

    ck_assert_uint_eq(walk(rr_nack, sizeof(rr_nack), buf, p), 2);
    ck_assert_uint_eq(p[1].pt, RTCP_RTPFB);
    ck_assert_uint_eq(p[1].count, RTCP_FMT_NACK);
    ck_assert_uint_eq(p[1].media_ssrc, 0x3a4b5c6du);

    ck_assert_uint_eq(walk(rr_remb, sizeof(rr_remb), buf, p), 2);
    ck_assert_uint_eq(p[1].count, RTCP_FMT_AFB);
    ck_assert_uint_eq(p[1].media_ssrc, 0);

    ck_assert_uint_eq(walk(pli_alone, sizeof(pli_alone), buf, p), 1);
    ck_assert_uint_eq(p[0].media_ssrc, 0x3a4b5c6du);
}
END_TEST

START_TEST(test_fir_entries_and_bye)
{
    uint8_t buf[64];
    struct rtcp_pkt p[4];
    uint32_t ssrcs[2];

    ck_assert_uint_eq(walk(fir_bye, sizeof(fir_bye), buf, p), 2);
    ck_assert_uint_eq(p[0].count, RTCP_FMT_FIR);
    ck_assert_uint_eq(rtcp_fir_ssrcs(&p[0], ssrcs, 2), 2);
    ck_assert_uint_eq(ssrcs[0], 0x3a4b5c6du);
    ck_assert_uint_eq(ssrcs[1], 0x55667788u);
    ck_assert_uint_eq(rtcp_fir_ssrcs(&p[0], ssrcs, 1), 1);
    ck_assert_uint_eq(rtcp_fir_ssrcs(&p[1], ssrcs, 2), 0); /* not a FIR */
    ck_assert_uint_eq(p[1].pt, RTCP_BYE);
    ck_assert_uint_eq(p[1].sender_ssrc, 1);
}
END_TEST

/* Rewrites from -> to in every packet of vec and checks the count and the result bytes. */
static void rewrite(const uint8_t *vec, size_t len, uint32_t from, uint32_t to, unsigned want,
                    const size_t *offs, size_t n_offs)
{
    uint8_t buf[128], before[128];
    struct rtcp_pkt p[4];
    size_t n = walk(vec, len, buf, p);
    unsigned changed = 0;

    memcpy(before, buf, len);
    for (size_t i = 0; i < n; i++)
        changed += rtcp_rewrite_ssrc(&p[i], from, to);
    ck_assert_uint_eq(changed, want);
    for (size_t i = 0; i < n_offs; i++) {
        uint8_t t[4] = {(uint8_t)(to >> 24), (uint8_t)(to >> 16), (uint8_t)(to >> 8), (uint8_t)to};

        ck_assert_int_eq(memcmp(buf + offs[i], t, 4), 0);
        memcpy(before + offs[i], t, 4);
    }
    ck_assert_int_eq(memcmp(buf, before, len), 0); /* nothing else moved */
    ck_assert_int_eq(rtcp_validate(buf, len), 0);
}

START_TEST(test_ssrc_rewritten_in_each_packet_type)
{
    static const size_t sr_offs[] = {4, 56}, blk_offs[] = {28};
    static const size_t rr_offs[] = {4, 36}, media_offs[] = {16};
    static const size_t remb_offs[] = {28}, fir_offs[] = {12, 36};
    uint8_t buf[128];
    struct rtcp_pkt p[4];

    rewrite(sr_sdes, sizeof(sr_sdes), 0x3a4b5c6du, 0xcafe0001u, 2, sr_offs, 2);
    rewrite(sr_sdes, sizeof(sr_sdes), 0x11223344u, 0xcafe0002u, 1, blk_offs, 1);
    rewrite(rr_sdes, sizeof(rr_sdes), 1, 0xcafe0003u, 2, rr_offs, 2);
    rewrite(rr_pli, sizeof(rr_pli), 0x3a4b5c6du, 0xcafe0004u, 1, media_offs, 1);
    rewrite(rr_nack, sizeof(rr_nack), 0x3a4b5c6du, 0xcafe0005u, 1, media_offs, 1);
    rewrite(rr_remb, sizeof(rr_remb), 0x3a4b5c6du, 0xcafe0006u, 1, remb_offs, 1);
    rewrite(fir_bye, sizeof(fir_bye), 0x3a4b5c6du, 0xcafe0007u, 2, fir_offs, 2);
    rewrite(sr_sdes, sizeof(sr_sdes), 0x99999999u, 1, 0, NULL, 0);

    /* the views follow the rewrite */
    ck_assert_uint_eq(walk(rr_pli, sizeof(rr_pli), buf, p), 2);
    ck_assert_uint_eq(rtcp_rewrite_ssrc(&p[1], 1, 7), 1);
    ck_assert_uint_eq(p[1].sender_ssrc, 7);
    ck_assert_uint_eq(rtcp_rewrite_ssrc(&p[1], 0x3a4b5c6du, 8), 1);
    ck_assert_uint_eq(p[1].media_ssrc, 8);
}
END_TEST

/* The vector with byte i set to v (and nothing else changed) must be refused. */
static void refused_with(const uint8_t *vec, size_t len, size_t i, uint8_t v)
{
    uint8_t buf[128];
    struct rtcp_iter it;
    struct rtcp_pkt p;
    int r;

    memcpy(buf, vec, len);
    buf[i] = v;
    ck_assert_int_eq(rtcp_validate(buf, len), -EINVAL);
    rtcp_iter_init(&it, buf, len);
    while ((r = rtcp_next(&it, &p)) == 1)
        ;
    ck_assert_int_eq(r, -EINVAL);
    ck_assert_int_eq(rtcp_next(&it, &p), 0); /* stops after the error */
}

START_TEST(test_malformed_packets_refused)
{
    ck_assert_int_eq(rtcp_validate(sr_sdes, 0), -EINVAL);                   /* zero length */
    ck_assert_int_eq(rtcp_validate(sr_sdes, 3), -EINVAL);                   /* not a header */
    ck_assert_int_eq(rtcp_validate(sr_sdes, 52 + 2), -EINVAL);              /* a stub after */
    ck_assert_int_eq(rtcp_validate(sr_sdes, sizeof(sr_sdes) - 4), -EINVAL); /* SDES overruns */
    refused_with(sr_sdes, sizeof(sr_sdes), 0, 0x41);                        /* version 1 */
    refused_with(sr_sdes, sizeof(sr_sdes), 52, 0xc1);  /* version 3 in the second packet */
    refused_with(pli_alone, sizeof(pli_alone), 1, 96); /* an RTP payload type, not RTCP */
    refused_with(sr_sdes, sizeof(sr_sdes), 3, 0x20);   /* length beyond the buffer */
    refused_with(sr_sdes, sizeof(sr_sdes), 0, 0x82);   /* RC 2, one block there */
    refused_with(rr_sdes, sizeof(rr_sdes), 3, 0x06);   /* RR cut inside its block */
    refused_with(rr_sdes, sizeof(rr_sdes), 41, 0x14);  /* SDES item past the packet */
    refused_with(rr_sdes, sizeof(rr_sdes), 32, 0x82);  /* two SDES chunks, one there */
    refused_with(rr_remb, sizeof(rr_remb), 24, 0x03);  /* REMB lists 3 SSRCs, has 1 */
    refused_with(fir_bye, sizeof(fir_bye), 28, 0x83);  /* BYE of 3 sources, 2 there */
    refused_with(fir_bye, sizeof(fir_bye), 3, 0x03);   /* FIR of half an entry */
}
END_TEST

START_TEST(test_truncated_fir_nack_and_sdes_refused)
{
    /* a FIR whose FCI is 4 bytes: shorter than one 8-byte entry */
    static const uint8_t fir_short[16] =
        "\x84\xce\x00\x03\x00\x00\x00\x01\x00\x00\x00\x00\x3a\x4b\x5c\x6d";
    /* a NACK without a single FCI word */
    static const uint8_t nack_empty[12] = "\x81\xcd\x00\x02\x00\x00\x00\x01\x3a\x4b\x5c\x6d";
    /* SDES whose chunk has no END octet inside the packet */
    static const uint8_t sdes_open[12] = "\x81\xca\x00\x02\x00\x00\x00\x01\x01\x02xy";
    /* BYE claiming two sources, holding one */
    static const uint8_t bye_short[8] = "\x82\xcb\x00\x01\x00\x00\x00\x01";
    /* a PLI of 8 bytes, without its media SSRC */
    static const uint8_t pli_short[8] = "\x81\xce\x00\x01\x00\x00\x00\x01";
    /* SR cut before its sender info ends */
    static const uint8_t sr_short[24] = "\x80\xc8\x00\x05\x00\x00\x00\x01";

    ck_assert_int_eq(rtcp_validate(fir_short, sizeof(fir_short)), -EINVAL);
    ck_assert_int_eq(rtcp_validate(nack_empty, sizeof(nack_empty)), -EINVAL);
    ck_assert_int_eq(rtcp_validate(sdes_open, sizeof(sdes_open)), -EINVAL);
    ck_assert_int_eq(rtcp_validate(bye_short, sizeof(bye_short)), -EINVAL);
    ck_assert_int_eq(rtcp_validate(sr_short, sizeof(sr_short)), -EINVAL);
    ck_assert_int_eq(rtcp_validate(pli_short, sizeof(pli_short)), -EINVAL);
}
END_TEST

START_TEST(test_padding_only_last_and_counted_right)
{
    /* PLI + 4 bytes of padding (count 4): valid as the last packet */
    uint8_t pad[16] = "\xa1\xce\x00\x03\x00\x00\x00\x01\x3a\x4b\x5c\x6d\x00\x00\x00\x04";
    uint8_t two[36];
    struct rtcp_iter it;
    struct rtcp_pkt p;

    ck_assert_int_eq(rtcp_validate(pad, sizeof(pad)), 0);
    rtcp_iter_init(&it, pad, sizeof(pad));
    ck_assert_int_eq(rtcp_next(&it, &p), 1);
    ck_assert_uint_eq(p.len, 16);
    ck_assert_uint_eq(rtcp_rewrite_ssrc(&p, 0x3a4b5c6du, 2), 1);
    pad[15] = 0; /* a padding count of zero */
    ck_assert_int_eq(rtcp_validate(pad, sizeof(pad)), -EINVAL);
    pad[15] = 13; /* more than the packet after its header */
    ck_assert_int_eq(rtcp_validate(pad, sizeof(pad)), -EINVAL);
    pad[15] = 8; /* eats into the PLI's fixed part */
    ck_assert_int_eq(rtcp_validate(pad, sizeof(pad)), -EINVAL);
    pad[15] = 4;
    /* the padded packet first, then another: padding is for the last one only */
    memcpy(two, pad, 16);
    memcpy(two + 16, rr_pli, 20);
    ck_assert_int_eq(rtcp_validate(two, sizeof(two)), -EINVAL);
    memcpy(two, rr_pli, 20);
    memcpy(two + 20, pad, 16);
    ck_assert_int_eq(rtcp_validate(two, sizeof(two)), 0);
}
END_TEST

START_TEST(test_writers_lay_out_rfc_fields)
{
    static const struct rtcp_report_block blk = {.ssrc = 0x11223344u,
                                                 .fraction_lost = 5,
                                                 .cumulative_lost = 10,
                                                 .ext_highest_seq = 0x12345,
                                                 .jitter = 30,
                                                 .lsr = 0x4a123456u,
                                                 .dlsr = 0x10000};
    static const struct rtcp_sender_info si = {0xe94a123456789abcull, 0x5f5e1000u, 1234, 1234567};
    uint8_t buf[128];

    /* the SR and the SDES of the Chrome vector, rebuilt */
    ck_assert_int_eq(rtcp_write_sr(buf, sizeof(buf), 0x3a4b5c6du, &si, &blk, 1), 52);
    ck_assert_int_eq(memcmp(buf, sr_sdes, 52), 0);
    ck_assert_int_eq(rtcp_write_sdes_cname(buf, sizeof(buf), 0x3a4b5c6du, "Aq9e4fJm7LxN2pQk"), 28);
    ck_assert_int_eq(memcmp(buf, sr_sdes + 52, 28), 0);
    ck_assert_int_eq(rtcp_write_rr(buf, sizeof(buf), 1, NULL, 0), 8);
    ck_assert_int_eq(memcmp(buf, rr_pli, 8), 0);
    ck_assert_int_eq(rtcp_write_pli(buf, sizeof(buf), 1, 0x3a4b5c6du), 12);
    ck_assert_int_eq(memcmp(buf, pli_alone, 12), 0);
    ck_assert_int_eq(rtcp_write_fir(buf, sizeof(buf), 1, 0x3a4b5c6du, 7), 20);
    ck_assert_int_eq(memcmp(buf,
                            "\x84\xce\x00\x04\x00\x00\x00\x01\x00\x00\x00\x00"
                            "\x3a\x4b\x5c\x6d\x07\x00\x00\x00",
                            20),
                     0);
    /* CNAME lengths where the END octet needs a word of its own, or shares one */
    ck_assert_int_eq(rtcp_write_sdes_cname(buf, sizeof(buf), 9, "ab"), 16);
    ck_assert_int_eq(memcmp(buf,
                            "\x81\xca\x00\x03\x00\x00\x00\x09\x01\x02"
                            "ab\x00\x00\x00\x00",
                            16),
                     0);
    ck_assert_int_eq(rtcp_write_sdes_cname(buf, sizeof(buf), 9, "a"), 12);
    ck_assert_int_eq(memcmp(buf,
                            "\x81\xca\x00\x02\x00\x00\x00\x09\x01\x01"
                            "a\x00",
                            12),
                     0);
    ck_assert_int_eq(rtcp_validate(buf, 12), 0);
}
END_TEST

START_TEST(test_writers_refuse_small_buffers_and_clamp_loss)
{
    struct rtcp_report_block b[32];
    struct rtcp_report_block back[1];
    struct rtcp_sender_info si = {0};
    uint8_t buf[1024];
    struct rtcp_iter it;
    struct rtcp_pkt p;
    char cname[257];

    memset(b, 0, sizeof(b));
    ck_assert_int_eq(rtcp_write_rr(buf, 31, 1, b, 1), -ENOSPC);
    ck_assert_int_eq(rtcp_write_rr(buf, sizeof(buf), 1, b, 32), -ENOSPC); /* RC is 5 bits */
    ck_assert_int_eq(rtcp_write_sr(buf, 51, 1, &si, b, 1), -ENOSPC);
    ck_assert_int_eq(rtcp_write_pli(buf, 11, 1, 2), -ENOSPC);
    ck_assert_int_eq(rtcp_write_fir(buf, 19, 1, 2, 0), -ENOSPC);
    ck_assert_int_eq(rtcp_write_sdes_cname(buf, 27, 1, "Aq9e4fJm7LxN2pQk"), -ENOSPC);
    memset(cname, 'c', 256);
    cname[256] = '\0';
    ck_assert_int_eq(rtcp_write_sdes_cname(buf, sizeof(buf), 1, cname), -ENOSPC);

    b[0].cumulative_lost = -9000000; /* beyond 24 bits: clamped (RFC 3550 §6.4.1) */
    ck_assert_int_eq(rtcp_write_rr(buf, sizeof(buf), 1, b, 1), 32);
    rtcp_iter_init(&it, buf, 32);
    ck_assert_int_eq(rtcp_next(&it, &p), 1);
    ck_assert_uint_eq(rtcp_report_blocks(&p, back, 1), 1);
    ck_assert_int_eq(back[0].cumulative_lost, -0x800000);
    b[0].cumulative_lost = 9000000;
    ck_assert_int_eq(rtcp_write_rr(buf, sizeof(buf), 1, b, 1), 32);
    ck_assert_int_eq(memcmp(buf + 12, "\x00\x7f\xff\xff", 4), 0);
    ck_assert_int_eq(rtcp_write_rr(buf, sizeof(buf), 1, b, 31), 8 + 24 * 31);
    ck_assert_int_eq(rtcp_validate(buf, 8 + 24 * 31), 0);
}
END_TEST

Suite *webrtc_rtcp_suite(void)
{
    Suite *s = suite_create("webrtc_rtcp");
    TCase *tc = tcase_create("rtcp");

    tcase_add_test(tc, test_chrome_sr_and_sdes_read);
    tcase_add_test(tc, test_chrome_rr_negative_loss_and_feedback_read);
    tcase_add_test(tc, test_fir_entries_and_bye);
    tcase_add_test(tc, test_ssrc_rewritten_in_each_packet_type);
    tcase_add_test(tc, test_malformed_packets_refused);
    tcase_add_test(tc, test_truncated_fir_nack_and_sdes_refused);
    tcase_add_test(tc, test_padding_only_last_and_counted_right);
    tcase_add_test(tc, test_writers_lay_out_rfc_fields);
    tcase_add_test(tc, test_writers_refuse_small_buffers_and_clamp_loss);
    suite_add_tcase(s, tc);
    return s;
}
