/* api/log.c: the daemon's logger. Each event is formatted into one buffer and written with a
 * single write(2), so lines from the HTTP worker threads never interleave. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/log.h"

static _Atomic int log_level = API_LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void api_log_set_level(enum api_log_level level)
{
    atomic_store(&log_level, (int)level);
}

int api_log_parse_level(const char *s, enum api_log_level *ret_level)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *ret_level = (enum api_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void api_log(enum api_log_level level, const char *fmt, ...)
{
    char line[1024];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    size_t n;
    int r;

    if ((int)level > atomic_load(&log_level))
        return;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    (void)gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ", ts.tv_nsec / 1000000,
                 level_names[level]);
    n += r > 0 ? (size_t)r : 0;
    va_start(ap, fmt);
    r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (r < 0)
        r = 0;
    n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
    line[n++] = '\n';
    (void)!write(STDERR_FILENO, line, n);
}

bool api_log_due(atomic_llong *last, int seconds)
{
    struct timespec ts;
    long long now, prev;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (long long)ts.tv_sec;
    prev = atomic_load(last);
    if (prev && now - prev < seconds)
        return false;
    return atomic_compare_exchange_strong(last, &prev, now);
}
