/* api/http/framing.h: the checks of a request's framing (RFC 9112) and of its target's path, before
 * any handler sees it.
 *
 * libmicrohttpd 0.9.75 frames a request by its first Transfer-Encoding (only the bare value
 * "chunked" is decoded; any other value is read until the client closes) and, without one, by its
 * first Content-Length; every other header line is passed through. A front end that frames the
 * same bytes differently (the other Content-Length, the Content-Length beside Transfer-Encoding,
 * a "Transfer-Encoding :" it does not recognise) would forward a second request hidden in the
 * body: request smuggling. So what libmicrohttpd would frame differently from another reader is
 * refused, as RFC 9112 says, and the connection is closed after the answer.
 *
 * Pure functions: no I/O, no allocation, no state beyond the caller's struct. */
#ifndef API_FRAMING_H
#define API_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

/* A refusal, or acceptance (status 0). The strings are static. */
struct api_framing_verdict {
    int status;         /* 0: acceptable; otherwise 400 or 501 */
    const char *reason; /* the failureDetails element for the answer; NULL when acceptable */
    const char *why;    /* what was wrong, for the log line (cites the RFC); NULL when acceptable */
};

/* The header lines of one request, as api_framing_add_field() has seen them. Zero it first. The
 * value pointers are borrowed: they must live until api_framing_check(). */
struct api_framing_scan {
    size_t content_lengths, transfer_encodings, hosts;     /* lines of each */
    const char *content_length, *transfer_encoding, *host; /* the first line's value of each */
    size_t content_length_len, transfer_encoding_len, host_len;
    bool lengths_differ;                  /* two Content-Length lines with different values */
    struct api_framing_verdict bad_field; /* the first line that is malformed in itself */
};

/* Adds one header line, as libmicrohttpd hands it: the name as sent (everything before the
 * first colon) and the value after the whitespace that follows the colon. Lines are added in
 * the order received, one call per line (a repeated field is not merged). 'folded': the line
 * was continued on the next one (obs-fold), which libmicrohttpd 0.9.75 joins to the *name*
 * ("Transfer-Encod: chunked" and " ing" become a Transfer-Encoding), so the name and value
 * cannot be trusted. */
void api_framing_add_field(struct api_framing_scan *scan, const char *name, size_t name_len,
                           const char *value, size_t value_len, bool folded);

/* The verdict on the header lines of a request of this HTTP version ("HTTP/1.1", "HTTP/1.0"):
 * 400 "invalidHeaderField": a name that is not a token (whitespace before the colon included,
 *     RFC 9112 5.1), a value with a bare CR (RFC 9112 2.2), or a folded line (RFC 9112 5.2);
 * 400 "invalidRequestFraming": Transfer-Encoding repeated, or together with Content-Length
 *     (RFC 9112 6.1, 6.3); Content-Length repeated, conflicting or not a number (RFC 9110 8.6);
 *     Transfer-Encoding on HTTP/1.0 (RFC 9112 6.1); chunked not the final coding, or applied
 *     twice (RFC 9112 6.3, 6.1); a Transfer-Encoding that is not a list of codings, or a list
 *     with chunked alone that is not the bare value "chunked", which libmicrohttpd cannot frame;
 * 501 "unsupportedTransferCoding": a coding other than chunked before the final chunked
 *     (RFC 9112 6.1);
 * 400 "invalidHost": Host missing from an HTTP/1.1 request, repeated, or with characters a host
 *     and port cannot hold (RFC 9112 3.2). */
struct api_framing_verdict api_framing_check(const struct api_framing_scan *scan,
                                             const char *version);

/* The verdict on a request target as sent (not yet unescaped; NULL is acceptable):
 * 400 "invalidRequestTarget": a space or control character anywhere in it (RFC 9112 3.2; curl,
 *     Python and Node refuse to send one);
 * 400 "invalidPath": an encoded NUL (%00) or slash (%2f, %2F) in its path, since unescaped it
 *     would cut the path short or split a segment in two. The query is not looked at for
 *     these: its values are checked by the form parser, and an encoded slash is ordinary there. */
struct api_framing_verdict api_framing_check_target(const char *target);

#endif
