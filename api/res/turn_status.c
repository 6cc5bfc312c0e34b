/* api/res/turn_status.c: GET /api/v1/turnServers/<id>/status, and the link from stored TURN
 * servers to the prober (turnclient/prober.c).
 *
 * DESIGN: the answer comes at once from the latest probe. A server that has never finished a
 * probe asks to be answered later (api_reply.wait_id): the HTTP layer suspends the connection
 * and the prober wakes it when the first results are in, or when status_wait_us has passed, so
 * no worker thread ever blocks on the network. The XML is the CMS shape (cms-api.md §2.5),
 * then our extensions, after the standard elements of each <host>. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "api/api.h"
#include "api/xml.h"
#include "turnclient/turnclient.h"
#include "api/reply.h"
#include "api/res/parse.h"

/* Decrypts a sealed field into out (cap bytes); "" when unset or unreadable. */
static void unseal(const struct api *api, const char *id, const char *field,
                   const unsigned char *blob, size_t len, char *out, size_t cap)
{
    char aad[64];

    out[0] = '\0';
    if (len == 0)
        return;
    (void)snprintf(aad, sizeof(aad), "%s/%s", id, field);
    if (api_secret_open(&api->secret, aad, blob, len, out, cap) < 0)
        out[0] = '\0';
}

void api_turn_probe(const struct api *api, const struct store_turn *t)
{
    struct turn_server_spec spec = {0};
    bool bracketed;

    if (!api->prober)
        return;
    (void)snprintf(spec.id, sizeof(spec.id), "%s", t->id);
    /* validated on the way in (api_is_host_port): it parses */
    (void)api_parse_host_port(t->server_address, spec.host, sizeof(spec.host), &spec.port,
                              &bracketed);
    if (!spec.port) /* the type's default: 3478, 443 for Lync/Skype edges (cms-api.md §2.1) */
        spec.port = strcmp(t->type, "lyncEdge") == 0 ? 443 : 3478;
    spec.tcp_port = t->has_tcp_port_number_override ? (uint16_t)t->tcp_port_number_override : 0;
    (void)snprintf(spec.username, sizeof(spec.username), "%s", t->username);
    unseal(api, t->id, "password", t->password, t->password_len, spec.password,
           sizeof(spec.password));
    spec.use_shared_secret = t->use_short_term_credentials && t->shared_secret_len > 0;
    unseal(api, t->id, "sharedSecret", t->shared_secret, t->shared_secret_len, spec.shared_secret,
           sizeof(spec.shared_secret));
    (void)turn_prober_set(api->prober, &spec);
    OPENSSL_cleanse(&spec, sizeof(spec));
}

static int probe_one(const struct store_turn *t, void *userdata)
{
    api_turn_probe(userdata, t);
    return 0;
}

int api_turn_probe_all(const struct api *api, struct store *st)
{
    return store_turn_foreach(st, probe_one, (void *)(uintptr_t)api);
}

int api_wait(const struct api *api, const char *wait_id, int64_t until_us,
             void (*resume)(void *ctx), void *ctx)
{
    if (!api->prober)
        return -ENOENT;
    return turn_prober_wait(api->prober, wait_id, until_us, resume, ctx);
}

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

void api_res_turn_status(const struct api *api, struct store *st, const struct api_request *req,
                         const char *id, struct api_reply *reply)
{
    struct turn_server_status status;
    struct store_turn t;
    struct api_xml *x;
    char lid[STORE_ID_LEN + 1];
    int r;

    if (api_parse_id(id, lid) < 0 || (r = store_turn_get(st, lid, &t)) == -ENOENT) {
        api_reply_failure(reply, 404, "turnServerDoesNotExist");
        return;
    }
    if (r < 0) {
        api_reply_err(reply, r);
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
    api_xml_text(x, "status", summary(&status));
    if (status.dns) {
        api_xml_text(x, "failureReason", "dnsFailure");
        api_xml_text(x, "failureDetail", status.dns_detail);
    }
    for (size_t i = 0; i < status.nhosts; i++)
        write_host(x, &status.hosts[i]);
    api_xml_end(x);
    api_reply_xml(reply, x);
}
