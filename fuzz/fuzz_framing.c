/* fuzz/fuzz_framing.c: the framing and target checks (api/http/framing.c) on arbitrary requests.
 * The input is the HTTP version on its first line, the target on its second, then header lines,
 * split as libmicrohttpd 0.9.75 splits them (at LF, a CR before it dropped; the name up to the
 * first colon; the value after the spaces and tabs that follow it). Beyond "no crash", what is
 * accepted must hold what the rules promise, restated here independently: one Content-Length
 * of digits or one Transfer-Encoding of exactly "chunked" on HTTP/1.1, never both; one Host on
 * HTTP/1.1 and never two; names without whitespace; no CR in values; no folded line; no %00 or
 * %2f in the path.
 * A refusal is 400 or 501 with a reason and a why. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http/framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    size_t cl, te, host;
    bool cl_digits, te_chunked, bad_name, cr, folded;
};

static bool is_named(const char *name, size_t n, const char *field)
{
    return n == strlen(field) && strncasecmp(name, field, n) == 0;
}

static void note(struct seen *s, const char *name, size_t n, const char *value, size_t vn)
{
    if (n == 0 || memchr(name, ' ', n) || memchr(name, '\t', n))
        s->bad_name = true;
    if (memchr(value, '\r', vn))
        s->cr = true;
    if (is_named(name, n, "Content-Length")) {
        s->cl++;
        s->cl_digits = vn > 0 && strspn(value, "0123456789") >= vn;
    } else if (is_named(name, n, "Transfer-Encoding")) {
        s->te++;
        s->te_chunked = vn == 7 && strncasecmp(value, "chunked", 7) == 0;
    } else if (is_named(name, n, "Host")) {
        s->host++;
    }
}

static void check_verdict(struct api_framing_verdict v)
{
    if (v.status != 0 && v.status != 400 && v.status != 501)
        __builtin_trap();
    if ((v.status != 0) != (v.reason != NULL) || (v.status != 0) != (v.why != NULL))
        __builtin_trap();
}

/* The target holds no space or control byte, and its path (before "?") no %00, %2f or %2F. */
static bool path_is_clean(const char *target)
{
    for (const char *p = target; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == 0x7f)
            return false;
    for (const char *p = target; *p && *p != '?'; p++)
        if (p[0] == '%' && p[1] && p[2] &&
            (strncmp(p + 1, "00", 2) == 0 || strncasecmp(p + 1, "2f", 2) == 0))
            return false;
    return true;
}

static void check_accepted(const struct seen *s, const char *version)
{
    bool http11 = strncmp(version, "HTTP/1.", 7) == 0 && strcmp(version, "HTTP/1.0") != 0;

    if (s->bad_name || s->cr || s->folded || s->cl > 1 || s->te > 1 || (s->cl && s->te) ||
        s->host > 1)
        __builtin_trap();
    if ((s->cl && !s->cl_digits) || (s->te && (!s->te_chunked || !http11)))
        __builtin_trap();
    if (http11 && s->host != 1)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_framing_scan scan = {0};
    struct api_framing_verdict v;
    struct seen seen = {0};
    char *text = malloc(size + 1), *lines[2] = {NULL, NULL}, *line;
    size_t nlines = 0;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* libmicrohttpd hands C strings */
    for (line = text; line; nlines++) {
        char *end = strchr(line, '\n'), *colon, *value;
        size_t len = end ? (size_t)(end - line) : strlen(line);

        if (end)
            *end = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (nlines < 2) {
            lines[nlines] = line;
        } else if (*line != ' ' && *line != '\t' && (colon = memchr(line, ':', len))) {
            /* a line without a colon is refused by libmicrohttpd; one that starts with a blank
             * continues the one before (obs-fold) */
            bool folded = end && (end[1] == ' ' || end[1] == '\t');

            value = colon + 1 + strspn(colon + 1, " \t");
            api_framing_add_field(&scan, line, (size_t)(colon - line), value,
                                  len - (size_t)(value - line), folded);
            note(&seen, line, (size_t)(colon - line), value, len - (size_t)(value - line));
            seen.folded |= folded;
        }
        line = end ? end + 1 : NULL;
    }
    v = api_framing_check(&scan, lines[0]);
    check_verdict(v);
    if (v.status == 0 && lines[0])
        check_accepted(&seen, lines[0]);
    v = api_framing_check_target(lines[1]);
    check_verdict(v);
    if (v.status == 0 && lines[1] && !path_is_clean(lines[1]))
        __builtin_trap();
    free(text);
    return 0;
}
