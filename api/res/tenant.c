/* api/res/tenant.c: /api/v1/tenants, /tenantGroups, /ivrs, /system/configuration/cluster and /xmpp:
 * the multi-tenancy objects and the IVRs a call can be matched to, with the parameters of the
 * CMS API reference, and a tenant's profile references (the tenant level of the profiles'
 * precedence: api/res/profiles.c).
 *
 * DESIGN: coSpace callIds are unique across every coSpace (schema 0002), which is stricter than
 * CMS's rule (unique within a tenant group and among tenants in none), so joining a tenant to a
 * group can never produce tenantGroupCoSpaceIdConflict. An IVR's uri may be neither another
 * IVR's nor a coSpace uri that the IVR's tenant reaches (ivrUriConflict), since call matching
 * could not tell which was meant. The cluster settings are one row with a fixed id. */
#include <errno.h>
#include <string.h>

#include "api/reply.h"
#include "api/res/resource.h"

/* ---- tenants ------------------------------------------------------------------------------ */
static const struct api_field tenant_fields[] = {
    {.param = "name", .col = STORE_TENANT_NAME, .kind = AK_TEXT, .flags = AF_LIST | AF_REQUIRED},
    {.param = "tenantGroup",
     .col = STORE_TENANT_GROUP,
     .kind = AK_REF,
     .flags = AF_LIST,
     .ref = &store_table_tenant_group,
     .ref_missing = "tenantGroupDoesNotExist"},
    {.param = "participantLimit",
     .col = STORE_TENANT_PARTICIPANT_LIMIT,
     .kind = AK_INT,
     .min = 0,
     .max = 2147483647},
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
static const struct api_filter name_filter[] = {
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
    .filters = name_filter,
    .nfilters = 1,
    .page_default = API_PAGE_DEFAULT,
};

/* ---- tenant groups: no parameters of their own; tenants name them ------------------------- */
const struct api_resource api_res_tenant_groups = {
    .collection = "tenantGroups",
    .element = "tenantGroup",
    .missing = "tenantGroupDoesNotExist",
    .in_use = "tenantGroupInUse",
    .table = &store_table_tenant_group,
    .page_default = API_PAGE_DEFAULT,
};

/* ---- IVRs --------------------------------------------------------------------------------- */
static const struct api_field ivr_fields[] = {
    {.param = "uri",
     .col = STORE_IVR_URI,
     .kind = AK_URI,
     .flags = AF_LIST | AF_NOCASE,
     .duplicate = "ivrUriConflict"},
    {.param = "tenant",
     .col = STORE_IVR_TENANT,
     .kind = AK_REF,
     .ref = &store_table_tenant,
     .ref_missing = "tenantDoesNotExist"},
    {.param = "tenantGroup",
     .col = STORE_IVR_TENANT_GROUP,
     .kind = AK_REF,
     .ref = &store_table_tenant_group,
     .ref_missing = "tenantGroupDoesNotExist"},
    {.param = "ivrBrandingProfile", .col = STORE_IVR_BRANDING, .kind = AK_ID},
    {.param = "resolveCoSpaceCallIds", .col = STORE_IVR_CALL_IDS, .kind = AK_BOOL, .dflt = "1"},
    {.param = "resolveLyncConferenceIds", .col = STORE_IVR_LYNC_IDS, .kind = AK_BOOL, .dflt = "0"},
};
static const struct api_filter ivr_filters[] = {
    {.param = "filter"},
    {.param = "tenantFilter"},
};

/* An IVR uri that is also a coSpace's uri within the IVR's tenant is a conflict. */
static int ivr_check(const struct api *api, struct store *st, const struct api_request *req,
                     const struct api_resource *res, struct store_row *row, bool create,
                     struct api_reply *reply)
{
    const char *uri = row->v[STORE_IVR_URI];
    char id[STORE_ID_LEN + 1];
    int r;

    (void)api;
    (void)req;
    (void)res;
    (void)create;
    if (!uri || !*uri)
        return 0;
    r = store_match_cospace_uri(st, uri, row->v[STORE_IVR_TENANT], id);
    if (r == 0) {
        api_reply_failure(reply, 400, "ivrUriConflict");
        return -EEXIST;
    }
    if (r != -ENOENT) {
        api_reply_err(reply, r);
        return r;
    }
    return 0;
}

const struct api_resource api_res_ivrs = {
    .collection = "ivrs",
    .element = "ivr",
    .missing = "ivrDoesNotExist",
    .in_use = "ivrInUse",
    .table = &store_table_ivr,
    .fields = ivr_fields,
    .nfields = sizeof(ivr_fields) / sizeof(ivr_fields[0]),
    .filters = ivr_filters,
    .nfilters = 2,
    .page_default = API_PAGE_DEFAULT,
    .check = ivr_check,
};

/* ---- /system/configuration/cluster -------------------------------------------------------- */
static const struct api_field cluster_fields[] = {
    {.param = "uniqueName", .col = STORE_CLUSTER_NAME, .kind = AK_TEXT, .unset = ""},
    {.param = "peerLinkBitRate", /* left out while unset, as a CMS answers */
     .col = STORE_CLUSTER_PEER_BIT_RATE,
     .kind = AK_INT,
     .min = 1,
     .max = 2147483647},
    {.param = "participantLimit",
     .col = STORE_CLUSTER_PARTICIPANT_LIMIT,
     .kind = AK_INT,
     .min = 0,
     .max = 2147483647,
     .unset = ""},
    {.param = "loadLimit",
     .col = STORE_CLUSTER_LOAD_LIMIT,
     .kind = AK_INT,
     .min = 0,
     .max = 2147483647,
     .unset = ""},
    {.param = "newConferenceLoadLimitBasisPoints",
     .col = STORE_CLUSTER_NEW_BP,
     .kind = AK_INT,
     .max = 10000,
     .dflt = "5000"},
    {.param = "existingConferenceLoadLimitBasisPoints",
     .col = STORE_CLUSTER_EXISTING_BP,
     .kind = AK_INT,
     .max = 10000,
     .dflt = "8000"},
    {.param = "maxPeerVideoStreams",
     .col = STORE_CLUSTER_PEER_STREAMS,
     .kind = AK_INT,
     .min = 1,
     .max = 2147483647,
     .unset = ""},
};

/* As a CMS shows the node (apiary.apib:7988, and a capture in Mividas's test data): the empty
 * elements first, in this order; peerLinkBitRate last, when set. */
static const unsigned char cluster_order[] = {0, 6, 2, 3, 4, 5, 1};

static const struct api_resource cluster = {
    .collection = "system/configuration/cluster",
    .element = "cluster",
    .missing = "unrecognizedObject",
    .table = &store_table_cluster_config,
    .fields = cluster_fields,
    .nfields = sizeof(cluster_fields) / sizeof(cluster_fields[0]),
    .order = cluster_order,
    .singleton = true, /* <cluster> has no id (apiary.apib:7988) */
};

/* GET shows the one row; PUT and POST (the collection sends both) modify it. */
void api_res_cluster(const struct api *api, struct store *st, const struct api_request *req,
                     const char *id, struct api_reply *reply)
{
    struct api_request put = *req;

    (void)id;
    if (req->method == API_POST)
        put.method = API_PUT;
    api_res_generic(api, st, &put, &cluster, STORE_CLUSTER_ROW_ID, reply);
}

/* ---- /system/configuration/xmpp ----------------------------------------------------------- */
/* CMS 2.x's link to its XMPP server (removed in CMS 3.0; deployment roles written for 2.x still
 * PUT it). callbridge has no XMPP client, so nothing connects with these: they are kept and
 * shown as written, the secret sealed and never shown (apiary.apib:7880 shows none either). */
static const struct api_field xmpp_fields[] = {
    {.param = "uniqueName", .col = STORE_XMPP_UNIQUE_NAME, .kind = AK_TEXT},
    {.param = "domain", .col = STORE_XMPP_DOMAIN, .kind = AK_TEXT},
    {.param = "sharedSecret",
     .col = STORE_XMPP_SHARED_SECRET,
     .kind = AK_SECRET,
     .flags = AF_HIDDEN},
    {.param = "serverAddressOverride", .col = STORE_XMPP_SERVER_ADDRESS_OVERRIDE, .kind = AK_TEXT},
};

static const struct api_resource xmpp = {
    .collection = "system/configuration/xmpp",
    .element = "xmpp",
    .missing = "unrecognizedObject",
    .table = &store_table_xmpp_config,
    .fields = xmpp_fields,
    .nfields = sizeof(xmpp_fields) / sizeof(xmpp_fields[0]),
    .singleton = true, /* <xmpp> has no id (apiary.apib:7918) */
};

/* GET shows the one row; PUT and POST (the apiary names both) modify it. */
void api_res_xmpp(const struct api *api, struct store *st, const struct api_request *req,
                  const char *id, struct api_reply *reply)
{
    struct api_request put = *req;

    (void)id;
    if (req->method == API_POST)
        put.method = API_PUT;
    api_res_generic(api, st, &put, &xmpp, STORE_CLUSTER_ROW_ID, reply);
}
