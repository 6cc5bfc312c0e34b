/* api/res/system.c: GET /api/v1/system/status (which CMS clients read on connect: PsCms
 * New-CmsSession fails without <status>; Mividas compares softwareVersion), /system/load,
 * /system/database and /system/diagnostics, and the node state they read (struct api_system).
 *
 * DESIGN: every value is measured or the node's own: bit rates are the media thread's per-leg
 * rates added up, mediaProcessingLoad is the media thread's CPU time over the wall time since
 * the previous sample, in percent of one core (samples at least a second apart, the first one
 * since the start), hostId and clusterId are made once and kept in the data directory (a node
 * that is not clustered is a cluster of one, as CMS says). On a shared database (a cluster of
 * call bridges, api/cluster.h) /system/database shows the database servers as CMS shows its
 * database cluster (pg_stat_replication on the primary), and the call bridges with their state
 * by the database's clock: up, down (no heartbeat for API_CLUSTER_DOWN_AFTER intervals) or
 * stopped. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/cluster.h"
#include "api/log.h"
#include "api/reply.h"
#include "api/res/alarms.h"
#include "api/res/parse.h"
#include "api/res/registry.h"
#include "api/res/system.h"
#include "api/util.h"
#include "api/xml.h"
#include "media/media.h"

#define LOAD_INTERVAL_US 1000000

struct api_system {
    pthread_mutex_t lock;
    char host_id[STORE_ID_LEN + 1], cluster_id[STORE_ID_LEN + 1];
    int64_t load_cpu_ns, load_at_us; /* the last sample */
    int load_percent;                /* over the interval that ended at load_at_us */
    uint64_t cdr_index;
};

/* "<hostId> <clusterId>\n" from path, or new ones written there. */
static int node_ids(const char *path, struct api_system *s)
{
    char *data = NULL, line[2 * STORE_ID_LEN + 3];
    size_t len;
    int r = api_read_file(path, 256, &data, &len);

    if (r == 0 && len >= 2 * STORE_ID_LEN + 1 && data[STORE_ID_LEN] == ' ') {
        data[STORE_ID_LEN] = data[2 * STORE_ID_LEN + 1] = '\0';
        if (api_parse_id(data, s->host_id) == 0 &&
            api_parse_id(data + STORE_ID_LEN + 1, s->cluster_id) == 0) {
            free(data);
            return 0;
        }
    }
    free(data);
    if (api_uuid_new(s->host_id) < 0 || api_uuid_new(s->cluster_id) < 0)
        return -ENOMEM;
    snprintf(line, sizeof(line), "%s %s\n", s->host_id, s->cluster_id);
    r = api_write_file(path, line, strlen(line), 0600);
    if (r < 0)
        api_log(BASE_LOG_WARN, "cannot keep the node's hostId in %s (%s): it changes at restart",
                path, strerror(-r));
    return 0;
}

int api_system_new(const char *data_dir, struct api_system **ret)
{
    struct api_system *s = calloc(1, sizeof(*s));
    char path[4096];
    int r;

    if (!s)
        return -ENOMEM;
    snprintf(path, sizeof(path), "%s/node.id", data_dir);
    r = node_ids(path, s);
    if (r < 0) {
        free(s);
        return r;
    }
    pthread_mutex_init(&s->lock, NULL);
    *ret = s;
    return 0;
}

void api_system_free(struct api_system *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void api_system_set_cdr_index(struct api_system *s, uint64_t next_index)
{
    pthread_mutex_lock(&s->lock);
    s->cdr_index = next_index;
    pthread_mutex_unlock(&s->lock);
}

void api_system_host_id(const struct api *api, char *out)
{
    snprintf(out, STORE_ID_LEN + 1, "%s", api->system ? api->system->host_id : "");
}

void api_system_cluster_id(const struct api *api, char *out)
{
    snprintf(out, STORE_ID_LEN + 1, "%s", api->system ? api->system->cluster_id : "");
}

/* ---- status -------------------------------------------------------------------------------- */

struct rates {
    uint64_t audio_in, audio_out, video_in, video_out;
};

/* RTP from an endpoint whose payload type is a static one of RFC 3551: audio or video. */
static void add_rtp(struct rates *t, const struct media_rtp_stats *r)
{
    bool video = r->payload_type == 26 || (r->payload_type >= 31 && r->payload_type <= 34);

    if (!r->seen || r->payload_type >= 35)
        return; /* a dynamic payload type does not say which */
    if (video)
        t->video_in += r->bit_rate;
    else
        t->audio_in += r->bit_rate;
}

/* Every leg with media's bit rates added up, by kind and direction. */
static void sum_rates(const struct api *api, struct rates *t)
{
    struct api_calls *c = api->calls;
    char(*ids)[STORE_ID_LEN + 1] = NULL;
    size_t n = 0;

    pthread_mutex_lock(&c->lock);
    if (c->nlegs && (ids = calloc(c->nlegs, sizeof(*ids))))
        for (size_t i = 0; i < c->nlegs; i++)
            if (c->legs[i].has_media)
                memcpy(ids[n++], c->legs[i].id, sizeof(*ids));
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        struct media_leg_status m;

        if (media_leg_get(api->media, ids[i], &m) < 0)
            continue;
        t->audio_in += m.streams[MEDIA_RX_AUDIO].active ? m.streams[MEDIA_RX_AUDIO].bit_rate : 0;
        t->video_in += m.streams[MEDIA_RX_VIDEO].active ? m.streams[MEDIA_RX_VIDEO].bit_rate : 0;
        t->audio_out += m.streams[MEDIA_TX_AUDIO].active ? m.streams[MEDIA_TX_AUDIO].bit_rate : 0;
        t->video_out += m.streams[MEDIA_TX_VIDEO].active ? m.streams[MEDIA_TX_VIDEO].bit_rate : 0;
        if (!m.webrtc)
            add_rtp(t, &m.rx_rtp);
    }
    free(ids);
}

static void write_legs(struct api_xml *x, const struct api *api)
{
    struct rates t = {0};
    size_t active = 0, max = 0;
    uint64_t completed = 0;

    if (api->calls) {
        pthread_mutex_lock(&api->calls->lock);
        active = api->calls->nlegs;
        max = api->calls->max_legs;
        completed = api->calls->legs_completed;
        pthread_mutex_unlock(&api->calls->lock);
        if (api->media)
            sum_rates(api, &t);
    }
    api_xml_int(x, "callLegsActive", (int64_t)active);
    api_xml_int(x, "callLegsMaxActive", (int64_t)max);
    api_xml_int(x, "callLegsCompleted", (int64_t)completed);
    api_xml_int(x, "audioBitRateOutgoing", (int64_t)t.audio_out);
    api_xml_int(x, "audioBitRateIncoming", (int64_t)t.audio_in);
    api_xml_int(x, "videoBitRateOutgoing", (int64_t)t.video_out);
    api_xml_int(x, "videoBitRateIncoming", (int64_t)t.video_in);
}

/* Now as CDRs write it (RFC 3339, UTC, seconds). */
static void cdr_time(char out[32])
{
    struct tm tm;
    time_t now = time(NULL);

    (void)gmtime_r(&now, &tm);
    (void)strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

API_SYSTEM_ROUTE(api_res_system_status)
{
    struct api_xml *x = api_reply_xml_new(reply);
    char when[32];
    uint64_t cdr_index = 0;

    (void)st;
    (void)req;
    (void)id;
    if (!x)
        return;
    cdr_time(when);
    api_xml_start(x, "status");
    if (api->system) {
        pthread_mutex_lock(&api->system->lock);
        cdr_index = api->system->cdr_index;
        pthread_mutex_unlock(&api->system->lock);
        api_xml_text(x, "hostId", api->system->host_id);
    }
    api_xml_text(x, "softwareVersion", API_CMS_LEVEL);
    api_xml_int(x, "uptimeSeconds", (api_now_us() - api->started_us) / 1000000);
    api_xml_text(x, "cdrTime", when);
    api_xml_bool(x, "activated", true);
    api_xml_bool(x, "clusterEnabled", api->cluster != NULL);
    if (api->cluster) /* the cluster's: the first node's to register */
        api_xml_text(x, "clusterId", api_cluster_id(api->cluster));
    else if (api->system)
        api_xml_text(x, "clusterId", api->system->cluster_id);
    api_xml_int(x, "cdrCorrelatorIndex", (int64_t)cdr_index);
    write_legs(x, api);
    api_xml_text(x, "callbridgeVersion", API_VERSION);
    api_xml_end(x);
    api_reply_xml(reply, x);
}

/* ---- load ---------------------------------------------------------------------------------- */

/* The media thread's CPU share since the previous sample, in percent of one core. */
static int media_load(const struct api *api)
{
    struct api_system *s = api->system;
    int64_t cpu = media_cpu_ns(api->media), now = api_now_us();
    int load;

    pthread_mutex_lock(&s->lock);
    if (s->load_at_us == 0) { /* the first sample: since the start */
        s->load_at_us = api->started_us;
        s->load_cpu_ns = 0;
    }
    if (now - s->load_at_us >= LOAD_INTERVAL_US) {
        s->load_percent = (int)((cpu - s->load_cpu_ns) / 10 / (now - s->load_at_us));
        s->load_cpu_ns = cpu;
        s->load_at_us = now;
    }
    load = s->load_percent;
    pthread_mutex_unlock(&s->lock);
    return load;
}

API_SYSTEM_ROUTE(api_res_system_load)
{
    struct api_xml *x = api_reply_xml_new(reply);

    (void)st;
    (void)req;
    (void)id;
    if (!x)
        return;
    api_xml_start(x, "load");
    api_xml_int(x, "mediaProcessingLoad", api->media && api->system ? media_load(api) : 0);
    api_xml_end(x);
    api_reply_xml(reply, x);
}

/* ---- database ------------------------------------------------------------------------------ */

/* The database servers as CMS shows its database cluster's nodes (hostname, up, syncBehind,
 * master), then ours: port, inUse, and a replica's name, state, syncState and replayLagMs. */
static void write_db_nodes(struct api_xml *x, const struct store_db_node *v, size_t n)
{
    const char *in_use = "";
    char num[24];

    for (size_t i = 0; i < n; i++)
        if (v[i].in_use)
            in_use = v[i].host;
    api_xml_int(x, "totalNodes", (int64_t)n);
    api_xml_text(x, "nodeInUse", in_use);
    for (size_t i = 0; i < n; i++) {
        const struct store_db_node *d = &v[i];

        api_xml_start(x, "node");
        api_xml_attr(x, "hostname", d->host);
        api_xml_attr(x, "up", d->up ? "true" : "false");
        (void)snprintf(num, sizeof(num), "%lld", (long long)d->behind_bytes);
        api_xml_attr(x, "syncBehind", num);
        api_xml_attr(x, "master", d->master ? "true" : "false");
        if (d->port) {
            (void)snprintf(num, sizeof(num), "%d", d->port);
            api_xml_attr(x, "port", num);
        }
        api_xml_attr(x, "inUse", d->in_use ? "true" : "false");
        if (d->name[0])
            api_xml_attr(x, "name", d->name);
        if (!d->in_use || !d->master)
            api_xml_attr(x, "state", d->state[0] ? d->state : "unknown");
        if (d->sync_state[0])
            api_xml_attr(x, "syncState", d->sync_state);
        if (d->lag_ms >= 0) {
            (void)snprintf(num, sizeof(num), "%lld", (long long)d->lag_ms);
            api_xml_attr(x, "replayLagMs", num);
        }
        api_xml_end(x);
    }
}

struct bridges {
    struct store_node *v;
    size_t n, cap;
};

static int collect_node(const struct store_node *n, void *userdata)
{
    struct bridges *b = userdata;

    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 8;
        struct store_node *v = realloc(b->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = *n;
    return 0;
}

/* The call bridges of the cluster, judged by the database's clock, and which one answers. */
static void write_bridges(struct api_xml *x, const struct api *api, const struct bridges *b)
{
    char num[24];

    api_xml_start(x, "callBridges");
    api_xml_attr_size(x, "total", b->n);
    api_xml_attr(x, "answeredBy", api_cluster_bridge_id(api->cluster));
    for (size_t i = 0; i < b->n; i++) {
        const struct store_node *n = &b->v[i];

        api_xml_start(x, "callBridge");
        api_xml_attr(x, "id", n->call_bridge);
        api_xml_attr(x, "name", n->name);
        api_xml_attr(x, "address", n->address);
        api_xml_attr(x, "state", n->up ? "up" : n->stopped ? "stopped" : "down");
        (void)snprintf(num, sizeof(num), "%lld",
                       (long long)(n->heartbeat_age_ms < 0 ? 0 : n->heartbeat_age_ms / 1000));
        api_xml_attr(x, "heartbeatAgeSeconds", num);
        api_xml_attr(x, "self",
                     api_cluster_is_self(api->cluster, n->call_bridge) ? "true" : "false");
        api_xml_end(x);
    }
    api_xml_end(x);
}

API_SYSTEM_ROUTE(api_res_system_database)
{
    struct store_db_node nodes[STORE_DB_NODES_MAX];
    struct bridges b = {0};
    struct api_alarm v[8];
    struct api_xml *x;
    size_t n = 0, nn = 0;
    int r, rdb = 0, rb = 0;

    (void)req;
    (void)id;
    if ((r = api_alarms_refresh(api, st)) < 0) {
        api_reply_err(reply, r);
        return;
    }
    if (api->alarms)
        n = api_alarms_list(api->alarms, v, sizeof(v) / sizeof(v[0]));
    if (api->cluster) {
        rdb = store_db_nodes(st, nodes, STORE_DB_NODES_MAX, &nn);
        rb = store_node_foreach(st, API_CLUSTER_DOWN_AFTER, collect_node, &b);
    }
    if (!(x = api_reply_xml_new(reply))) {
        free(b.v);
        return;
    }
    api_xml_start(x, "database");
    api_xml_attr(x, "clustered", api->cluster ? "enabled" : "disabled");
    for (size_t i = 0; i < n && i < sizeof(v) / sizeof(v[0]); i++)
        if (strncmp(v[i].type, "database", 8) == 0)
            api_xml_text(x, "error", v[i].reason[0] ? v[i].reason : v[i].type);
    if (rdb < 0)
        api_xml_text(x, "error", strerror(-rdb));
    else if (rb < 0)
        api_xml_text(x, "error", strerror(-rb));
    if (api->cluster) {
        api_xml_start(x, "cluster");
        if (rdb == 0)
            write_db_nodes(x, nodes, nn);
        if (rb == 0)
            write_bridges(x, api, &b);
        api_xml_end(x);
    }
    api_xml_end(x);
    api_reply_xml(reply, x);
    free(b.v);
}
