/* api/res/parse.c: parsing of request values for the handlers: booleans, integers, object ids,
 * paging, and the one "host[:port]" parser with the validators built on it (a TURN server's
 * serverAddress, a leg's remoteMediaAddress, a domain). The prober resolves names later; here
 * we only refuse what can never be an address. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/reply.h"
#include "api/res/parse.h"

int api_parse_bool(const char *s, bool *ret)
{
    if (strcasecmp(s, "true") == 0)
        *ret = true;
    else if (strcasecmp(s, "false") == 0)
        *ret = false;
    else
        return -EINVAL;
    return 0;
}

int api_parse_int(const char *s, int64_t min, int64_t max, int64_t *ret)
{
    const char *p = s;
    int64_t v = 0;
    bool neg = false;

    if (*p == '-') {
        neg = true;
        p++;
    }
    if (!*p || strlen(p) > 18) /* 18 digits cannot overflow int64_t */
        return -EINVAL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (*p - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

int api_parse_id(const char *s, char out[37])
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (strlen(s) != 36)
        return -ENOENT;
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];

        if (shape[i] == '-' ? c != '-' : !strchr("0123456789abcdefABCDEF", c))
            return -ENOENT;
        out[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    }
    out[36] = '\0';
    return 0;
}

static int page_param(const struct api_request *req, const char *name, size_t dflt, size_t *ret,
                      struct api_reply *reply)
{
    const char *s = api_params_get(req->query, name);
    int64_t v;

    if (!s || !*s) {
        *ret = dflt;
        return 0;
    }
    if (api_parse_int(s, 0, INT64_MAX / 2, &v) < 0) {
        api_reply_param_error(reply, name, "invalidValue");
        return -EINVAL;
    }
    *ret = (size_t)v;
    return 0;
}

int api_page_from_query(const struct api_request *req, size_t page_default, size_t *ret_offset,
                        size_t *ret_limit, struct api_reply *reply)
{
    size_t offset, limit;

    if (page_param(req, "offset", 0, &offset, reply) < 0 ||
        page_param(req, "limit", page_default, &limit, reply) < 0)
        return -EINVAL;
    *ret_offset = offset;
    *ret_limit = limit > API_PAGE_MAX ? API_PAGE_MAX : limit;
    return 0;
}

static bool is_port(const char *s)
{
    int64_t v;

    return api_parse_int(s, 1, 65535, &v) == 0 && s[0] != '-' && s[0] != '0';
}

/* RFC 1123 host name: labels of 1-63 letters, digits and hyphens, not starting or ending with a
 * hyphen, 253 bytes at most, an optional final dot; the last label is not all digits (that would
 * be a mistyped IPv4 address). */
static bool is_hostname(const char *s, size_t len)
{
    size_t label = 0;
    bool digits_only = true;

    if (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? s[i] : '.';

        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            if (i == len && digits_only)
                return false;
            label = 0;
            digits_only = true;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
        if (c == '-' && label == 0)
            return false;
        if (c < '0' || c > '9')
            digits_only = false;
        if (++label > 63)
            return false;
    }
    return true;
}

static bool is_ip(int af, const char *s, size_t len)
{
    unsigned char buf[16];
    char tmp[64];

    if (len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return inet_pton(af, tmp, buf) == 1;
}

/* The one "host[:port]" parser: "host", "host:port", "v4:port", a bare IPv6 address, "[v6]" or
 * "[v6]:port". A port is 1-65535 without a sign or leading zero. */
int api_parse_host_port(const char *s, char *host, size_t cap, uint16_t *ret_port,
                        bool *ret_bracketed)
{
    const char *colon = strchr(s, ':'), *port = NULL;
    size_t n = strlen(s);
    int64_t v = 0;

    *ret_bracketed = s[0] == '[';
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close || (close[1] != '\0' && close[1] != ':'))
            return -EINVAL;
        port = close[1] == ':' ? close + 2 : NULL;
        n = (size_t)(close - s - 1);
        s++;
    } else if (colon && !strchr(colon + 1, ':')) { /* one colon: host:port */
        port = colon + 1;
        n = (size_t)(colon - s);
    } /* else no colon, or a bare IPv6 address */
    if (port && (!is_port(port) || api_parse_int(port, 1, 65535, &v) < 0))
        return -EINVAL;
    if (n >= cap)
        return -EINVAL;
    memcpy(host, s, n);
    host[n] = '\0';
    *ret_port = (uint16_t)v;
    return 0;
}

bool api_is_host_port(const char *s)
{
    char host[STORE_TEXT_MAX + 1];
    uint16_t port;
    bool bracketed;

    if (s[0] == '\0' || strlen(s) > STORE_TEXT_MAX ||
        api_parse_host_port(s, host, sizeof(host), &port, &bracketed) < 0)
        return false;
    if (bracketed || strchr(host, ':'))
        return is_ip(AF_INET6, host, strlen(host));
    return is_ip(AF_INET, host, strlen(host)) || is_hostname(host, strlen(host));
}

bool api_is_domain(const char *s)
{
    size_t len = strlen(s);

    return len > 0 && len <= STORE_TEXT_MAX &&
           (is_ip(AF_INET, s, len) || is_ip(AF_INET6, s, len) || is_hostname(s, len));
}
