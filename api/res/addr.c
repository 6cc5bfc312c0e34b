/* api/res/addr.c: validation of "host[:port]" values such as a TURN server's serverAddress. The
 * prober resolves names later; here we only refuse what can never be an address. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "api/api.h"

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

bool api_is_host_port(const char *s)
{
    const char *colon;
    size_t len = strlen(s);

    if (len == 0 || len > STORE_TEXT_MAX)
        return false;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close || !is_ip(AF_INET6, s + 1, (size_t)(close - s - 1)))
            return false;
        return close[1] == '\0' || (close[1] == ':' && is_port(close + 2));
    }
    colon = strchr(s, ':');
    if (colon && strchr(colon + 1, ':')) /* two colons: a bare IPv6 address */
        return is_ip(AF_INET6, s, len);
    if (colon && !is_port(colon + 1))
        return false;
    len = colon ? (size_t)(colon - s) : len;
    return is_ip(AF_INET, s, len) || is_hostname(s, len);
}

bool api_is_domain(const char *s)
{
    size_t len = strlen(s);

    return len > 0 && len <= STORE_TEXT_MAX &&
           (is_ip(AF_INET, s, len) || is_ip(AF_INET6, s, len) || is_hostname(s, len));
}
