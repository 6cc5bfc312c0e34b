/* api/res/metrics.c: GET /metrics in the Prometheus text format (version 0.0.4), behind the same
 * Basic auth as the API. Per TURN host: reachable, smoothed RTT, probes by result; active calls
 * and legs; media packets and bytes by class, drops; password checks. The request counters
 * the HTTP threads add to are api/metrics.c's; the rest is read when scraped. */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/cdr.h"
#include "api/cluster.h"
#include "api/log.h"
#include "api/metrics.h"
#include "api/reply.h"
#include "api/res/alarms.h"
#include "api/res/guest.h"
#include "api/res/metrics.h"
#include "api/res/registry.h"
#include "api/util.h"
#include "media/media.h"
#include "turnclient/turnclient.h"

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
    api_metrics_family(
        f, "callbridge_turn_host_reachable", "gauge",
        "1 when the last probe of this TURN server address made an allocation, else 0.");
    for (size_t i = 0; i < w->n; i++)
        for (size_t k = 0; k < w->v[i].status.nhosts; k++) {
            const struct turn_host_status *h = &w->v[i].status.hosts[k];

            fputs("callbridge_turn_host_reachable", f);
            host_labels(f, &w->v[i], h);
            fprintf(f, "} %d\n", h->reachable ? 1 : 0);
        }
    api_metrics_family(
        f, "callbridge_turn_host_rtt_seconds", "gauge",
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
    api_metrics_family(
        f, "callbridge_turn_probes_total", "counter",
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
    api_metrics_family(f, "callbridge_turn_dns_failures_total", "counter",
                       "Lookups of a TURN server's name that failed (failureReason dnsFailure).");
    for (size_t i = 0; i < w->n; i++) {
        fprintf(f, "callbridge_turn_dns_failures_total{turn_server=\"%s\",server_address=\"",
                w->v[i].turn.id);
        label(f, w->v[i].turn.server_address);
        fprintf(f, "\"} %llu\n", (unsigned long long)w->v[i].status.dns_failures);
    }
}

/* Guests (the join page): sessions now, joins and refusals, and how sessions ended. */
/* In a cluster: which node this is, so that its TURN series (its own probes) are told apart. */
static void render_node(FILE *f, const struct api_cluster *c)
{
    api_metrics_family(f, "callbridge_cluster_node_info", "gauge",
                       "This call bridge in its cluster; the TURN series are its own probes.");
    fputs("callbridge_cluster_node_info{name=\"", f);
    label(f, api_cluster_name(c));
    fprintf(f, "\",call_bridge=\"%s\"} 1\n", api_cluster_bridge_id(c));
}

static void render_guests(FILE *f, struct api_guests *g)
{
    struct api_guest_counts c;

    api_guests_counts(g, &c);
    api_metrics_family(f, "callbridge_guests_active", "gauge",
                       "Guests in a meeting through the join page (WebRTC legs).");
    fprintf(f, "callbridge_guests_active %zu\n", c.active);
    api_metrics_family(f, "callbridge_guest_joins_total", "counter",
                       "Joins through the join page: admitted, or refused (wrong meeting ID, "
                       "passcode or secret).");
    fprintf(f, "callbridge_guest_joins_total{result=\"joined\"} %llu\n",
            (unsigned long long)c.joined);
    fprintf(f, "callbridge_guest_joins_total{result=\"refused\"} %llu\n",
            (unsigned long long)c.refused);
    api_metrics_family(f, "callbridge_guest_sessions_ended_total", "counter",
                       "Guest sessions ended: the guest left, an administrator dropped it, or "
                       "its media failed (iceFailed, dtlsFailed, timeout, turnServerFailed, ...).");
    fprintf(f, "callbridge_guest_sessions_ended_total{reason=\"left\"} %llu\n",
            (unsigned long long)c.ended_left);
    fprintf(f, "callbridge_guest_sessions_ended_total{reason=\"dropped\"} %llu\n",
            (unsigned long long)c.ended_dropped);
    fprintf(f, "callbridge_guest_sessions_ended_total{reason=\"failed\"} %llu\n",
            (unsigned long long)c.ended_failed);
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
    api_metrics_family(f, "callbridge_calls_active", "gauge", "Calls in progress.");
    fprintf(f, "callbridge_calls_active %zu\n", calls);
    api_metrics_family(f, "callbridge_call_legs_active", "gauge", "Call legs in progress.");
    fprintf(f, "callbridge_call_legs_active %zu\n", legs);
    if (api->calls) {
        struct api_calls_budget b;

        api_calls_budget(api->calls, &b);
        api_metrics_family(
            f, "callbridge_call_legs_media_budget", "gauge",
            "Call legs with media admitted at most at once (--max-legs, RLIMIT_NOFILE).");
        fprintf(f, "callbridge_call_legs_media_budget %zu\n", b.budget);
        api_metrics_family(f, "callbridge_call_legs_media_active", "gauge",
                           "Call legs with media in progress (each holds a socket).");
        fprintf(f, "callbridge_call_legs_media_active %zu\n", b.media_legs);
        api_metrics_family(f, "callbridge_call_legs_refused_total", "counter",
                           "Call legs refused at POST, by CMS failure reason.");
        fprintf(f, "callbridge_call_legs_refused_total{reason=\"participantLimitReached\"} %llu\n",
                (unsigned long long)b.refused_call);
        fprintf(f,
                "callbridge_call_legs_refused_total{reason=\"nodeParticipantLimitReached\"} %llu\n",
                (unsigned long long)b.refused_node);
    }
    if (api->guests)
        render_guests(f, api->guests);
    if (api->media)
        media_totals(api->media, &t);
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        api_metrics_family(f, counters[i].name, "counter", counters[i].help);
        for (int c = 0; c < MEDIA__CLASSES; c++)
            fprintf(f, "%s{class=\"%s\"} %llu\n", counters[i].name,
                    media_class_name((enum media_class)c),
                    (unsigned long long)*(const uint64_t *)((const char *)&t.cls[c] +
                                                            counters[i].offset));
    }
    api_metrics_family(f, "callbridge_media_strangers_total", "counter",
                       "Datagrams from addresses other than a leg's endpoint, dropped.");
    fprintf(f, "callbridge_media_strangers_total %llu\n", (unsigned long long)t.strangers);
    api_metrics_family(f, "callbridge_media_malformed_total", "counter",
                       "Datagrams from TURN servers that were not valid TURN, dropped.");
    fprintf(f, "callbridge_media_malformed_total %llu\n", (unsigned long long)t.malformed);
}

/* The prober's sockets against its share of the descriptors (issue 12): a peak at the cap
 * means probes waited their turn, and a cycle over many servers took longer. */
static void render_prober_sockets(FILE *f, struct turn_prober *p)
{
    size_t open_now, peak, max;

    turn_prober_sockets(p, &open_now, &peak, &max);
    api_metrics_family(f, "callbridge_turn_prober_sockets", "gauge", "Probe sockets open now.");
    fprintf(f, "callbridge_turn_prober_sockets %zu\n", open_now);
    api_metrics_family(f, "callbridge_turn_prober_sockets_peak", "gauge",
                       "The most probe sockets open at once since the start.");
    fprintf(f, "callbridge_turn_prober_sockets_peak %zu\n", peak);
    api_metrics_family(
        f, "callbridge_turn_prober_sockets_max", "gauge",
        "The most probe sockets allowed at once: the prober's share of what RLIMIT_NOFILE "
        "leaves (0: no cap). More probes wait their turn.");
    fprintf(f, "callbridge_turn_prober_sockets_max %zu\n", max);
}

/* Active alarms by type (those CMS names and databaseLowDiskSpace, 0 when not raised, so that
 * a rule can watch a series that exists), and the longest active of each. */
static void render_alarms(FILE *f, struct api_alarms *a)
{
    static const char *const types[] = {"turnServerUnavailable", "databaseConnectionError",
                                        "databaseLowDiskSpace", "cdrConnectionFailure"};
    struct api_alarm v[64];
    size_t n = api_alarms_list(a, v, sizeof(v) / sizeof(v[0]));
    int64_t now = api_now_us();

    n = n < sizeof(v) / sizeof(v[0]) ? n : sizeof(v) / sizeof(v[0]);
    api_metrics_family(f, "callbridge_alarms_active", "gauge",
                       "Active system alarms (GET /api/v1/system/alarms) by type.");
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        size_t count = 0;

        for (size_t i = 0; i < n; i++)
            count += strcmp(v[i].type, types[t]) == 0;
        fprintf(f, "callbridge_alarms_active{type=\"%s\"} %zu\n", types[t], count);
    }
    api_metrics_family(f, "callbridge_alarm_active_seconds", "gauge",
                       "How long the oldest active alarm of each type has been active.");
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        int64_t oldest = 0;

        for (size_t i = 0; i < n; i++)
            if (strcmp(v[i].type, types[t]) == 0 && now - v[i].since_us > oldest)
                oldest = now - v[i].since_us;
        fprintf(f, "callbridge_alarm_active_seconds{type=\"%s\"} %lld\n", types[t],
                (long long)(oldest / 1000000));
    }
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
    if (r == 0)
        r = api_alarms_refresh(api, st);
    f = r < 0 ? NULL : open_memstream(&body, &len);
    if (!f) {
        free(w.v);
        api_reply_err(reply, r < 0 ? r : -ENOMEM);
        return;
    }
    render_turn(f, &w);
    free(w.v);
    if (api->cluster)
        render_node(f, api->cluster);
    if (api->prober)
        render_prober_sockets(f, api->prober);
    render_media(f, api);
    if (api->alarms)
        render_alarms(f, api->alarms);
    if (api->cdr)
        api_cdr_render_metrics(f, api->cdr);
    if (api->metrics)
        api_metrics_render(f, api->metrics);
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
