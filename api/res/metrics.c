/* api/res/metrics.c: GET /metrics in the Prometheus text format (version 0.0.4), behind the same
 * Basic auth as the API. Per TURN host: reachable, smoothed RTT, probes by result; API requests
 * by method, collection and status with a latency histogram; active calls and legs; media
 * packets and bytes by class, drops. Request counts are atomics the HTTP threads add to; the
 * rest is read when scraped. */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/http/auth.h"
#include "api/log.h"
#include "api/util.h"
#include "media/media.h"
#include "turnclient/turnclient.h"

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "other"};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

/* The first path segment after /api/v1/, as the API spells it, or "metrics", or "other". */
static const char *const collections[] = {
    "turnServers", "coSpaces", "inboundDialPlanRules", "tenants", "callBridges", "callBridgeGroups",
    "calls",       "callLegs", "callMatching",         "system",  "metrics",     "other"};
#define N_COLLECTIONS (sizeof(collections) / sizeof(collections[0]))

static const int statuses[] = {200, 400, 401, 403, 404, 405,
                               409, 413, 429, 500, 503, 0 /* other */};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]))

/* Seconds; the last bucket, +Inf, is the count. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define N_BOUNDS (sizeof(bounds) / sizeof(bounds[0]))

struct api_metrics {
    _Atomic uint64_t requests[N_METHODS][N_COLLECTIONS][N_STATUSES];
    _Atomic uint64_t le[N_BOUNDS]; /* requests that took at most bounds[i] (not cumulative) */
    _Atomic uint64_t count, sum_us;
    _Atomic uint64_t lingered;
    struct api_auth *_Atomic auth; /* set once the HTTP edge starts */
    _Atomic uint64_t closed[API_CLOSE_N];
};

int api_metrics_new(struct api_metrics **ret)
{
    *ret = calloc(1, sizeof(**ret));
    return *ret ? 0 : -ENOMEM;
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

static size_t collection_index(const char *path)
{
    size_t n;

    if (strcmp(path, "/metrics") == 0)
        return N_COLLECTIONS - 2;
    if (strncasecmp(path, "/api/v1/", 8) != 0)
        return N_COLLECTIONS - 1;
    path += 8;
    n = strcspn(path, "/");
    for (size_t i = 0; i + 2 < N_COLLECTIONS; i++)
        if (strlen(collections[i]) == n && strncasecmp(path, collections[i], n) == 0)
            return i;
    return N_COLLECTIONS - 1;
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
    atomic_fetch_add_explicit(&m->requests[method_index(method)][collection_index(path)][s], 1,
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

/* A label value as the text format wants it: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_requests(FILE *f, const struct api_metrics *m)
{
    uint64_t cumulative = 0;

    family(f, "callbridge_api_requests_total", "counter",
           "API requests answered, by method, collection and HTTP status.");
    for (size_t a = 0; a < N_METHODS; a++)
        for (size_t b = 0; b < N_COLLECTIONS; b++)
            for (size_t c = 0; c < N_STATUSES; c++) {
                uint64_t v = atomic_load(&m->requests[a][b][c]);

                if (!v)
                    continue;
                fprintf(f, "callbridge_api_requests_total{method=\"%s\",collection=\"%s\",",
                        methods[a], collections[b]);
                if (statuses[c])
                    fprintf(f, "status=\"%d\"} %llu\n", statuses[c], (unsigned long long)v);
                else
                    fprintf(f, "status=\"other\"} %llu\n", (unsigned long long)v);
            }
    family(f, "callbridge_api_request_duration_seconds", "histogram",
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
    family(f, "callbridge_http_lingering_closes_total", "counter",
           "Connections the server closed while the client was still sending (an early 4xx): "
           "what it sent on was drained, up to 2 s, so that it reads the answer instead of a "
           "reset.");
    fprintf(f, "callbridge_http_lingering_closes_total %llu\n",
            (unsigned long long)atomic_load(&m->lingered));
    family(f, "callbridge_log_suppressed_lines_total", "counter",
           "Log lines dropped by the log's rate limit (each call site may log a burst, then "
           "at its rate; the next line of a site says how many of its lines were dropped).");
    fprintf(f, "callbridge_log_suppressed_lines_total %llu\n",
            (unsigned long long)api_log_suppressed());
    family(f, "callbridge_http_closed_connections_total", "counter",
           "Connections the server closed before they completed a request in time (reason: "
           "headers, body, keepAlive) or to admit a new one on a full port (evicted).");
    for (size_t i = 0; i < API_CLOSE_N; i++) {
        static const char *const reasons[API_CLOSE_N] = {"headers", "body", "keepAlive", "evicted"};

        fprintf(f, "callbridge_http_closed_connections_total{reason=\"%s\"} %llu\n", reasons[i],
                (unsigned long long)atomic_load(&m->closed[i]));
    }
}

/* Every configured TURN server and what the prober knows of it, gathered once so that each
 * family is written in one piece, as the format requires. */
struct turn_seen {
    struct store_turn turn;
    struct turn_server_status status;
};

struct turn_walk {
    struct turn_prober *prober;
    struct turn_seen *v;
    size_t n, cap;
};

static int collect_turn(const struct store_turn *t, void *userdata)
{
    struct turn_walk *w = userdata;

    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        struct turn_seen *v = realloc(w->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        w->v = v;
        w->cap = cap;
    }
    memset(&w->v[w->n], 0, sizeof(w->v[0]));
    w->v[w->n].turn = *t;
    if (w->prober)
        (void)turn_prober_get(w->prober, t->id, &w->v[w->n].status);
    w->n++;
    return 0;
}

static void host_labels(FILE *f, const struct turn_seen *s, const struct turn_host_status *h)
{
    fprintf(f, "{turn_server=\"%s\",server_address=\"", s->turn.id);
    label(f, s->turn.server_address);
    fprintf(f, "\",address=\"%s\",port=\"%u\",transport=\"%s\"", h->address, h->port,
            h->tcp ? "tcp" : "udp");
}

static void render_turn(FILE *f, const struct turn_walk *w)
{
    family(f, "callbridge_turn_host_reachable", "gauge",
           "1 when the last probe of this TURN server address made an allocation, else 0.");
    for (size_t i = 0; i < w->n; i++)
        for (size_t k = 0; k < w->v[i].status.nhosts; k++) {
            const struct turn_host_status *h = &w->v[i].status.hosts[k];

            fputs("callbridge_turn_host_reachable", f);
            host_labels(f, &w->v[i], h);
            fprintf(f, "} %d\n", h->reachable ? 1 : 0);
        }
    family(f, "callbridge_turn_host_rtt_seconds", "gauge",
           "Smoothed round-trip time of the Allocate exchange, for reachable addresses.");
    for (size_t i = 0; i < w->n; i++)
        for (size_t k = 0; k < w->v[i].status.nhosts; k++) {
            const struct turn_host_status *h = &w->v[i].status.hosts[k];

            if (!h->reachable || h->rtt_us < 0)
                continue;
            fputs("callbridge_turn_host_rtt_seconds", f);
            host_labels(f, &w->v[i], h);
            fprintf(f, "} %.6f\n", (double)h->rtt_us / 1e6);
        }
    family(f, "callbridge_turn_probes_total", "counter",
           "Probes of a TURN server address by result: ok, or the failureReason of the status "
           "API.");
    for (size_t i = 0; i < w->n; i++)
        for (size_t k = 0; k < w->v[i].status.nhosts; k++) {
            const struct turn_host_status *h = &w->v[i].status.hosts[k];

            for (int r = 0; r < TURN_FAIL__COUNT; r++) {
                if (!h->probes[r])
                    continue;
                fputs("callbridge_turn_probes_total", f);
                host_labels(f, &w->v[i], h);
                fprintf(f, ",result=\"%s\"} %llu\n",
                        r == TURN_OK ? "ok" : turn_failure_name((enum turn_failure)r),
                        (unsigned long long)h->probes[r]);
            }
        }
    family(f, "callbridge_turn_dns_failures_total", "counter",
           "Lookups of a TURN server's name that failed (failureReason dnsFailure).");
    for (size_t i = 0; i < w->n; i++) {
        fprintf(f, "callbridge_turn_dns_failures_total{turn_server=\"%s\",server_address=\"",
                w->v[i].turn.id);
        label(f, w->v[i].turn.server_address);
        fprintf(f, "\"} %llu\n", (unsigned long long)w->v[i].status.dns_failures);
    }
}

static void render_media(FILE *f, const struct api *api)
{
    static const struct {
        const char *name, *help;
        size_t offset;
    } counters[] = {
        {"callbridge_media_received_packets_total", "Datagrams from call legs' endpoints.",
         offsetof(struct media_counters, rx_packets)},
        {"callbridge_media_received_bytes_total", "Bytes from call legs' endpoints.",
         offsetof(struct media_counters, rx_bytes)},
        {"callbridge_media_forwarded_packets_total", "Datagrams sent on to other legs.",
         offsetof(struct media_counters, fwd_packets)},
        {"callbridge_media_forwarded_bytes_total", "Bytes sent on to other legs.",
         offsetof(struct media_counters, fwd_bytes)},
        {"callbridge_media_dropped_packets_total",
         "Datagrams from endpoints that were not forwarded (no other leg ready).",
         offsetof(struct media_counters, dropped)},
    };
    struct media_totals t = {0};
    size_t calls = 0, legs = 0, max_legs = 0;

    if (api->calls)
        api_calls_counts(api->calls, &calls, &legs, &max_legs);
    family(f, "callbridge_calls_active", "gauge", "Calls in progress.");
    fprintf(f, "callbridge_calls_active %zu\n", calls);
    family(f, "callbridge_call_legs_active", "gauge", "Call legs in progress.");
    fprintf(f, "callbridge_call_legs_active %zu\n", legs);
    if (api->calls) {
        struct api_calls_budget b;

        api_calls_budget(api->calls, &b);
        family(f, "callbridge_call_legs_media_budget", "gauge",
               "Call legs with media admitted at most at once (--max-legs, RLIMIT_NOFILE).");
        fprintf(f, "callbridge_call_legs_media_budget %zu\n", b.budget);
        family(f, "callbridge_call_legs_media_active", "gauge",
               "Call legs with media in progress (each holds a socket).");
        fprintf(f, "callbridge_call_legs_media_active %zu\n", b.media_legs);
        family(f, "callbridge_call_legs_refused_total", "counter",
               "Call legs refused at POST, by CMS failure reason.");
        fprintf(f, "callbridge_call_legs_refused_total{reason=\"participantLimitReached\"} %llu\n",
                (unsigned long long)b.refused_call);
        fprintf(f,
                "callbridge_call_legs_refused_total{reason=\"nodeParticipantLimitReached\"} %llu\n",
                (unsigned long long)b.refused_node);
    }
    if (api->media)
        media_totals(api->media, &t);
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        family(f, counters[i].name, "counter", counters[i].help);
        for (int c = 0; c < MEDIA__CLASSES; c++)
            fprintf(f, "%s{class=\"%s\"} %llu\n", counters[i].name,
                    media_class_name((enum media_class)c),
                    (unsigned long long)*(const uint64_t *)((const char *)&t.cls[c] +
                                                            counters[i].offset));
    }
    family(f, "callbridge_media_strangers_total", "counter",
           "Datagrams from addresses other than a leg's endpoint, dropped.");
    fprintf(f, "callbridge_media_strangers_total %llu\n", (unsigned long long)t.strangers);
    family(f, "callbridge_media_malformed_total", "counter",
           "Datagrams from TURN servers that were not valid TURN, dropped.");
    fprintf(f, "callbridge_media_malformed_total %llu\n", (unsigned long long)t.malformed);
}

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
        family(f, series[i].name, series[i].type, series[i].help);
        fprintf(f, "%s %llu\n", series[i].name, series[i].value);
    }
}

/* The prober's sockets against its share of the descriptors (issue 12): a peak at the cap
 * means probes waited their turn, and a cycle over many servers took longer. */
static void render_prober_sockets(FILE *f, struct turn_prober *p)
{
    size_t open_now, peak, max;

    turn_prober_sockets(p, &open_now, &peak, &max);
    family(f, "callbridge_turn_prober_sockets", "gauge", "Probe sockets open now.");
    fprintf(f, "callbridge_turn_prober_sockets %zu\n", open_now);
    family(f, "callbridge_turn_prober_sockets_peak", "gauge",
           "The most probe sockets open at once since the start.");
    fprintf(f, "callbridge_turn_prober_sockets_peak %zu\n", peak);
    family(f, "callbridge_turn_prober_sockets_max", "gauge",
           "The most probe sockets allowed at once: the prober's share of what RLIMIT_NOFILE "
           "leaves (0: no cap). More probes wait their turn.");
    fprintf(f, "callbridge_turn_prober_sockets_max %zu\n", max);
}

void api_res_metrics(const struct api *api, struct store *st, const struct api_request *req,
                     struct api_reply *reply)
{
    struct turn_walk w = {.prober = api->prober};
    char *body = NULL;
    size_t len = 0;
    FILE *f;
    int r;

    (void)req;
    r = store_read_begin(st);
    if (r == 0)
        r = store_turn_foreach(st, collect_turn, &w);
    store_read_end(st);
    f = r < 0 ? NULL : open_memstream(&body, &len);
    if (!f) {
        free(w.v);
        api_reply_err(reply, r < 0 ? r : -ENOMEM);
        return;
    }
    render_turn(f, &w);
    free(w.v);
    if (api->prober)
        render_prober_sockets(f, api->prober);
    render_media(f, api);
    if (api->metrics)
        render_requests(f, api->metrics);
    if (api->metrics && atomic_load(&api->metrics->auth))
        render_auth(f, atomic_load(&api->metrics->auth));
    if (fclose(f) != 0) {
        free(body);
        api_reply_err(reply, -ENOMEM);
        return;
    }
    api_reply_done(reply);
    reply->status = 200;
    reply->body = body;
    reply->len = len;
    reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
