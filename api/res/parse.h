/* api/res/parse.h: parsing of request values (booleans, integers, ids, paging, host:port). */
#ifndef API_RES_PARSE_H
#define API_RES_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

/* Parses offset/limit from the query: defaults 0 and page_default, limit capped at API_PAGE_MAX.
 * Returns 0, or -EINVAL with a parameterError already in *reply. */
int api_page_from_query(const struct api_request *req, size_t page_default, size_t *ret_offset,
                        size_t *ret_limit, struct api_reply *reply);
/* Parses true/false in any case. Returns 0 or -EINVAL. */
int api_parse_bool(const char *s, bool *ret);
/* Parses a decimal integer in [min, max] (digits only, optional '-'). Returns 0 or -EINVAL. */
int api_parse_int(const char *s, int64_t min, int64_t max, int64_t *ret);
/* Copies an object id from the path into out[37] in lower case; -ENOENT if it is not a UUID. */
int api_parse_id(const char *s, char out[37]);

/* Splits "host", "host:port", "v4:port", a bare IPv6 address, "[v6]" or "[v6]:port" into host
 * (without brackets, cap bytes with the NUL) and port (0 when absent); *ret_bracketed says
 * whether the host was in brackets. Returns 0, or -EINVAL for a bad port or a host too long.
 * The host itself is not checked: api_is_host_port does. */
int api_parse_host_port(const char *s, char *host, size_t cap, uint16_t *ret_port,
                        bool *ret_bracketed);
/* True when s is "host", "host:port", an IPv4 address with optional ":port", a bare IPv6
 * address, or "[v6]:port" / "[v6]", with host an RFC 1123 name and port 1-65535. */
bool api_is_host_port(const char *s);
/* True for an RFC 1123 host name or an IPv4 or IPv6 address, without a port. */
bool api_is_domain(const char *s);

#endif
