/* api/res/webbridge.c: webBridgeProfiles, webBridges (with /status and /updateCustomization), and
 * the web bridge profile in effect (/system/profiles, /tenants/<id> and /webBridges/<id>
 * /effectiveWebBridgeProfile), which governs what the built-in join page (api/res/guest.c) takes.
 *
 * DESIGN: the join page this daemon serves is a web bridge: the row API_BUILTIN_WEB_BRIDGE_ID,
 * created by the schema so it exists from the first start, changed like any other (its
 * webBridgeProfile is the page's) and never deleted. Other web bridges are stored for the
 * clients that provision them; this daemon does not drive external web bridges, so their status
 * says "unused". A value not set in a web bridge's profile comes from its tenant's profile, then
 * the system's, then CMS's behaviour (defaults[]). */
#include <errno.h>
#include <string.h>

#include "api/res/profiles.h"
#include "api/xml.h"

static const char *const e_resolveCoSpaceUris[] = {"off", "domainSuggestionDisabled",
                                                   "domainSuggestionEnabled", NULL};

static const struct api_field web_bridge_profile_fields[] = {
    {.param = "name", .col = STORE_WBP_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "resourceArchive", .col = STORE_WBP_RESOURCE_ARCHIVE, .kind = AK_TEXT},
    {.param = "allowPasscodes", .col = STORE_WBP_ALLOW_PASSCODES, .kind = AK_BOOL},
    {.param = "allowSecrets", .col = STORE_WBP_ALLOW_SECRETS, .kind = AK_BOOL},
    {.param = "userPortalEnabled", .col = STORE_WBP_USER_PORTAL_ENABLED, .kind = AK_BOOL},
    {.param = "allowUnauthenticatedGuests",
     .col = STORE_WBP_ALLOW_UNAUTHENTICATED_GUESTS,
     .kind = AK_BOOL},
    {.param = "resolveCoSpaceCallIds", .col = STORE_WBP_RESOLVE_CO_SPACE_CALL_IDS, .kind = AK_BOOL},
    {.param = "resolveLyncConferenceIds",
     .col = STORE_WBP_RESOLVE_LYNC_CONFERENCE_IDS,
     .kind = AK_BOOL},
    {.param = "resolveCoSpaceUris",
     .col = STORE_WBP_RESOLVE_CO_SPACE_URIS,
     .kind = AK_ENUM,
     .enums = e_resolveCoSpaceUris},
};
static const struct api_field web_bridge_fields[] = {
    {.param = "url", .col = STORE_WB_URL, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "tenant",
     .col = STORE_WB_TENANT,
     .kind = AK_REF,
     .ref = &store_table_tenant,
     .ref_missing = "tenantDoesNotExist"},
    {.param = "callBridge",
     .col = STORE_WB_CALL_BRIDGE,
     .kind = AK_REF,
     .ref = &store_table_call_bridge,
     .ref_missing = "callBridgeDoesNotExist"},
    {.param = "callBridgeGroup",
     .col = STORE_WB_CALL_BRIDGE_GROUP,
     .kind = AK_REF,
     .ref = &store_table_call_bridge_group,
     .ref_missing = "callBridgeGroupDoesNotExist"},
    {.param = "webBridgeProfile",
     .col = STORE_WB_WEB_BRIDGE_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_web_bridge_profile,
     .ref_missing = "webBridgeProfileDoesNotExist"},
};

static const struct api_filter wbp_filters[] = {{.param = "filter"}, {.param = "usageFilter"}};

const struct api_resource api_res_web_bridge_profiles = {
    .collection = "webBridgeProfiles",
    .element = "webBridgeProfile",
    .missing = "webBridgeProfileDoesNotExist",
    .in_use = "webBridgeProfileInUse",
    .table = &store_table_web_bridge_profile,
    .fields = web_bridge_profile_fields,
    .nfields = sizeof(web_bridge_profile_fields) / sizeof(web_bridge_profile_fields[0]),
    .filters = wbp_filters,
    .nfilters = sizeof(wbp_filters) / sizeof(wbp_filters[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = api_profiles_check,
};

static const struct api_filter wb_filters[] = {{.param = "filter"}, {.param = "tenantFilter"}};

const struct api_resource api_res_web_bridges = {
    .collection = "webBridges",
    .element = "webBridge",
    .missing = "webBridgeDoesNotExist",
    .in_use = "webBridgeInUse", /* the built-in one (a trigger in schema/0006_profiles.sql) */
    .table = &store_table_web_bridge,
    .fields = web_bridge_fields,
    .nfields = sizeof(web_bridge_fields) / sizeof(web_bridge_fields[0]),
    .filters = wb_filters,
    .nfilters = sizeof(wb_filters) / sizeof(wb_filters[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = api_profiles_check,
};

/* ---- the profile in effect ---------------------------------------------------------------- */

/* What CMS does where no level sets a value: the join page's behaviour before profiles. */
static const char *const defaults[STORE_WBP__N] = {
    [STORE_WBP_ALLOW_PASSCODES] = "1",           [STORE_WBP_ALLOW_SECRETS] = "1",
    [STORE_WBP_USER_PORTAL_ENABLED] = "1",       [STORE_WBP_ALLOW_UNAUTHENTICATED_GUESTS] = "1",
    [STORE_WBP_RESOLVE_CO_SPACE_CALL_IDS] = "1", [STORE_WBP_RESOLVE_LYNC_CONFERENCE_IDS] = "0",
    [STORE_WBP_RESOLVE_CO_SPACE_URIS] = "off",
};

/* The levels, most particular first: the web bridge's profile, its tenant's (or, for a tenant's
 * view, that tenant's), the system's. */
struct levels {
    struct store_row wbp, tenant, sys;
    const struct store_row *rows[3];
};

static int profile_of(struct store *st, const struct store_table *t, const char *id, size_t col,
                      struct store_row *ret)
{
    struct store_row owner = {0};
    int r = store_row_get(st, t, id, &owner);

    if (r == 0 && owner.v[col])
        r = store_row_get(st, &store_table_web_bridge_profile, owner.v[col], ret);
    store_row_done(&owner);
    return r;
}

/* wb_id NULL: no web bridge level; tenant_id NULL: the web bridge's tenant, if any. */
static int levels_read(struct store *st, const char *wb_id, const char *tenant_id, struct levels *l)
{
    struct store_row wb = {0};
    int r = 0;

    memset(l, 0, sizeof(*l));
    if (wb_id && (r = store_row_get(st, &store_table_web_bridge, wb_id, &wb)) == 0) {
        if (wb.v[STORE_WB_WEB_BRIDGE_PROFILE])
            r = store_row_get(st, &store_table_web_bridge_profile,
                              wb.v[STORE_WB_WEB_BRIDGE_PROFILE], &l->wbp);
        tenant_id = wb.v[STORE_WB_TENANT];
    }
    if (r == 0 && tenant_id)
        r = profile_of(st, &store_table_tenant, tenant_id, STORE_TENANT_WEB_BRIDGE_PROFILE,
                       &l->tenant);
    if (r == 0)
        r = profile_of(st, &store_table_system_profile, API_SYSTEM_PROFILE_ID,
                       STORE_SP_WEB_BRIDGE_PROFILE, &l->sys);
    store_row_done(&wb);
    l->rows[0] = &l->wbp;
    l->rows[1] = &l->tenant;
    l->rows[2] = &l->sys;
    return r;
}

static void levels_done(struct levels *l)
{
    store_row_done(&l->wbp);
    store_row_done(&l->tenant);
    store_row_done(&l->sys);
}

static const char *effective(const struct levels *l, size_t col)
{
    const char *v = api_profiles_first(l->rows, 3, col);

    return v ? v : defaults[col];
}

int api_web_bridge_join_policy(struct store *st, struct api_join_policy *ret)
{
    struct levels l;
    int r = levels_read(st, API_BUILTIN_WEB_BRIDGE_ID, NULL, &l);

    if (r == 0) {
        ret->allow_passcodes = strcmp(effective(&l, STORE_WBP_ALLOW_PASSCODES), "1") == 0;
        ret->allow_secrets = strcmp(effective(&l, STORE_WBP_ALLOW_SECRETS), "1") == 0;
        ret->allow_guests = strcmp(effective(&l, STORE_WBP_ALLOW_UNAUTHENTICATED_GUESTS), "1") == 0;
        ret->resolve_call_ids =
            strcmp(effective(&l, STORE_WBP_RESOLVE_CO_SPACE_CALL_IDS), "1") == 0;
    }
    levels_done(&l);
    return r;
}

/* <effectiveWebBridgeProfile> with every parameter's value in effect. */
static void write_effective(struct store *st, const char *wb_id, const char *tenant_id,
                            struct api_reply *reply)
{
    struct levels l;
    struct api_xml *x;
    int r = levels_read(st, wb_id, tenant_id, &l);

    if (r < 0) {
        levels_done(&l);
        api_reply_err(reply, r);
        return;
    }
    x = api_reply_xml_new(reply);
    if (x) {
        api_xml_start(x, "effectiveWebBridgeProfile");
        for (size_t i = 0; i < api_res_web_bridge_profiles.nfields; i++) {
            const struct api_field *f = &web_bridge_profile_fields[i];
            const char *v = effective(&l, f->col);

            if (v && f->kind == AK_BOOL)
                api_xml_bool(x, f->param, strcmp(v, "1") == 0);
            else if (v)
                api_xml_text(x, f->param, v);
        }
        api_xml_end(x);
        api_reply_xml(reply, x);
    }
    levels_done(&l);
}

void api_res_effective_wbp_system(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply)
{
    (void)api;
    (void)req;
    (void)id;
    write_effective(st, NULL, NULL, reply);
}

/* 0 when table holds id (as a valid id), else the 404 with missing is in *reply. */
static int exists(struct store *st, const struct store_table *t, const char *id,
                  const char *missing, char lid[STORE_ID_LEN + 1], struct api_reply *reply)
{
    int r = api_parse_id(id, lid) < 0 ? -ENOENT
                                      : store_row_taken(st, t, STORE_COL_ID, lid, NULL, false);

    if (r == -ENOENT)
        api_reply_failure(reply, 404, missing);
    else if (r < 0)
        api_reply_err(reply, r);
    return r;
}

void api_res_effective_wbp_tenant(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    (void)api;
    (void)req;
    if (exists(st, &store_table_tenant, id, "tenantDoesNotExist", lid, reply) == 0)
        write_effective(st, NULL, lid, reply);
}

void api_res_effective_wbp_web_bridge(const struct api *api, struct store *st,
                                      const struct api_request *req, const char *id,
                                      struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    (void)api;
    (void)req;
    if (exists(st, &store_table_web_bridge, id, "webBridgeDoesNotExist", lid, reply) == 0)
        write_effective(st, lid, NULL, reply);
}

/* ---- /webBridges/<id>/status and updateCustomization -------------------------------------- */

void api_res_web_bridge_status(const struct api *api, struct store *st,
                               const struct api_request *req, const char *id,
                               struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];
    struct api_xml *x;

    (void)req;
    if (exists(st, &store_table_web_bridge, id, "webBridgeDoesNotExist", lid, reply) < 0)
        return;
    x = api_reply_xml_new(reply);
    if (!x)
        return;
    api_xml_start(x, "webBridge");
    api_xml_attr(x, "id", lid);
    /* the built-in page is served by this process whenever the API is: connected */
    api_xml_text(x, "status",
                 strcmp(lid, API_BUILTIN_WEB_BRIDGE_ID) == 0 && api->calls ? "success" : "unused");
    api_xml_end(x);
    api_reply_xml(reply, x);
}

/* CMS fetches the resourceArchive in effect and pushes it to the web bridge. This daemon has no
 * archive fetcher: with no archive in effect there is nothing to fetch (200, as CMS); with one,
 * the refusal says the retrieval cannot be done (the alarm CMS would raise is the same name). */
void api_res_web_bridge_customization(const struct api *api, struct store *st,
                                      const struct api_request *req, const char *id,
                                      struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];
    struct levels l;
    int r;

    (void)api;
    (void)req;
    if (exists(st, &store_table_web_bridge, id, "webBridgeDoesNotExist", lid, reply) < 0)
        return;
    r = levels_read(st, lid, NULL, &l);
    if (r < 0)
        api_reply_err(reply, r);
    else if (effective(&l, STORE_WBP_RESOURCE_ARCHIVE))
        api_reply_failure(reply, 400, "webBridgeArchiveRetrievalFailure");
    else
        reply->status = 200;
    levels_done(&l);
}
