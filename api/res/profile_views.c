/* api/res/profile_views.c: what is read across the profiles (api/res/profiles.c): where a call
 * leg profile is used (/callLegProfiles/<id>/usage), a layout template's body
 * (/layoutTemplates/<id>/template), the system-level profiles (/system/profiles), and the values
 * in effect for a coSpace, by CMS's precedence (coSpace > tenant > system), that the join path
 * enforces (api/res/guest.c) and coSpace writes check (api/res/cospace.c). */
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

/* ---- values in effect --------------------------------------------------------------------- */

const char *api_profiles_first(const struct store_row *const *rows, size_t n, size_t col)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i] && rows[i]->v[col])
            return rows[i]->v[col];
    return NULL;
}

/* Which profile column each level has for one kind of profile. */
struct kind_cols {
    size_t cospace, tenant, sys;
    const struct store_table *t;
};

static const struct kind_cols call_profile_cols = {STORE_COSPACE_CALL_PROFILE,
                                                   STORE_TENANT_CALL_PROFILE, STORE_SP_CALL_PROFILE,
                                                   &store_table_call_profile};
static const struct kind_cols dial_in_cols = {
    STORE_COSPACE_DIAL_IN, STORE_TENANT_DIAL_IN_SECURITY_PROFILE, STORE_SP_DIAL_IN_SECURITY_PROFILE,
    &store_table_dial_in_security_profile};

/* Into prof, the profile of kind k in effect for the coSpace cs: its own, else its tenant's,
 * else the system's; prof stays empty when no level names one. */
static int profile_in_effect(struct store *st, const struct store_row *cs,
                             const struct kind_cols *k, struct store_row *prof)
{
    struct store_row tenant = {0}, sys = {0};
    const char *pid = cs->v[k->cospace];
    int r = 0;

    if (!pid && cs->v[STORE_COSPACE_TENANT] &&
        (r = store_row_get(st, &store_table_tenant, cs->v[STORE_COSPACE_TENANT], &tenant)) == 0)
        pid = tenant.v[k->tenant];
    if (r == 0 && !pid &&
        (r = store_row_get(st, &store_table_system_profile, API_SYSTEM_PROFILE_ID, &sys)) == 0)
        pid = sys.v[k->sys];
    if (r == 0 && pid)
        r = store_row_get(st, k->t, pid, prof);
    store_row_done(&tenant);
    store_row_done(&sys);
    return r;
}

/* The integer column col of the profile of kind k in effect for the coSpace row cs (NULL: the
 * stored coSpace cospace_id). 0 with *ret, dflt when no level sets it. */
static int effective_int(struct store *st, const char *cospace_id, const struct store_row *cs,
                         const struct kind_cols *k, size_t col, int64_t dflt, int64_t *ret)
{
    struct store_row stored = {0}, prof = {0};
    int r = cs ? 0 : store_row_get(st, &store_table_cospace, cospace_id, &stored);

    if (r == 0)
        r = profile_in_effect(st, cs ? cs : &stored, k, &prof);
    if (r == 0)
        *ret = prof.v[col] ? strtoll(prof.v[col], NULL, 10) : dflt;
    store_row_done(&stored);
    store_row_done(&prof);
    return r;
}

int api_profiles_participant_limit(struct store *st, const char *cospace_id, int64_t *ret_limit)
{
    return effective_int(st, cospace_id, NULL, &call_profile_cols, STORE_CP_PARTICIPANT_LIMIT, 0,
                         ret_limit);
}

int api_profiles_min_passcode(struct store *st, const char *cospace_id,
                              const struct store_row *cospace, int64_t *ret_min)
{
    return effective_int(st, cospace_id, cospace, &dial_in_cols, STORE_DISP_MIN_PASSCODE_LENGTH, 0,
                         ret_min);
}

int api_profiles_blank_passcode_allowed(struct store *st, const char *cospace_id, bool *ret)
{
    int64_t v;
    int r = effective_int(st, cospace_id, NULL, &dial_in_cols, STORE_DISP_BLANK_PASSCODE_ALLOWED, 1,
                          &v);

    if (r == 0)
        *ret = v != 0;
    return r;
}

/* lockMode is text: "all" unless a profile in effect says needsActivation (CMS's default). */
int api_profiles_lock_all(struct store *st, const char *cospace_id, bool *ret)
{
    struct store_row cs = {0}, prof = {0};
    int r = store_row_get(st, &store_table_cospace, cospace_id, &cs);

    if (r == 0)
        r = profile_in_effect(st, &cs, &call_profile_cols, &prof);
    if (r == 0)
        *ret = !prof.v[STORE_CP_LOCK_MODE] || strcmp(prof.v[STORE_CP_LOCK_MODE], "all") == 0;
    store_row_done(&cs);
    store_row_done(&prof);
    return r;
}
