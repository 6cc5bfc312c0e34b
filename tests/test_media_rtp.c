/* tests/test_media_rtp.c: RTP receive statistics (media/rtpstats.c, RFC 3550 appendix A) on
 * known packets and arrival times: A.8 jitter worked by hand, sequence wrap-around, a gap, a
 * new SSRC, reordering, and a timestamp that wraps around 2^32. No sockets, no clock. */
#include <string.h>

#include "media/rtpstats.h"
#include "tests/suites.h"

#define SSRC_A 0x11223344u
#define SSRC_B 0x55667788u

/* An RTP packet of len bytes (12-byte header, the rest zeros): version 2, no marker. */
static size_t rtp(uint8_t *buf, size_t len, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    memset(buf, 0, len);
    buf[0] = 0x80;
    buf[1] = pt;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        buf[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        buf[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    return len;
}

/* One packet of 172 bytes (PCMU, 20 ms) at now_us. */
static void got(struct media_rtpstats *r, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                int64_t now_us)
{
    uint8_t buf[172];

    media_rtpstats_received(r, buf, rtp(buf, sizeof(buf), pt, seq, ts, ssrc), now_us);
}

static struct media_rtp_stats published(struct media_rtpstats *r)
{
    struct media_rtp_stats st;

    media_rtpstats_publish(r, &st, 1000000);
    return st;
}

/* Payload type 0 (PCMU): 8,000 Hz, so an arrival at t us is t / 125 timestamp units.
 *   packet  ts   arrival (us)  arrival (units)  transit  D     J = J + (|D| - J) / 16
 *   1       0    1,000,000     8,000            8,000    -     0
 *   2       160  1,020,000     8,160            8,000    0     0
 *   3       320  1,050,000     8,400            8,080    80    0 + (80 - 0) / 16 = 5
 *   4       480  1,060,000     8,480            8,000    -80   5 + (80 - 5) / 16 = 9.6875
 * 9.6875 units at 8 kHz are 9.6875 / 8 = 1.2109375 ms. */
START_TEST(test_jitter_follows_rfc3550_a8)
{
    static const uint32_t ts[] = {0, 160, 320, 480};
    static const int64_t at[] = {1000000, 1020000, 1050000, 1060000};
    static const double j[] = {0, 0, 5, 9.6875};
    struct media_rtpstats r = {0};
    struct media_rtp_stats st;

    for (int i = 0; i < 4; i++) {
        got(&r, 0, (uint16_t)(i + 1), ts[i], SSRC_A, at[i]);
        ck_assert_double_eq_tol(r.jitter, j[i], 1e-9);
    }
    st = published(&r);
    ck_assert(st.has_jitter);
    ck_assert_double_eq_tol(st.jitter_ms, 1.2109375, 1e-9);
    ck_assert_uint_eq(st.received, 4);
    ck_assert_uint_eq(st.lost, 0);
    ck_assert_uint_eq(st.bit_rate, 4 * 172 * 8); /* over the 1 s interval */
    ck_assert_uint_eq(published(&r).bit_rate, 0);
}
END_TEST

/* The same steady 20 ms stream whose timestamp passes 2^32 (RFC 3550 §5.1 starts it at a random
 * value): transit is taken modulo 2^32 as in A.8's code, so the wrap is not a jump. (Before the
 * statistics had a file of their own the transit was a 64-bit difference and this packet
 * added 2^32 / 16 units of jitter.) */
START_TEST(test_timestamp_wrap_adds_no_jitter)
{
    struct media_rtpstats r = {0};

    got(&r, 0, 1, 0xffffff60u, SSRC_A, 1000000); /* 2^32 - 160 */
    got(&r, 0, 2, 0, SSRC_A, 1020000);
    got(&r, 0, 3, 160, SSRC_A, 1040000);
    ck_assert_double_eq_tol(r.jitter, 0, 1e-9);
    ck_assert_double_eq_tol(published(&r).jitter_ms, 0, 1e-9);
}
END_TEST

/* 65534, 65535, 0, 1: the wrap is a new cycle, not a loss of 65,534 packets. */
START_TEST(test_sequence_wrap_counts_no_loss_and_a_cycle)
{
    static const uint16_t seq[] = {65534, 65535, 0, 1};
    struct media_rtpstats r = {0};
    struct media_rtp_stats st;

    for (int i = 0; i < 4; i++)
        got(&r, 0, seq[i], (uint32_t)i * 160, SSRC_A, 1000000 + i * 20000);
    ck_assert_uint_eq(r.cycles, 65536);
    ck_assert_uint_eq(r.max_seq, 1);
    st = published(&r);
    ck_assert_uint_eq(st.expected, 4);
    ck_assert_uint_eq(st.received, 4);
    ck_assert_uint_eq(st.lost, 0);
    ck_assert_double_eq_tol(st.loss_percent, 0, 1e-9);
}
END_TEST

/* 10, 11, 14: 12 and 13 are lost, 2 of 5 expected (40 %). */
START_TEST(test_gap_counts_loss)
{
    struct media_rtpstats r = {0};
    struct media_rtp_stats st;

    got(&r, 0, 10, 0, SSRC_A, 1000000);
    got(&r, 0, 11, 160, SSRC_A, 1020000);
    got(&r, 0, 14, 640, SSRC_A, 1080000);
    st = published(&r);
    ck_assert_uint_eq(st.expected, 5);
    ck_assert_uint_eq(st.received, 3);
    ck_assert_uint_eq(st.lost, 2);
    ck_assert_double_eq_tol(st.loss_percent, 40.0, 1e-9);
    ck_assert_uint_eq(r.cycles, 0);
}
END_TEST

/* 1, 2, 4, 3, 5: the late packet is received, not lost, and moves nothing back. */
START_TEST(test_reordering_is_no_loss)
{
    static const uint16_t seq[] = {1, 2, 4, 3, 5};
    struct media_rtpstats r = {0};
    struct media_rtp_stats st;

    for (int i = 0; i < 5; i++) {
        got(&r, 0, seq[i], (uint32_t)(seq[i] - 1) * 160, SSRC_A, 1000000 + i * 20000);
        ck_assert_uint_eq(r.max_seq, i == 3 ? 4 : seq[i]);
    }
    st = published(&r);
    ck_assert_uint_eq(st.expected, 5);
    ck_assert_uint_eq(st.received, 5);
    ck_assert_uint_eq(st.lost, 0);
    ck_assert_uint_eq(r.cycles, 0);
}
END_TEST

/* The endpoint restarts with a new SSRC (and payload type): the statistics start afresh from
 * its first packet, the old stream's loss forgotten. */
START_TEST(test_ssrc_change_restarts_statistics)
{
    struct media_rtpstats r = {0};
    struct media_rtp_stats st;

    got(&r, 0, 100, 0, SSRC_A, 1000000);
    got(&r, 0, 105, 800, SSRC_A, 1100000); /* 4 lost */
    ck_assert_uint_eq(published(&r).lost, 4);
    got(&r, 8, 7000, 123456, SSRC_B, 1120000);
    got(&r, 8, 7001, 123616, SSRC_B, 1140000);
    st = published(&r);
    ck_assert_uint_eq(st.ssrc, SSRC_B);
    ck_assert_uint_eq(st.payload_type, 8);
    ck_assert_uint_eq(st.received, 2);
    ck_assert_uint_eq(st.expected, 2);
    ck_assert_uint_eq(st.lost, 0);
    ck_assert_double_eq_tol(st.jitter_ms, 0, 1e-9);
}
END_TEST

/* A dynamic payload type has no fixed clock rate (RFC 3551): no jitter is claimed. What is not
 * RTP version 2, or is shorter than the fixed header, is not counted. */
START_TEST(test_dynamic_type_has_no_jitter_and_non_rtp_is_ignored)
{
    struct media_rtpstats r = {0};
    struct media_rtp_stats st;
    uint8_t buf[12];

    media_rtpstats_publish(&r, &st, 1000000);
    ck_assert(!st.seen);
    media_rtpstats_received(&r, buf, rtp(buf, 11, 0, 1, 0, SSRC_A), 1000000);
    rtp(buf, 12, 0, 1, 0, SSRC_A);
    buf[0] = 0x40; /* version 1 */
    media_rtpstats_received(&r, buf, 12, 1000000);
    ck_assert(!published(&r).seen);
    got(&r, 96, 1, 0, SSRC_A, 1000000);
    got(&r, 96, 2, 960, SSRC_A, 1030000);
    st = published(&r);
    ck_assert(st.seen);
    ck_assert(!st.has_jitter);
    ck_assert_uint_eq(st.received, 2);
}
END_TEST

/* The one bit-rate formula (rx here, a WebRTC leg's tx in rtc.c): over the interval since the
 * last tick, which the call moves. */
START_TEST(test_bit_rate_is_over_the_interval)
{
    uint64_t tick = 1000;

    ck_assert_uint_eq(media_rtpstats_bit_rate(1000 + 12500, &tick, 500000), 200000);
    ck_assert_uint_eq(tick, 13500);
    ck_assert_uint_eq(media_rtpstats_bit_rate(13500, &tick, 1000000), 0);
    ck_assert_uint_eq(media_rtpstats_bit_rate(14500, &tick, 0), 0); /* no interval yet */
    ck_assert_uint_eq(tick, 14500);
}
END_TEST

Suite *media_rtp_suite(void)
{
    Suite *s = suite_create("media_rtp");
    TCase *tc = tcase_create("rtpstats");

    tcase_add_test(tc, test_jitter_follows_rfc3550_a8);
    tcase_add_test(tc, test_bit_rate_is_over_the_interval);
    tcase_add_test(tc, test_timestamp_wrap_adds_no_jitter);
    tcase_add_test(tc, test_sequence_wrap_counts_no_loss_and_a_cycle);
    tcase_add_test(tc, test_gap_counts_loss);
    tcase_add_test(tc, test_reordering_is_no_loss);
    tcase_add_test(tc, test_ssrc_change_restarts_statistics);
    tcase_add_test(tc, test_dynamic_type_has_no_jitter_and_non_rtp_is_ignored);
    suite_add_tcase(s, tc);
    return s;
}
