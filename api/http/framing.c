/* api/http/framing.c: the framing and target checks of api/http/framing.h.
 *
 * DESIGN: the header lines are scanned once, as libmicrohttpd hands them (api/http/http.c feeds
 * them in on the first call for a request, before any body byte is read), counting the three fields
 * that decide where a request ends and who it is for: Content-Length, Transfer-Encoding and
 * Host. The verdict then applies RFC 9112's rules in a fixed order: a malformed line first (a
 * name with whitespace before its colon hides the field it names), then the framing fields,
 * then Host. Everything is refused rather than repaired: a client that sends these shapes is
 * broken or hostile, and no CMS client does. */
#include <string.h>
#include <strings.h>

#include "api/http/framing.h"

#define FIELD "invalidHeaderField"
#define FRAMING "invalidRequestFraming"
#define CODING "unsupportedTransferCoding"
#define HOST "invalidHost"
#define PATH "invalidPath"
#define TARGET "invalidRequestTarget"

static struct api_framing_verdict refuse(int status, const char *reason, const char *why)
{
    return (struct api_framing_verdict){status, reason, why};
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 9110 5.6.2: tchar */
static bool is_tchar(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(s[i]))
            return false;
    return n > 0;
}

static bool is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_named(const char *name, size_t n, const char *field)
{
    return n == strlen(field) && strncasecmp(name, field, n) == 0;
}

/* Counts one line of a framing field, keeping the first value. */
static void count(size_t *lines, const char **first, size_t *first_len, const char *value,
                  size_t value_len)
{
    if ((*lines)++ == 0) {
        *first = value;
        *first_len = value_len;
    }
}

void api_framing_add_field(struct api_framing_scan *scan, const char *name, size_t name_len,
                           const char *value, size_t value_len, bool folded)
{
    if (scan->bad_field.status == 0 && folded)
        scan->bad_field = refuse(400, FIELD,
                                 "a header line folded onto the next (obs-fold), which "
                                 "libmicrohttpd joins to the field's name (RFC 9112 5.2)");
    else if (scan->bad_field.status == 0 && !is_token(name, name_len))
        scan->bad_field = refuse(400, FIELD,
                                 "a header field name that is not a token, such as whitespace "
                                 "before the colon (RFC 9112 5.1)");
    else if (scan->bad_field.status == 0 && value_len > 0 && memchr(value, '\r', value_len))
        scan->bad_field = refuse(400, FIELD, "a bare CR in a header field value (RFC 9112 2.2)");
    if (is_named(name, name_len, "Content-Length")) {
        if (scan->content_lengths > 0 &&
            (value_len != scan->content_length_len ||
             (value_len > 0 && memcmp(value, scan->content_length, value_len))))
            scan->lengths_differ = true;
        count(&scan->content_lengths, &scan->content_length, &scan->content_length_len, value,
              value_len);
    } else if (is_named(name, name_len, "Transfer-Encoding")) {
        count(&scan->transfer_encodings, &scan->transfer_encoding, &scan->transfer_encoding_len,
              value, value_len);
    } else if (is_named(name, name_len, "Host")) {
        count(&scan->hosts, &scan->host, &scan->host_len, value, value_len);
    }
}

/* ---- Transfer-Encoding: #( token *( OWS ";" OWS token BWS "=" BWS ( token / quoted ) ) ) -- */

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *skip_token(const char *p, const char *end)
{
    while (p < end && is_tchar(*p))
        p++;
    return p;
}

/* Past a quoted-string (RFC 9110 5.6.4) at p, or NULL if there is none. */
static const char *skip_quoted(const char *p, const char *end)
{
    if (p >= end || *p++ != '"')
        return NULL;
    for (; p < end && *p != '"'; p++) {
        if (*p == '\\')
            p++;
        if (p >= end || ((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
            return NULL;
    }
    return p < end ? p + 1 : NULL;
}

/* Past the parameters of a coding (";" name "=" value, any number), or NULL if malformed. */
static const char *skip_params(const char *p, const char *end, bool *ret_any)
{
    p = skip_ows(p, end);
    while (p < end && *p == ';') {
        const char *name = skip_ows(p + 1, end), *value;

        p = skip_token(name, end);
        if (p == name)
            return NULL;
        p = skip_ows(p, end);
        if (p >= end || *p != '=')
            return NULL;
        value = skip_ows(p + 1, end);
        p = value < end && *value == '"' ? skip_quoted(value, end) : skip_token(value, end);
        if (!p || p == value)
            return NULL;
        *ret_any = true;
        p = skip_ows(p, end);
    }
    return p;
}

struct codings {
    size_t all, chunked;
    bool final_chunked, chunked_params;
};

/* Reads the list of transfer codings. Returns false if it is not one. Empty elements are
 * skipped, as RFC 9110 5.6.1.2 asks of a recipient. */
static bool read_codings(const char *v, size_t n, struct codings *ret)
{
    const char *p = v, *end = v + n;
    struct codings c = {0};

    while ((p = skip_ows(p, end)) < end) {
        const char *name = p;
        bool params = false, chunked;

        if (*p == ',') {
            p++;
            continue;
        }
        p = skip_token(name, end);
        if (p == name)
            return false;
        chunked = p - name == 7 && strncasecmp(name, "chunked", 7) == 0;
        p = skip_params(p, end, &params);
        if (!p || (p < end && *p != ','))
            return false;
        c.all++;
        c.chunked += chunked;
        c.chunked_params |= chunked && params;
        c.final_chunked = chunked;
    }
    *ret = c;
    return c.all > 0;
}

static struct api_framing_verdict check_codings(const char *v, size_t n)
{
    struct codings c;

    if (n == 7 && strncasecmp(v, "chunked", 7) == 0)
        return refuse(0, NULL, NULL); /* the one value libmicrohttpd decodes */
    if (!read_codings(v, n, &c))
        return refuse(400, FRAMING,
                      "a Transfer-Encoding that is not a list of transfer codings "
                      "(RFC 9112 6.1)");
    if (!c.final_chunked)
        return refuse(400, FRAMING,
                      "a Transfer-Encoding whose final coding is not chunked: the body's "
                      "length cannot be known (RFC 9112 6.3)");
    if (c.chunked > 1)
        return refuse(400, FRAMING, "chunked applied more than once (RFC 9112 6.1)");
    if (c.all > 1)
        return refuse(501, CODING,
                      "a transfer coding other than chunked, which this server does not "
                      "implement (RFC 9112 6.1)");
    return refuse(400, FRAMING,
                  c.chunked_params ? "chunked with parameters, which it has none of (RFC 9112 7.1)"
                                   : "Transfer-Encoding chunked with extra whitespace or empty "
                                     "list elements, which libmicrohttpd would not decode");
}

/* ---- the verdict --------------------------------------------------------------------------- */

/* HTTP/1.1 and later 1.x, where Host is required and Transfer-Encoding defined. */
static bool is_http11(const char *version)
{
    return version && strncmp(version, "HTTP/1.", 7) == 0 && strcmp(version, "HTTP/1.0") != 0;
}

static struct api_framing_verdict check_length(const struct api_framing_scan *s,
                                               const char *version)
{
    if (s->transfer_encodings > 1)
        return refuse(400, FRAMING, "Transfer-Encoding repeated (RFC 9112 6.1)");
    if (s->transfer_encodings > 0 && s->content_lengths > 0)
        return refuse(400, FRAMING,
                      "Content-Length together with Transfer-Encoding (RFC 9112 6.1, 6.3)");
    if (s->content_lengths > 1)
        return refuse(400, FRAMING,
                      s->lengths_differ ? "two different Content-Length values (RFC 9112 6.3)"
                                        : "Content-Length repeated (RFC 9110 8.6)");
    if (s->content_lengths > 0 &&
        (s->content_length_len == 0 || !is_digits(s->content_length, s->content_length_len)))
        return refuse(400, FRAMING, "a Content-Length that is not a number (RFC 9110 8.6)");
    if (s->transfer_encodings > 0 && !is_http11(version))
        return refuse(400, FRAMING, "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1)");
    if (s->transfer_encodings > 0)
        return check_codings(s->transfer_encoding, s->transfer_encoding_len);
    return refuse(0, NULL, NULL);
}

/* RFC 3986 3.2.2 reg-name (unreserved, pct-encoded, sub-delims) and IP literals, as characters,
 * and digits for the port: what a host and port can hold, without whitespace, "/", "@" or "?". */
static bool is_host_char(char c, bool bracketed)
{
    return is_alnum(c) || (c != '\0' && strchr("-._~%!$&'()*+,;=", c)) || (bracketed && c == ':');
}

static bool is_host_value(const char *v, size_t n)
{
    const char *end = v + n, *p = v;
    bool bracketed = n > 0 && v[0] == '[';

    if (bracketed)
        p++;
    while (p < end && is_host_char(*p, bracketed))
        p++;
    if (bracketed) {
        if (p >= end || *p != ']')
            return false;
        p++;
    }
    if (p < end && *p == ':')
        return is_digits(p + 1, (size_t)(end - p - 1));
    return p == end;
}

static struct api_framing_verdict check_host(const struct api_framing_scan *s, const char *version)
{
    if (s->hosts > 1)
        return refuse(400, HOST, "Host repeated (RFC 9112 3.2)");
    if (s->hosts == 0)
        return is_http11(version)
                   ? refuse(400, HOST, "no Host in an HTTP/1.1 request (RFC 9112 3.2)")
                   : refuse(0, NULL, NULL);
    if (!is_host_value(s->host, s->host_len))
        return refuse(400, HOST, "a Host that is not a host and port (RFC 9112 3.2)");
    return refuse(0, NULL, NULL);
}

struct api_framing_verdict api_framing_check(const struct api_framing_scan *scan,
                                             const char *version)
{
    struct api_framing_verdict v;

    if (scan->bad_field.status)
        return scan->bad_field;
    v = check_length(scan, version);
    return v.status ? v : check_host(scan, version);
}

struct api_framing_verdict api_framing_check_target(const char *target)
{
    /* libmicrohttpd takes the request line's last space as the start of the version, so
     * "GET /a HTTP/1.1 HTTP/1.1" is a target "/a HTTP/1.1" to it */
    for (const char *p = target; p && *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return refuse(400, TARGET,
                          "a space or control character in the request target (RFC 9112 3.2)");
    /* libmicrohttpd splits the query off at the first "?" only; all before it is the path */
    for (const char *p = target; p && *p && *p != '?'; p++)
        if (p[0] == '%' &&
            ((p[1] == '0' && p[2] == '0') || (p[1] == '2' && (p[2] == 'f' || p[2] == 'F'))))
            return refuse(400, PATH,
                          "an encoded NUL or slash (%00, %2f) in the path (RFC 3986 3.3)");
    return refuse(0, NULL, NULL);
}
