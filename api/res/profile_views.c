/* api/res/profile_views.c: what is read across the profiles (api/res/profiles.c): where a call
 * leg profile is used (/callLegProfiles/<id>/usage), a layout template's body
 * (/layoutTemplates/<id>/template) and the system-level profiles (/system/profiles), whose
 * writes make the legs in calls take their profiles again (api/res/leg_profile.c). The values
 * in effect for a coSpace are in api/res/profiles_effect.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/res/leg_profile.h"
#include "api/res/profiles.h"
#include "api/xml.h"

/* ---- /callLegProfiles/<id>/usage ---------------------------------------------------------- */
#define USAGE_MAX 1000 /* tenants, and coSpaces, named in one answer; total counts them all */

static int usage_one(const char *element, const struct store_row *row, struct api_xml *x)
{
    api_xml_start(x, element);
    api_xml_attr(x, "id", row->v[STORE_COL_ID]);
    api_xml_end(x);
    return 0;
}

static int usage_cospace(const struct store_row *row, void *userdata)
{
    return usage_one("coSpace", row, userdata);
}

static int usage_tenant(const struct store_row *row, void *userdata)
{
    return usage_one("tenant", row, userdata);
}

static int write_usage(struct store *st, const char *id, struct api_xml *x)
{
    struct store_query q = {.conds = {{"callLegProfileFilter", id}}, .nconds = 1};
    struct store_row sys;
    size_t n = 0, nt = 0;
    bool global = false;
    int r = store_row_get(st, &store_table_system_profile, API_SYSTEM_PROFILE_ID, &sys);

    if (r == 0) {
        global =
            sys.v[STORE_SP_CALL_LEG_PROFILE] && strcmp(sys.v[STORE_SP_CALL_LEG_PROFILE], id) == 0;
        store_row_done(&sys);
        r = store_row_count(st, &store_table_cospace, &q, &n);
    }
    if (r == 0)
        r = store_row_count(st, &store_table_tenant, &q, &nt);
    if (r < 0)
        return r;
    api_xml_start(x, "callLegProfileUsage");
    api_xml_attr(x, "id", id);
    api_xml_attr_size(x, "total", n + nt + global);
    if (global) {
        api_xml_start(x, "global");
        api_xml_end(x);
    }
    r = store_row_list(st, &store_table_tenant, &q, 0, USAGE_MAX, usage_tenant, x);
    if (r == 0)
        r = store_row_list(st, &store_table_cospace, &q, 0, USAGE_MAX, usage_cospace, x);
    api_xml_end(x);
    return r;
}

void api_res_call_leg_profile_usage(const struct api *api, struct store *st,
                                    const struct api_request *req, const char *id,
                                    struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];
    struct api_xml *x;
    int r;

    (void)api;
    (void)req;
    if (api_parse_id(id, lid) < 0 ||
        (r = store_row_taken(st, &store_table_call_leg_profile, STORE_COL_ID, lid, NULL, false)) ==
            -ENOENT) {
        api_reply_failure(reply, 404, "callLegProfileDoesNotExist");
        return;
    }
    x = r == 0 ? api_xml_new() : NULL;
    r = r < 0 ? r : !x ? -ENOMEM : store_read_begin(st);
    if (r == 0)
        r = write_usage(st, lid, x);
    store_read_end(st);
    if (r < 0) {
        api_xml_free(x);
        api_reply_err(reply, r);
        return;
    }
    api_reply_xml(reply, x);
}

/* ---- /layoutTemplates/<id>/template ------------------------------------------------------- */
#define TEMPLATE_MAX                                                                               \
    (32 * 1024) /* a layout template's JSON (CMS's own are a few KB), under API_MAX_BODY */

static int store_template(struct store *st, const char *id, const struct api_request *req,
                          struct api_reply *reply)
{
    struct store_row row = {0};
    int r = store_begin(st);

    if (r == 0 && (r = store_row_get(st, &store_table_layout_template, id, &row)) == -ENOENT)
        api_reply_failure(reply, 404, "layoutTemplateDoesNotExist");
    if (r == 0 && (r = store_row_set(&row, STORE_LT_TEMPLATE, req->body)) == 0 &&
        (r = store_row_update(st, &store_table_layout_template, &row)) == 0)
        r = store_commit(st);
    store_rollback(st);
    store_row_done(&row);
    if (r < 0 && r != -ENOENT)
        api_reply_err(reply, r);
    return r;
}

static void get_template(struct store *st, const char *id, struct api_reply *reply)
{
    struct store_row row;
    int r = store_row_get(st, &store_table_layout_template, id, &row);

    if (r == -ENOENT) {
        api_reply_failure(reply, 404, "layoutTemplateDoesNotExist");
        return;
    }
    if (r < 0) {
        api_reply_err(reply, r);
        return;
    }
    reply->status = 200;
    reply->body = strdup(row.v[STORE_LT_TEMPLATE] ? row.v[STORE_LT_TEMPLATE] : "");
    reply->len = reply->body ? strlen(reply->body) : 0;
    reply->content_type = "application/json";
    store_row_done(&row);
}

void api_res_layout_template_body(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    if (api_parse_id(id, lid) < 0) {
        api_reply_failure(reply, 404, "layoutTemplateDoesNotExist");
        return;
    }
    if (req->method != API_PUT) {
        get_template(st, lid, reply);
        return;
    }
    /* the whole body, as sent: no NUL inside (a text column), at most TEMPLATE_MAX bytes */
    if (req->body_len == 0 || req->body_len > TEMPLATE_MAX || strlen(req->body) != req->body_len) {
        api_reply_param_error(reply, "template", "invalidValue");
        return;
    }
    if (store_template(st, lid, req, reply) == 0) {
        api_changed(api);
        reply->status = 200;
    }
}

/* ---- /system/profiles --------------------------------------------------------------------- */
static const struct api_field system_profile_fields[] = {
    {.param = "callLegProfile",
     .col = STORE_SP_CALL_LEG_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_call_leg_profile,
     .ref_missing = "callLegProfileDoesNotExist"},
    {.param = "callProfile",
     .col = STORE_SP_CALL_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_call_profile,
     .ref_missing = "callProfileDoesNotExist"},
    {.param = "dtmfProfile",
     .col = STORE_SP_DTMF_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_dtmf_profile,
     .ref_missing = "dtmfProfileDoesNotExist"},
    {.param = "userProfile",
     .col = STORE_SP_USER_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_user_profile,
     .ref_missing = "userProfileDoesNotExist"},
    {.param = "ivrBrandingProfile",
     .col = STORE_SP_IVR_BRANDING_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_ivr_branding_profile,
     .ref_missing = "ivrBrandingProfileDoesNotExist"},
    {.param = "callBrandingProfile",
     .col = STORE_SP_CALL_BRANDING_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_call_branding_profile,
     .ref_missing = "callBrandingProfileDoesNotExist"},
    {.param = "compatibilityProfile",
     .col = STORE_SP_COMPATIBILITY_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_compatibility_profile,
     .ref_missing = "compatibilityProfileDoesNotExist"},
    {.param = "dialInSecurityProfile",
     .col = STORE_SP_DIAL_IN_SECURITY_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_dial_in_security_profile,
     .ref_missing = "dialInSecurityProfileDoesNotExist"},
    {.param = "webBridgeProfile",
     .col = STORE_SP_WEB_BRIDGE_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_web_bridge_profile,
     .ref_missing = "webBridgeProfileDoesNotExist"},
};

/* The system's callLegProfile changed: every leg in a call takes its profiles again. */
static void system_profiles_written(const struct api *api, struct store *st, const char *id)
{
    (void)id;
    api_leg_profiles_changed(api, st, NULL);
}

static const struct api_resource system_profiles = {
    .collection = "system/profiles",
    .element = "profiles",
    .missing = "objectDoesNotExist",
    .table = &store_table_system_profile,
    .fields = system_profile_fields,
    .nfields = sizeof(system_profile_fields) / sizeof(system_profile_fields[0]),
    .after_write = system_profiles_written,
};

static void get_system_profiles(struct store *st, struct api_reply *reply)
{
    struct store_row row;
    struct api_xml *x;
    int r = store_row_get(st, &store_table_system_profile, API_SYSTEM_PROFILE_ID, &row);

    if (r < 0) {
        api_reply_err(reply, r == -ENOENT ? -EIO : r);
        return;
    }
    x = api_reply_xml_new(reply);
    if (x) {
        api_xml_start(x, "profiles");
        for (size_t i = 0; i < system_profiles.nfields; i++)
            if (row.v[system_profile_fields[i].col])
                api_xml_text(x, system_profile_fields[i].param,
                             row.v[system_profile_fields[i].col]);
        api_xml_end(x);
        api_reply_xml(reply, x);
    }
    store_row_done(&row);
}

/* GET shows the ids set; PUT and POST (CMS takes both) set or, with an empty value, unset. */
void api_res_system_profiles(const struct api *api, struct store *st, const struct api_request *req,
                             const char *id, struct api_reply *reply)
{
    struct api_request put = *req;

    (void)id;
    if (req->method == API_GET || req->method == API_HEAD) {
        get_system_profiles(st, reply);
        return;
    }
    put.method = API_PUT;
    api_res_generic(api, st, &put, &system_profiles, API_SYSTEM_PROFILE_ID, reply);
    reply->location[0] = '\0';
}
