/* api/res/dialplan.c: /api/v1/inboundDialPlanRules and /coSpaces/<id>/meetingEntryDetail (the
 * address a space is advertised under: its uri at the domain of the rule that reaches it). Call
 * matching, which reads the rules, is in api/res/matching.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/res/resource.h"
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
