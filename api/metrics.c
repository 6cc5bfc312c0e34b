/* api/metrics.c: the counters the HTTPS edge adds to (requests by method, route label and status
 * with a latency histogram, lingering and early closes) and their Prometheus rendering; the
 * route labels come from the router's table through the composition root. GET /metrics itself
 * (api/res/metrics.c) adds what it reads when scraped. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/auth.h"
#include "api/log.h"
#include "api/metrics.h"
#include "api/util.h"

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "other"};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static const int statuses[] = {200, 400, 401, 403, 404, 405,
                               409, 413, 429, 500, 503, 0 /* other */};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]))

/* Seconds; the last bucket, +Inf, is the count. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define N_BOUNDS (sizeof(bounds) / sizeof(bounds[0]))

struct api_metrics {
    struct api_metrics_labels labels;
    _Atomic uint64_t requests[N_METHODS][API_METRICS_MAX_LABELS][N_STATUSES];
    _Atomic uint64_t le[N_BOUNDS]; /* requests that took at most bounds[i] (not cumulative) */
    _Atomic uint64_t count, sum_us;
    _Atomic uint64_t lingered;
    struct api_auth *_Atomic auth; /* set once the HTTP edge starts */
    _Atomic uint64_t closed[API_CLOSE_N];
};

int api_metrics_new(const struct api_metrics_labels *labels, struct api_metrics **ret)
{
    if (labels->n == 0 || labels->n > API_METRICS_MAX_LABELS)
        return -EINVAL;
    *ret = calloc(1, sizeof(**ret));
    if (!*ret)
        return -ENOMEM;
    (*ret)->labels = *labels;
    return 0;
}

void api_metrics_free(struct api_metrics *m)
{
    free(m);
}

static size_t method_index(const char *method)
{
    for (size_t i = 0; i + 1 < N_METHODS; i++)
        if (strcmp(method, methods[i]) == 0)
            return i;
    return N_METHODS - 1;
}

/* The label's index; the last label (the router's "other") for one not in the list. */
static size_t label_index(const struct api_metrics *m, const char *path)
{
    const char *label = m->labels.of(path);

    for (size_t i = 0; i + 1 < m->labels.n; i++)
        if (strcmp(m->labels.names[i], label) == 0)
            return i;
    return m->labels.n - 1;
}

void api_metrics_request(struct api_metrics *m, const char *method, const char *path, int status,
                         int64_t duration_us)
{
    size_t s = N_STATUSES - 1;

    if (!m)
        return;
    for (size_t i = 0; i + 1 < N_STATUSES; i++)
        if (statuses[i] == status)
            s = i;
    atomic_fetch_add_explicit(&m->requests[method_index(method)][label_index(m, path)][s], 1,
                              memory_order_relaxed);
    for (size_t i = 0; i < N_BOUNDS; i++) {
        if ((double)duration_us <= bounds[i] * 1e6) {
            atomic_fetch_add_explicit(&m->le[i], 1, memory_order_relaxed);
            break;
        }
    }
    atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, (uint64_t)(duration_us > 0 ? duration_us : 0),
                              memory_order_relaxed);
}

void api_metrics_lingered(struct api_metrics *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->lingered, 1, memory_order_relaxed);
}

void api_metrics_watch_auth(struct api_metrics *m, struct api_auth *auth)
{
    if (m)
        atomic_store(&m->auth, auth);
}

void api_metrics_closed(struct api_metrics *m, enum api_close_reason why)
{
    if (m && why < API_CLOSE_N)
        atomic_fetch_add_explicit(&m->closed[why], 1, memory_order_relaxed);
}

void api_metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The edge's password checks and login throttle (api/http/auth.h). */
static void render_auth(FILE *f, struct api_auth *auth)
{
    struct api_auth_stats s;

    api_auth_stats(auth, api_now_us(), &s);
    const struct {
        const char *name, *type, *help;
        unsigned long long value;
    } series[] = {
        {"callbridge_auth_verifications_total", "counter",
         "Passwords checked against their slow hash (cached credentials need none).",
         s.verifications},
        {"callbridge_auth_verifications_busy_total", "counter",
         "Password checks that found every verification slot busy: the request waited "
         "(suspended, at most 2 s) or was answered 503.",
         s.busy},
        {"callbridge_auth_verification_waits_total", "counter",
         "Times a request was suspended to wait for a verification slot.", s.waited},
        {"callbridge_auth_verifications_running", "gauge", "Password checks running now.",
         s.verifying},
        {"callbridge_auth_verifications_peak", "gauge",
         "The most password checks that ever ran at once.", s.peak},
        {"callbridge_auth_verifications_limit", "gauge",
         "The most password checks allowed to run at once.", s.limit},
        {"callbridge_auth_throttle_records", "gauge",
         "Client addresses with failed logins being counted or in backoff.", s.records},
        {"callbridge_auth_trusted_addresses", "gauge",
         "Client addresses that logged in lately, whose records strangers cannot take.", s.trusted},
        {"callbridge_auth_throttle_overflow_total", "counter",
         "Failed logins counted in the shared record: the throttle table had no room.",
         s.overflowed},
    };

    for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
        api_metrics_family(f, series[i].name, series[i].type, series[i].help);
        fprintf(f, "%s %llu\n", series[i].name, series[i].value);
    }
}

void api_metrics_render(FILE *f, struct api_metrics *m)
{
    uint64_t cumulative = 0;

    api_metrics_family(f, "callbridge_api_requests_total", "counter",
                       "API requests answered, by method, collection and HTTP status.");
    for (size_t a = 0; a < N_METHODS; a++)
        for (size_t b = 0; b < m->labels.n; b++)
            for (size_t c = 0; c < N_STATUSES; c++) {
                uint64_t v = atomic_load(&m->requests[a][b][c]);

                if (!v)
                    continue;
                fprintf(f, "callbridge_api_requests_total{method=\"%s\",collection=\"%s\",",
                        methods[a], m->labels.names[b]);
                if (statuses[c])
                    fprintf(f, "status=\"%d\"} %llu\n", statuses[c], (unsigned long long)v);
                else
                    fprintf(f, "status=\"other\"} %llu\n", (unsigned long long)v);
            }
    api_metrics_family(f, "callbridge_api_request_duration_seconds", "histogram",
                       "Time from a request's headers to its answer being queued.");
    for (size_t i = 0; i < N_BOUNDS; i++) {
        cumulative += atomic_load(&m->le[i]);
        fprintf(f, "callbridge_api_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[i],
                (unsigned long long)cumulative);
    }
    {
        uint64_t count = atomic_load(&m->count);

        /* count is read after the buckets, so +Inf is never below the last bucket */
        fprintf(f, "callbridge_api_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                (unsigned long long)(count > cumulative ? count : cumulative));
        fprintf(f, "callbridge_api_request_duration_seconds_sum %.6f\n",
                (double)atomic_load(&m->sum_us) / 1e6);
        fprintf(f, "callbridge_api_request_duration_seconds_count %llu\n",
                (unsigned long long)(count > cumulative ? count : cumulative));
    }
    api_metrics_family(
        f, "callbridge_http_lingering_closes_total", "counter",
        "Connections the server closed while the client was still sending (an early 4xx): "
        "what it sent on was drained, up to 2 s, so that it reads the answer instead of a "
        "reset.");
    fprintf(f, "callbridge_http_lingering_closes_total %llu\n",
            (unsigned long long)atomic_load(&m->lingered));
    api_metrics_family(
        f, "callbridge_log_suppressed_lines_total", "counter",
        "Log lines dropped by the log's rate limit (each call site may log a burst, then "
        "at its rate; the next line of a site says how many of its lines were dropped).");
    fprintf(f, "callbridge_log_suppressed_lines_total %llu\n",
            (unsigned long long)api_log_suppressed());
    api_metrics_family(
        f, "callbridge_http_closed_connections_total", "counter",
        "Connections the server closed before they completed a request in time (reason: "
        "headers, body, keepAlive) or to admit a new one on a full port (evicted).");
    for (size_t i = 0; i < API_CLOSE_N; i++) {
        static const char *const reasons[API_CLOSE_N] = {"headers", "body", "keepAlive", "evicted"};

        fprintf(f, "callbridge_http_closed_connections_total{reason=\"%s\"} %llu\n", reasons[i],
                (unsigned long long)atomic_load(&m->closed[i]));
    }
    if (atomic_load(&m->auth))
        render_auth(f, atomic_load(&m->auth));
}
