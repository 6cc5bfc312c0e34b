/* api/res/routes.c: the router: one table of routes, from which dispatch, 404 and 405 come.
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
#include "api/reply.h"

#define MAX_SEGS 6

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
