/* media/webrtc/rtcp.h: RTCP (RFC 3550 §6, RFC 4585, RFC 5104) as a forwarding server needs it:
 * walk a compound packet (reduced-size ones too, RFC 5506), rewrite the SSRCs in it, and write
 * the reports and feedback callbridged sends itself. Pure: works on the caller's buffers, no
 * allocation. Input is what a browser sent, after SRTCP decryption: every length is checked. */
#ifndef MEDIA_WEBRTC_RTCP_H
#define MEDIA_WEBRTC_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    RTCP_SR = 200,
    RTCP_RR = 201,
    RTCP_SDES = 202,
    RTCP_BYE = 203,
    RTCP_APP = 204,
    RTCP_RTPFB = 205, /* FMT 1: generic NACK */
    RTCP_PSFB = 206,  /* FMT 1: PLI, FMT 4: FIR, FMT 15: application (REMB) */
};
enum { RTCP_FMT_NACK = 1, RTCP_FMT_PLI = 1, RTCP_FMT_FIR = 4, RTCP_FMT_AFB = 15 };

/* One packet of a compound packet: a view into the caller's buffer. */
struct rtcp_pkt {
    uint8_t *raw; /* the packet, header included; may be rewritten in place */
    size_t len;
    uint8_t pt;
    uint8_t count;        /* RC, SC or FMT (the header's low five bits) */
    uint32_t sender_ssrc; /* SR/RR/RTPFB/PSFB/BYE/APP: the packet sender's SSRC; SDES: 0 */
    uint32_t media_ssrc;  /* RTPFB/PSFB: the media source's SSRC (0 in FIR and REMB) */
};

struct rtcp_iter {
    uint8_t *p;
    size_t left;
};

/* Checks a whole compound (or reduced-size) packet: version 2, lengths that add up exactly, no
 * packet shorter than its type's fixed part. Returns 0 or -EINVAL. rtcp_next may then be used
 * without further checks. */
int rtcp_validate(const uint8_t *buf, size_t len);
void rtcp_iter_init(struct rtcp_iter *it, uint8_t *buf, size_t len);
/* The next packet: returns 1 (ret filled), 0 at the end, -EINVAL when malformed. */
int rtcp_next(struct rtcp_iter *it, struct rtcp_pkt *ret);

/* Rewrites SSRCs in one packet in place: every SSRC field equal to from becomes to (sender
 * SSRC, report blocks' source SSRCs, SDES chunk SSRCs, BYE list, feedback media SSRC, FIR
 * entries). Returns how many fields changed. */
unsigned rtcp_rewrite_ssrc(struct rtcp_pkt *p, uint32_t from, uint32_t to);

/* The FIR entries (RFC 5104 §4.3.1) of a PSFB FMT 4 packet: up to cap media SSRCs. */
size_t rtcp_fir_ssrcs(const struct rtcp_pkt *p, uint32_t *ret, size_t cap);

/* SR sender info (RFC 3550 §6.4.1), when p is an SR. */
struct rtcp_sender_info {
    uint64_t ntp;
    uint32_t rtp_ts, packets, octets;
};
int rtcp_sr_info(const struct rtcp_pkt *p, struct rtcp_sender_info *ret);

/* A report block (RFC 3550 §6.4.1). */
struct rtcp_report_block {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost; /* 24-bit signed on the wire */
    uint32_t ext_highest_seq, jitter, lsr, dlsr;
};
/* The report blocks of an SR or RR: up to cap of them. */
size_t rtcp_report_blocks(const struct rtcp_pkt *p, struct rtcp_report_block *ret, size_t cap);

/* Writers: each returns the packet length or -ENOSPC. */
long rtcp_write_rr(uint8_t *buf, size_t cap, uint32_t sender, const struct rtcp_report_block *b,
                   size_t n);
long rtcp_write_sr(uint8_t *buf, size_t cap, uint32_t sender, const struct rtcp_sender_info *si,
                   const struct rtcp_report_block *b, size_t n);
long rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media);
long rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media, uint8_t seq);
/* SDES with one CNAME chunk (a compound packet must carry one, RFC 3550 §6.1). */
long rtcp_write_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname);

#endif
