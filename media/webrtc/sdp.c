/* media/webrtc/sdp.c: the SDP parser for what a browser sends (its answer, its trickled
 * candidates) and the writer of callbridged's offers (media/webrtc/sdp.h holds the contract).
 *
 * DESIGN: the input is hostile. Its length is capped before anything is read; it is walked once,
 * line by line, over spans of the caller's bytes (no copy, no allocation, no recursion), and
 * every byte must be printable ASCII, so nothing that follows has to think about control bytes
 * or multi-byte text. A handler per attribute validates what callbridged uses and refuses, with
 * a sentence naming the line, what it cannot use safely; every other attribute is ignored
 * (RFC 8866 §5.13). Errors never quote the line: it may hold the ICE password. The description
 * is built in a local copy so the caller's struct changes only on success. The writer formats
 * into the caller's buffer through one bounded append that notes overflow, so a short buffer is
 * -ENOSPC and never a truncated offer. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "media/webrtc/sdp.h"

#define SSRC_SEEN 16      /* a=ssrc ids and FID repair ids noted per m-line */
#define CAND_MAX_LEN 1024 /* a trickled candidate line; real ones are under 200 bytes */
#define HOSTNAME_MAX 253  /* RFC 1035 */
#define STR_(x) #x
#define STR(x) STR_(x) /* a limit's digits, for the sentences */

/* A view of part of the input; not NUL-terminated. */
struct span {
    const char *p;
    size_t n;
};

struct parser {
    struct sdp_session *s;
    struct sdp_media *m; /* the current m-line; NULL at session level */
    enum sdp_dir sess_dir;
    uint32_t seen[SSRC_SEEN], rtx[SSRC_SEEN]; /* this m-line's ids; FID's repair ids */
    size_t n_seen, n_rtx;
    const char *why; /* set by a handler that refuses */
};

/* ---- spans -------------------------------------------------------------------------------- */

static bool span_eq(struct span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool span_ieq(struct span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* Consumes lit from the front of s when s starts with it. */
static bool span_skip(struct span *s, const char *lit)
{
    size_t n = strlen(lit);

    if (s->n < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    s->n -= n;
    return true;
}

/* Takes the next space-separated token of s into ret_tok; false when none is left. */
static bool span_token(struct span *s, struct span *ret_tok)
{
    size_t i = 0;

    while (s->n > 0 && s->p[0] == ' ') {
        s->p++;
        s->n--;
    }
    while (i < s->n && s->p[i] != ' ')
        i++;
    if (i == 0)
        return false;
    ret_tok->p = s->p;
    ret_tok->n = i;
    s->p += i;
    s->n -= i;
    return true;
}

/* Decimal digits only, at most max; no sign, no spaces, no overflow. */
static bool span_u32(struct span t, uint32_t max, uint32_t *ret)
{
    uint64_t v = 0;

    if (t.n == 0 || t.n > 10)
        return false;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(t.p[i] - '0');
    }
    if (v > max)
        return false;
    *ret = (uint32_t)v;
    return true;
}

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/" */
static bool is_ice_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* RFC 8866 §9 token-char (the mid, RFC 5888's identification-tag, is a token). */
static bool is_token_char(char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
           c == 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
           (c >= 0x5e && c <= 0x7e);
}

static bool span_all(struct span t, bool (*ok)(char))
{
    for (size_t i = 0; i < t.n; i++)
        if (!ok(t.p[i]))
            return false;
    return true;
}

static void span_copy(char *dst, struct span t)
{
    memcpy(dst, t.p, t.n);
    dst[t.n] = '\0';
}

/* ---- candidates (RFC 8839 §5.1, RFC 6544 §4.5) --------------------------------------------- */

static bool is_ip4_char(char c)
{
    return (c >= '0' && c <= '9') || c == '.';
}

static bool is_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

/* An IPv4 (dotted quad only) or IPv6 literal; a zone ("%eth0") is refused. */
static int cand_ip(struct span t, uint16_t port, struct sockaddr_storage *ret, const char **why)
{
    char text[INET6_ADDRSTRLEN];
    struct sockaddr_in *in = (struct sockaddr_in *)ret;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;

    *why = "not an IP address";
    if (t.n >= sizeof(text))
        return -EINVAL;
    span_copy(text, t);
    if (span_all(t, is_ip4_char) && inet_pton(AF_INET, text, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        return 0;
    }
    if (!span_all(t, is_ip4_char) && inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        return 0;
    }
    return -EINVAL;
}

/* An IP literal, or a host name: a .local one (mDNS, RFC 8839 §5.1 and the mDNS ICE draft) is
 * AF_UNSPEC; any other name is well-formed but of no use here (-EPROTONOSUPPORT): callbridged
 * resolves nothing a stranger names. */
static int cand_addr(struct span t, uint16_t port, struct sockaddr_storage *ret, const char **why)
{
    memset(ret, 0, sizeof(*ret));
    if (span_all(t, is_ip4_char) || memchr(t.p, ':', t.n))
        return cand_ip(t, port, ret, why);
    if (t.n > HOSTNAME_MAX || !span_all(t, is_host_char)) {
        *why = "not an address or a host name";
        return -EINVAL;
    }
    ret->ss_family = AF_UNSPEC;
    if (t.n > 6 && strncasecmp(t.p + t.n - 6, ".local", 6) == 0)
        return 0;
    *why = "a host name that is not mDNS (.local)";
    return -EPROTONOSUPPORT;
}

static int cand_type(struct span t, enum sdp_cand_type *ret)
{
    static const char *const names[] = {"host", "srflx", "prflx", "relay"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (span_eq(t, names[i])) {
            *ret = (enum sdp_cand_type)i;
            return 0;
        }
    }
    return -1;
}

/* The name-value pairs after the type: raddr, rport, tcptype, and extensions (generation,
 * ufrag, network-id, network-cost) that are checked for shape and ignored. */
static int cand_ext(struct span v, struct sdp_candidate *c, bool *ret_tcptype, const char **why)
{
    struct span name, val;
    uint32_t port;

    *ret_tcptype = false;
    while (span_token(&v, &name)) {
        if (!span_token(&v, &val)) {
            *why = "an extension without a value";
            return -EINVAL;
        }
        if (span_eq(name, "rport") && !span_u32(val, 65535, &port)) {
            *why = "a bad rport";
            return -EINVAL;
        }
        if (span_eq(name, "tcptype")) {
            if (span_eq(val, "active"))
                c->tcptype = SDP_TCPTYPE_ACTIVE;
            else if (span_eq(val, "passive"))
                c->tcptype = SDP_TCPTYPE_PASSIVE;
            else if (span_eq(val, "so"))
                c->tcptype = SDP_TCPTYPE_SO;
            else {
                *why = "an unknown tcptype";
                return -EINVAL;
            }
            *ret_tcptype = true;
        }
    }
    return 0;
}

/* The fields from the component on: "<component> <transport> <priority> <address> <port> typ
 * <type> [extensions]". An unknown transport, type or a non-mDNS name is noted in *unusable and
 * the rest still checked, so a malformed line is always -EINVAL. */
static int cand_fields(struct span v, struct sdp_candidate *c, bool *unusable, const char **why)
{
    struct span comp, proto, prio, addr, port, typ, type;
    uint32_t u, p;
    bool has_tcptype;
    int r;

    if (!span_token(&v, &comp) || !span_token(&v, &proto) || !span_token(&v, &prio) ||
        !span_token(&v, &addr) || !span_token(&v, &port) || !span_token(&v, &typ) ||
        !span_token(&v, &type) || !span_eq(typ, "typ")) {
        *why = "fewer fields than \"<foundation> <component> <transport> <priority> <address> "
               "<port> typ <type>\"";
        return -EINVAL;
    }
    *why = "a bad component, priority or port";
    if (!span_u32(comp, 256, &u) || u == 0 || !span_u32(prio, UINT32_MAX, &c->priority) ||
        !span_u32(port, 65535, &p))
        return -EINVAL;
    c->component = u;
    c->tcp = span_ieq(proto, "tcp");
    *unusable = !c->tcp && !span_ieq(proto, "udp");
    r = cand_addr(addr, (uint16_t)p, &c->addr, why);
    if (r == -EINVAL)
        return r;
    *unusable = *unusable || r < 0 || cand_type(type, &c->type) < 0;
    r = cand_ext(v, c, &has_tcptype, why);
    if (r < 0)
        return r;
    if (c->tcp && !has_tcptype) {
        *why = "TCP without a tcptype (RFC 6544 §4.5)";
        return -EINVAL;
    }
    if (!c->tcp)
        c->tcptype = SDP_TCPTYPE_PASSIVE; /* a tcptype on UDP means nothing: keep the default */
    return 0;
}

/* v is what follows "candidate:". */
static int cand_parse(struct span v, struct sdp_candidate *ret, const char **why)
{
    struct sdp_candidate c = {0};
    struct span f;
    bool unusable = false;
    int r;

    if (!span_token(&v, &f) || f.n >= sizeof(c.foundation) || !span_all(f, is_ice_char)) {
        *why = "the foundation is not 1 to 32 ice-chars";
        return -EINVAL;
    }
    span_copy(c.foundation, f);
    r = cand_fields(v, &c, &unusable, why);
    if (r < 0)
        return r;
    if (unusable) {
        *why = "an unknown transport or candidate type, or a host name that is not mDNS";
        return -EPROTONOSUPPORT;
    }
    *ret = c;
    return 0;
}

static void set_err(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;

    if (!err || errcap == 0)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

static bool is_printable(char c)
{
    return c >= 0x20 && c <= 0x7e;
}

int sdp_parse_candidate(const char *line, size_t len, struct sdp_candidate *ret, char *err,
                        size_t errcap)
{
    struct span v = {line, len};
    const char *why = "";
    int r;

    if (!line || len > CAND_MAX_LEN) {
        set_err(err, errcap, "candidate: empty or over %d bytes", CAND_MAX_LEN);
        return -EINVAL;
    }
    while (v.n > 0 && (v.p[v.n - 1] == '\n' || v.p[v.n - 1] == '\r'))
        v.n--;
    (void)span_skip(&v, "a=");
    if (!span_all(v, is_printable) || !span_skip(&v, "candidate:")) {
        set_err(err, errcap, "candidate: not a \"candidate:\" line of printable ASCII");
        return -EINVAL;
    }
    r = cand_parse(v, ret, &why);
    if (r < 0)
        set_err(err, errcap, "candidate: %s", why);
    return r;
}

/* Notes why the line is refused; returns r. */
static int refuse(struct parser *ps, const char *why, int r)
{
    ps->why = why;
    return r;
}

/* ---- attributes --------------------------------------------------------------------------- */

/* RFC 8839 §5.4: 1 to 256 ice-chars. Keeps the first one seen (session level comes first). */
static int a_ice(struct parser *ps, struct span v, char *dst, const char *name_why[2])
{
    if (v.n == 0 || v.n > SDP_ICE_MAX)
        return refuse(ps, name_why[0], -EINVAL);
    if (!span_all(v, is_ice_char))
        return refuse(ps, name_why[1], -EINVAL);
    if (dst[0] == '\0')
        span_copy(dst, v);
    return 0;
}

static int a_ufrag(struct parser *ps, struct span v)
{
    static const char *why[2] = {"a=ice-ufrag: empty or over " STR(SDP_ICE_MAX) " characters",
                                 "a=ice-ufrag: a character outside ice-char"};

    return a_ice(ps, v, ps->s->ice_ufrag, why);
}

static int a_pwd(struct parser *ps, struct span v)
{
    static const char *why[2] = {"a=ice-pwd: empty or over " STR(SDP_ICE_MAX) " characters",
                                 "a=ice-pwd: a character outside ice-char"};

    return a_ice(ps, v, ps->s->ice_pwd, why);
}

/* RFC 8122 §5: "<hash-func> <hex pairs joined by colons>"; the hash's length is checked. */
static int a_fingerprint(struct parser *ps, struct span v)
{
    static const struct {
        const char *name;
        size_t len;
    } hashes[] = {{"sha-1", 20},   {"sha-224", 28}, {"sha-256", 32}, {"sha-384", 48},
                  {"sha-512", 64}, {"md5", 16},     {"md2", 16}};
    struct span alg, hex;
    uint8_t fp[SDP_FP_MAX];
    size_t i, want = 0;

    ps->why = "a=fingerprint: an unknown hash function";
    if (!span_token(&v, &alg) || !span_token(&v, &hex) || v.n > 0)
        return refuse(ps, "a=fingerprint: not \"<hash> <hex pairs>\"", -EINVAL);
    for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]) && !want; i++)
        if (span_ieq(alg, hashes[i].name))
            want = hashes[i].len;
    if (!want)
        return -EINVAL;
    ps->why = "a=fingerprint: not hex pairs of the hash's length";
    if (hex.n != want * 3 - 1)
        return -EINVAL;
    for (i = 0; i < want; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)hex.p[3 * i]),
            lo = OPENSSL_hexchar2int((unsigned char)hex.p[3 * i + 1]);

        if (hi < 0 || lo < 0 || (i + 1 < want && hex.p[3 * i + 2] != ':'))
            return -EINVAL;
        fp[i] = (uint8_t)(hi << 4 | lo);
    }
    if (ps->s->fp_alg[0] == '\0') {
        for (i = 0; i < alg.n; i++)
            ps->s->fp_alg[i] = (char)(alg.p[i] | 0x20); /* letters, digits, '-': lower case */
        ps->s->fp_alg[alg.n] = '\0';
        memcpy(ps->s->fp, fp, want);
        ps->s->fp_len = want;
    }
    return 0;
}

/* RFC 8842 §5 (DTLS roles): actpass, active or passive; holdconn has no use in WebRTC. */
static int a_setup(struct parser *ps, struct span v)
{
    enum sdp_setup role;

    if (span_eq(v, "actpass"))
        role = SDP_SETUP_ACTPASS;
    else if (span_eq(v, "active"))
        role = SDP_SETUP_ACTIVE;
    else if (span_eq(v, "passive"))
        role = SDP_SETUP_PASSIVE;
    else
        return refuse(ps, "a=setup: not actpass, active or passive", -EINVAL);
    if (ps->s->setup == SDP_SETUP_NONE)
        ps->s->setup = role;
    return 0;
}

/* RFC 5888 §4: one identification-tag (a token) per m-line, unique in the description. */
static int a_mid(struct parser *ps, struct span v)
{
    if (v.n == 0 || v.n > SDP_MID_MAX || !span_all(v, is_token_char))
        return refuse(ps, "a=mid: not a token of 1 to " STR(SDP_MID_MAX) " characters", -EINVAL);
    if (ps->m->mid[0] != '\0')
        return refuse(ps, "a=mid: a second one on this m-line", -EINVAL);
    for (size_t i = 0; i + 1 < ps->s->n_media; i++)
        if (span_eq(v, ps->s->media[i].mid))
            return refuse(ps, "a=mid: the same as an earlier m-line's", -EINVAL);
    span_copy(ps->m->mid, v);
    return 0;
}

/* RFC 8866 §6.6: "<payload type> <encoding name>/<clock rate>[/<parameters>]". */
static int a_rtpmap(struct parser *ps, struct span v)
{
    struct span pt_tok, enc, name;
    uint32_t pt, clock;
    const char *slash;

    ps->why = "a=rtpmap: not \"<payload type> <name>/<clock rate>\"";
    if (!span_token(&v, &pt_tok) || !span_token(&v, &enc) || v.n > 0 || !span_u32(pt_tok, 127, &pt))
        return -EINVAL;
    slash = memchr(enc.p, '/', enc.n);
    if (!slash || slash == enc.p)
        return -EINVAL;
    name.p = enc.p;
    name.n = (size_t)(slash - enc.p);
    enc.n -= name.n + 1;
    enc.p = slash + 1;
    slash = memchr(enc.p, '/', enc.n);
    if (slash)
        enc.n = (size_t)(slash - enc.p);
    if (!span_u32(enc, UINT32_MAX, &clock))
        return -EINVAL;
    if (span_ieq(name, "opus") && clock == 48000 && ps->m->opus_pt < 0)
        ps->m->opus_pt = (int)pt;
    if (span_ieq(name, "vp8") && clock == 90000 && ps->m->vp8_pt < 0)
        ps->m->vp8_pt = (int)pt;
    return 0;
}

static bool has_id(const uint32_t *ids, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* RFC 5576 §4.1: "<ssrc-id> <attribute>[:<value>]"; the id is what is kept. */
static int a_ssrc(struct parser *ps, struct span v)
{
    struct span id_tok;
    uint32_t id;

    if (!span_token(&v, &id_tok) || !span_u32(id_tok, UINT32_MAX, &id))
        return refuse(ps, "a=ssrc: not \"<ssrc-id> <attribute>\"", -EINVAL);
    if (!has_id(ps->seen, ps->n_seen, id) && ps->n_seen < SSRC_SEEN)
        ps->seen[ps->n_seen++] = id;
    return 0;
}

/* RFC 5576 §4.2: "<semantics> <ssrc-id>...". In FID (RFC 4588 RTX) the ids after the first are
 * the repair streams, which are not kept. */
static int a_ssrc_group(struct parser *ps, struct span v)
{
    struct span sem, id_tok;
    uint32_t id;
    bool fid, first = true;

    if (!span_token(&v, &sem))
        return refuse(ps, "a=ssrc-group: no semantics", -EINVAL);
    fid = span_eq(sem, "FID");
    while (span_token(&v, &id_tok)) {
        if (!span_u32(id_tok, UINT32_MAX, &id))
            return refuse(ps, "a=ssrc-group: an id that is not a 32-bit number", -EINVAL);
        if (fid && !first && !has_id(ps->rtx, ps->n_rtx, id) && ps->n_rtx < SSRC_SEEN)
            ps->rtx[ps->n_rtx++] = id;
        first = false;
    }
    return 0;
}

static int a_candidate(struct parser *ps, struct span v)
{
    struct sdp_candidate c;
    int r = cand_parse(v, &c, &ps->why);

    if (r == -EPROTONOSUPPORT)
        return 0; /* of no use to callbridged, but not wrong */
    if (r < 0)
        return r;
    if (ps->s->n_cand < SDP_MAX_CANDS)
        ps->s->cand[ps->s->n_cand++] = c;
    return 0;
}

static int a_group(struct parser *ps, struct span v)
{
    struct span sem;

    if (span_token(&v, &sem) && span_eq(sem, "BUNDLE"))
        ps->s->bundle = true;
    return 0;
}

static int a_ice_lite(struct parser *ps, struct span v)
{
    (void)v;
    ps->s->ice_lite = true;
    return 0;
}

static int a_rtcp_mux(struct parser *ps, struct span v)
{
    (void)v;
    ps->m->rtcp_mux = true;
    return 0;
}

static const struct attr {
    const char *name;
    bool media_only; /* ignored at session level */
    int (*fn)(struct parser *ps, struct span value);
} attrs[] = {
    {"group", false, a_group},
    {"ice-lite", false, a_ice_lite},
    {"ice-ufrag", false, a_ufrag},
    {"ice-pwd", false, a_pwd},
    {"fingerprint", false, a_fingerprint},
    {"setup", false, a_setup},
    {"mid", true, a_mid},
    {"rtcp-mux", true, a_rtcp_mux},
    {"rtpmap", true, a_rtpmap},
    {"ssrc", true, a_ssrc},
    {"ssrc-group", true, a_ssrc_group},
    {"candidate", true, a_candidate},
};

static int parse_dir(struct parser *ps, struct span name)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (span_eq(name, names[i])) {
            if (ps->m)
                ps->m->dir = (enum sdp_dir)i;
            else
                ps->sess_dir = (enum sdp_dir)i; /* the default for the m-lines (RFC 8866 §6.7) */
            return 1;
        }
    }
    return 0;
}

/* "a=<name>[:<value>]" */
static int parse_attr(struct parser *ps, struct span v)
{
    const char *colon = memchr(v.p, ':', v.n);
    struct span name = {v.p, colon ? (size_t)(colon - v.p) : v.n};
    struct span value = {colon ? colon + 1 : v.p + v.n, colon ? v.n - name.n - 1 : 0};

    if (!colon && parse_dir(ps, name))
        return 0;
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        if (span_eq(name, attrs[i].name))
            return attrs[i].media_only && !ps->m ? 0 : attrs[i].fn(ps, value);
    return 0;
}

/* ---- m-lines ------------------------------------------------------------------------------ */

/* The transport protocols of RFC 8866 §8.2.2's registry a browser can answer with. */
static bool known_proto(struct span p)
{
    static const char *const protos[] = {
        "UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP", "TCP/TLS/RTP/SAVPF", "TCP/DTLS/RTP/SAVPF",
        "RTP/SAVPF",         "RTP/SAVP",         "RTP/AVPF",          "RTP/AVP",
        "UDP/DTLS/SCTP",     "TCP/DTLS/SCTP",    "DTLS/SCTP",         "udp",
    };

    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
        if (span_eq(p, protos[i]))
            return true;
    return false;
}

/* Closes the current m-line: its ssrc ids, less FID's repair ids, in order of appearance. */
static void finish_media(struct parser *ps)
{
    struct sdp_media *m = ps->m;

    if (!m)
        return;
    for (size_t i = 0; i < ps->n_seen && m->n_ssrc < SDP_MAX_SSRC; i++)
        if (!has_id(ps->rtx, ps->n_rtx, ps->seen[i]))
            m->ssrc[m->n_ssrc++] = ps->seen[i];
    ps->n_seen = ps->n_rtx = 0;
}

/* RFC 8866 §5.14: "m=<media> <port> <proto> <fmt> ..." */
static int parse_mline(struct parser *ps, struct span v)
{
    struct span kind, port, proto, fmt;
    struct sdp_media *m;
    uint32_t p;

    finish_media(ps);
    if (ps->s->n_media == SDP_MAX_MEDIA)
        return refuse(ps, "more than " STR(SDP_MAX_MEDIA) " m-lines", -E2BIG);
    if (!span_token(&v, &kind) || !span_token(&v, &port) || !span_token(&v, &proto) ||
        !span_token(&v, &fmt))
        return refuse(ps, "m=: not \"<media> <port> <proto> <fmt>...\"", -EINVAL);
    if (!span_u32(port, 65535, &p))
        return refuse(ps, "m=: a bad port", -EINVAL);
    if (!known_proto(proto))
        return refuse(ps, "m=: an unknown proto", -EINVAL);
    m = &ps->s->media[ps->s->n_media++];
    memset(m, 0, sizeof(*m));
    m->kind = span_eq(kind, "audio")         ? SDP_AUDIO
              : span_eq(kind, "video")       ? SDP_VIDEO
              : span_eq(kind, "application") ? SDP_APPLICATION
                                             : SDP_OTHER;
    m->port = (uint16_t)p;
    m->dir = ps->sess_dir;
    m->opus_pt = m->vp8_pt = -1;
    ps->m = m;
    return 0;
}

/* One line, without its line end; line_no counts from 1. */
static int parse_line(struct parser *ps, struct span line, size_t line_no)
{
    char letter = line.n >= 2 ? line.p[0] : '\0';
    struct span v = {line.p + 2, line.n >= 2 ? line.n - 2 : 0};

    if (letter < 'a' || letter > 'z' || line.p[1] != '=')
        return refuse(ps, "not \"<letter>=\"", -EINVAL);
    if ((line_no == 1) != (letter == 'v') || (letter == 'v' && !span_eq(v, "0")))
        return refuse(ps, "the first line, and only it, must be v=0", -EINVAL);
    if (letter == 'm')
        return parse_mline(ps, v);
    if (letter == 'a')
        return parse_attr(ps, v);
    return 0;
}

/* The next line from *off: CRLF or LF ends it (not a lone CR), and every byte in it must be
 * printable ASCII. */
static int next_line(const char *text, size_t len, size_t *off, struct span *ret, const char **why)
{
    size_t i = *off;

    while (i < len && text[i] != '\n') {
        if (!is_printable(text[i]) && !(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')) {
            *why = "a byte that is not printable ASCII";
            return -EINVAL;
        }
        i++;
    }
    ret->p = text + *off;
    ret->n = i - *off;
    if (ret->n > 0 && ret->p[ret->n - 1] == '\r')
        ret->n--;
    *off = i < len ? i + 1 : i;
    return 0;
}

int sdp_parse(const char *text, size_t len, struct sdp_session *ret, char *err, size_t errcap)
{
    struct sdp_session s;
    struct parser ps = {.s = &s, .sess_dir = SDP_SENDRECV, .why = ""};
    size_t off = 0, line_no = 0;
    struct span line;
    int r = 0;

    if (len > SDP_MAX_LEN) {
        set_err(err, errcap, "an SDP of %zu bytes: the most is %d", len, SDP_MAX_LEN);
        return -E2BIG;
    }
    memset(&s, 0, sizeof(s));
    while (r == 0 && text && off < len) {
        line_no++;
        r = next_line(text, len, &off, &line, &ps.why);
        if (r == 0)
            r = parse_line(&ps, line, line_no);
    }
    if (r == 0 && line_no == 0) {
        line_no = 1;
        ps.why = "empty: the first line must be v=0";
        r = -EINVAL;
    }
    if (r < 0) {
        set_err(err, errcap, "line %zu: %s", line_no, ps.why);
        return r;
    }
    finish_media(&ps);
    memcpy(ret, &s, sizeof(s));
    return 0;
}

/* ---- the writer --------------------------------------------------------------------------- */

/* A bounded append: once something does not fit, nothing more is written and over says so. */
struct wbuf {
    char *p;
    size_t cap, len;
    bool over;
};

static void put(struct wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct wbuf *w, const char *fmt, ...)
{
    size_t avail = w->cap > w->len ? w->cap - w->len : 0;
    va_list ap;
    int n;

    if (w->over)
        return;
    va_start(ap, fmt);
    n = vsnprintf(avail ? w->p + w->len : NULL, avail, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= avail)
        w->over = true;
    else
        w->len += (size_t)n;
}

/* A NUL-terminated string within its array, of min or more characters, each accepted by ok. */
static bool field_ok(const char *f, size_t cap, size_t min, bool (*ok)(char))
{
    size_t n = strnlen(f, cap);

    return n < cap && n >= min && span_all((struct span){f, n}, ok);
}

static bool is_visible(char c)
{
    return c > 0x20 && c <= 0x7e;
}

static bool is_fp_char(char c)
{
    return OPENSSL_hexchar2int((unsigned char)c) >= 0 || c == ':';
}

/* callbridged's fingerprint is sha-256: 32 hex pairs joined by colons. */
static bool fingerprint_ok(const char *fp, size_t cap)
{
    size_t n = strnlen(fp, cap);

    if (n != 32 * 3 - 1 || !field_ok(fp, cap, 1, is_fp_char))
        return false;
    for (size_t i = 2; i < n; i += 3)
        if (fp[i] != ':' || fp[i - 1] == ':' || fp[i - 2] == ':')
            return false;
    return fp[n - 1] != ':';
}

static bool cand_ok(const struct sdp_candidate *c)
{
    return field_ok(c->foundation, sizeof(c->foundation), 1, is_ice_char) && c->component >= 1 &&
           c->component <= 256 && (unsigned)c->type <= SDP_CAND_RELAY &&
           (unsigned)c->tcptype <= SDP_TCPTYPE_SO &&
           (c->addr.ss_family == AF_INET || c->addr.ss_family == AF_INET6);
}

static bool offer_media_ok(const struct sdp_offer *o, size_t i)
{
    const struct sdp_offer_media *m = &o->media[i];

    if ((m->kind != SDP_AUDIO && m->kind != SDP_VIDEO) || (unsigned)m->dir > SDP_INACTIVE ||
        !field_ok(m->mid, sizeof(m->mid), 1, is_token_char) ||
        !field_ok(m->msid, sizeof(m->msid), 0, is_visible) ||
        !field_ok(m->track, sizeof(m->track), m->msid[0] ? 1 : 0, is_visible) ||
        !field_ok(m->cname, sizeof(m->cname), m->ssrc ? 1 : 0, is_visible))
        return false;
    for (size_t k = 0; k < i; k++)
        if (strcmp(o->media[k].mid, m->mid) == 0)
            return false;
    return true;
}

/* Everything that goes into a line is checked first: nothing written can break a line or be
 * refused by a browser for its shape. */
static bool offer_ok(const struct sdp_offer *o)
{
    if (o->n_media == 0 || o->n_media > SDP_MAX_MEDIA || o->n_cand > SDP_MAX_CANDS ||
        !field_ok(o->ice_ufrag, sizeof(o->ice_ufrag), 1, is_ice_char) ||
        !field_ok(o->ice_pwd, sizeof(o->ice_pwd), 1, is_ice_char) ||
        !fingerprint_ok(o->fingerprint, sizeof(o->fingerprint)))
        return false;
    for (size_t i = 0; i < o->n_media; i++)
        if (!offer_media_ok(o, i))
            return false;
    for (size_t i = 0; i < o->n_cand; i++)
        if (!cand_ok(&o->cand[i]))
            return false;
    return true;
}

static void put_candidate(struct wbuf *w, const struct sdp_candidate *c)
{
    static const char *const types[] = {"host", "srflx", "prflx", "relay"};
    static const char *const tcptypes[] = {"passive", "active", "so"};
    const struct sockaddr_in *in = (const struct sockaddr_in *)&c->addr;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&c->addr;
    char addr[INET6_ADDRSTRLEN];
    unsigned port;

    if (c->addr.ss_family == AF_INET) {
        (void)inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
        port = ntohs(in->sin_port);
    } else {
        (void)inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
        port = ntohs(in6->sin6_port);
    }
    put(w, "candidate:%s %u %s %" PRIu32 " %s %u typ %s", c->foundation, c->component,
        c->tcp ? "tcp" : "udp", c->priority, addr, port, types[c->type]);
    if (c->tcp)
        put(w, " tcptype %s", tcptypes[c->tcptype]);
}

static void put_media(struct wbuf *w, const struct sdp_offer *o, size_t i, bool cands)
{
    static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    const struct sdp_offer_media *m = &o->media[i];
    bool audio = m->kind == SDP_AUDIO;

    put(w, "m=%s %d UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n", audio ? "audio" : "video",
        m->stopped ? 0 : 9, audio ? SDP_PT_OPUS : SDP_PT_VP8);
    put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", o->ice_ufrag, o->ice_pwd);
    put(w, "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=mid:%s\r\n", o->fingerprint, m->mid);
    put(w, "a=%s\r\na=rtcp-mux\r\n", dirs[m->stopped ? SDP_INACTIVE : m->dir]);
    if (audio)
        put(w, "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1\r\n", SDP_PT_OPUS,
            SDP_PT_OPUS);
    else
        put(w,
            "a=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n"
            "a=rtcp-fb:%d ccm fir\r\n",
            SDP_PT_VP8, SDP_PT_VP8, SDP_PT_VP8, SDP_PT_VP8);
    if (!m->stopped && m->msid[0])
        put(w, "a=msid:%s %s\r\n", m->msid, m->track);
    if (!m->stopped && m->ssrc) {
        put(w, "a=ssrc:%" PRIu32 " cname:%s\r\n", m->ssrc, m->cname);
        if (m->msid[0])
            put(w, "a=ssrc:%" PRIu32 " msid:%s %s\r\n", m->ssrc, m->msid, m->track);
    }
    for (size_t k = 0; cands && k < o->n_cand; k++) {
        put(w, "a=");
        put_candidate(w, &o->cand[k]);
        put(w, "\r\n");
    }
    if (cands && o->n_cand > 0)
        put(w, "a=end-of-candidates\r\n");
}

long sdp_write_offer(const struct sdp_offer *o, char *buf, size_t cap)
{
    struct wbuf w = {buf, cap, 0, false};
    size_t first_live = o->n_media;

    if (!offer_ok(o))
        return -EINVAL;
    put(&w, "v=0\r\no=- %" PRIu64 " %" PRIu64 " IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", o->session_id,
        o->version);
    for (size_t i = 0; i < o->n_media; i++) {
        if (o->media[i].stopped)
            continue;
        put(&w, first_live == o->n_media ? "a=group:BUNDLE %s" : " %s", o->media[i].mid);
        if (first_live == o->n_media)
            first_live = i;
    }
    if (first_live < o->n_media)
        put(&w, "\r\n");
    if (o->ice_lite)
        put(&w, "a=ice-lite\r\n");
    /* RFC 8843 §7.1.1: the candidates go with the BUNDLE group's first (tagged) m-line. */
    for (size_t i = 0; i < o->n_media; i++)
        put_media(&w, o, i, i == first_live);
    return w.over ? -ENOSPC : (long)w.len;
}

long sdp_write_candidate(const struct sdp_candidate *c, char *buf, size_t cap)
{
    struct wbuf w = {buf, cap, 0, false};

    if (!cand_ok(c))
        return -EINVAL;
    put_candidate(&w, c);
    return w.over ? -ENOSPC : (long)w.len;
}
