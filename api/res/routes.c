/* api/res/routes.c: the router and the reply helpers shared by the resource handlers.
 *
 * DESIGN: paths are matched as CMS clients use them (cms-api.md 1.4): segments compare
 * case-insensitively, one trailing slash is ignored, the query is separate. A method a resource
 * does not have is a 405 with Allow; a path no resource has is 404 unrecognizedObject. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/res/cache.h"
#include "api/log.h"
#include "api/res/resource.h"
#include "api/xml.h"

#define MAX_SEGS 6

int api_status_from_err(int err)
{
    switch (err) {
    case -EINVAL:
        return 400;
    case -ENOENT:
        return 404;
    case -E2BIG:
        return 413;
    case -EDQUOT:
        return 400;
    case -EBUSY:
    case -ENOSPC:
    case -EROFS:
        return 503;
    default:
        return 500;
    }
}

void api_reply_done(struct api_reply *reply)
{
    free(reply->body);
    reply->body = NULL;
    reply->len = 0;
}

static void set_failure(struct api_reply *reply, int status, const char *reason, const char *param,
                        const char *error)
{
    api_reply_done(reply);
    reply->status = status;
    if (api_xml_failure(reason, param, error, &reply->body, &reply->len) < 0) {
        reply->status = 500;
        reply->body = NULL;
        reply->len = 0;
    }
}

void api_reply_failure(struct api_reply *reply, int status, const char *reason)
{
    set_failure(reply, status, reason, NULL, NULL);
}

void api_reply_param_error(struct api_reply *reply, const char *param, const char *error)
{
    set_failure(reply, 400, NULL, param, error);
}

/* A full disk or a read-only data directory fails every write until someone acts, and each
 * of those requests is answered 503: the log says why, at most once per 10 s. */
static void log_store_fault(int err)
{
    if (err != -ENOSPC && err != -EROFS)
        return;
    api_log_every(10, BASE_LOG_ERR,
                  "the database cannot be written (%s): writes are answered 503 until %s",
                  strerror(-err),
                  err == -ENOSPC ? "the data directory's file system has space again"
                                 : "the data directory is writable again and callbridged restarts");
}

void api_reply_err(struct api_reply *reply, int err)
{
    int status = api_status_from_err(err);

    log_store_fault(err);

    /* databaseNotReady is CMS's own word for a store that cannot take the request now. */
    api_reply_failure(reply, status,
                      status == 503   ? "databaseNotReady"
                      : status == 413 ? "requestTooLarge"
                                      : "internalError");
}

/* CMS has no reason for a full table; its limits are named tooMany<Things> (tooManyCdrReceivers,
 * tooManyLdapSyncs), so a full collection is tooMany<Collection>, with 400 as every refusal of a
 * request that cannot succeed as it stands (a 503 would tell clients to retry). */
void api_reply_too_many(struct api_reply *reply, const char *collection)
{
    char reason[64];

    (void)snprintf(reason, sizeof(reason), "tooMany%c%s", toupper((unsigned char)collection[0]),
                   collection + 1);
    static const struct api_log_rate every_10s = {.interval_us = 10000000, .burst = 1};

    api_reply_failure(reply, 400, reason);
    /* one line per collection (the name is a string constant of its caller) every 10 s */
    api_log_site(collection, &every_10s, BASE_LOG_WARN,
                 "%s: the cap on objects is reached, creating more is refused (%s); delete some "
                 "or raise the cap (callbridged --help, --max-...)",
                 collection, reason);
}

void api_reply_xml(struct api_reply *reply, struct api_xml *x)
{
    api_reply_done(reply);
    if (api_xml_finish(x, &reply->body, &reply->len) < 0)
        api_reply_failure(reply, 500, "internalError");
    else
        reply->status = 200;
}

struct api_xml *api_reply_xml_new(struct api_reply *reply)
{
    struct api_xml *x = api_xml_new();

    if (!x)
        api_reply_err(reply, -ENOMEM);
    return x;
}

int api_parse_bool(const char *s, bool *ret)
{
    if (strcasecmp(s, "true") == 0)
        *ret = true;
    else if (strcasecmp(s, "false") == 0)
        *ret = false;
    else
        return -EINVAL;
    return 0;
}

int api_parse_int(const char *s, int64_t min, int64_t max, int64_t *ret)
{
    const char *p = s;
    int64_t v = 0;
    bool neg = false;

    if (*p == '-') {
        neg = true;
        p++;
    }
    if (!*p || strlen(p) > 18) /* 18 digits cannot overflow int64_t */
        return -EINVAL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (*p - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

int api_parse_id(const char *s, char out[37])
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (strlen(s) != 36)
        return -ENOENT;
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];

        if (shape[i] == '-' ? c != '-' : !strchr("0123456789abcdefABCDEF", c))
            return -ENOENT;
        out[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    }
    out[36] = '\0';
    return 0;
}

static int page_param(const struct api_request *req, const char *name, size_t dflt, size_t *ret,
                      struct api_reply *reply)
{
    const char *s = api_params_get(req->query, name);
    int64_t v;

    if (!s || !*s) {
        *ret = dflt;
        return 0;
    }
    if (api_parse_int(s, 0, INT64_MAX / 2, &v) < 0) {
        api_reply_param_error(reply, name, "invalidValue");
        return -EINVAL;
    }
    *ret = (size_t)v;
    return 0;
}

int api_page_from_query(const struct api_request *req, size_t page_default, size_t *ret_offset,
                        size_t *ret_limit, struct api_reply *reply)
{
    size_t offset, limit;

    if (page_param(req, "offset", 0, &offset, reply) < 0 ||
        page_param(req, "limit", page_default, &limit, reply) < 0)
        return -EINVAL;
    *ret_offset = offset;
    *ret_limit = limit > API_PAGE_MAX ? API_PAGE_MAX : limit;
    return 0;
}

/* Length-prefixes the filter, so that no filter value can make two keys equal. */
static int list_key(char *key, size_t cap, const char *collection, const char *filter,
                    size_t offset, size_t limit)
{
    int n = snprintf(key, cap, "%s|%zu|%zu|%zu:%s", collection, offset, limit,
                     filter ? strlen(filter) : 0, filter ? filter : "");

    return n < 0 || (size_t)n >= cap ? -E2BIG : 0;
}

bool api_list_cached(const struct api *api, const char *collection, const char *filter,
                     size_t offset, size_t limit, uint64_t *ret_generation, struct api_reply *reply)
{
    char key[API_CACHE_MAX_KEY];
    char *body;
    size_t len;

    *ret_generation = api->cache ? api_cache_generation(api->cache) : 0;
    if (!api->cache || list_key(key, sizeof(key), collection, filter, offset, limit) < 0 ||
        api_cache_get(api->cache, key, *ret_generation, &body, &len) < 0)
        return false;
    api_reply_done(reply);
    reply->status = 200;
    reply->body = body;
    reply->len = len;
    return true;
}

void api_list_remember(const struct api *api, const char *collection, const char *filter,
                       size_t offset, size_t limit, uint64_t generation,
                       const struct api_reply *reply)
{
    char key[API_CACHE_MAX_KEY];

    if (api->cache && reply->status == 200 && reply->body &&
        list_key(key, sizeof(key), collection, filter, offset, limit) == 0)
        api_cache_put(api->cache, key, generation, reply->body, reply->len);
}

void api_changed(const struct api *api)
{
    if (api->cache)
        api_cache_changed(api->cache);
}

/* Splits path into at most MAX_SEGS segments, in place in buf. Returns the count, or -1 when
 * the path has more segments or an empty one (other than one trailing slash). */
static int split(char *buf, char *segs[MAX_SEGS])
{
    size_t len = strlen(buf);
    int n = 0;
    char *p;

    if (buf[0] != '/')
        return -1;
    if (len > 1 && buf[len - 1] == '/')
        buf[len - 1] = '\0';
    for (p = buf + 1; p;) {
        char *slash = strchr(p, '/');

        if (slash)
            *slash = '\0';
        if (!*p || n == MAX_SEGS)
            return -1;
        segs[n++] = p;
        p = slash ? slash + 1 : NULL;
    }
    return n;
}

static void method_not_allowed(struct api_reply *reply, const char *allow)
{
    api_reply_failure(reply, 405, "invalidOperation");
    reply->allow = allow;
}

static bool is_get(const struct api_request *req)
{
    return req->method == API_GET || req->method == API_HEAD;
}

static void route_turn(const struct api *api, struct store *st, const struct api_request *req,
                       char **segs, int n, struct api_reply *reply)
{
    if (n == 1) {
        if (is_get(req) || req->method == API_POST)
            api_res_turn(api, st, req, NULL, reply);
        else
            method_not_allowed(reply, "GET, POST");
    } else if (n == 2) {
        if (is_get(req) || req->method == API_PUT || req->method == API_DELETE)
            api_res_turn(api, st, req, segs[1], reply);
        else
            method_not_allowed(reply, "GET, PUT, DELETE");
    } else if (n == 3 && strcasecmp(segs[2], "status") == 0) {
        if (is_get(req))
            api_res_turn_status(api, st, req, segs[1], reply);
        else
            method_not_allowed(reply, "GET");
    } else {
        api_reply_failure(reply, 404, "unrecognizedObject");
    }
}

static const struct api_resource *const resources[] = {
    &api_res_cospaces,     &api_res_inbound_rules,      &api_res_tenants,
    &api_res_call_bridges, &api_res_call_bridge_groups,
};

/* /api/v1/<collection>[/<id>[/<sub>]] for the table-driven resources; false if not one. */
static bool route_resource(const struct api *api, struct store *st, const struct api_request *req,
                           char **segs, int n, struct api_reply *reply)
{
    const struct api_resource *res = NULL;

    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]) && !res; i++)
        if (strcasecmp(segs[0], resources[i]->collection) == 0)
            res = resources[i];
    if (!res)
        return false;
    if (n == 1 && (is_get(req) || req->method == API_POST))
        api_res_generic(api, st, req, res, NULL, reply);
    else if (n == 1)
        method_not_allowed(reply, "GET, POST");
    else if (n == 2 && (is_get(req) || req->method == API_PUT || req->method == API_DELETE))
        api_res_generic(api, st, req, res, segs[1], reply);
    else if (n == 2)
        method_not_allowed(reply, "GET, PUT, DELETE");
    else if (n == 3 && res == &api_res_cospaces && strcasecmp(segs[2], "meetingEntryDetail") == 0) {
        if (is_get(req))
            api_res_meeting_entry_detail(api, st, req, segs[1], reply);
        else
            method_not_allowed(reply, "GET");
    } else
        api_reply_failure(reply, 404, "unrecognizedObject");
    return true;
}

void api_route(const struct api *api, struct store *st, const struct api_request *req,
               struct api_reply *reply)
{
    char *buf = strdup(req->path), *segs[MAX_SEGS];
    int n;

    if (!buf) {
        api_reply_err(reply, -ENOMEM);
        return;
    }
    n = split(buf, segs);
    if (n == 1 && strcmp(segs[0], "metrics") == 0) {
        if (is_get(req))
            api_res_metrics(api, st, req, reply);
        else
            method_not_allowed(reply, "GET");
    } else if (n < 3 || strcasecmp(segs[0], "api") != 0 || strcasecmp(segs[1], "v1") != 0) {
        api_reply_failure(reply, 404, "unrecognizedObject");
    } else if (strcasecmp(segs[2], "turnServers") == 0) {
        route_turn(api, st, req, segs + 2, n - 2, reply);
    } else if (api->calls && strcasecmp(segs[2], "calls") == 0) {
        api_res_calls(api, st, req, segs + 2, n - 2, reply);
    } else if (api->calls && strcasecmp(segs[2], "callLegs") == 0) {
        api_res_call_legs(api, st, req, segs + 2, n - 2, reply);
    } else if (route_resource(api, st, req, segs + 2, n - 2, reply)) {
        /* answered */
    } else if (n == 3 && strcasecmp(segs[2], "callMatching") == 0) {
        if (is_get(req))
            api_res_call_matching(api, st, req, reply);
        else
            method_not_allowed(reply, "GET");
    } else if (n == 4 && strcasecmp(segs[2], "system") == 0 && strcasecmp(segs[3], "status") == 0) {
        if (is_get(req))
            api_res_system_status(api, req, reply);
        else
            method_not_allowed(reply, "GET");
    } else {
        api_reply_failure(reply, 404, "unrecognizedObject");
    }
    free(buf);
}
