/* api/res/licensing.c: the licensing objects of CMS 3.0 (/system/licensing, /clusterLicensing,
 * /system/multipartyLicensing and its activePersonalLicenses, /system/MPLicenseUsage and its
 * knownHosts), answered for what callbridged is: an open server with no licence file.
 *
 * DESIGN: the shapes are CMS's, the values claim no licence: every feature is noLicense (no
 * expiry, no limit), the licence limits are 0, no personal licence is assigned or active. What
 * is measured is given (active calls and participants; on one node every call weighs 1). What
 * CMS derives from licences callbridged does not have is left out rather than invented:
 * capacity units in use, and the five-minute usage snapshots of MPLicenseUsage (none are
 * taken: the list is empty). The one known host is this node. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/reply.h"
#include "api/res/parse.h"
#include "api/res/registry.h"
#include "api/res/system.h"
#include "api/util.h"
#include "api/xml.h"

/* The features of a CMS licence file, in CMS's order. */
static const char *const features[] = {"callBridge", "callBridgeNoEncryption",
                                       "webBridge",  "turn",
                                       "branding",   "recording",
                                       "streaming",  "personal",
                                       "shared",     "capacityUnits"};
/* /clusterLicensing's, in the order of the 3.0 reference. */
static const char *const cluster_features[] = {"callBridge", "callBridgeNoEncryption",
                                               "customizations", "recording"};

static void write_features(struct api_xml *x, const char *root, const char *const *names, size_t n)
{
    api_xml_start(x, root);
    api_xml_start(x, "features");
    for (size_t i = 0; i < n; i++) {
        api_xml_start(x, names[i]);
        api_xml_text(x, "status", "noLicense");
        api_xml_end(x);
    }
    api_xml_end(x);
    api_xml_end(x);
}

static void utc_now(char out[32])
{
    struct tm tm;
    time_t now = time(NULL);

    (void)gmtime_r(&now, &tm);
    (void)strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void write_multiparty(struct api_xml *x, const struct api *api)
{
    size_t calls = 0, legs = 0, max = 0;
    char when[32], weighted[32];

    if (api->calls)
        api_calls_counts(api->calls, &calls, &legs, &max);
    utc_now(when);
    snprintf(weighted, sizeof(weighted), "%zu.000", calls);
    api_xml_start(x, "multipartyLicensing");
    api_xml_text(x, "timestamp", when);
    api_xml_int(x, "personalLicenseLimit", 0);
    api_xml_int(x, "sharedLicenseLimit", 0);
    api_xml_int(x, "capacityUnitLimit", 0);
    api_xml_int(x, "users", 0); /* users come from LDAP, which callbridged does not import */
    api_xml_int(x, "personalLicenses", 0);
    api_xml_int(x, "participantsActive", (int64_t)legs);
    api_xml_int(x, "callsActive", (int64_t)calls);
    api_xml_text(x, "weightedCallsActive", weighted);
    api_xml_int(x, "callsWithoutPersonalLicense", (int64_t)calls);
    api_xml_text(x, "weightedCallsWithoutPersonalLicense", weighted);
    api_xml_end(x);
}

/* A date-time as the filters take it: RFC 3339, UTC ("2019-05-16T18:44:52Z"). */
static bool is_utc_time(const char *s)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

    if (end && *end == '.')
        for (end++; *end >= '0' && *end <= '9'; end++)
            ;
    return end && strcmp(end, "Z") == 0;
}

/* MPLicenseUsage's filters, checked though no snapshot is kept. Returns 0 or -EINVAL (answered). */
static int usage_filters(const struct api_request *req, struct api_reply *reply)
{
    static const char *const times[] = {"startTime", "endTime"};
    const char *host = api_params_get(req->query, "hostId");
    char id[STORE_ID_LEN + 1];

    for (size_t i = 0; i < 2; i++) {
        const char *v = api_params_get(req->query, times[i]);

        if (v && *v && !is_utc_time(v)) {
            api_reply_param_error(reply, times[i], "invalidValue");
            return -EINVAL;
        }
    }
    if (host && *host && api_parse_id(host, id) < 0) {
        api_reply_param_error(reply, "hostId", "invalidValue");
        return -EINVAL;
    }
    return 0;
}

/* A list of at most one element: this node's host (knownHosts), or none. */
static void write_list(struct api_xml *x, const struct api *api, const char *root, const char *elem,
                       size_t offset, size_t limit)
{
    char host[STORE_ID_LEN + 1];

    api_system_host_id(api, host);
    if (!elem || !host[0]) {
        api_xml_start(x, root);
        api_xml_attr_size(x, "total", 0);
        api_xml_end(x);
        return;
    }
    api_xml_start(x, root);
    api_xml_attr_size(x, "total", 1);
    if (offset == 0 && limit > 0) {
        api_xml_start(x, elem);
        api_xml_attr(x, "id", host);
        api_xml_end(x);
    }
    api_xml_end(x);
}

API_SYSTEM_ROUTE(api_res_licensing)
{
    struct api_xml *x = api_reply_xml_new(reply);

    (void)st, (void)req, (void)id, (void)api;
    if (!x)
        return;
    write_features(x, "licensing", features, sizeof(features) / sizeof(features[0]));
    api_reply_xml(reply, x);
}

API_SYSTEM_ROUTE(api_res_cluster_licensing)
{
    struct api_xml *x = api_reply_xml_new(reply);

    (void)st, (void)req, (void)id, (void)api;
    if (!x)
        return;
    write_features(x, "clusterLicensing", cluster_features,
                   sizeof(cluster_features) / sizeof(cluster_features[0]));
    api_reply_xml(reply, x);
}

API_SYSTEM_ROUTE(api_res_multiparty_licensing)
{
    struct api_xml *x;
    size_t offset, limit;

    (void)st, (void)id;
    if (api_page_from_query(req, API_PAGE_DEFAULT, &offset, &limit, reply) < 0 ||
        !(x = api_reply_xml_new(reply)))
        return;
    write_multiparty(x, api);
    api_reply_xml(reply, x);
}

/* The three lists: usage filters checked first (MPLicenseUsage), then a page. */
static void list(const struct api *api, const struct api_request *req, const char *root,
                 const char *elem, bool usage, struct api_reply *reply)
{
    struct api_xml *x;
    size_t offset, limit;

    if (api_page_from_query(req, API_PAGE_DEFAULT, &offset, &limit, reply) < 0 ||
        (usage && usage_filters(req, reply) < 0) || !(x = api_reply_xml_new(reply)))
        return;
    write_list(x, api, root, elem, offset, limit);
    api_reply_xml(reply, x);
}

API_SYSTEM_ROUTE(api_res_active_personal_licenses)
{
    (void)st, (void)id;
    list(api, req, "activePersonalLicenses", NULL, false, reply);
}

API_SYSTEM_ROUTE(api_res_mp_license_usage)
{
    (void)st, (void)id;
    list(api, req, "MPLicenseUsage", NULL, true, reply);
}

API_SYSTEM_ROUTE(api_res_mp_known_hosts)
{
    (void)st, (void)id;
    list(api, req, "knownHosts", "host", false, reply);
}
