/* api/res/ldap.c: ldapServers, ldapMappings, ldapSources, directorySearchLocations,
 * ldapUserCoSpaceTemplateSources and ldapSyncs on the generic resource engine (the API
 * reference's "LDAP Methods"); the syncs themselves run in api/ldap_sync.c.
 *
 * DESIGN: the parameters, required ones and answer shapes are the apiary's. An LDAP server's
 * password is sealed like a TURN secret (AK_SECRET) and never shown. A source's server and
 * mapping must exist when it is written (ldapServerDoesNotExist, ldapMappingDoesNotExist), but
 * CMS names no "in use" refusal for either, so they may be deleted later: the sync that meets
 * such a source ends failed with ldapError. A sync is created pending with the tenant and source
 * it is restricted to as given (CMS reports a missing one as the sync's failureReason, not as a
 * refusal of the POST); DELETE cancels it while pending, removes it from the tracked list once it
 * has finished, and answers ldapSyncCannotBeCancelled while it runs. */
#include <errno.h>
#include <string.h>

#include "api/ldap_sync.h"
#include "api/res/ldap.h"

/* A mapping template: printable text whose '$' signs each open or close an attribute name
 * ($cn$, $sAMAccountName$; "$$" is a literal '$'). CMS's regular-expression form
 * ($attr|'re'|'repl'$) is not implemented: refused rather than expanded wrongly. */
static bool is_template(const char *v)
{
    while ((v = strchr(v, '$'))) {
        size_t n =
            strspn(v + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-;");

        if (v[1 + n] != '$')
            return false;
        v += n + 2;
    }
    return true;
}

static int mapping_check(const struct api *api, struct store *st, const struct api_request *req,
                         const struct api_resource *res, struct store_row *row, bool create,
                         struct api_reply *reply)
{
    (void)api;
    (void)st;
    (void)req;
    (void)create;
    for (size_t i = 0; i < res->nfields; i++) {
        const char *v = row->v[res->fields[i].col];

        if (v && !is_template(v)) {
            api_reply_param_error(reply, res->fields[i].param, "invalidValue");
            return -EINVAL;
        }
    }
    return 0;
}

/* A server's address becomes the host of an ldap:// URL: a name or an address as the
 * administrator writes it, but nothing that would end the host part. */
static int server_check(const struct api *api, struct store *st, const struct api_request *req,
                        const struct api_resource *res, struct store_row *row, bool create,
                        struct api_reply *reply)
{
    const char *a = row->v[STORE_LSERVER_ADDRESS];

    (void)api;
    (void)st;
    (void)req;
    (void)res;
    (void)create;
    if (a && (strpbrk(a, "/?#@ \t%") ||
              (strchr(a, ':') && strspn(a, "0123456789abcdefABCDEF:.") != strlen(a)))) {
        api_reply_param_error(reply, "address", "invalidValue");
        return -EINVAL;
    }
    return 0;
}

static const struct api_field server_fields[] = {
    {.param = "address",
     .col = STORE_LSERVER_ADDRESS,
     .kind = AK_TEXT,
     .flags = AF_LIST | AF_REQUIRED},
    {.param = "name", .col = STORE_LSERVER_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "username",
     .col = STORE_LSERVER_USERNAME,
     .kind = AK_TEXT,
     .flags = AF_LIST,
     .unset = ""},
    {.param = "password", .col = STORE_LSERVER_PASSWORD, .kind = AK_SECRET},
    {.param = "portNumber",
     .col = STORE_LSERVER_PORT,
     .kind = AK_INT,
     .flags = AF_LIST | AF_REQUIRED,
     .min = 1,
     .max = 65535},
    {.param = "secure",
     .col = STORE_LSERVER_SECURE,
     .kind = AK_BOOL,
     .flags = AF_LIST | AF_REQUIRED},
    {.param = "usePagedResults", .col = STORE_LSERVER_PAGED, .kind = AK_BOOL},
};

#define MAPPING(p, c, fl)                                                                          \
    {                                                                                              \
        .param = p, .col = c, .kind = AK_TEXT, .flags = fl, .unset = ""                            \
    }
static const struct api_field mapping_fields[] = {
    MAPPING("jidMapping", STORE_LMAP_JID, AF_LIST),
    MAPPING("nameMapping", STORE_LMAP_NAME, AF_LIST),
    MAPPING("cdrTagMapping", STORE_LMAP_CDR_TAG, 0),
    MAPPING("coSpaceNameMapping", STORE_LMAP_COSPACE_NAME, 0),
    MAPPING("coSpaceUriMapping", STORE_LMAP_COSPACE_URI, 0),
    MAPPING("coSpaceSecondaryUriMapping", STORE_LMAP_COSPACE_SECONDARY_URI, 0),
    MAPPING("coSpaceCallIdMapping", STORE_LMAP_COSPACE_CALL_ID, 0),
    MAPPING("authenticationIdMapping", STORE_LMAP_AUTH_ID, 0),
};

static const struct api_field source_fields[] = {
    {.param = "server",
     .col = STORE_LSOURCE_SERVER,
     .kind = AK_REF,
     .flags = AF_LIST | AF_REQUIRED,
     .ref = &store_table_ldap_server,
     .ref_missing = "ldapServerDoesNotExist"},
    {.param = "mapping",
     .col = STORE_LSOURCE_MAPPING,
     .kind = AK_REF,
     .flags = AF_LIST | AF_REQUIRED,
     .ref = &store_table_ldap_mapping,
     .ref_missing = "ldapMappingDoesNotExist"},
    {.param = "baseDn",
     .col = STORE_LSOURCE_BASE_DN,
     .kind = AK_TEXT,
     .flags = AF_LIST | AF_REQUIRED,
     .max_len = 1024},
    {.param = "filter",
     .col = STORE_LSOURCE_FILTER,
     .kind = AK_TEXT,
     .flags = AF_LIST,
     .max_len = 1024,
     .unset = ""},
    {.param = "tenant",
     .col = STORE_LSOURCE_TENANT,
     .kind = AK_REF,
     .flags = AF_LIST,
     .ref = &store_table_tenant,
     .ref_missing = "tenantDoesNotExist"},
    {.param = "userProfile",
     .col = STORE_LSOURCE_USER_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_user_profile,
     .ref_missing = "userProfileDoesNotExist"},
    {.param = "nonMemberAccess",
     .col = STORE_LSOURCE_NON_MEMBER_ACCESS,
     .kind = AK_BOOL,
     .flags = AF_LIST},
};

#define DIR_ATTR(p, i)                                                                             \
    {                                                                                              \
        .param = p, .col = STORE_DIR_FIRST_NAME + (i), .kind = AK_TEXT, .unset = ""                \
    }
static const struct api_field directory_fields[] = {
    {.param = "ldapServer",
     .col = STORE_DIR_LDAP_SERVER,
     .kind = AK_REF,
     .flags = AF_LIST | AF_REQUIRED,
     .ref = &store_table_ldap_server,
     .ref_missing = "ldapServerDoesNotExist"},
    {.param = "tenant",
     .col = STORE_DIR_TENANT,
     .kind = AK_REF,
     .flags = AF_LIST,
     .ref = &store_table_tenant,
     .ref_missing = "tenantDoesNotExist"},
    {.param = "baseDn",
     .col = STORE_DIR_BASE_DN,
     .kind = AK_TEXT,
     .flags = AF_LIST,
     .max_len = 1024,
     .unset = ""},
    {.param = "filterFormat",
     .col = STORE_DIR_FILTER_FORMAT,
     .kind = AK_TEXT,
     .flags = AF_LIST,
     .max_len = 1024,
     .unset = ""},
    {.param = "priority",
     .col = STORE_DIR_PRIORITY,
     .kind = AK_INT,
     .flags = AF_LIST,
     .min = -2147483647 - 1,
     .max = 2147483647,
     .dflt = "0"},
    {.param = "label", .col = STORE_DIR_LABEL, .kind = AK_TEXT, .flags = AF_LIST, .unset = ""},
    DIR_ATTR("firstName", 0),
    DIR_ATTR("lastName", 1),
    DIR_ATTR("displayName", 2),
    DIR_ATTR("phone", 3),
    DIR_ATTR("mobile", 4),
    DIR_ATTR("email", 5),
    DIR_ATTR("sip", 6),
    DIR_ATTR("organisation", 7),
};

static const struct api_field template_source_fields[] = {
    {.param = "coSpaceTemplate",
     .col = STORE_LTS_TEMPLATE,
     .kind = AK_REF,
     .flags = AF_LIST,
     .ref = &store_table_cospace_template,
     .ref_missing = "coSpaceTemplateDoesNotExist"},
    {.param = "ldapSource",
     .col = STORE_LTS_SOURCE,
     .kind = AK_REF,
     .flags = AF_LIST,
     .ref = &store_table_ldap_source,
     .ref_missing = "ldapSourceDoesNotExist"},
    {.param = "filter",
     .col = STORE_LTS_FILTER,
     .kind = AK_TEXT,
     .flags = AF_LIST,
     .max_len = 1024},
};

static const char *const e_state[] = {"pending", "inProgress", "complete", "failed", NULL};
static const struct api_field sync_fields[] = {
    {.param = "tenant", .col = STORE_LSYNC_TENANT, .kind = AK_ID, .flags = AF_HIDDEN},
    {.param = "ldapSource", .col = STORE_LSYNC_SOURCE, .kind = AK_ID, .flags = AF_HIDDEN},
    {.param = "removeWhenFinished",
     .col = STORE_LSYNC_REMOVE,
     .kind = AK_BOOL,
     .flags = AF_HIDDEN,
     .dflt = "1"},
    {.param = "state",
     .col = STORE_LSYNC_STATE,
     .kind = AK_ENUM,
     .flags = AF_LIST | AF_READONLY,
     .enums = e_state,
     .dflt = "pending"},
    {.param = "failureReason",
     .col = STORE_LSYNC_REASON,
     .kind = AK_TEXT,
     .flags = AF_LIST | AF_READONLY},
    {.param = "numUsersImported",
     .col = STORE_LSYNC_USERS,
     .kind = AK_INT,
     .flags = AF_LIST | AF_READONLY},
    {.param = "numLdapSourcesComplete",
     .col = STORE_LSYNC_SOURCES_DONE,
     .kind = AK_INT,
     .flags = AF_LIST | AF_READONLY},
};

/* The tenant and source a sync is restricted to are ids in any case: kept in the form the
 * tables hold, so that the sync finds them (one that names nothing fails the sync). */
static int sync_check(const struct api *api, struct store *st, const struct api_request *req,
                      const struct api_resource *res, struct store_row *row, bool create,
                      struct api_reply *reply)
{
    static const size_t cols[] = {STORE_LSYNC_TENANT, STORE_LSYNC_SOURCE};

    (void)api;
    (void)st;
    (void)req;
    (void)res;
    (void)create;
    for (size_t i = 0; i < 2; i++) {
        char id[STORE_ID_LEN + 1];

        if (row->v[cols[i]] && api_parse_id(row->v[cols[i]], id) == 0 &&
            store_row_set(row, cols[i], id) < 0) {
            api_reply_err(reply, -ENOMEM);
            return -ENOMEM;
        }
    }
    return 0;
}

/* A new sync: the sync thread is told at once. */
static void sync_created(const struct api *api, struct store *st, const char *id)
{
    (void)st;
    (void)id;
    api_ldap_sync_wake(api->ldap);
}

static const struct api_filter filter_only[] = {{.param = "filter"}};
static const struct api_filter filter_tenant[] = {{.param = "filter"}, {.param = "tenantFilter"}};
static const struct api_filter tenant_only[] = {{.param = "tenantFilter"}};

#define LDAP_RES(var, coll, elem, tbl, flds, filt, chk)                                            \
    const struct api_resource var = {                                                              \
        .collection = coll,                                                                        \
        .element = elem,                                                                           \
        .missing = elem "DoesNotExist",                                                            \
        .table = &store_table_##tbl,                                                               \
        .fields = flds,                                                                            \
        .nfields = sizeof(flds) / sizeof(flds[0]),                                                 \
        .filters = filt,                                                                           \
        .nfilters = sizeof(filt) / sizeof(filt[0]),                                                \
        .page_default = API_PAGE_DEFAULT,                                                          \
        .check = chk,                                                                              \
    }

LDAP_RES(api_res_ldap_servers, "ldapServers", "ldapServer", ldap_server, server_fields, filter_only,
         server_check);
LDAP_RES(api_res_ldap_mappings, "ldapMappings", "ldapMapping", ldap_mapping, mapping_fields,
         filter_only, mapping_check);
LDAP_RES(api_res_ldap_sources, "ldapSources", "ldapSource", ldap_source, source_fields,
         filter_tenant, NULL);
LDAP_RES(api_res_directory_search_locations, "directorySearchLocations", "directorySearchLocation",
         directory_search_location, directory_fields, tenant_only, NULL);
LDAP_RES(api_res_ldap_template_sources, "ldapUserCoSpaceTemplateSources",
         "ldapUserCoSpaceTemplateSource", ldap_template_source, template_source_fields, filter_only,
         NULL);

const struct api_resource api_res_ldap_syncs = {
    .collection = "ldapSyncs",
    .element = "ldapSync",
    .missing = "ldapSyncDoesNotExist",
    .table = &store_table_ldap_sync,
    .fields = sync_fields,
    .nfields = sizeof(sync_fields) / sizeof(sync_fields[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = sync_check,
    .after_write = sync_created,
};

/* DELETE /ldapSyncs/<id>: read and deleted in one transaction, so that the sync thread cannot
 * start it in between. */
static void sync_delete(const struct api *api, struct store *st, const char *id,
                        struct api_reply *reply)
{
    struct store_row row = {0};
    char lid[STORE_ID_LEN + 1];
    int r = api_parse_id(id, lid) < 0 ? -ENOENT : store_begin(st);

    if (r == 0)
        r = store_row_get(st, &store_table_ldap_sync, lid, &row);
    if (r == 0 && strcmp(row.v[STORE_LSYNC_STATE], "inProgress") == 0)
        r = -EBUSY;
    if (r == 0)
        r = store_row_delete(st, &store_table_ldap_sync, lid);
    if (r == 0)
        r = store_commit(st);
    store_rollback(st);
    store_row_done(&row);
    if (r == -ENOENT)
        api_reply_failure(reply, 404, "ldapSyncDoesNotExist");
    else if (r == -EBUSY)
        api_reply_failure(reply, 400, "ldapSyncCannotBeCancelled");
    else if (r < 0)
        api_reply_err(reply, r);
    else {
        api_changed(api);
        reply->status = 200;
    }
}

void api_res_ldap_sync(const struct api *api, struct store *st, const struct api_request *req,
                       const char *id, struct api_reply *reply)
{
    if (id && req->method == API_DELETE)
        sync_delete(api, st, id, reply);
    else
        api_res_generic(api, st, req, &api_res_ldap_syncs, id, reply);
}
