/* api/log.h: one line per event on stderr (journald friendly). Never pass a secret. */
#ifndef API_LOG_H
#define API_LOG_H

#include <stdatomic.h>
#include <stdbool.h>

enum api_log_level { API_LOG_ERR, API_LOG_WARN, API_LOG_INFO, API_LOG_DEBUG };

/* Sets the most verbose level that is printed (default info). Thread-safe. */
void api_log_set_level(enum api_log_level level);
/* Parses "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int api_log_parse_level(const char *s, enum api_log_level *ret_level);
/* Prints "<ISO-8601 UTC time> <level> <message>\n" as one write, if level is enabled. */
void api_log(enum api_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For a message that could repeat on every request: true at most once per 'seconds' for the
 * same *last (a static of the caller's, zero at first), so only one caller logs. Thread-safe. */
bool api_log_due(atomic_llong *last, int seconds);

#endif
