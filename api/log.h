/* api/log.h: one line per event on stderr (journald friendly). Never pass a secret.
 *
 * Every line goes through one rate limiter, per call site: its format string is the key, and a
 * site may log a burst of lines, then one every so often (struct api_log_rate). Lines over the
 * rate are dropped and counted; the site's next line that goes out says how many, and /metrics
 * shows the total. So no source, a stranger's failed TLS handshakes or libmicrohttpd's own
 * complaints included, can fill a disk through the log. */
#ifndef API_LOG_H
#define API_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/base.h" /* the levels: enum base_log_level */

/* A site may log 'burst' lines at once, and earns one more every 'interval_us'. */
struct api_log_rate {
    int64_t interval_us;
    unsigned burst;
};

/* What api_log() allows a site: 30 lines at once, then one a second. */
extern const struct api_log_rate api_log_rate_default;

/* Sets the most verbose level that is printed (default info). Thread-safe. */
void api_log_set_level(enum base_log_level level);
/* Parses "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int api_log_parse_level(const char *s, enum base_log_level *ret_level);
/* Prints "<ISO-8601 UTC time> <level> <message>\n" as one write, if level is enabled and the
 * call site (fmt) is within api_log_rate_default. Thread-safe. */
void api_log(enum base_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with the site's own rate (the first call of a site sets it). */
void api_log_at(const struct api_log_rate *rate, enum base_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* At most one line every 'seconds' from this site: for a message that could repeat on every
 * request or datagram. */
void api_log_every(int seconds, enum base_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For a logger callback: 'site' is the key (a library's own format string, one per place it
 * logs, or the address of a static of the caller's), with rate (the first call sets it). */
void api_log_site(const void *site, const struct api_log_rate *rate, enum base_log_level level,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A tap: fn sees every line that is printed (the "<time> <level> <message>" text, no newline)
 * and, while api_log_tap_want(true) calls outnumber api_log_tap_want(false) ones, every line
 * any site logs, at any level and before the rate limiter: call diagnostics (api/res/diag.c)
 * keep the lines that name their call. fn runs on the logging thread, with whatever lock it holds:
 * it must not log, nor take a lock that is held around a call to api_log. It may be set while
 * threads log (each line sees the old tap or the new one whole); its userdata must outlive every
 * line that may still be in the old one, so clear it (fn NULL) only once no thread logs. */
typedef void (*api_log_tap_fn)(void *userdata, const char *line, size_t len);
void api_log_set_tap(api_log_tap_fn fn, void *userdata);
void api_log_tap_want(bool want);

/* Lines dropped by the limiter since start. Thread-safe. */
uint64_t api_log_suppressed(void);

#endif
