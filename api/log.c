/* api/log.c: the daemon's logger. Each event is formatted into one buffer and written with a
 * single write(2), so lines from the HTTP worker threads never interleave.
 *
 * The rate limiter: a table of call sites, keyed by their format string (a string literal, so
 * one pointer per place in the code; a library's logger passes the library's own format). Each
 * site holds a token bucket kept as credit in microseconds: a line costs interval_us, credit
 * grows with time up to burst * interval_us. The table is fixed (no allocation when logging);
 * should it fill, the sites that find no slot share one bucket with the default rate. A mutex
 * guards it: logging is not on a hot path (the request log line's write(2) costs far more). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/log.h"

#define SITES 256
#define PROBES 8

struct site {
    const void *key; /* NULL: free */
    struct api_log_rate rate;
    int64_t credit_us;
    int64_t at_us;
    uint64_t dropped; /* since the site's last line */
};

static _Atomic int log_level = BASE_LOG_INFO;
static const struct {
    enum base_log_level level;
    const char *name;
} levels[] = {{BASE_LOG_ERR, "error"},
              {BASE_LOG_WARN, "warn"},
              {BASE_LOG_INFO, "info"},
              {BASE_LOG_DEBUG, "debug"}};

static const char *level_name(enum base_log_level level)
{
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (levels[i].level == level)
            return levels[i].name;
    return level < BASE_LOG_ERR ? "error" : "debug";
}
static pthread_mutex_t sites_lock = PTHREAD_MUTEX_INITIALIZER;
static struct site sites[SITES + 1]; /* the last one: the shared bucket of a full table */
static atomic_ullong suppressed;
/* The tap, published by one pointer: a thread that sees it sees both members. */
struct tap {
    api_log_tap_fn fn;
    void *userdata;
};
static struct tap tap_set;
static _Atomic(const struct tap *) tap_now;
static atomic_int tap_wanted;

const struct api_log_rate api_log_rate_default = {.interval_us = 1000000, .burst = 30};

void api_log_set_level(enum base_log_level level)
{
    atomic_store(&log_level, (int)level);
}

int api_log_parse_level(const char *s, enum base_log_level *ret_level)
{
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if (strcasecmp(s, levels[i].name) == 0) {
            *ret_level = levels[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

void api_log_set_tap(api_log_tap_fn fn, void *userdata)
{
    atomic_store(&tap_now, NULL);
    tap_set = (struct tap){fn, userdata};
    atomic_store(&tap_now, fn ? &tap_set : NULL);
}

void api_log_tap_want(bool want)
{
    atomic_fetch_add(&tap_wanted, want ? 1 : -1);
}

uint64_t api_log_suppressed(void)
{
    return atomic_load(&suppressed);
}

static int64_t now_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct site *site_of(const void *key, const struct api_log_rate *rate, int64_t now)
{
    size_t h = (size_t)(((uintptr_t)key >> 3) * 0x9e3779b97f4a7c15ull) % SITES;

    for (size_t i = 0; i < PROBES; i++) {
        struct site *s = &sites[(h + i) % SITES];

        if (s->key == key)
            return s;
        if (!s->key) {
            s->key = key;
            s->rate = *rate;
            s->credit_us = (int64_t)rate->burst * rate->interval_us;
            s->at_us = now;
            return s;
        }
    }
    if (!sites[SITES].key) {
        sites[SITES].key = &sites[SITES];
        sites[SITES].rate = api_log_rate_default;
        sites[SITES].credit_us =
            (int64_t)api_log_rate_default.burst * api_log_rate_default.interval_us;
        sites[SITES].at_us = now;
    }
    return &sites[SITES];
}

/* True when the site may log now; *ret_dropped is then what it dropped since its last line. */
static bool admit(const void *key, const struct api_log_rate *rate, uint64_t *ret_dropped)
{
    int64_t now = now_us(), cap;
    struct site *s;
    bool ok;

    pthread_mutex_lock(&sites_lock);
    s = site_of(key, rate, now);
    cap = (int64_t)s->rate.burst * s->rate.interval_us;
    s->credit_us += now - s->at_us;
    if (s->credit_us > cap)
        s->credit_us = cap;
    s->at_us = now;
    ok = s->credit_us >= s->rate.interval_us;
    if (ok) {
        s->credit_us -= s->rate.interval_us;
        *ret_dropped = s->dropped;
        s->dropped = 0;
    } else {
        s->dropped++;
    }
    pthread_mutex_unlock(&sites_lock);
    if (!ok)
        atomic_fetch_add(&suppressed, 1);
    return ok;
}

__attribute__((format(printf, 4, 0))) static void emit(const void *key,
                                                       const struct api_log_rate *rate,
                                                       enum base_log_level level, const char *fmt,
                                                       va_list ap)
{
    char line[1024];
    struct timespec ts;
    uint64_t dropped = 0;
    struct tm tm;
    size_t n;
    int r;
    const struct tap *tap = atomic_load(&tap_now);
    bool wanted = tap && atomic_load(&tap_wanted) > 0;
    bool printed = (int)level <= atomic_load(&log_level), tapped;

    if (!wanted && !printed)
        return;
    printed = printed && admit(key, rate, &dropped);
    tapped = tap && (wanted || printed);
    if (!tapped && !printed)
        return;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    (void)gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ", ts.tv_nsec / 1000000,
                 level_name(level));
    n += r > 0 ? (size_t)r : 0;
    r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    n += r < 0 ? 0 : (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
    if (dropped > 0) {
        r = snprintf(line + n, sizeof(line) - n - 1,
                     " (%llu more like this suppressed by the log rate limit)",
                     (unsigned long long)dropped);
        n += r < 0 ? 0 : (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
    }
    if (tapped)
        tap->fn(tap->userdata, line, n);
    if (!printed)
        return;
    line[n++] = '\n';
    (void)!write(STDERR_FILENO, line, n);
}

void api_log(enum base_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit(fmt, &api_log_rate_default, level, fmt, ap);
    va_end(ap);
}

void api_log_at(const struct api_log_rate *rate, enum base_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit(fmt, rate, level, fmt, ap);
    va_end(ap);
}

void api_log_every(int seconds, enum base_log_level level, const char *fmt, ...)
{
    struct api_log_rate rate = {.interval_us = (int64_t)seconds * 1000000, .burst = 1};
    va_list ap;

    va_start(ap, fmt);
    emit(fmt, &rate, level, fmt, ap);
    va_end(ap);
}

void api_log_site(const void *site, const struct api_log_rate *rate, enum base_log_level level,
                  const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit(site, rate, level, fmt, ap);
    va_end(ap);
}
