/* api/res/dialplan.c: the dial plan's objects: /api/v1/inboundDialPlanRules,
 * /outboundDialPlanRules, /forwardingDialPlanRules and /dialTransforms, and
 * /coSpaces/<id>/meetingEntryDetail (the address a space is advertised under: its uri at the
 * domain of the rule that reaches it). Call matching, which reads the inbound and forwarding
 * rules and the transforms, is in api/res/matching.c; the transforms' expressions in
 * api/res/transform.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/res/resource.h"
#include "api/res/transform.h"
#include "api/xml.h"

static const struct api_field fields[] = {
    {.param = "domain",
     .col = STORE_RULE_DOMAIN,
     .kind = AK_DOMAIN,
     .flags = AF_LIST | AF_REQUIRED},
    {.param = "priority",
     .col = STORE_RULE_PRIORITY,
     .kind = AK_INT,
     .flags = AF_LIST,
     .min = -2147483648LL,
     .max = 2147483647,
     .dflt = "0"},
    {.param = "resolveToUsers", .col = STORE_RULE_USERS, .kind = AK_BOOL, .dflt = "1"},
    {.param = "resolveTocoSpaces", .col = STORE_RULE_COSPACES, .kind = AK_BOOL, .dflt = "1"},
    {.param = "resolveToIvrs", .col = STORE_RULE_IVRS, .kind = AK_BOOL, .dflt = "1"},
    {.param = "resolveToLyncConferences", .col = STORE_RULE_LYNC, .kind = AK_BOOL, .dflt = "0"},
    {.param = "resolveToLyncSimplejoin",
     .col = STORE_RULE_SIMPLEJOIN,
     .kind = AK_BOOL,
     .dflt = "0"},
    {.param = "tenant",
     .col = STORE_RULE_TENANT,
     .kind = AK_REF,
     .ref = &store_table_tenant,
     .ref_missing = "tenantDoesNotExist"},
};

static const struct api_filter filters[] = {
    {.param = "filter"},
    {.param = "tenantFilter"},
};

const struct api_resource api_res_inbound_rules = {
    .collection = "inboundDialPlanRules",
    .element = "inboundDialPlanRule",
    .missing = "inboundDialPlanRuleDoesNotExist",
    .in_use = "inboundDialPlanRuleInUse",
    .table = &store_table_inbound_rule,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
    .filters = filters,
    .nfilters = sizeof(filters) / sizeof(filters[0]),
    .page_default = API_PAGE_DEFAULT,
};

/* ---- outbound rules ----------------------------------------------------------------------- */
static const char *const trunk_types[] = {"sip", "lync", "avaya", NULL};
static const char *const failure_actions[] = {"stop", "continue", NULL};
static const char *const encryptions[] = {"auto", "encrypted", "unencrypted", NULL};
static const char *const scopes[] = {"global", "callBridge", "callBridgeGroup", NULL};
static const char *const routings[] = {"default", "traversal", NULL};

static const struct api_field out_fields[] = {
    {.param = "domain", .col = STORE_OUT_DOMAIN, .kind = AK_TEXT, .flags = AF_LIST | AF_REQUIRED},
    {.param = "priority",
     .col = STORE_OUT_PRIORITY,
     .kind = AK_INT,
     .flags = AF_LIST,
     .min = -2147483648LL,
     .max = 2147483647,
     .dflt = "0"},
    {.param = "localContactDomain",
     .col = STORE_OUT_CONTACT_DOMAIN,
     .kind = AK_DOMAIN,
     .unset = ""},
    {.param = "localFromDomain", .col = STORE_OUT_FROM_DOMAIN, .kind = AK_DOMAIN, .unset = ""},
    {.param = "sipProxy", .col = STORE_OUT_SIP_PROXY, .kind = AK_HOST_PORT},
    {.param = "trunkType",
     .col = STORE_OUT_TRUNK_TYPE,
     .kind = AK_ENUM,
     .enums = trunk_types,
     .dflt = "sip"},
    {.param = "sipControlEncryption",
     .col = STORE_OUT_ENCRYPTION,
     .kind = AK_ENUM,
     .enums = encryptions,
     .dflt = "auto"},
    {.param = "failureAction",
     .col = STORE_OUT_FAILURE_ACTION,
     .kind = AK_ENUM,
     .enums = failure_actions,
     .dflt = "stop"},
    {.param = "scope", .col = STORE_OUT_SCOPE, .kind = AK_ENUM, .enums = scopes, .dflt = "global"},
    {.param = "callBridge",
     .col = STORE_OUT_BRIDGE,
     .kind = AK_REF,
     .ref = &store_table_call_bridge,
     .ref_missing = "callBridgeDoesNotExist"},
    {.param = "callBridgeGroup",
     .col = STORE_OUT_GROUP,
     .kind = AK_REF,
     .ref = &store_table_call_bridge_group,
     .ref_missing = "callBridgeGroupDoesNotExist"},
    {.param = "tenant",
     .col = STORE_OUT_TENANT,
     .kind = AK_REF,
     .flags = AF_LIST,
     .ref = &store_table_tenant,
     .ref_missing = "tenantDoesNotExist"},
    {.param = "callRouting",
     .col = STORE_OUT_ROUTING,
     .kind = AK_ENUM,
     .enums = routings,
     .dflt = "default"},
};

/* A domain pattern: a domain in which '*' may stand for any run of characters ("*.com",
 * "exa*.com"), but not '*' alone (CMS warns it makes call loops). */
static bool is_domain_pattern(const char *v)
{
    char plain[STORE_TEXT_MAX + 1];
    size_t n = 0;

    if (strcmp(v, "*") == 0 || strlen(v) > STORE_TEXT_MAX)
        return false;
    for (; *v; v++)
        plain[n++] = *v == '*' ? 'x' : *v;
    plain[n] = '\0';
    return api_is_domain(plain);
}

static int refuse(struct api_reply *reply, const char *param, const char *error)
{
    api_reply_param_error(reply, param, error);
    return -EINVAL;
}

/* The domain may be wildcarded; a scope names the bridge or group it is limited to. */
static int out_check(const struct api *api, struct store *st, const struct api_request *req,
                     const struct api_resource *res, struct store_row *row, bool create,
                     struct api_reply *reply)
{
    const char *scope = row->v[STORE_OUT_SCOPE];

    (void)api;
    (void)st;
    (void)req;
    (void)res;
    (void)create;
    if (!is_domain_pattern(row->v[STORE_OUT_DOMAIN]))
        return refuse(reply, "domain", "invalidValue");
    if (strcmp(scope, "callBridge") == 0 && !row->v[STORE_OUT_BRIDGE])
        return refuse(reply, "callBridge", "missing");
    if (strcmp(scope, "callBridgeGroup") == 0 && !row->v[STORE_OUT_GROUP])
        return refuse(reply, "callBridgeGroup", "missing");
    return 0;
}

const struct api_resource api_res_outbound_rules = {
    .collection = "outboundDialPlanRules",
    .element = "outboundDialPlanRule",
    .missing = "outboundDialPlanRuleDoesNotExist",
    .in_use = "outboundDialPlanRuleInUse",
    .table = &store_table_outbound_rule,
    .fields = out_fields,
    .nfields = sizeof(out_fields) / sizeof(out_fields[0]),
    .filters = filters,
    .nfilters = sizeof(filters) / sizeof(filters[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = out_check,
};

/* ---- forwarding rules --------------------------------------------------------------------- */
static const char *const fwd_actions[] = {"forward", "reject", NULL};
static const char *const caller_id_modes[] = {"regenerate", "preserve", NULL};
static const char *const uri_params[] = {"discard", "forward", NULL};

static const struct api_field fwd_fields[] = {
    {.param = "matchPattern", .col = STORE_FWD_PATTERN, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "priority",
     .col = STORE_FWD_PRIORITY,
     .kind = AK_INT,
     .flags = AF_LIST,
     .min = -2147483648LL,
     .max = 2147483647,
     .dflt = "0"},
    {.param = "action",
     .col = STORE_FWD_ACTION,
     .kind = AK_ENUM,
     .enums = fwd_actions,
     .dflt = "reject"},
    {.param = "destinationDomain", .col = STORE_FWD_DESTINATION, .kind = AK_DOMAIN},
    {.param = "callerIdMode",
     .col = STORE_FWD_CALLER_ID,
     .kind = AK_ENUM,
     .enums = caller_id_modes,
     .dflt = "regenerate"},
    {.param = "uriParameters",
     .col = STORE_FWD_URI_PARAMS,
     .kind = AK_ENUM,
     .enums = uri_params,
     .dflt = "discard"},
    {.param = "tenant",
     .col = STORE_FWD_TENANT,
     .kind = AK_REF,
     .flags = AF_LIST,
     .ref = &store_table_tenant,
     .ref_missing = "tenantDoesNotExist"},
};

static int fwd_check(const struct api *api, struct store *st, const struct api_request *req,
                     const struct api_resource *res, struct store_row *row, bool create,
                     struct api_reply *reply)
{
    const char *pattern = row->v[STORE_FWD_PATTERN];

    (void)api;
    (void)st;
    (void)req;
    (void)res;
    (void)create;
    if (pattern && !is_domain_pattern(pattern))
        return refuse(reply, "matchPattern", "invalidValue");
    return 0;
}

const struct api_resource api_res_forwarding_rules = {
    .collection = "forwardingDialPlanRules",
    .element = "forwardingDialPlanRule",
    .missing = "forwardingDialPlanRuleDoesNotExist",
    .in_use = "forwardingDialPlanRuleInUse",
    .table = &store_table_forwarding_rule,
    .fields = fwd_fields,
    .nfields = sizeof(fwd_fields) / sizeof(fwd_fields[0]),
    .filters = filters,
    .nfilters = sizeof(filters) / sizeof(filters[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = fwd_check,
};

/* ---- dial transforms ---------------------------------------------------------------------- */
static const char *const xform_types[] = {"raw", "strip", "phone", NULL};
static const char *const xform_actions[] = {"accept", "acceptPhone", "deny", NULL};

static const struct api_field xform_fields[] = {
    {.param = "type",
     .col = STORE_XFORM_TYPE,
     .kind = AK_ENUM,
     .flags = AF_LIST,
     .enums = xform_types,
     .dflt = "raw"},
    {.param = "match", .col = STORE_XFORM_MATCH, .kind = AK_TEXT, .unset = ""},
    {.param = "transform", .col = STORE_XFORM_TRANSFORM, .kind = AK_TEXT, .unset = ""},
    {.param = "priority",
     .col = STORE_XFORM_PRIORITY,
     .kind = AK_INT,
     .min = -2147483648LL,
     .max = 2147483647,
     .dflt = "0"},
    {.param = "action",
     .col = STORE_XFORM_ACTION,
     .kind = AK_ENUM,
     .enums = xform_actions,
     .dflt = "accept"},
};

/* The expressions must be ones the matching can apply (api/res/transform.c). */
static int xform_check(const struct api *api, struct store *st, const struct api_request *req,
                       const struct api_resource *res, struct store_row *row, bool create,
                       struct api_reply *reply)
{
    const char *match = row->v[STORE_XFORM_MATCH], *transform = row->v[STORE_XFORM_TRANSFORM];

    (void)api;
    (void)st;
    (void)req;
    (void)res;
    (void)create;
    if (match && api_transform_check_match(match) < 0)
        return refuse(reply, "match", "invalidValue");
    if (transform && api_transform_check(transform) < 0)
        return refuse(reply, "transform", "invalidValue");
    return 0;
}

const struct api_resource api_res_dial_transforms = {
    .collection = "dialTransforms",
    .element = "dialTransform",
    .missing = "dialTransformDoesNotExist",
    .in_use = "dialTransformInUse",
    .table = &store_table_dial_transform,
    .fields = xform_fields,
    .nfields = sizeof(xform_fields) / sizeof(xform_fields[0]),
    .filters = filters, /* only "filter" applies: the table has no tenant */
    .nfilters = 1,
    .page_default = API_PAGE_DEFAULT,
    .check = xform_check,
};

/* ---- meetingEntryDetail ------------------------------------------------------------------- */

void api_res_meeting_entry_detail(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1], domain[STORE_TEXT_MAX + 1] = "";
    struct store_cospace_entry space;
    struct api_xml *x;
    int r;

    (void)api;
    (void)req;
    if (api_parse_id(id, lid) < 0 || (r = store_cospace_entry_get(st, lid, &space)) == -ENOENT) {
        api_reply_failure(reply, 404, "coSpaceDoesNotExist");
        return;
    }
    if (r == 0) /* the domain advertised: the highest-priority rule reaching this space */
        r = store_match_entry_domain(st, space.tenant, domain, sizeof(domain));
    if ((r < 0 && r != -ENOENT) || !(x = api_xml_new())) {
        api_reply_err(reply, r < 0 ? r : -ENOMEM);
        return;
    }
    api_xml_start(x, "meetingEntryDetail");
    /* the space's id first, as the reference's example gives it (apiary.apib:1172) */
    api_xml_text(x, "coSpace", lid);
    if (space.uri[0] && domain[0]) {
        char uri[2 * STORE_TEXT_MAX + 2];

        snprintf(uri, sizeof(uri), "%s@%s", space.uri, domain);
        api_xml_text(x, "uri", uri);
    }
    if (space.call_id[0])
        api_xml_text(x, "callId", space.call_id);
    api_xml_end(x);
    api_reply_xml(reply, x);
}
