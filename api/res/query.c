/* api/res/query.c: POST /api/v1/accessQuery (how a uri or a callId would be reached) and POST
 * /api/v1/uriUsageQuery (what uses a uri in a tenant), answered from the dial plan the call
 * matching uses (api/res/matching.c, store/q_match.c).
 *
 * DESIGN: accessQuery's uri is the user part at the domain of the highest-priority inbound
 * rule that resolves to coSpaces for the tenant (the address meetingEntryDetail advertises);
 * its webAddress for a callId is the join page's path (/meeting/<callId>, docs/guests.md) on
 * the host the client reached, since callbridged does not know its public name; its ivr is the
 * address of an IVR that resolves callIds, at a rule that resolves to IVRs. Both queries take
 * their parameters from the form, or from the query string as the API reference shows them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/reply.h"
#include "api/res/matching.h"
#include "api/res/parse.h"
#include "api/xml.h"

static const char *param(const struct api_request *req, const char *name)
{
    const char *v = api_params_get(req->form, name);

    if (!v || !*v)
        v = api_params_get(req->query, name);
    return v && *v ? v : NULL;
}

/* The tenant parameter: 0 with ret (lowercase) or "" when absent; else *reply is filled. */
static int tenant_param(struct store *st, const struct api_request *req, char *ret,
                        struct api_reply *reply)
{
    const char *v = param(req, "tenant");
    int r;

    ret[0] = '\0';
    if (!v)
        return 0;
    r = api_parse_id(v, ret) < 0
            ? -ENOENT
            : store_row_taken(st, &store_table_tenant, STORE_COL_ID, ret, NULL, false);
    if (r == -ENOENT)
        api_reply_failure(reply, 400, "tenantDoesNotExist");
    else if (r < 0)
        api_reply_err(reply, r);
    return r;
}

/* The user part of v (what precedes '@'), into user; -EINVAL when empty or too long. */
static int user_part(const char *v, char *user, size_t cap)
{
    size_t n = strcspn(v, "@");

    if (n == 0 || n >= cap)
        return -EINVAL;
    memcpy(user, v, n);
    user[n] = '\0';
    return 0;
}

/* <uri> for the uri, when a rule gives it a domain. */
static int access_uri(struct store *st, const char *uri, const char *tenant, struct api_xml *x)
{
    char user[STORE_TEXT_MAX + 1], domain[STORE_TEXT_MAX + 1], full[2 * STORE_TEXT_MAX + 2];
    int r;

    if (user_part(uri, user, sizeof(user)) < 0)
        return -EINVAL;
    r = store_match_entry_domain(st, tenant, domain, sizeof(domain));
    if (r == 0) {
        snprintf(full, sizeof(full), "%s@%s", user, domain);
        api_xml_text(x, "uri", full);
    }
    return r == -ENOENT ? 0 : r;
}

/* <webAddress> and <ivr> for a coSpace's callId (within tenant when one is given). */
static int access_call_id(struct store *st, const char *call_id, const char *tenant,
                          struct api_xml *x)
{
    struct store_cospace_entry space;
    char path[STORE_TEXT_MAX + 16], ivr[2 * STORE_TEXT_MAX + 2];
    int r;

    if (strspn(call_id, "0123456789") != strlen(call_id) || strlen(call_id) > STORE_TEXT_MAX)
        return -EINVAL;
    r = store_match_call_id(st, call_id, &space);
    if (r == -ENOENT || (r == 0 && tenant[0] && strcmp(space.tenant, tenant) != 0))
        return 0;
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "/meeting/%s", call_id);
    api_xml_text(x, "webAddress", path);
    r = store_match_ivr_address(st, space.tenant, ivr, sizeof(ivr));
    if (r == 0)
        api_xml_text(x, "ivr", ivr);
    return r == -ENOENT ? 0 : r;
}

void api_res_access_query(const struct api *api, struct store *st, const struct api_request *req,
                          struct api_reply *reply)
{
    const char *uri = param(req, "uri"), *call_id = param(req, "callId");
    char tenant[STORE_ID_LEN + 1];
    struct api_xml *x;
    int r = 0;

    (void)api;
    if (!uri && !call_id) {
        api_reply_param_error(reply, "uri", "missing");
        return;
    }
    if (tenant_param(st, req, tenant, reply) < 0 || !(x = api_reply_xml_new(reply)))
        return;
    api_xml_start(x, "accessQuery");
    if (uri && (r = access_uri(st, uri, tenant, x)) == -EINVAL)
        api_reply_param_error(reply, "uri", "invalidValue");
    if (r == 0 && call_id && (r = access_call_id(st, call_id, tenant, x)) == -EINVAL)
        api_reply_param_error(reply, "callId", "invalidValue");
    api_xml_end(x);
    if (r == 0)
        api_reply_xml(reply, x);
    else {
        api_xml_free(x);
        if (r != -EINVAL)
            api_reply_err(reply, r);
    }
}

void api_res_uri_usage_query(const struct api *api, struct store *st, const struct api_request *req,
                             struct api_reply *reply)
{
    static const char *const elements[] = {"coSpaceId", "ivrId"};
    const char *uri = param(req, "uri");
    char tenant[STORE_ID_LEN + 1], user[STORE_TEXT_MAX + 1], id[STORE_ID_LEN + 1];
    struct api_xml *x;
    int r = 0;

    (void)api;
    if (!uri || user_part(uri, user, sizeof(user)) < 0) {
        api_reply_param_error(reply, "uri", uri ? "invalidValue" : "missing");
        return;
    }
    if (tenant_param(st, req, tenant, reply) < 0 || !(x = api_reply_xml_new(reply)))
        return;
    api_xml_start(x, "uriUsageQuery");
    for (int ivr = 0; ivr < 2 && r >= 0; ivr++) {
        r = store_uri_usage(st, ivr, user, tenant, id);
        if (r == 0)
            api_xml_text(x, elements[ivr], id);
        else if (r == -ENOENT)
            r = 0;
    }
    api_xml_end(x);
    if (r == 0)
        api_reply_xml(reply, x);
    else {
        api_xml_free(x);
        api_reply_err(reply, r);
    }
}
