/* api/res/callbridge.c: /api/v1/callBridges and /api/v1/callBridgeGroups
 * (cms-api.md §5), so that references to them from coSpaces, rules and TURN servers are real. */
#include "api/res/resource.h"

static const struct api_filter name_filter[] = {
    {.param = "filter"},
};

/* ---- call bridge groups ------------------------------------------------------------------- */
/* The load balancing flags are stored and shown: this node is a cluster of one, so there is no
 * other bridge to balance to. */
static const struct api_field group_fields[] = {
    {.param = "name", .col = STORE_GROUP_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "loadBalancingEnabled", .col = STORE_GROUP_LB_ENABLED, .kind = AK_BOOL, .dflt = "0"},
    {.param = "loadBalanceLyncCalls", .col = STORE_GROUP_LB_LYNC, .kind = AK_BOOL, .dflt = "0"},
    {.param = "loadBalanceOutgoingCalls",
     .col = STORE_GROUP_LB_OUTGOING,
     .kind = AK_BOOL,
     .dflt = "0"},
    {.param = "loadBalanceUserCalls", .col = STORE_GROUP_LB_USER, .kind = AK_BOOL, .dflt = "1"},
    {.param = "loadBalanceIndirectCalls",
     .col = STORE_GROUP_LB_INDIRECT,
     .kind = AK_BOOL,
     .dflt = "0"},
};

const struct api_resource api_res_call_bridge_groups = {
    .collection = "callBridgeGroups",
    .element = "callBridgeGroup",
    .missing = "callBridgeGroupDoesNotExist",
    .in_use = "callBridgeGroupInUse",
    .table = &store_table_call_bridge_group,
    .fields = group_fields,
    .nfields = sizeof(group_fields) / sizeof(group_fields[0]),
    .filters = name_filter, /* a substring of the name */
    .nfilters = 1,
    .page_default = API_PAGE_DEFAULT,
};

/* ---- call bridges ------------------------------------------------------------------------- */
static const struct api_field bridge_fields[] = {
    {.param = "name",
     .col = STORE_BRIDGE_NAME,
     .kind = AK_TEXT,
     .flags = AF_LIST | AF_NOCASE,
     .duplicate = "duplicateCallBridgeName"},
    {.param = "address", .col = STORE_BRIDGE_ADDRESS, .kind = AK_TEXT},
    {.param = "sipDomain", .col = STORE_BRIDGE_SIP_DOMAIN, .kind = AK_DOMAIN},
    {.param = "callBridgeGroup",
     .col = STORE_BRIDGE_GROUP,
     .kind = AK_REF,
     .ref = &store_table_call_bridge_group,
     .ref_missing = "callBridgeGroupDoesNotExist"},
};

const struct api_resource api_res_call_bridges = {
    .collection = "callBridges",
    .element = "callBridge",
    .missing = "callBridgeDoesNotExist",
    .in_use = "callBridgeInUse",
    .table = &store_table_call_bridge,
    .fields = bridge_fields,
    .nfields = 4,
    .filters = name_filter,
    .nfilters = 1,
    .page_default = API_PAGE_DEFAULT,
};
