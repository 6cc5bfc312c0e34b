/* api/res/turn_status.c: GET /api/v1/turnServers/<id>/status.
 *
 * DESIGN: the answer comes at once from the latest probe. A server that has never finished a
 * probe asks to be answered later (api_reply.wait_id): the HTTP layer suspends the connection
 * and the prober wakes it when the first results are in, or when status_wait_us has passed, so
 * no worker thread ever blocks on the network. The XML is the CMS shape (cms-api.md §2.5),
 * then our extensions, after the standard elements of each <host>.
 * In a cluster each node probes from its own network: the answer is this node's view, named by
 * <callBridge> (its id) and <callBridgeName> after the hosts; ?callBridge=<id or name> shows
 * another node's, as that node last published it (api/cluster.c), with its age in
 * <viewAgeSeconds> and whether that node is up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/cluster.h"
#include "api/reply.h"
#include "api/res/parse.h"
#include "api/res/prober_link.h"
#include "api/res/turn_status.h"
#include "api/xml.h"
#include "turnclient/turnclient.h"

/* success: every host allocated; failure: none did; partialFailure: some. */
static const char *summary(const struct turn_server_status *s)
{
    size_t ok = 0;

    if (!s->probed)
        return "pending";
    if (s->dns)
        return "dnsFailure";
    if (s->nhosts == 0)
        return "unconfigured";
    for (size_t i = 0; i < s->nhosts; i++)
        ok += s->hosts[i].reachable;
    return ok == s->nhosts ? "success" : ok == 0 ? "failure" : "partialFailure";
}

static void write_host(struct api_xml *x, const struct turn_host_status *h)
{
    char when[32];
    struct tm tm;
    time_t t = (time_t)h->checked_unix;

    api_xml_start(x, "host");
    api_xml_text(x, "address", h->address);
    api_xml_int(x, "portNumber", h->port);
    api_xml_bool(x, "reachable", h->reachable);
    if (h->reachable && h->rtt_us >= 0)
        api_xml_int(x, "roundTripTimeMs", (h->rtt_us + 500) / 1000);
    if (h->has_mapped) {
        api_xml_text(x, "mappedAddress", h->mapped);
        api_xml_int(x, "mappedPortNumber", h->mapped_port);
    }
    /* extensions */
    api_xml_text(x, "transport", h->tcp ? "tcp" : "udp");
    if (h->has_relayed) {
        api_xml_text(x, "relayedAddress", h->relayed);
        api_xml_int(x, "relayedPortNumber", h->relayed_port);
    }
    api_xml_int(x, "numAllocations", 0); /* ours, outside probes: none until media anchors */
    if (!h->reachable || h->failure == TURN_FAIL_LOCAL) { /* kept reachable: says why stale */
        api_xml_text(x, "failureReason", turn_failure_name(h->failure));
        if (h->error_code)
            api_xml_int(x, "errorCode", h->error_code);
        api_xml_text(x, "failureDetail", h->detail);
    }
    if (h->redirected_from[0])
        api_xml_text(x, "redirectedFrom", h->redirected_from);
    (void)gmtime_r(&t, &tm);
    (void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    api_xml_text(x, "lastCheckTime", when);
    api_xml_end(x);
}

/* The children of <turnServer>: the summary, a name that did not resolve, the hosts. */
static void write_status(struct api_xml *x, const struct turn_server_status *status)
{
    api_xml_text(x, "status", summary(status));
    if (status->dns) {
        api_xml_text(x, "failureReason", "dnsFailure");
        api_xml_text(x, "failureDetail", status->dns_detail);
    }
    for (size_t i = 0; i < status->nhosts; i++)
        write_host(x, &status->hosts[i]);
}

int api_turn_status_inner(const struct turn_server_status *status, char **ret_markup)
{
    struct api_xml *x = api_xml_new_fragment();
    size_t len;

    if (!x)
        return -ENOMEM;
    write_status(x, status); /* at least <status>: never empty */
    return api_xml_finish(x, ret_markup, &len);
}

/* Another node's view, as it published it (api/cluster.c), named and aged. */
static void other_view(const struct api *api, struct store *st, const char *lid, const char *want,
                       struct api_reply *reply)
{
    struct store_node node;
    struct api_xml *x;
    char *markup = NULL;
    int64_t age_ms = 0;
    int r = api_cluster_find(api, st, want, &node);

    if (r == -ENOENT) {
        api_reply_failure(reply, 400, "callBridgeDoesNotExist");
        return;
    }
    if (r == 0)
        r = store_turn_view_get(st, node.host_id, lid, &markup, &age_ms);
    if (r < 0 && r != -ENOENT) {
        api_reply_err(reply, r);
        return;
    }
    if (!(x = api_reply_xml_new(reply))) {
        free(markup);
        return;
    }
    api_xml_start(x, "turnServer");
    api_xml_attr(x, "id", lid);
    if (markup)
        api_xml_raw(x, markup);
    else /* that node has not published a probe of this server yet */
        api_xml_text(x, "status", "pending");
    api_xml_text(x, "callBridge", node.call_bridge);
    api_xml_text(x, "callBridgeName", node.name);
    api_xml_text(x, "callBridgeState", node.up ? "up" : node.stopped ? "stopped" : "down");
    if (markup)
        api_xml_int(x, "viewAgeSeconds", age_ms < 0 ? 0 : age_ms / 1000);
    api_xml_end(x);
    api_reply_xml(reply, x);
    free(markup);
}

void api_res_turn_status(const struct api *api, struct store *st, const struct api_request *req,
                         const char *id, struct api_reply *reply)
{
    struct turn_server_status status;
    struct store_turn t;
    struct api_xml *x;
    char lid[STORE_ID_LEN + 1];
    const char *want = api_params_get(req->query, "callBridge");
    int r;

    if (api_parse_id(id, lid) < 0 || (r = store_turn_get(st, lid, &t)) == -ENOENT) {
        api_reply_failure(reply, 404, "turnServerDoesNotExist");
        return;
    }
    if (r < 0) {
        api_reply_err(reply, r);
        return;
    }
    if (want && *want && !api_cluster_is_self(api->cluster, want)) {
        other_view(api, st, lid, want, reply);
        return;
    }
    memset(&status, 0, sizeof(status));
    if (api->prober && turn_prober_get(api->prober, lid, &status) == -ENOENT)
        api_turn_probe(api, &t); /* stored but unknown to the prober: probe it now */
    if (api->prober && !status.probed && req->may_wait) {
        (void)snprintf(reply->wait_id, sizeof(reply->wait_id), "%s", lid);
        reply->wait_until_us = turn_now_us() + api->status_wait_us;
        return;
    }
    x = api_reply_xml_new(reply);
    if (!x)
        return;
    api_xml_start(x, "turnServer");
    api_xml_attr(x, "id", lid);
    write_status(x, &status);
    if (api->cluster) { /* whose view this is: this node's own prober's */
        api_xml_text(x, "callBridge", api_cluster_bridge_id(api->cluster));
        api_xml_text(x, "callBridgeName", api_cluster_name(api->cluster));
    }
    api_xml_end(x);
    api_reply_xml(reply, x);
}
