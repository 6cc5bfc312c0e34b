/* api/res/callbridge.c: /api/v1/tenants, /api/v1/callBridges and /api/v1/callBridgeGroups
 * (cms-api.md §5), so that references to them from coSpaces, rules and TURN servers are real. */
#include "api/res/resource.h"

/* ---- tenants ------------------------------------------------------------------------------ */
static const struct api_field tenant_fields[] = {
    {.param = "name", .col = STORE_TENANT_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    /* the tenant level of the profiles (api/res/profiles.c) */
    {.param = "callLegProfile",
     .col = STORE_TENANT_CALL_LEG_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_call_leg_profile,
     .ref_missing = "callLegProfileDoesNotExist"},
    {.param = "callProfile",
     .col = STORE_TENANT_CALL_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_call_profile,
     .ref_missing = "callProfileDoesNotExist"},
    {.param = "dtmfProfile",
     .col = STORE_TENANT_DTMF_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_dtmf_profile,
     .ref_missing = "dtmfProfileDoesNotExist"},
    {.param = "ivrBrandingProfile",
     .col = STORE_TENANT_IVR_BRANDING_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_ivr_branding_profile,
     .ref_missing = "ivrBrandingProfileDoesNotExist"},
    {.param = "callBrandingProfile",
     .col = STORE_TENANT_CALL_BRANDING_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_call_branding_profile,
     .ref_missing = "callBrandingProfileDoesNotExist"},
    {.param = "userProfile",
     .col = STORE_TENANT_USER_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_user_profile,
     .ref_missing = "userProfileDoesNotExist"},
    {.param = "dialInSecurityProfile",
     .col = STORE_TENANT_DIAL_IN_SECURITY_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_dial_in_security_profile,
     .ref_missing = "dialInSecurityProfileDoesNotExist"},
    {.param = "webBridgeProfile",
     .col = STORE_TENANT_WEB_BRIDGE_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_web_bridge_profile,
     .ref_missing = "webBridgeProfileDoesNotExist"},
};
static const struct api_filter tenant_filters[] = {
    {.param = "filter"},
};

const struct api_resource api_res_tenants = {
    .collection = "tenants",
    .element = "tenant",
    .missing = "tenantDoesNotExist",
    .in_use = "tenantInUse",
    .table = &store_table_tenant,
    .fields = tenant_fields,
    .nfields = sizeof(tenant_fields) / sizeof(tenant_fields[0]),
    .filters = tenant_filters,
    .nfilters = 1,
    .page_default = API_PAGE_DEFAULT,
};

/* ---- call bridge groups ------------------------------------------------------------------- */
static const struct api_field group_fields[] = {
    {.param = "name", .col = STORE_GROUP_NAME, .kind = AK_TEXT, .flags = AF_LIST},
};

const struct api_resource api_res_call_bridge_groups = {
    .collection = "callBridgeGroups",
    .element = "callBridgeGroup",
    .missing = "callBridgeGroupDoesNotExist",
    .in_use = "callBridgeGroupInUse",
    .table = &store_table_call_bridge_group,
    .fields = group_fields,
    .nfields = 1,
    .filters = tenant_filters, /* the same: a substring of the name */
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
    .filters = tenant_filters,
    .nfilters = 1,
    .page_default = API_PAGE_DEFAULT,
};
