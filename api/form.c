/* api/form.c: form and query parameters. Bodies are parsed as forms whatever the Content-Type
 * says (cms-api.md 1.3: clients send forms labelled application/json). Input is untrusted: every
 * escape is checked, and NUL bytes and invalid UTF-8 are refused rather than passed on to SQLite
 * or the XML writer. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/form.h"

int api_is_utf8(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

static void set_bad(struct api_params *p, const char *name, size_t nlen)
{
    size_t n = nlen < API_PARAM_NAME_MAX ? nlen : API_PARAM_NAME_MAX;
    bool printable = true;

    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f)
            printable = false;
    if (!printable)
        n = 0;
    memcpy(p->bad, name, n);
    p->bad[n] = '\0';
}

int api_params_add(struct api_params *p, const char *name, size_t nlen, const char *value,
                   size_t vlen)
{
    struct api_param *slot;

    if (memchr(name, 0, nlen) || memchr(value, 0, vlen) || !api_is_utf8(name, nlen) ||
        !api_is_utf8(value, vlen)) {
        set_bad(p, name, nlen);
        return -EINVAL;
    }
    if (p->n >= API_PARAMS_MAX)
        return -E2BIG; /* no CMS form comes near; a flood of them is not a request */
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct api_param *v = realloc(p->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        p->v = v;
        p->cap = cap;
    }
    slot = &p->v[p->n];
    slot->name = strndup(name, nlen);
    slot->value = strndup(value, vlen);
    if (!slot->name || !slot->value) {
        free(slot->name);
        free(slot->value);
        return -ENOMEM;
    }
    p->n++;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..len) into out (at least len bytes). Returns the decoded length or -EINVAL. */
static long decode(const char *s, size_t len, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi, lo;

            if (len - i < 3)
                return -EINVAL;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return (long)o;
}

int api_params_parse(struct api_params *p, const char *s, size_t len)
{
    char *buf;
    size_t i = 0;
    int r = 0;

    buf = malloc(len + 1);
    if (!buf)
        return -ENOMEM;
    while (i < len && r == 0) {
        const char *pair = s + i, *amp = memchr(pair, '&', len - i), *eq;
        size_t plen = amp ? (size_t)(amp - pair) : len - i;
        long nlen, vlen;

        i += plen + 1;
        if (plen == 0)
            continue;
        eq = memchr(pair, '=', plen);
        nlen = decode(pair, eq ? (size_t)(eq - pair) : plen, buf);
        if (nlen < 0) {
            set_bad(p, pair, eq ? (size_t)(eq - pair) : plen);
            r = -EINVAL;
            break;
        }
        vlen = eq ? decode(eq + 1, plen - (size_t)(eq + 1 - pair), buf + nlen) : 0;
        if (vlen < 0) {
            set_bad(p, buf, (size_t)nlen);
            r = -EINVAL;
            break;
        }
        r = api_params_add(p, buf, (size_t)nlen, buf + nlen, (size_t)vlen);
    }
    free(buf);
    return r;
}

const char *api_params_get(const struct api_params *p, const char *name)
{
    for (size_t i = p->n; i-- > 0;)
        if (strcasecmp(p->v[i].name, name) == 0)
            return p->v[i].value;
    return NULL;
}

void api_params_done(struct api_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].name);
        free(p->v[i].value);
    }
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
    p->bad[0] = '\0';
}
